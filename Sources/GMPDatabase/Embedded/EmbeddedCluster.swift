import PostgresClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// gmp's private PostgreSQL cluster: created, started and stopped by gmp itself when no
/// database server is configured.
///
/// The server listens only on a Unix socket under the layout's root. The accounts that
/// own it reach the superuser `gmp_owner` by peer authentication; everyone else needs a
/// SCRAM password. Initialize, start and stop take a lock file, so two gmp commands
/// started together do not race; `state()` takes none, because it must stay cheap.
public struct EmbeddedCluster: Sendable {
    /// The database superuser initdb creates; it owns everything gmp stores.
    public static let superuser = "gmp_owner"
    /// The database gmp keeps its records in.
    public static let databaseName = "gmp"

    /// Whether the cluster exists and whether its server is running.
    public enum State: Equatable, Sendable {
        /// No cluster in the data directory yet.
        case uninitialized
        /// A cluster exists; no server is running on it.
        case stopped
        /// The server (its postmaster process `pid`) is running.
        case running(pid: Int32)
    }

    /// Where the cluster's files are.
    public let layout: EmbeddedLayout
    /// The server programs used.
    public let installation: PostgresInstallation
    /// The OS account that owns the files and runs the server.
    public let account: ServerAccount

    /// How long `pg_ctl` waits for the server to come up or go down, in seconds.
    static let pgCtlTimeout = "60"

    public init(layout: EmbeddedLayout, installation: PostgresInstallation, account: ServerAccount) {
        self.layout = layout
        self.installation = installation
        self.account = account
    }

    /// The PostgreSQL major version that created the cluster under `layout`, if any.
    /// Pass it to `PostgresInstallation.locate(binDirectory:preferringMajorVersion:)`.
    public static func dataVersion(in layout: EmbeddedLayout) -> Int? {
        guard let text = try? String(contentsOfFile: layout.versionFile, encoding: .utf8) else { return nil }
        return Int(text.trimmingWhitespace)
    }

    // MARK: - State

    /// The cluster's state, read from files and one `kill(pid, 0)`: gmp asks on every
    /// command, so this starts no program.
    public func state() -> State {
        guard FileManager.default.fileExists(atPath: layout.versionFile) else { return .uninitialized }
        guard let pid = postmasterPID(), isOurServer(pid) else { return .stopped }
        return .running(pid: pid)
    }

    /// The first line of postmaster.pid; the file outlives a crashed server, so the pid
    /// in it is only a candidate.
    private func postmasterPID() -> Int32? {
        guard let text = try? String(contentsOfFile: layout.pidFile, encoding: .utf8),
              let firstLine = text.split(separator: "\n", maxSplits: 1).first else { return nil }
        return Int32(firstLine.trimmingWhitespace)
    }

    /// Whether `pid` is alive and is the postmaster of this data directory.
    private func isOurServer(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        // EPERM: the process exists but belongs to another account (the server account
        // when gmp is not root), which still means alive.
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        // Pids are reused (pid_max is often 32768, and restart from low numbers after a
        // reboot or in a container), so a stale file may name a live, unrelated process.
        // The postmaster's working directory is its data directory; Linux shows it in
        // /proc to root and to the server's own account. Unreadable there means a zombie
        // or another account's process: not our server either way. Without /proc at
        // all, the kill test above has to do.
        guard Self.readLink("/proc/self/cwd") != nil else { return true }
        guard let cwd = Self.readLink("/proc/\(pid)/cwd"),
              let dataDirectory = Self.realPath(layout.dataDirectory) else { return false }
        return cwd == dataDirectory
    }

    // MARK: - Initialize

