import Foundation
import Testing
import TestSupport

@Suite("db migrate, db status and doctor against a configured server")
struct SchemaCommandTests {
    @Test("migrate from nothing, then again; status and --json say where the schema stands")
    func migrateAndStatus() throws {
        try TestServer.withDatabase { database in
            let before = try GMPBinary.run(["db", "status", "--json", "--database", database])
            #expect(before.status == 0, "\(before)")
            let schemaBefore = try before.json()["schema"] as? [String: Any]
            #expect(schemaBefore?["version"] as? Int == 0)
            #expect((schemaBefore?["pending"] as? [Any])?.isEmpty == false)
            #expect(schemaBefore?["up_to_date"] as? Bool == false)

            let migrate = try GMPBinary.run(["db", "migrate", "--json", "--database", database])
            #expect(migrate.status == 0, "\(migrate)")
            let applied = try migrate.json()["applied"] as? [[String: Any]]
            #expect(applied?.first?["name"] as? String == "foundation")
            #expect((applied?.first?["checksum"] as? String)?.count == 64)

            let again = try GMPBinary.run(["db", "migrate", "--database", database])
            #expect(again.status == 0)
            #expect(again.stdout.contains("nothing to apply"))

            let after = try GMPBinary.run(["db", "status", "--json", "--database", database])
            let document = try after.json()
            let schema = document["schema"] as? [String: Any]
            #expect(schema?["up_to_date"] as? Bool == true)
            #expect((document["target"] as? [String: Any])?["kind"] as? String == "configured")
            #expect(!after.stdout.contains("host="), "the connection string is never printed")

            let text = try GMPBinary.run(["db", "status", "--database", database])
            #expect(text.stdout.contains("(up to date)") && text.stdout.contains("schema   version "), "\(text)")
            #expect(text.stdout.contains("V1 foundation  applied"))
        }
    }

    @Test("server notices go through the logger: silent by default, shown with -v, never raw")
    func notices() throws {
        // A database whose gmp_meta schema exists before its first migration: the ledger's
        // CREATE SCHEMA IF NOT EXISTS makes the server send a NOTICE.
        func withSchemaFirst(_ body: (String) throws -> Void) throws {
            try TestServer.withDatabase { database in
                try TestServer.connect(database).execute("CREATE SCHEMA gmp_meta")
                try body(database)
            }
        }
        try withSchemaFirst { database in
            let quiet = try GMPBinary.run(["db", "migrate", "--database", database])
            #expect(quiet.status == 0)
            // Progress lines, but no notice: not as gmp's line, not as libpq's raw one.
            #expect(!quiet.stderr.contains("already exists") && !quiet.stderr.contains("NOTICE"), "\(quiet)")
        }
        try withSchemaFirst { database in
            let verbose = try GMPBinary.run(["db", "migrate", "-v", "--database", database])
            #expect(verbose.status == 0)
            #expect(verbose.stderr.contains("gmp: info: server notice: schema \"gmp_meta\" already exists, skipping"), "\(verbose)")
            #expect(!verbose.stderr.contains("NOTICE:"), "libpq's raw notice format must not appear")
        }
    }

