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
}
