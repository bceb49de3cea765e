import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 19 / 18: `gmp db migrate` binds the audit trail's C twins when the server has the
/// extension gmp_audit_native (scripts/test installs it), GMP_AUDIT_NATIVE=off binds the
/// PL/pgSQL back, and `gmp db status` and `gmp doctor` say which is in force.
@Suite("Native audit trigger through the binary: migrate binds it or not, status and doctor say which")
struct NativeAuditCommandTests {
    private func statusImplementation(_ database: String, as person: TestAccount? = nil) throws -> String? {
        let run = try AccountAndAuditCommandTests.gmp(database, as: person, ["db", "status", "--json"])
        #expect(run.status == 0, "\(run)")
        return try run.json()["audit_trigger"] as? String
    }

    @Test("GMP_AUDIT_NATIVE=off migrates to the PL/pgSQL, a plain migrate back to the C twins, each recorded once")
    func migrateBindsAndUnbinds() throws {
        try TestServer.withMigratedDatabase { database in
            #expect(try statusImplementation(database) == "native")
            // A person (no superuser) is told too.
            let person = try TestAccount.create(in: database, roles: ["operator"])
            #expect(try statusImplementation(database, as: person) == "native")
            let doctor = try GMPBinary.run(["doctor", "--json", "--database", database])
            let check = (try doctor.json()["checks"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "audit trigger" }
            #expect(check?["status"] as? String == "ok", "\(doctor)")
            #expect((check?["detail"] as? String)?.hasPrefix("native") == true, "\(String(describing: check))")

            let off = try GMPBinary.run(["db", "migrate", "--database", database], environment: ["GMP_AUDIT_NATIVE": "off"])
            #expect(off.status == 0, "\(off)")
            #expect(try statusImplementation(database) == "plpgsql")
            let text = try GMPBinary.run(["db", "status", "--database", database])
            #expect(text.stdout.contains("audit    row trigger and hash: plpgsql"), "\(text)")
            let warned = try GMPBinary.run(["doctor", "--database", database])
            #expect(warned.stdout.contains("warn  audit trigger"), "\(warned)")

            let admin = try TestServer.connect(database)
            func events() throws -> Int64 {
                try admin.query("SELECT (SELECT count(*) FROM gmp_audit.event) + (SELECT count(*) FROM gmp_audit.pending_event) AS n")[0]
                    .decode("n")
            }
            let before = try events()
            #expect(try GMPBinary.run(["db", "migrate", "--database", database], environment: ["GMP_AUDIT_NATIVE": "off"]).status == 0)
            #expect(try events() == before, "a migrate that changes nothing records nothing")

            #expect(try GMPBinary.run(["db", "migrate", "--database", database]).status == 0)
            #expect(try statusImplementation(database) == "native")
            let problems: [String] = try admin.query("SELECT p FROM gmp_audit.machinery_problems() AS p").map { try $0.decode("p") }
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    @Test("a database that created gmp_audit_native 1.0 is updated to 1.3 by migrate (the trigger's SET clauses gone, the C chaining and its direct delete added), once")
    func migrateUpdatesOneZero() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestServer.connect(database)
            func state() throws -> (version: String, bare: Bool) {
                let row = try admin.query("""
                    SELECT (SELECT extversion FROM pg_extension WHERE extname = 'gmp_audit_native') AS version,
                           (SELECT proconfig IS NULL FROM pg_proc WHERE oid = 'gmp_audit.record_change_native()'::regprocedure) AS bare
                    """)[0]
                return (try row.decode("version"), try row.decode("bare"))
            }
            #expect(try state() == ("1.3", true))
            // The database as 1.0 left it: its version, and the five settings declared.
            try admin.execute("SELECT set_config('gmp.reason', 'native audit test: the trigger as 1.0 declared it', false)")
            try admin.execute("""
                ALTER FUNCTION gmp_audit.record_change_native() SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC'
                    SET IntervalStyle = 'postgres' SET bytea_output = 'hex' SET extra_float_digits = 1
                """)
            try admin.execute("UPDATE pg_catalog.pg_extension SET extversion = '1.0' WHERE extname = 'gmp_audit_native'")
            #expect(try state() == ("1.0", false))

            let run = try GMPBinary.run(["db", "migrate", "--database", database])
            #expect(run.status == 0, "\(run)")
            #expect(try state() == ("1.3", true))
            #expect(try statusImplementation(database) == "native")
            let direct: Bool = try admin.query("""
                SELECT has_function_privilege('gmp_definer', 'gmp_audit.chain_batch_native_direct(integer,boolean)', 'EXECUTE') AS g
                """)[0].decode("g")
            #expect(direct, "1.3's chaining, bound with the twins")
            let drift: Int64 = try admin.query("SELECT count(*) AS n FROM gmp_audit.code_drift()")[0].decode("n")
            #expect(drift == 0, "the update is recorded like any change of a routine")
            // The update's DDL (ALTER EXTENSION, and the ALTER FUNCTION of its script), recorded once.
            func updates() throws -> Int64 {
                try admin.query("""
                    SELECT count(*) AS n FROM (SELECT action, reason FROM gmp_audit.event
                                               UNION ALL SELECT action, reason FROM gmp_audit.pending_event) e
                    WHERE e.action = 'DDL' AND e.reason LIKE 'gmp db migrate: the native audit trigger updated%'
                    """)[0].decode("n")
            }
            let recorded = try updates()
            #expect(recorded >= 2, "ALTER EXTENSION and its ALTER FUNCTION")
            #expect(try GMPBinary.run(["db", "migrate", "--database", database]).status == 0)
            #expect(try updates() == recorded, "a second migrate finds it updated")
            #expect(try state() == ("1.3", true))
        }
    }
}
