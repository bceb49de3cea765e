import Foundation
import Testing
import PostgresClient
import TestSupport

@Suite("Connecting to a real server")
struct ConnectionTests {
    @Test("a session is UTC, UTF-8 and named after the application, even when the string asks for another zone")
    func sessionSettings() throws {
        try TestServer.withDatabase { database in
            let connection = try PostgresConnection(ConnectionConfiguration(
                connectionString: database + " options='-c TimeZone=America/New_York'", applicationName: "gmp qc record"))
            let row = try connection.query("""
                SELECT current_setting('TimeZone') AS zone, current_setting('client_encoding') AS encoding,
                       current_setting('application_name') AS app
                """)[0]
            #expect(try row.decode("zone", as: String.self) == "UTC")
            #expect(try row.decode("encoding", as: String.self) == "UTF8")
            #expect(try row.decode("app", as: String.self) == "gmp qc record")
            #expect(connection.serverVersion >= PostgresConnection.minimumServerVersion)
        }
    }

    @Test("no server listening: unreachable")
    func noServer() {
        #expect {
            try PostgresConnection(ConnectionConfiguration(connectionString: "host=/nonexistent-gmp-socket dbname=x"))
        } throws: { ($0 as? ConnectionError)?.kind == .unreachable }
    }

    @Test("unknown database: unknownDatabase")
    func unknownDatabase() throws {
        let string = try TestServer.connectionString(database: "no_such_database_here")
        #expect {
            try PostgresConnection(ConnectionConfiguration(connectionString: string))
        } throws: { ($0 as? ConnectionError)?.kind == .unknownDatabase }
    }

    @Test("wrong password: authenticationFailed, and the password is not in the message")
    func wrongPassword() throws {
        let role = "pw_" + UUID().uuidString.prefix(8).lowercased()
        let admin = try TestServer.admin()
        try admin.execute("SELECT 1") // warm
        try admin.execute("CREATE ROLE \(identifier: SQLIdentifier(role)!) LOGIN PASSWORD 'right-horse-battery'")
        defer { _ = try? admin.execute("DROP ROLE IF EXISTS \(identifier: SQLIdentifier(role)!)") }
        let string = try TestServer.connectionString(database: "postgres", user: role, password: "wrong-Zebra-42")
        #expect {
            try PostgresConnection(ConnectionConfiguration(connectionString: string))
        } throws: { error in
            guard let error = error as? ConnectionError else { return false }
            return error.kind == .authenticationFailed && !error.message.contains("wrong-Zebra-42")
        }
        let right = try TestServer.connectionString(database: "postgres", user: role, password: "right-horse-battery")
        #expect(try PostgresConnection(ConnectionConfiguration(connectionString: right)).userName == role)
    }

    @Test("malformed connection string: refused before any connection attempt")
    func malformed() {
        #expect {
            try PostgresConnection(ConnectionConfiguration(connectionString: "host=/tmp port"))
        } throws: { ($0 as? ConnectionError)?.kind == .malformedConnectionString }
    }

    @Test("a lock held by a stalled session fails the waiting statement after lock_timeout, not never")
    func lockTimeout() throws {
        try TestServer.withDatabase { database in
            let holder = try TestServer.connect(database)
            try holder.execute("CREATE TABLE held (id int PRIMARY KEY)")
            try holder.execute("INSERT INTO held VALUES (1)")
            try holder.execute("BEGIN")
            try holder.execute("UPDATE held SET id = 1")  // stalls here, holding the row
            let waiter = try PostgresConnection(ConnectionConfiguration(
                connectionString: database, lockTimeoutMilliseconds: 200))
            #expect(try waiter.query("SELECT current_setting('lock_timeout') AS t")[0].decode("t", as: String.self) == "200ms")
            let started = ContinuousClock.now
            #expect {
                try waiter.execute("UPDATE held SET id = 1")
            } throws: { ($0 as? PostgresError)?.kind == .lockTimeout }
            #expect(ContinuousClock.now - started < .seconds(5))
            try holder.execute("ROLLBACK")
        }
    }

    @Test("a terminated session reports connectionLost")
    func connectionLost() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let pid: Int32 = try connection.query("SELECT pg_backend_pid() AS pid")[0].decode("pid")
            try TestServer.admin().execute("SELECT pg_terminate_backend(\(pid))")
            #expect {
                try connection.query("SELECT 1")
            } throws: { ($0 as? PostgresError)?.kind == .connectionLost }
            #expect(!connection.isConnected)
        }
    }

    @Test("server notices go to the notice handler, not to stderr")
    func notices() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            var received: [PostgresNotice] = []
            connection.noticeHandler = { received.append($0) }
            try connection.execute("DO $$ BEGIN RAISE NOTICE 'checked % units', 3; RAISE WARNING 'shelf life short'; END $$")
            #expect(received.map(\.message) == ["checked 3 units", "shelf life short"])
            #expect(received.map(\.severity) == ["NOTICE", "WARNING"])
            #expect(received[1].logLevel == .warning)
        }
    }
}
