#if canImport(Glibc)
import Glibc
#endif

/// Plain POSIX reads and writes on descriptors: what FoundationEssentials leaves out
/// (FileHandle), without pulling the whole of Foundation into every gmp command.
enum POSIXFile {
    /// Reads from the current offset to end-of-file.
    static func readToEnd(_ descriptor: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 { bytes += chunk[0..<count]; continue }
            if count < 0 && errno == EINTR { continue }
            return bytes
        }
    }

    /// Writes every byte, retrying short writes; returns errno on failure.
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return nil
    }

    /// The last `maxBytes` of a file as text; empty when it cannot be read.
    static func tail(of path: String, maxBytes: Int) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return "" }
        defer { close(descriptor) }
        let size = lseek(descriptor, 0, SEEK_END)
        lseek(descriptor, size > maxBytes ? size - off_t(maxBytes) : 0, SEEK_SET)
        return String(decoding: readToEnd(descriptor), as: UTF8.self)
    }

    /// A whole file as text, by reads to its end (so also a /proc file, whose size reads
    /// as 0); nil when it cannot be opened.
    static func contents(of path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        return String(decoding: readToEnd(descriptor), as: UTF8.self)
    }

    /// The directory part of a path: "/var/lib/gmp" → "/var/lib".
    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
