import Logging
import PostgresClient

/// The embedded server as commands use it: created on first use, started on demand,
/// always with its `gmp` database.
public struct EmbeddedServer {
    public let layout: EmbeddedLayout
    public let cluster: EmbeddedCluster

    /// What ``ensureRunning(logger:)`` had to do.
    public struct Preparation: Sendable, Equatable {
        public var initialized = false
        public var started = false
        public var createdDatabase = false
    }

    public init(root: String, serverUser: String?, binDirectory: String?) throws {
        layout = try EmbeddedLayout(root: root)
        cluster = EmbeddedCluster(
            layout: layout,
            // An existing cluster needs the major version that created it.
            installation: try PostgresInstallation.locate(
                binDirectory: binDirectory, preferringMajorVersion: EmbeddedCluster.dataVersion(in: layout)),
            account: try ServerAccount.resolve(configuredUser: serverUser))
    }

    /// The connection string of one of the server's databases (by default `gmp`).
    public func connectionString(database: String = EmbeddedCluster.databaseName) -> String {
        Self.connectionString(layout: layout, database: database)
    }

    /// The same, from the layout alone: connecting needs no programs, accounts or state.
    public static func connectionString(layout: EmbeddedLayout, database: String = EmbeddedCluster.databaseName) -> String {
        ConnectionString.make([
            (key: "host", value: layout.socketDirectory), (key: "port", value: String(EmbeddedLayout.port)),
            (key: "user", value: EmbeddedCluster.superuser), (key: "dbname", value: database),
        ])
    }

    /// Creates the cluster if there is none, starts it if it is stopped, and creates the
    /// `gmp` database if it is missing. Cheap when all is in place: no subprocess, one
    /// file read and a signal check.
    @discardableResult
    public func ensureRunning(logger: Logger) throws -> Preparation {
        var preparation = Preparation()
        if cluster.state() == .uninitialized {
            logger.info("creating the embedded cluster in \(layout.dataDirectory)")
            preparation.initialized = try cluster.initialize()
        }
        if case .running = cluster.state() {} else {
            logger.info("starting the embedded server")
            preparation.started = try cluster.start()
        }
        if preparation.started || preparation.initialized {
            preparation.createdDatabase = try createDatabaseIfMissing(logger: logger)
        }
        return preparation
    }

    /// Refuses, with a fix, unless the server is running (for commands that only look).
    public func requireRunning() throws {
        switch cluster.state() {
        case .running: return
        case .uninitialized: throw EmbeddedServerNotRunning(root: layout.root, initialized: false)
        case .stopped: throw EmbeddedServerNotRunning(root: layout.root, initialized: true)
        }
    }

    /// Creates the `gmp` database through the maintenance database; a concurrent
    /// creator winning the race is fine.
    public func createDatabaseIfMissing(logger: Logger) throws -> Bool {
        let maintenance = try PostgresConnection(
            ConnectionConfiguration(connectionString: connectionString(database: "postgres"),
                                    applicationName: "gmp db start"), logger: logger)
        let name = EmbeddedCluster.databaseName
        let exists = try maintenance.query("SELECT 1 FROM pg_database WHERE datname = \(name)").count == 1
        guard !exists, let identifier = SQLIdentifier(name) else { return false }
        do {
            try maintenance.execute("CREATE DATABASE \(identifier: identifier) ENCODING 'UTF8' TEMPLATE template0")
        } catch let error as PostgresError where error.sqlState == "42P04" {
            return false // duplicate_database: another gmp created it first.
        }
        return true
    }
}

/// A command that only looks (status, doctor) found the embedded server not running.
public struct EmbeddedServerNotRunning: Error, Sendable, Equatable {
    public let root: String
    /// Whether a cluster exists at all.
    public let initialized: Bool

    public var problem: String {
        initialized ? "the embedded server in \(root) is not running"
                    : "there is no embedded server in \(root) yet"
    }

    public var fix: String {
        initialized ? "start it with 'gmp db start'" : "create and start it with 'gmp db start'"
    }
}
