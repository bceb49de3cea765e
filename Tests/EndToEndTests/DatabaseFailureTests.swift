import Foundation
import Testing
import PostgresClient
import TestSupport

@Suite("Failure paths answer with one line, a fix and the documented exit code")
struct DatabaseFailureTests {
    @Test("no server: 69")
    func noServer() throws {
        let run = try GMPBinary.run(["db", "status", "--database", "host=/nonexistent-gmp-dir dbname=gmp"])
        expectOneLineError(run, exit: 69, mentioning: ["cannot reach the database server", "the --database option"])
        #expect(run.stdout.isEmpty)
    }

    @Test("wrong password: 77, and the password is not echoed")
    func wrongPassword() throws {
        let role = "e2e_" + UUID().uuidString.prefix(8).lowercased()
        let admin = try TestServer.admin()
        try admin.execute("CREATE ROLE \(identifier: SQLIdentifier(role)!) LOGIN PASSWORD 'correct-Horse-1'")
        defer { _ = try? admin.execute("DROP ROLE IF EXISTS \(identifier: SQLIdentifier(role)!)") }
        let database = try TestServer.connectionString(database: "postgres", user: role)
        let run = try GMPBinary.run(["db", "status", "--database", database], environment: ["PGPASSWORD": "Wrong-Pass-99"])
        expectOneLineError(run, exit: 77, mentioning: ["refused the login", "~/.pgpass"])
        #expect(!run.stderr.contains("Wrong-Pass-99"))
    }

    @Test("unknown database: 78")
    func unknownDatabase() throws {
        let run = try GMPBinary.run(["db", "status", "--database", try TestServer.connectionString(database: "no_such_db")])
        expectOneLineError(run, exit: 78, mentioning: ["no_such_db", "does not exist"])
    }

    @Test("malformed connection string: 78, from a flag or from GMP_DATABASE")
    func malformed() throws {
        expectOneLineError(try GMPBinary.run(["db", "status", "--database", "host=/tmp port"]), exit: 78,
                           mentioning: ["malformed connection string"])
        expectOneLineError(try GMPBinary.run(["db", "migrate"], environment: ["GMP_DATABASE": "postgresql://[::1"]), exit: 78,
                           mentioning: ["GMP_DATABASE"])
    }

    @Test("an applied migration edited after the fact: 65 for migrate and status, nothing changed")
    func editedMigration() throws {
        try TestServer.withDatabase { database in
            #expect(try GMPBinary.run(["db", "migrate", "--database", database]).status == 0)
            let admin = try TestServer.connect(database)
            // Only a superuser who first switches the DDL recorder off can do this.
            try admin.execute("ALTER EVENT TRIGGER gmp_record_ddl DISABLE")
            try admin.execute("ALTER TABLE gmp_meta.schema_migrations DISABLE TRIGGER append_only")
            try admin.execute("SELECT set_config('gmp.reason', 'test: simulate an edited migration', false)")
            try admin.execute("UPDATE gmp_meta.schema_migrations SET checksum = repeat('a', 64) WHERE version = 1")
            try admin.execute("ALTER TABLE gmp_meta.schema_migrations ENABLE ALWAYS TRIGGER append_only")
            try admin.execute("ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS")
            expectOneLineError(try GMPBinary.run(["db", "migrate", "--database", database]), exit: 65,
                               mentioning: ["V0001__foundation.sql differs", "never edited"])
            let status = try GMPBinary.run(["db", "status", "--json", "--database", database])
            expectOneLineError(status, exit: 65)
            let schema = try status.json()["schema"] as? [String: Any]
            #expect((schema?["problems"] as? [String])?.count == 1)
        }
    }

    @Test("a database newer than the binary: 65")
    func newerDatabase() throws {
        try TestServer.withDatabase { database in
            #expect(try GMPBinary.run(["db", "migrate", "--database", database]).status == 0)
            try TestServer.connect(database).execute("""
                INSERT INTO gmp_meta.schema_migrations (version, name, checksum) VALUES (9999, 'from_the_future', repeat('b', 64))
                """)
            expectOneLineError(try GMPBinary.run(["db", "migrate", "--database", database]), exit: 65,
                               mentioning: ["newer than this gmp", "V9999 from_the_future"])
            expectOneLineError(try GMPBinary.run(["doctor", "--database", database]), exit: 65, mentioning: ["schema"])
        }
    }

    @Test("a password in the configuration file: 78")
    func passwordInConfig() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-\(UUID().uuidString).yaml").path
        try "database:\n  connection: \"host=/tmp password=hunter2\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try GMPBinary.run(["db", "status", "--config", path])
        expectOneLineError(run, exit: 78, mentioning: ["contains a password"])
        #expect(!run.stderr.contains("hunter2"))
    }

    @Test("db start and stop refuse a configured server: 64")
    func startConfigured() throws {
        expectOneLineError(try GMPBinary.run(["db", "start"], environment: ["PGHOST": "/tmp"]), exit: 64,
                           mentioning: ["libpq environment (PGHOST)", "used as-is"])
        expectOneLineError(try GMPBinary.run(["db", "stop", "--database", "host=/tmp"]), exit: 64)
    }

    @Test("--color always colors the error; the default on a pipe does not")
    func color() throws {
        let plain = try GMPBinary.run(["db", "status", "--database", "host=/nonexistent-gmp-dir"])
        #expect(!plain.stderr.contains("\u{1B}["))
        let colored = try GMPBinary.run(["db", "status", "--color", "always", "--database", "host=/nonexistent-gmp-dir"])
        #expect(colored.stderr.hasPrefix("\u{1B}[31merror:"))
    }
}

@Suite("Passwords come from libpq's own sources")
struct PasswordSourceTests {
    @Test("a password in the file PGPASSFILE names (~/.pgpass) logs in")
    func pgpass() throws {
        let role = "pgpass_" + UUID().uuidString.prefix(8).lowercased()
        let admin = try TestServer.admin()
        try admin.execute("CREATE ROLE \(identifier: SQLIdentifier(role)!) LOGIN PASSWORD 'from-Pgpass-7'")
        defer { _ = try? admin.execute("DROP ROLE IF EXISTS \(identifier: SQLIdentifier(role)!)") }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)").path
        try "*:*:*:\(role):from-Pgpass-7\n".write(toFile: file, atomically: true, encoding: .utf8)
        // libpq ignores a password file that others can read.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let database = try TestServer.connectionString(database: "postgres", user: role)
        let run = try GMPBinary.run(["db", "status", "--json", "--database", database], environment: ["PGPASSFILE": file])
        #expect(run.status == 0, "\(run)")
        #expect((try run.json()["server"] as? [String: Any])?["user"] as? String == role)
        let without = try GMPBinary.run(["db", "status", "--database", database])
        expectOneLineError(without, exit: 77, mentioning: ["refused the login"])
    }
}