    /// Creates the cluster: the root and socket directories, `initdb` with data
    /// checksums, and gmp's authentication and server settings.
    ///
    /// initdb builds the cluster in a staging directory that is renamed into place only
    /// when everything is written, so a failure or a crash never leaves a data directory
    /// that looks initialized.
    ///
    /// - Returns: `false` when the cluster already existed.
    @discardableResult
    public func initialize() throws -> Bool {
        try makeRootDirectory()
        return try withLock {
            if state() != .uninitialized { return false }
            try checkDataDirectoryIsFree()
            try prepareRuntimeFiles()
            let staging = layout.stagingDirectory
            try? FileManager.default.removeItem(atPath: staging)  // left by an interrupted run
            try account.createDirectory(staging, mode: 0o700)
            do {
                // fsync stays on (initdb's default, no --no-sync): these are GMP records.
                try runServerProgram("initdb", [
                    "-D", staging, "-U", Self.superuser, "-E", "UTF8", "--locale=C.UTF-8",
                    "--auth-local=peer", "--auth-host=reject", "--data-checksums",
                ]).checked()
                try account.writeFile(staging + "/pg_hba.conf", Self.hostBasedAuthentication)
                try account.writeFile(staging + "/pg_ident.conf", Self.identMap(for: account.peerMappedUsers))
                try account.writeFile(staging + "/postgresql.conf",
                                      Self.serverSettings(socketDirectory: layout.socketDirectory)
                                          + Self.loginWatchSettings(authDelay: authDelayAvailable)
                                          + Self.preloadSettings(authDelay: authDelayAvailable)
                                          + Self.chainerSettings(authDelay: authDelayAvailable, chainer: chainerAvailable)
                                          + Self.freshBackendSettings(authDelay: authDelayAvailable, chainer: chainerAvailable,
                                                                      nativeAudit: nativeAuditAvailable),
                                      append: true)
                // rename(2) is atomic, and replaces an empty directory someone made beforehand.
                guard rename(staging, layout.dataDirectory) == 0 else {
                    throw EmbeddedServerError.fileSystem(layout.dataDirectory, "move the new cluster into")
                }
            } catch {
                try? FileManager.default.removeItem(atPath: staging)
                throw error
            }
            return true
        }
    }

    /// Refuses a data directory that holds something other than a cluster, rather than
    /// guessing whether it is safe to replace.
    private func checkDataDirectoryIsFree() throws {
        let path = layout.dataDirectory
        guard FileManager.default.fileExists(atPath: path) else { return }
        let contents = try? FileManager.default.contentsOfDirectory(atPath: path)
        if contents?.isEmpty != true {
            throw EmbeddedServerError.dataDirectoryNotACluster(path: path)
        }
    }

    // MARK: - Start and stop

    /// Starts the server and waits until it accepts connections.
    ///
    /// - Returns: `false` when it was already running.
    /// - Throws: `.notInitialized` without a cluster, `.versionMismatch` when the
    ///   binaries cannot run this cluster, `.startFailed` with the server log's tail.
    @discardableResult
    public func start() throws -> Bool {
        if state() == .uninitialized { throw EmbeddedServerError.notInitialized(dataDirectory: layout.dataDirectory) }
        return try withLock {
            switch state() {
            case .uninitialized: throw EmbeddedServerError.notInitialized(dataDirectory: layout.dataDirectory)
            case .running: return false
            case .stopped: break
            }
            if let dataVersion = Self.dataVersion(in: layout), dataVersion != installation.majorVersion {
                throw EmbeddedServerError.versionMismatch(dataVersion: dataVersion, serverVersion: installation.majorVersion)
            }
            // The socket directory or log may have been cleaned away since initialization.
            try prepareRuntimeFiles()
            try addLoginWatchIfMissing()
            try addPreloadIfMissing()
            try addChainerIfMissing()
            try addFreshBackendSettingsIfMissing()
            let result = try runServerProgram(
                "pg_ctl", ["-D", layout.dataDirectory, "-l", layout.logFile, "-w", "-t", Self.pgCtlTimeout, "start"])
            guard result.status == 0 else {
                throw EmbeddedServerError.startFailed(
                    status: result.status, output: EmbeddedServerError.excerpt(result.output),
                    logTail: logTail())
            }
            return true
        }
    }

