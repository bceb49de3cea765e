#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the embedded server keeps its files, all under one root directory:
///
///     <root>/pgdata       the PostgreSQL cluster
///     <root>/run          the Unix socket (no TCP port is opened)
///     <root>/server.log   the server's own log
///
/// Building a layout checks the paths only; it touches nothing on disk.
public struct EmbeddedLayout: Sendable, Equatable {
    /// The port number. With no TCP listener it only names the socket file
    /// (`.s.PGSQL.5432`), so every gmp data root can use the standard one without clashes.
    public static let port = 5432

    /// The longest Unix socket path Linux accepts: `sun_path` holds 108 bytes
    /// including the terminating NUL.
    public static let socketPathLimit = 107

    /// What follows the root in the socket path.
    static let socketPathSuffix = "/run/.s.PGSQL.\(port)"

    /// The directory everything lives under.
    public let root: String
    /// The PostgreSQL data directory (`PGDATA`).
    public let dataDirectory: String
    /// The directory the server puts its Unix socket in.
    public let socketDirectory: String
    /// The server log that `pg_ctl -l` appends to.
    public let logFile: String
    /// The socket file clients connect to.
    public let socketPath: String

    /// Checks and derives the paths under `root`.
    ///
    /// - Throws: `EmbeddedServerError.rootNotAbsolute` for a relative root, and
    ///   `.socketPathTooLong` when the server could not create its socket there.
    public init(root: String) throws {
        guard root.hasPrefix("/") else { throw EmbeddedServerError.rootNotAbsolute(root) }
        let root = root.withoutTrailingSlashes
        let base = root == "/" ? "" : root
        let socketPath = base + Self.socketPathSuffix
        // Checked here rather than left to the server, whose failure would surface only
        // at start, long after the directory was chosen.
        guard socketPath.utf8.count <= Self.socketPathLimit else {
            throw EmbeddedServerError.socketPathTooLong(
                path: socketPath, length: socketPath.utf8.count, limit: Self.socketPathLimit)
        }
        self.root = root
        self.dataDirectory = base + "/pgdata"
        self.socketDirectory = base + "/run"
        self.logFile = base + "/server.log"
        self.socketPath = socketPath
    }

    /// The data root used when none is configured.
    ///
    /// As root it is `/var/lib/gmp`: root's home is mode 0700, so the `postgres` account
    /// that runs the server could not reach anything under it. Otherwise it follows the
    /// XDG base directory rules: `$XDG_DATA_HOME/gmp`, else `$HOME/.local/share/gmp`.
    /// Only absolute values count, as the XDG specification says; with neither set the
    /// result is relative, and `init(root:)` rejects it with a message naming the fix.
    public static func defaultRoot(environment: [String: String], effectiveUserIsRoot: Bool) -> String {
        if effectiveUserIsRoot { return "/var/lib/gmp" }
        if let dataHome = environment["XDG_DATA_HOME"], dataHome.hasPrefix("/") {
            return dataHome.withoutTrailingSlashes + "/gmp"
        }
        if let home = environment["HOME"], home.hasPrefix("/") {
            return home.withoutTrailingSlashes + "/.local/share/gmp"
        }
        return ".local/share/gmp"
    }

    // Files gmp itself keeps beside the cluster.

    /// `PG_VERSION`, which initdb writes; its presence is what makes a data directory a cluster.
    var versionFile: String { dataDirectory + "/PG_VERSION" }
    /// `postmaster.pid`, whose first line is the running server's process id.
    var pidFile: String { dataDirectory + "/postmaster.pid" }
    /// Where initdb builds a new cluster before it is renamed to `dataDirectory`, so an
    /// interrupted initialization never leaves a half-made cluster in place.
    var stagingDirectory: String { dataDirectory + ".initializing" }
    /// Serializes initialize/start/stop between concurrent gmp processes.
    var lockFile: String { (root == "/" ? "" : root) + "/.gmp-embedded.lock" }
}

extension String {
    /// The path without trailing slashes, keeping "/" itself.
    var withoutTrailingSlashes: String {
        var path = self
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }
}
