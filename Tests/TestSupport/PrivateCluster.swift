import Foundation
import GMPDatabase
import PostgresClient
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of one test's own, for tests that stop the server: never the
/// shared test server, which every other suite is using at the same moment.
///
/// Made as scripts/lib/throwaway-postgres.sh makes the shared one: a temp directory,
/// the Unix socket only, `gmp_test` trusted, every other role by SCRAM password;
/// initdb and pg_ctl run as the postgres account when the tests run as root.
/// fsync is off: an immediate stop kills the server's processes, not the machine, so
/// what the kernel holds survives it, and the crash tests are about the server's and
/// gmp's behaviour, not the disk's.
public final class PrivateCluster {
    public let directory: String
    private let binDirectory: String

    /// The superuser's connection string to database `gmp`.
    public var connectionString: String { "host=\(directory) port=5432 user=gmp_test dbname=gmp connect_timeout=10" }

    /// Creates and starts a cluster with a migrated database `gmp`.
    public init() throws {
        binDirectory = try PostgresInstallation.locate(binDirectory: nil).binDirectory
        var template = Array("/tmp/gmp-crash.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestSetupError("mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
        if geteuid() == 0 {
            try FileManager.default.setAttributes([.ownerAccountName: "postgres", .groupOwnerAccountName: "postgres"],
                                                  ofItemAtPath: directory)
        }
        try run("initdb", ["-D", "\(directory)/data", "-U", "gmp_test", "-A", "trust", "-E", "UTF8",
                           "--locale=C.UTF-8", "--no-sync"])
        try run("sh", ["-c", "printf 'local all gmp_test trust\\nlocal all all scram-sha-256\\n' > '\(directory)/data/pg_hba.conf'"])
        try start()
        try TestServer.connect("host=\(directory) port=5432 user=gmp_test dbname=postgres")
            .execute("CREATE DATABASE gmp TEMPLATE template0 ENCODING 'UTF8'")
        try Migrator().migrate(on: try TestServer.connect(connectionString))
    }

    /// Starts the server and waits until it accepts connections (after a crash: until
    /// recovery has finished).
    public func start() throws {
        try run("\(binDirectory)/pg_ctl", ["-D", "\(directory)/data", "-l", "\(directory)/log", "-w", "-t", "60",
                                           "-o", "-k \(directory) -c listen_addresses='' -c fsync=off -c max_connections=100",
                                           "start"])
    }

    /// `pg_ctl -m immediate stop`: every server process quits at once, as in a crash;
    /// the next start recovers from the WAL.
    public func stopImmediately() throws {
        try run("\(binDirectory)/pg_ctl", ["-D", "\(directory)/data", "-m", "immediate", "-w", "stop"])
    }

    /// Stops the server and removes the cluster.
    public func remove() {
        try? run("\(binDirectory)/pg_ctl", ["-D", "\(directory)/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The server log so far, for a failure's message.
    public func log() -> String {
        (try? String(contentsOfFile: "\(directory)/log", encoding: .utf8)) ?? ""
    }

    /// Runs a program, as the postgres account when root (initdb and postgres refuse
    /// root), through `Spawn`: Foundation's Process once never saw the `runuser` of a
    /// `pg_ctl start` exit, and waited for ever.
    private func run(_ program: String, _ arguments: [String]) throws {
        let executable = program == "sh" ? "/bin/sh" : program.hasPrefix("/") ? program : "\(binDirectory)/\(program)"
        let words = (geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + [executable] + arguments
        let output = "\(FileManager.default.temporaryDirectory.path)/gmp-cluster-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: output + ".out")
            try? FileManager.default.removeItem(atPath: output + ".err")
        }
        let outcome = try Spawn.run(words[0], Array(words.dropFirst()), environment: ProcessInfo.processInfo.environment,
                                    stdin: "/dev/null", stdout: output + ".out", stderr: output + ".err", killAfter: 120)
        guard outcome.status == 0, !outcome.killed else {
            throw TestSetupError("\(program) \(arguments.joined(separator: " ")) failed (\(outcome)): "
                                 + ((try? String(contentsOfFile: output + ".err", encoding: .utf8)) ?? ""))
        }
    }
}