    /// Stops the server with a fast shutdown (sessions are ended, transactions rolled
    /// back) and waits until it is down.
    ///
    /// - Returns: `false` when it was not running.
    @discardableResult
    public func stop() throws -> Bool {
        guard case .running = state() else { return false }
        return try withLock {
            guard case .running = state() else { return false }
            let result = try runServerProgram(
                "pg_ctl", ["-D", layout.dataDirectory, "-m", "fast", "-w", "-t", Self.pgCtlTimeout, "stop"])
            guard result.status == 0 else {
                // It may have gone down between our look and pg_ctl's.
                if case .running = state() { throw result.failure }
                return false
            }
            return true
        }
    }

    /// The last lines of the server log, where a failed start explains itself. Only the
    /// file's end is read: the log is appended to for the cluster's whole life.
    func logTail(lines: Int = 10) -> String {
        let text = POSIXFile.tail(of: layout.logFile, maxBytes: 16_384)
        let tail = text.split(separator: "\n", omittingEmptySubsequences: false)
            .suffix(lines + 1).joined(separator: "\n")
        return EmbeddedServerError.excerpt(tail)
    }

    // MARK: - Files and programs

    /// Whether this installation has the server library `name` (e.g. auth_delay): a server
    /// would not start with a library preloaded but missing. Looked for beside the binaries
    /// (a copied installation) and in Debian's library directory.
    func hasServerLibrary(_ name: String) -> Bool {
        ["\(installation.binDirectory)/../lib/\(name).so",
         "/usr/lib/postgresql/\(installation.majorVersion)/lib/\(name).so"]
            .contains { FileManager.default.fileExists(atPath: $0) }
    }

    /// Whether this installation has the contrib module auth_delay (postgresql-contrib).
    var authDelayAvailable: Bool { hasServerLibrary("auth_delay") }

    /// A cluster created before gmp watched failed logins gets the settings at its next
    /// start (issue 20, item 2); one that has them is left as it is.
    private func addLoginWatchIfMissing() throws {
        let path = layout.dataDirectory + "/postgresql.conf"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              !text.contains(Self.loginWatchMarker) else { return }
        try account.writeFile(path, Self.loginWatchSettings(authDelay: authDelayAvailable), append: true)
    }

    /// A cluster created before gmp preloaded PL/pgSQL gets it at its next start (issue
    /// 14), after the login watch, whose `shared_preload_libraries` line it overrides.
    private func addPreloadIfMissing() throws {
        let path = layout.dataDirectory + "/postgresql.conf"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              !text.contains(Self.preloadMarker) else { return }
        try account.writeFile(path, Self.preloadSettings(authDelay: authDelayAvailable), append: true)
    }

    /// Creates the root (and any missing parents). Only a root gmp created is given to
    /// the server account: an existing directory might be shared, like /tmp.
    private func makeRootDirectory() throws {
        let parent = POSIXFile.parentDirectory(of: layout.root)
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw EmbeddedServerError.fileSystem(path: parent, operation: "create directory", reason: "\(error)")
        }
        try account.createDirectory(layout.root, mode: 0o755)
    }

    /// The socket directory and log file the server account writes to at run time.
    private func prepareRuntimeFiles() throws {
        try account.createDirectory(layout.socketDirectory, mode: 0o755)
        if !FileManager.default.fileExists(atPath: layout.logFile) {
            // Made here, not by pg_ctl, because the server account may not be allowed to
            // create files in a root gmp did not make. 0600: the log can quote SQL, and so data.
            try account.writeFile(layout.logFile, "", append: true)
        }
    }

    /// Runs a server program as the server account. The working directory is the root,
    /// because the server account may not be allowed into gmp's (root's home is 0700),
    /// and the caller's libpq variables are dropped: the server reads some of them
    /// (PGPORT, PGDATESTYLE …) and this server's settings must not depend on who started it.
    /// glibc's malloc is told to use huge pages (``serverEnvironment(from:)``).
    private func runServerProgram(_ program: String, _ arguments: [String]) throws -> Subprocess.Result {
        let (executable, fullArguments) = account.invocation(of: installation.path(of: program), arguments)
        let environment = Self.serverEnvironment(from: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") })
        return try Subprocess.run(executable, fullArguments, workingDirectory: layout.root, environment: environment)
    }

    /// Runs `body` holding an exclusive lock on the root's lock file, so concurrent gmp
    /// processes initialize, start and stop one at a time and each sees the other's result.
    private func withLock<T>(_ body: () throws -> T) throws -> T {
        // O_CLOEXEC: the server started inside must not inherit, and so hold, the lock.
        let fd = open(layout.lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw EmbeddedServerError.fileSystem(layout.lockFile, "open lock file") }
        defer { close(fd) }  // closing releases the lock
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw EmbeddedServerError.fileSystem(layout.lockFile, "lock") }
        }
        return try body()
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