    @Test("two gmp db migrate processes at once: both succeed, each migration applied once")
    func concurrentProcesses() throws {
        try TestServer.withDatabase { database in
            let runs = Locked<[GMPRun]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                if let run = try? GMPBinary.run(["db", "migrate", "--json", "--database", database]) {
                    runs.mutate { $0.append(run) }
                }
            }
            #expect(runs.value.count == 2)
            #expect(runs.value.allSatisfy { $0.status == 0 }, "\(runs.value)")
            // Between them, the two runs applied every migration exactly once.
            let appliedCounts = try runs.value.map { try ($0.json()["applied"] as? [Any])?.count ?? -1 }
            let version = try runs.value.map { try $0.json()["schema_version"] as? Int ?? -1 }.max()
            #expect(appliedCounts.allSatisfy { $0 >= 0 } && appliedCounts.reduce(0, +) == version)
        }
    }

    @Test("libpq's PG* variables select a configured server")
    func libpqEnvironment() throws {
        try TestServer.withDatabase { database in
            let parameters = try PostgresClientParameters.parse(database)
            let run = try GMPBinary.run(["db", "status", "--json"], environment: [
                "PGHOST": parameters["host"] ?? "", "PGUSER": parameters["user"] ?? "", "PGDATABASE": parameters["dbname"] ?? "",
            ])
            #expect(run.status == 0, "\(run)")
            let target = try run.json()["target"] as? [String: Any]
            #expect((target?["source"] as? String)?.contains("PGHOST") == true)
            let server = try run.json()["server"] as? [String: Any]
            #expect(server?["database"] as? String == parameters["dbname"])
        }
    }

    @Test("doctor: healthy after migrate, warns while migrations are pending")
    func doctor() throws {
        try TestServer.withDatabase { database in
            let pending = try GMPBinary.run(["doctor", "--json", "--database", database])
            #expect(pending.status == 0, "\(pending)")
            let checks = try pending.json()["checks"] as? [[String: Any]] ?? []
            #expect(checks.first { $0["name"] as? String == "schema" }?["status"] as? String == "warning")
            #expect(checks.first { $0["name"] as? String == "server programs" }?["status"] as? String == "skipped")

            #expect(try GMPBinary.run(["db", "migrate", "--database", database]).status == 0)
            let healthy = try GMPBinary.run(["doctor", "--database", database])
            #expect(healthy.status == 0, "\(healthy)")
            #expect(healthy.stdout.contains("ok    schema"))
            #expect(healthy.stdout.contains("ok    connection"))
        }
    }

    /// Issue 20, item 13: what an attack run does as the database owner (the DDL event
    /// trigger refuses ALTER TABLE … DISABLE TRIGGER, so it is switched off first).
    @Test("doctor fails naming every weakened protection, each with its fix: a disabled event trigger and table trigger")
    func doctorReportsWeakenedProtections() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestServer.connect(database)
            try admin.execute(script: SQLScript(shippedWithBinary: """
                ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
                ALTER TABLE gmp.lot DISABLE TRIGGER audit;
                ALTER TABLE gmp_audit.event ENABLE TRIGGER append_only;
                """))
            let run = try GMPBinary.run(["doctor", "--database", database])
            #expect(run.status == 65, "\(run)")
            for (problem, fix) in [
                ("event trigger gmp_record_ddl is disabled", "ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS"),
                ("trigger audit on gmp.lot is disabled", "ALTER TABLE gmp.lot ENABLE ALWAYS TRIGGER audit"),
                ("trigger append_only on gmp_audit.event is disabled or does not fire always",
                 "ALTER TABLE gmp_audit.event ENABLE ALWAYS TRIGGER append_only"),
            ] {
                #expect(run.stdout.contains(problem), "\(problem): \(run.stdout)")
                #expect(run.stdout.contains(fix), "\(fix): \(run.stdout)")
            }
            #expect(run.stderr.contains("protections"), "\(run.stderr)")

            let json = try GMPBinary.run(["doctor", "--json", "--database", database])
            #expect(json.status == 65)
            let failed = (try json.json()["checks"] as? [[String: Any]] ?? [])
                .filter { $0["name"] as? String == "protections" && $0["status"] as? String == "failed" }
            #expect(failed.count == 3, "\(failed)")
            #expect(failed.allSatisfy { ($0["fix"] as? String)?.isEmpty == false })

            try admin.execute(script: SQLScript(shippedWithBinary: """
                ALTER TABLE gmp_audit.event ENABLE ALWAYS TRIGGER append_only;
                ALTER TABLE gmp.lot ENABLE ALWAYS TRIGGER audit;
                ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
                """))
            let healthy = try GMPBinary.run(["doctor", "--database", database])
            #expect(healthy.status == 0, "\(healthy)")
            #expect(healthy.stdout.contains("ok    protections"), "\(healthy.stdout)")
        }
    }

    @Test("doctor names code changed while the DDL trigger was off, with how to see and restore it")
    func doctorReportsUnrecordedCode() throws {
        try TestServer.withMigratedDatabase { database in
            try TestServer.connect(database).execute(script: SQLScript(shippedWithBinary: """
                ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
                CREATE OR REPLACE FUNCTION gmp_rules.password_min_length() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;
                ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
                """))
            let run = try GMPBinary.run(["doctor", "--database", database])
            #expect(run.status == 65, "\(run)")
            #expect(run.stdout.contains("routine gmp_rules.password_min_length() differs from its definition"), "\(run.stdout)")
            #expect(run.stdout.contains("gmp db code gmp_rules.password_min_length()"), "\(run.stdout)")
        }
    }

    @Test("doctor with no server: the connection check fails with exit 69 and says why")
    func doctorNoServer() throws {
        let run = try GMPBinary.run(["doctor", "--json", "--database", "host=/nonexistent-gmp-dir"])
        expectOneLineError(run, exit: 69)
        let checks = try run.json()["checks"] as? [[String: Any]] ?? []
        #expect(checks.first { $0["name"] as? String == "connection" }?["status"] as? String == "failed")
        #expect(try run.json()["healthy"] as? Bool == false)
    }
}

import PostgresClient

/// Reads a connection string's parameters (through libpq).
enum PostgresClientParameters {
    static func parse(_ text: String) throws -> [String: String] { try ConnectionString.parse(text) }
}
