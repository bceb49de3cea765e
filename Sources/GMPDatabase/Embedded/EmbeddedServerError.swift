import PostgresClient

#if canImport(Glibc)
import Glibc
#endif

/// Why the embedded PostgreSQL server could not be found, set up, started or stopped.
///
/// Every case reads as one sentence saying what went wrong (`problem`) and one saying
/// what to do about it (`fix`), because these errors reach an operator on the command
/// line who needs the next step, not a stack of causes.
public enum EmbeddedServerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No directory holding `initdb`, `pg_ctl` and `postgres` was found.
    case binariesMissing(searched: [String])
    /// `postgres --version` printed something that is not a PostgreSQL version.
    case unrecognizedVersion(program: String, output: String)
    /// The OS account that should run the server does not exist.
    case serverAccountMissing(user: String)
    /// The configured server account is root, which PostgreSQL refuses to run as.
    case serverAccountIsRoot(user: String)
    /// A non-root gmp was configured to run the server as another account, which only root can do.
    case serverAccountNotSwitchable(configured: String, current: String)
    /// The data root is a relative path, which would change meaning with the working directory.
    case rootNotAbsolute(String)
    /// The server's Unix socket path is longer than the operating system allows.
    case socketPathTooLong(path: String, length: Int, limit: Int)
    /// The data directory exists and holds files, but no PostgreSQL cluster.
    case dataDirectoryNotACluster(path: String)
    /// The server was asked to start before its cluster was created.
    case notInitialized(dataDirectory: String)
    /// The cluster was made by another PostgreSQL major version than the installed binaries.
    case versionMismatch(dataVersion: Int, serverVersion: Int)
    /// A file or directory operation on the data root failed.
    case fileSystem(path: String, operation: String, reason: String)
    /// A server program exited unsuccessfully; `output` is already cut to a short tail.
    case commandFailed(command: String, status: Int32, output: String)
    /// `pg_ctl start` failed; the server log usually says why, so its tail is kept.
    case startFailed(status: Int32, output: String, logTail: String)

    /// The longest command output or log excerpt an error carries, so that a noisy
    /// program cannot flood the terminal or a log line.
    static let excerptLimit = 2048

    /// What went wrong, in one sentence.
    public var problem: String {
        switch self {
        case .binariesMissing(let searched):
            return "PostgreSQL server programs not found (looked in \(searched.joined(separator: ", ")))"
        case .unrecognizedVersion(let program, let output):
            return "could not tell the PostgreSQL version of \(program) (it printed: \(output))"
        case .serverAccountMissing(let user):
            return "the OS account '\(user)' that should run the embedded PostgreSQL server does not exist"
        case .serverAccountIsRoot(let user):
            return "the embedded server cannot run as '\(user)' because PostgreSQL refuses to run as root"
        case .serverAccountNotSwitchable(let configured, let current):
            return "the embedded server is configured to run as '\(configured)', but gmp runs as '\(current)' and only root can switch accounts"
        case .rootNotAbsolute(let root):
            return "the gmp data directory '\(root)' is not an absolute path"
        case .socketPathTooLong(let path, let length, let limit):
            return "the server socket path '\(path)' is \(length) bytes long, more than the \(limit) bytes a Unix socket path may have"
        case .dataDirectoryNotACluster(let path):
            return "\(path) exists and is not empty, but holds no PostgreSQL cluster"
        case .notInitialized(let dataDirectory):
            return "the embedded server has no cluster yet (\(dataDirectory) is not initialized)"
        case .versionMismatch(let dataVersion, let serverVersion):
            return "the embedded cluster was created by PostgreSQL \(dataVersion) but the server programs found are PostgreSQL \(serverVersion)"
        case .fileSystem(let path, let operation, let reason):
            return "could not \(operation) \(path): \(reason)"
        case .commandFailed(let command, let status, let output):
            return "\(command) failed with exit status \(status)" + (output.isEmpty ? "" : ": \(output)")
        case .startFailed(let status, let output, let logTail):
            let detail = logTail.isEmpty ? output : logTail
            return "the embedded PostgreSQL server did not start (pg_ctl exit status \(status))"
                + (detail.isEmpty ? "" : "; server log:\n\(detail)")
        }
    }

    /// What to do about it, in one sentence.
    public var fix: String {
        switch self {
        case .binariesMissing:
            return "install them: apt-get install -y postgresql (or set embedded.bin_dir to the directory holding initdb, pg_ctl and postgres)"
        case .unrecognizedVersion:
            return "set embedded.bin_dir (or GMP_PG_BINDIR) to the bin directory of a PostgreSQL installation"
        case .serverAccountMissing:
            return "install PostgreSQL, which creates the 'postgres' account (apt-get install -y postgresql), or set embedded.server_user to an existing account"
        case .serverAccountIsRoot:
            return "set embedded.server_user to an unprivileged account such as 'postgres'"
        case .serverAccountNotSwitchable:
            return "remove embedded.server_user from the configuration, or run gmp as that account"
        case .rootNotAbsolute:
            return "set GMP_DATA_DIR to an absolute path such as /var/lib/gmp"
        case .socketPathTooLong(_, _, let limit):
            let rootLimit = limit - EmbeddedLayout.socketPathSuffix.utf8.count
            return "set GMP_DATA_DIR to a shorter absolute path (at most \(rootLimit) bytes)"
        case .dataDirectoryNotACluster(let path):
            return "move \(path) out of the way, or set GMP_DATA_DIR to another directory"
        case .notInitialized:
            return "create and start it with 'gmp db start'"
        case .versionMismatch(let dataVersion, _):
            return "install PostgreSQL \(dataVersion) (apt-get install -y postgresql-\(dataVersion)) or set embedded.bin_dir to its binaries, so the cluster runs with the version that created it"
        case .fileSystem:
            return "check that the directory exists, has room, and is writable by the account running gmp"
        case .commandFailed:
            return "read the command output above, correct the cause and run gmp again"
        case .startFailed:
            return "read the server log above, correct the cause and run gmp again"
        }
    }

    /// "problem; fix: fix", the form gmp prints after "error: ".
    public var description: String { "\(problem); fix: \(fix)" }

    /// A `.fileSystem` error for the system call that just failed, with errno's text.
    static func fileSystem(_ path: String, _ operation: String, errorNumber: Int32 = errno) -> EmbeddedServerError {
        .fileSystem(path: path, operation: operation, reason: systemMessage(errorNumber))
    }

    /// The C library's text for an errno value.
    static func systemMessage(_ errorNumber: Int32) -> String {
        String(cString: strerror(errorNumber))
    }

    /// The end of `text`, at most `excerptLimit` bytes: a failing program usually says
    /// why in its last lines, so the tail is the part worth keeping.
    static func excerpt(_ text: String, limit: Int = excerptLimit) -> String {
        let trimmed = text.trimmingWhitespace
        let bytes = trimmed.utf8
        guard bytes.count > limit else { return trimmed }
        // Cutting inside a multi-byte character leaves one replacement character; harmless.
        return "…" + String(decoding: bytes.suffix(limit), as: UTF8.self)
    }
}