// MARK: - Configuration written at initialization

extension EmbeddedCluster {
    /// pg_hba.conf: socket only, peer for the owning accounts, SCRAM for everyone else.
    static let hostBasedAuthentication = """
        # gmp embedded server: Unix socket only.
        # The OS accounts that own this server reach the superuser by peer authentication;
        # everyone else (personal accounts) authenticates with a SCRAM password.
        local   all   gmp_owner   peer map=gmp_owner
        local   all   all         scram-sha-256

        """

    static let loginWatchMarker = "# --- gmp login watch ---"

    /// Settings that let gmp see failed and successful logins (the jsonlog it reads,
    /// gmp_audit.record_failed_logins) and slow password guessing (auth_delay, when the
    /// installation has it). docs/signatures.md, "Logins".
    static func loginWatchSettings(authDelay: Bool) -> String {
        var text = """

            \(loginWatchMarker)
            # Every failed password (SQLSTATE 28P01) and every successful login, one JSON line
            # each in log/*.json: gmp counts failed logins from there and locks at five in a row.
            logging_collector = on
            log_destination = 'stderr,jsonlog'
            log_connections = on

            """
        if authDelay {
            text += """
                # Each wrong password is answered only after a second: guessing is slowed.
                shared_preload_libraries = 'auth_delay'
                auth_delay.milliseconds = 1000

                """
        }
        return text
    }

    static let preloadMarker = "# --- gmp preloaded libraries ---"

    /// PL/pgSQL loaded once by the postmaster instead of by every backend: each gmp
    /// command is a new connection, hence a new backend, and nearly every document and
    /// write runs PL/pgSQL, whose loading cost each of them about 1 ms of server CPU
    /// (docs/benchmarks.md, "Material trace"). Written after the login watch, whose
    /// `shared_preload_libraries` line it repeats auth_delay from (the last line wins).
    static func preloadSettings(authDelay: Bool) -> String {
        """

            \(preloadMarker)
            # PL/pgSQL loaded once at server start, not by every new connection.
            shared_preload_libraries = '\(authDelay ? "plpgsql,auth_delay" : "plpgsql")'

            """
    }

    /// pg_ident.conf: the OS accounts that may act as `gmp_owner`.
    static func identMap(for users: [String]) -> String {
        var text = """
            # gmp embedded server: OS accounts allowed to connect as the superuser gmp_owner.
            # MAPNAME    SYSTEM-USERNAME    PG-USERNAME

            """
        for user in users { text += "\(superuser) \(user) \(superuser)\n" }
        return text
    }

    /// Settings appended to postgresql.conf; later lines win, so these override initdb's.
    static func serverSettings(socketDirectory: String) -> String {
        let quotedDirectory = socketDirectory.replacing("'", with: "''")
        return """

            # --- gmp embedded server ---
            # No TCP listener: clients reach the server through its socket only.
            listen_addresses = ''
            unix_socket_directories = '\(quotedDirectory)'
            # Anyone may open the socket; pg_hba.conf still decides who gets in.
            unix_socket_permissions = 0777
            port = \(EmbeddedLayout.port)
            password_encryption = 'scram-sha-256'
            # Times are stored and logged in UTC, so records read the same on every machine.
            timezone = 'UTC'
            log_timezone = 'UTC'
            # Untranslated server messages, so logs and error reports read the same everywhere.
            lc_messages = 'C'

            """
    }
}
