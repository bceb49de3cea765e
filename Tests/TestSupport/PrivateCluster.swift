import Foundation
import GMPDatabase
import PostgresClient

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of a test's own (issue 18): a primary, a streaming standby made
/// from it by `pg_basebackup -R`, or a cluster restored from a base backup and archived
/// WAL. Never the shared test server: these are stopped, promoted and restored.
///
/// Socket only (no TCP), in a short directory under /tmp; the superuser `gmp_ha` gets in
/// without a password. As root, the server programs run as the postgres system user,
/// as scripts/test runs its own server. ``remove()`` stops the server and deletes it all.
public final class PrivateCluster: @unchecked Sendable {
    /// The superuser every private cluster is created with.
    public static let superuser = "gmp_ha"

    /// Holds the data directory and the server's socket.
    public let directory: String
    public var dataDirectory: String { directory + "/data" }
    public var logFile: String { directory + "/server.log" }

    private init(directory: String) {
        self.directory = directory
    }

    /// A new, empty directory for clusters, owned by the user the server runs as.
    public static func makeRoot() throws -> String {
        let root = "/tmp/gmp-ha-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
        try giveToServerUser(root)
        return root
    }

    /// `initdb` in `root/name`: a cluster whose superuser is ``superuser``, with the
    /// replication and `settings` lines added to its postgresql.conf.
    public static func create(in root: String, name: String, settings: [String] = []) throws -> PrivateCluster {
        let cluster = try PrivateCluster.directory(in: root, name: name)
        try runServerProgram("initdb", ["-D", cluster.dataDirectory, "-U", superuser, "-A", "trust", "-E", "UTF8",
                                        "--locale=C.UTF-8", "--no-sync"])
        try cluster.configure(["wal_level = replica", "max_wal_senders = 5", "fsync = off"] + settings)
        return cluster
    }

    /// A copy of `primary` by `pg_basebackup` in `root/name`. With `standby` (`-R`), it
    /// starts as a streaming hot standby of `primary`; without, it is a plain base backup.
    public static func baseBackup(of primary: PrivateCluster, in root: String, name: String,
                                  standby: Bool) throws -> PrivateCluster {
        let cluster = try PrivateCluster.directory(in: root, name: name)
        try runServerProgram("pg_basebackup", ["-d", primary.connectionString(database: "postgres"), "-D", cluster.dataDirectory,
                                               "-X", "stream", "-c", "fast", "--no-sync"] + (standby ? ["-R"] : []))
        return cluster
    }

    /// A directory for a cluster made by a server program, which creates `data` itself.
    private static func directory(in root: String, name: String) throws -> PrivateCluster {
        let cluster = PrivateCluster(directory: root + "/" + name)
        try FileManager.default.createDirectory(atPath: cluster.directory, withIntermediateDirectories: false)
        try giveToServerUser(cluster.directory)
        return cluster
    }

    /// Appends `settings` to postgresql.conf (a later line wins) and makes the socket this
    /// cluster's own.
    public func configure(_ settings: [String]) throws {
        let lines = (["unix_socket_directories = '\(directory)'", "listen_addresses = ''"] + settings)
            .joined(separator: "\n") + "\n"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n# the test's settings\n" + lines).utf8))
    }

    /// An empty file the server looks for at start (`recovery.signal`, `standby.signal`).
    public func signal(_ name: String) throws {
        let path = dataDirectory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        try Self.giveToServerUser(path)
    }

