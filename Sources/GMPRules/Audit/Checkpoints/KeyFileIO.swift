#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and creates key files with plain POSIX calls: the permission check needs the
/// mode of the very file that was read (fstat on the open descriptor, not a stat of the
/// path beforehand, which another process could swap), and FoundationEssentials has no
/// FileHandle or POSIX permissions.
enum KeyFileIO {
    /// Key files are a line or two; anything larger is not one, and is not read whole.
    static let maximumSize = 4096

    /// The bytes of the regular file at `path`. With `requirePrivate`, refuses a file
    /// that group or others may access in any way (mode & 0o077 != 0), as ssh does for
    /// private keys: whoever can read the key can sign checkpoints as QA.
    static func read(_ path: String, requirePrivate: Bool) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw KeyFileError.cannotOpen(path: path, reason: errorText(errno)) }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw KeyFileError.cannotOpen(path: path, reason: errorText(errno))
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw KeyFileError.notRegularFile(path: path) }
        let permissions = UInt32(status.st_mode) & 0o777
        if requirePrivate && permissions & 0o077 != 0 {
            throw KeyFileError.accessibleToOthers(path: path, mode: permissions)
        }
        guard status.st_size <= maximumSize else { throw KeyFileError.malformed(path: path, reason: "larger than a key file") }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: maximumSize + 1)
        while bytes.count <= maximumSize {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw KeyFileError.cannotRead(path: path, reason: errorText(errno)) }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
        throw KeyFileError.malformed(path: path, reason: "larger than a key file")
    }

    /// Creates `path` with `mode` and writes `bytes`; refuses if anything already exists
    /// there (O_EXCL, which also refuses a symlink), so an existing key is never replaced.
    static func create(_ path: String, bytes: [UInt8], mode: UInt32) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard descriptor >= 0 else {
            let code = errno
            throw code == EEXIST
                ? KeyFileError.alreadyExists(path: path)
                : KeyFileError.cannotCreate(path: path, reason: errorText(code))
        }
        var failure: Int32?
        // The umask can only have removed bits; set the mode exactly so that a private
        // key is 0600 and a public key 0644 whatever the umask was.
        if fchmod(descriptor, mode_t(mode)) != 0 { failure = errno }
        var offset = 0
        while failure == nil && offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno != EINTR { failure = errno }
            } else {
                offset += written
            }
        }
        // On disk before we say it was written: a key lost to a crash cannot be recovered.
        if failure == nil && fsync(descriptor) != 0 { failure = errno }
        if close(descriptor) != 0 && failure == nil { failure = errno }
        if let failure {
            // Leave no half-written key behind to be mistaken for a good one.
            unlink(path)
            throw KeyFileError.cannotWrite(path: path, reason: errorText(failure))
        }
    }

    private static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
