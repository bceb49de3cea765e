#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The operating-system account that owns the embedded cluster and runs its programs.
///
/// PostgreSQL refuses to run as root. So when gmp runs as root, `initdb` and `pg_ctl`
/// run as an unprivileged account (`postgres` unless configured otherwise) through
/// `runuser`, and the directories gmp creates are handed to that account. When gmp runs
/// as an ordinary user, the server simply runs as that user.
public struct ServerAccount: Sendable, Equatable {
    /// The account used as root when none is configured; Debian's postgresql package creates it.
    public static let defaultServerUser = "postgres"

    /// Switches accounts without a password or a login session, as root only.
    static let runuser = "/usr/sbin/runuser"

    /// The account's login name.
    public let name: String
    /// The account's user id.
    public let uid: uid_t
    /// The account's primary group id.
    public let gid: gid_t
    /// Whether commands go through `runuser` (gmp runs as root) or run directly.
    public let switchesUser: Bool
    /// The OS accounts allowed to act as the database superuser by peer authentication:
    /// whoever runs gmp, and the server account itself (so its maintenance tools work).
    public let peerMappedUsers: [String]

    /// Works out the server account for the current process.
    ///
    /// - Parameter configuredUser: `embedded.server_user`, if set.
    /// - Throws: `EmbeddedServerError.serverAccountMissing` when the account does not
    ///   exist, `.serverAccountIsRoot` when it is root, `.serverAccountNotSwitchable`
    ///   when a non-root gmp is asked to use another account.
    public static func resolve(configuredUser: String?) throws -> ServerAccount {
        try resolve(configuredUser: configuredUser, effectiveUID: geteuid())
    }

    /// `resolve(configuredUser:)` for a given effective user id, so tests can exercise
    /// the non-root rules while running as root.
    static func resolve(configuredUser: String?, effectiveUID: uid_t) throws -> ServerAccount {
        if effectiveUID == 0 {
            let name = configuredUser ?? defaultServerUser
            guard let entry = PasswordEntry(name: name) else {
                throw EmbeddedServerError.serverAccountMissing(user: name)
            }
            guard entry.uid != 0 else { throw EmbeddedServerError.serverAccountIsRoot(user: name) }
            let invoker = PasswordEntry(uid: 0)?.name ?? "root"
            return ServerAccount(
                name: name, uid: entry.uid, gid: entry.gid, switchesUser: true,
                peerMappedUsers: invoker == name ? [name] : [invoker, name])
        }
        guard let current = PasswordEntry(uid: effectiveUID) else {
            throw EmbeddedServerError.serverAccountMissing(user: "uid \(effectiveUID)")
        }
        if let configuredUser, configuredUser != current.name {
            throw EmbeddedServerError.serverAccountNotSwitchable(configured: configuredUser, current: current.name)
        }
        return ServerAccount(
            name: current.name, uid: current.uid, gid: current.gid, switchesUser: false,
            peerMappedUsers: [current.name])
    }

    /// The executable and arguments that run `program` as this account.
    func invocation(of program: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        guard switchesUser else { return (program, arguments) }
        return (Self.runuser, ["-u", name, "--", program] + arguments)
    }

    // Files the server uses are made by gmp and then handed to this account.

    /// Gives a file or directory gmp created to this account, so the server can use it.
    /// Nothing to do when gmp already runs as the account.
    func takeOwnership(of path: String) throws {
        guard switchesUser else { return }
        guard chown(path, uid, gid) == 0 else {
            throw EmbeddedServerError.fileSystem(path, "give to the '\(name)' account")
        }
    }

    /// Creates a directory with exactly `mode` (whatever the umask), owned by this
    /// account. An existing directory is left as it is: it may be shared, like /tmp.
    func createDirectory(_ path: String, mode: mode_t) throws {
        if mkdir(path, mode) != 0 {
            guard errno == EEXIST else { throw EmbeddedServerError.fileSystem(path, "create directory") }
            return
        }
        guard chmod(path, mode) == 0 else { throw EmbeddedServerError.fileSystem(path, "set permissions of") }
        try takeOwnership(of: path)
    }

    /// Replaces or appends to a file, leaving it mode 0600 and owned by this account, as
    /// PostgreSQL keeps the files in its data directory.
    func writeFile(_ path: String, _ text: String, append: Bool = false) throws {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC)
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else { throw EmbeddedServerError.fileSystem(path, "open") }
        defer { close(fd) }
        if let failure = POSIXFile.writeAll(Array(text.utf8), to: fd) {
            throw EmbeddedServerError.fileSystem(path, "write", errorNumber: failure)
        }
        guard chmod(path, 0o600) == 0 else { throw EmbeddedServerError.fileSystem(path, "set permissions of") }
        try takeOwnership(of: path)
    }
}

/// One account from the password database, looked up with the reentrant calls because
/// gmp (and its tests) may look accounts up from several threads.
private struct PasswordEntry {
    let name: String
    let uid: uid_t
    let gid: gid_t

    init?(name: String) {
        guard let entry = Self.lookUp({ getpwnam_r(name, $0, $1, $2, $3) }) else { return nil }
        self = entry
    }

    init?(uid: uid_t) {
        guard let entry = Self.lookUp({ getpwuid_r(uid, $0, $1, $2, $3) }) else { return nil }
        self = entry
    }

    private init(name: String, uid: uid_t, gid: gid_t) {
        self.name = name
        self.uid = uid
        self.gid = gid
    }

    private static func lookUp(
        _ call: (UnsafeMutablePointer<passwd>, UnsafeMutablePointer<CChar>, Int,
                 UnsafeMutablePointer<UnsafeMutablePointer<passwd>?>) -> Int32
    ) -> PasswordEntry? {
        var record = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        // The strings in `record` point into `buffer`, so copy them out while it is pinned.
        return buffer.withUnsafeMutableBufferPointer { storage in
            guard call(&record, storage.baseAddress!, storage.count, &found) == 0,
                  let entry = found, let name = entry.pointee.pw_name else { return nil }
            return PasswordEntry(name: String(cString: name), uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        }
    }
}