    public func start() throws {
        try Self.runServerProgram("pg_ctl", ["-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "start"])
    }

    /// A started cluster in `root/name` with a migrated database `gmp`, for tests that
    /// crash the server under gmp's writers.
    public static func migrated(in root: String, name: String) throws -> PrivateCluster {
        let cluster = try create(in: root, name: name)
        try cluster.start()
        try cluster.connect(database: "postgres").execute("CREATE DATABASE gmp TEMPLATE template0 ENCODING 'UTF8'")
        try Migrator().migrate(on: try cluster.connect())
        return cluster
    }

    /// `pg_ctl -m immediate stop`: every server process quits at once, as in a crash;
    /// the next start recovers from the WAL.
    public func stopImmediately() throws {
        try Self.runServerProgram("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"])
    }

    /// A fast stop: clients are disconnected, the server shuts down cleanly.
    public func stop() throws {
        try Self.runServerProgram("pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "stop"])
    }

    /// Ends a standby's recovery: it becomes a primary and takes writes.
    public func promote() throws {
        try Self.runServerProgram("pg_ctl", ["-D", dataDirectory, "-w", "promote"])
    }

    /// The libpq connection string to `database` on this cluster, as `user` (the superuser by default).
    public func connectionString(database: String = "gmp", user: String = PrivateCluster.superuser) -> String {
        "host=\(directory) port=5432 user=\(user) dbname=\(database)"
    }

    public func connect(database: String = "gmp") throws -> PostgresConnection {
        try TestServer.connect(connectionString(database: database))
    }

    /// Whether the server is in recovery (a standby, or a restore not yet finished).
    public func inRecovery() throws -> Bool {
        try connect(database: "postgres").query("SELECT pg_is_in_recovery() AS r")[0].decode("r")
    }

    /// Waits until this standby has replayed everything `primary` has written so far.
    public func waitForReplay(of primary: PrivateCluster, timeoutSeconds: Double = 30) throws {
        let lsn: String = try primary.connect(database: "postgres")
            .query("SELECT pg_current_wal_insert_lsn()::text AS lsn")[0].decode("lsn")
        try waitUntil(timeoutSeconds: timeoutSeconds, "the standby to replay up to \(lsn)") {
            try connect(database: "postgres")
                .query("SELECT coalesce(pg_last_wal_replay_lsn() >= \(lsn)::pg_lsn, false) AS done")[0].decode("done")
        }
    }

    /// Polls `condition` every 50 ms until it holds; throws after `timeoutSeconds`.
    public func waitUntil(timeoutSeconds: Double, _ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            if (try? condition()) == true { return }
            guard Date() < deadline else {
                let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
                throw TestSetupError("timed out waiting for \(what); server log:\n\(log.suffix(2000))")
            }
            usleep(50_000)
        }
    }

    /// Stops the server, if running, at once, and deletes every cluster under `root`.
    public static func removeRoot(_ root: String, clusters: [PrivateCluster]) {
        for cluster in clusters where FileManager.default.fileExists(atPath: cluster.dataDirectory + "/postmaster.pid") {
            _ = try? runServerProgram("pg_ctl", ["-D", cluster.dataDirectory, "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    // MARK: Running the server's programs

    /// Runs a PostgreSQL server program: as the postgres system user when this process
    /// is root (initdb and postgres refuse root), else as this user. Throws with its
    /// output when it fails. Through `Spawn`, output to files: Foundation's `Process`
    /// waits for a server that `pg_ctl start` leaves running, and a pipe the server
    /// inherits never ends.
    @discardableResult
    public static func runServerProgram(_ program: String, _ arguments: [String]) throws -> String {
        // GMP_PG_BINDIR, as for scripts/test's own server and gmp's embedded one: a checkout
        // testing its build of the server extensions in a copy of the installation (whose
        // $libdir follows its binaries) gets them in private clusters too.
        let configured = ProcessInfo.processInfo.environment["GMP_PG_BINDIR"].flatMap { $0.isEmpty ? nil : $0 }
        let path = try PostgresInstallation.locate(binDirectory: configured).path(of: program)
        let (executable, argv) = geteuid() == 0 ? ("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments)
                                                : (path, arguments)
        let output = "/tmp/gmp-cluster-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: output + ".out")
            try? FileManager.default.removeItem(atPath: output + ".err")
        }
        let outcome = try Spawn.run(executable, argv,
                                    environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") },
                                    stdin: "/dev/null", stdout: output + ".out", stderr: output + ".err", killAfter: 120)
        let printed = ((try? String(contentsOfFile: output + ".out", encoding: .utf8)) ?? "")
            + ((try? String(contentsOfFile: output + ".err", encoding: .utf8)) ?? "")
        guard outcome.status == 0, !outcome.killed else {
            throw TestSetupError("\(program) \(arguments.joined(separator: " ")) failed (\(outcome)):\n\(printed)")
        }
        return printed
    }

    /// Makes `path` the server user's when this process is root.
    public static func giveToServerUser(_ path: String) throws {
        guard geteuid() == 0 else { return }
        try FileManager.default.setAttributes([.ownerAccountName: "postgres", .groupOwnerAccountName: "postgres"],
                                              ofItemAtPath: path)
    }
}
