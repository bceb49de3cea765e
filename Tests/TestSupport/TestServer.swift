import Foundation
import PostgresClient

/// The throwaway PostgreSQL server that `scripts/test` starts for the test run.
///
/// Integration tests never skip: without `GMP_TEST_DATABASE` they fail, saying how to
/// run them. Each test gets a database of its own, so tests run in parallel.
public enum TestServer {
    /// A superuser connection string to the test server's maintenance database.
    public static func adminConnectionString() throws -> String {
        guard let value = ProcessInfo.processInfo.environment["GMP_TEST_DATABASE"], !value.isEmpty else {
            throw TestSetupError("GMP_TEST_DATABASE is not set: run the tests with scripts/test, which starts a throwaway PostgreSQL")
        }
        return value
    }

    /// The directory holding the test server's Unix socket.
    public static func socketDirectory() throws -> String {
        try ConnectionString.parse(adminConnectionString())["host"] ?? "/tmp"
    }

    /// The role the test server trusts (its superuser).
    public static func adminUser() throws -> String {
        try ConnectionString.parse(adminConnectionString())["user"] ?? "gmp_test"
    }

    public static func connect(_ connectionString: String) throws -> PostgresConnection {
        try PostgresConnection(ConnectionConfiguration(connectionString: connectionString, applicationName: "gmp-tests"))
    }

    public static func admin() throws -> PostgresConnection {
        try connect(adminConnectionString())
    }

    /// Creates an empty database, passes its connection string to `body`, drops it after.
    public static func withDatabase<T>(_ body: (String) throws -> T) throws -> T {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        guard let identifier = SQLIdentifier(String(name)) else { throw TestSetupError("bad database name \(name)") }
        try admin().execute("CREATE DATABASE \(identifier: identifier) TEMPLATE template0 ENCODING 'UTF8'")
        defer { _ = try? admin().execute("DROP DATABASE IF EXISTS \(identifier: identifier) WITH (FORCE)") }
        return try body(connectionString(database: String(name)))
    }

    /// The admin connection string pointed at another database.
    public static func connectionString(database: String, user: String? = nil, password: String? = nil) throws -> String {
        var parameters = try ConnectionString.parse(adminConnectionString())
        parameters["dbname"] = database
        if let user { parameters["user"] = user }
        if let password { parameters["password"] = password }
        return ConnectionString.make(parameters.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
    }
}

/// The test environment is not as the tests need it.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
