import Foundation
import GMPDatabase
import PostgresClient

extension TestServer {
    /// A database at the latest schema, cloned from a template migrated once per test
    /// process (`CREATE DATABASE … TEMPLATE`): a few milliseconds instead of a migration.
    public static func withMigratedDatabase<T>(_ body: (String) throws -> T) throws -> T {
        let template = try migratedTemplate()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        guard let identifier = SQLIdentifier(String(name)) else { throw TestSetupError("bad database name \(name)") }
        try templateLock.withLock {
            // The template may have no other session while it is copied.
            try admin().execute("CREATE DATABASE \(identifier: identifier) TEMPLATE \(identifier: template)")
        }
        defer { _ = try? admin().execute("DROP DATABASE IF EXISTS \(identifier: identifier) WITH (FORCE)") }
        return try body(connectionString(database: String(name)))
    }

    private static let templateLock = NSLock()
    nonisolated(unsafe) private static var template: SQLIdentifier?

    private static func migratedTemplate() throws -> SQLIdentifier {
        try templateLock.withLock {
            if let template { return template }
            guard let name = SQLIdentifier("gmp_template_\(getpid())") else { throw TestSetupError("bad template name") }
            try admin().execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
            try admin().execute("CREATE DATABASE \(identifier: name) TEMPLATE template0 ENCODING 'UTF8'")
            do {
                let connection = try connect(connectionString(database: name.name))
                try Migrator().migrate(on: connection)
            }
            template = name
            return name
        }
    }
}

/// A person's account made for a test, with a unique id (roles are cluster-wide, so
/// ids must never clash between tests) and a known password.
public struct TestAccount: Sendable {
    public let id: String
    public let password: String
    public let database: String

    public static let defaultPassword = "correct horse battery staple"

    public init(id: String, password: String, database: String) {
        self.id = id
        self.password = password
        self.database = database
    }

    /// Creates the account through gmp.add_account (as the test superuser) and, unless
    /// `temporary`, clears the must-change flag as set-up.
    public static func create(in database: String, roles: [String], fullName: String = "Test Person",
                              temporary: Bool = false) throws -> TestAccount {
        let id = "u" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let admin = try TestServer.connect(database)
        let roleArray = "{" + roles.joined(separator: ",") + "}"
        try admin.execute("SELECT gmp.add_account(\(id), \(fullName), \(defaultPassword), \(roleArray)::text[], 'test set-up')")
        if !temporary {
            try admin.transaction { db in
                try db.execute("SELECT set_config('gmp.reason', 'test set-up: password accepted as permanent', true)")
                try db.execute("UPDATE gmp.account SET must_change_password = false WHERE id = \(id)")
            }
        }
        return TestAccount(id: id, password: defaultPassword, database: database)
    }

    /// The connection string for logging in as this person.
    public func connectionString(password: String? = nil) throws -> String {
        let base = try ConnectionString.parse(database)
        return try TestServer.connectionString(database: base["dbname"] ?? "", user: id, password: password ?? self.password)
    }

    public func connect() throws -> PostgresConnection {
        try TestServer.connect(connectionString())
    }
}
