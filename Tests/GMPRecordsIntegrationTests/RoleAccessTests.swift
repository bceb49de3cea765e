import Foundation
import PostgresClient
import Testing
import TestSupport

/// Every role, through plain SQL with its own credentials (as psql would), tries every
/// forbidden write: each fails with permission denied and leaves no trace.
@Suite("Roles through plain SQL: no role can write GMP tables or switch auditing off")
struct RoleAccessTests {
    static let roles = ["operator", "qc", "qa", "director", "admin", "auditor"]

    /// Tables and views (or only the `kinds` given, pg_class.relkind) of gmp's schemas.
    static func relations(_ admin: PostgresConnection, kinds: [String] = ["r", "v", "p"]) throws -> [String] {
        try admin.query("""
            SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('gmp', 'gmp_audit', 'gmp_meta', 'gmp_private') AND c.relkind = ANY (\(kinds)::text[])
            ORDER BY 1
            """).map { try $0.decode("name") }
    }

    static func eventCount(_ admin: PostgresConnection) throws -> Int64 {
        try admin.query("SELECT count(*) AS n FROM gmp_audit.event")[0].decode("n")
    }

    /// Runs `statement` (built from trusted test text only) and expects 42501; a view
    /// that cannot be written at all (DISTINCT ON, joins) may refuse first with 55000
    /// ("cannot insert into view") or 42809 (TRUNCATE of a view).
    static func expectDenied(_ connection: PostgresConnection, _ statement: String, role: String, view: Bool = false,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        var refusals: Set<String> = view ? ["42501", "55000", "42809"] : ["42501"]
        // Operators and QC load readings by COPY (V0017): they may insert into
        // gmp.temperature_reading, and the table's own rules refuse this empty row.
        if statement.hasPrefix("INSERT INTO gmp.temperature_reading "), ["operator", "qc"].contains(role) {
            refusals = ["23502"]
        }
        // Every person stores the commit receipts of their own writes (V0038, issue 19):
        // the table takes the insert, and refuses this empty row.
        if statement.hasPrefix("INSERT INTO gmp_meta.commit_receipt ") {
            refusals = ["23502"]
        }
        do {
            try connection.execute(script: SQLScript(shippedWithBinary: statement))
            Issue.record("\(role): \(statement) succeeded", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(refusals.contains(error.sqlState), "\(role): \(statement) failed with \(error.sqlState): \(error.message)",
                    sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(role): \(statement): \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("no role can insert, update, delete or truncate any table or view", arguments: roles)
    func noDirectWrites(role: String) throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestServer.connect(database)
            let person = try TestAccount.create(in: database, roles: [role])
            let before = try Self.eventCount(admin)
            let connection = try person.connect()
            let relations = try Self.relations(admin)
            let views = Set(try Self.relations(admin, kinds: ["v"]))
            #expect(relations.contains("gmp_audit.event") && relations.contains("gmp.account"))
            #expect(views.contains("gmp.lot_overview") && !views.contains("gmp.lot"))
            for relation in relations {
                let view = views.contains(relation)
                Self.expectDenied(connection, "INSERT INTO \(relation) DEFAULT VALUES", role: role, view: view)
                Self.expectDenied(connection, "UPDATE \(relation) SET \(try firstColumn(admin, relation)) = NULL",
                                  role: role, view: view)
                Self.expectDenied(connection, "DELETE FROM \(relation)", role: role, view: view)
                if !view { Self.expectDenied(connection, "TRUNCATE \(relation)", role: role) }
            }
            #expect(try Self.eventCount(admin) == before, "a refused write left an audit event")
        }
    }

    @Test("no role can switch auditing off, change the schema or append to the chain", arguments: roles)
    func noAuditTampering(role: String) throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestServer.connect(database)
            let person = try TestAccount.create(in: database, roles: [role])
            let before = try Self.eventCount(admin)
            let connection = try person.connect()
            for statement in [
                "ALTER TABLE gmp_audit.event DISABLE TRIGGER append_only",
                "ALTER TABLE gmp.account DISABLE TRIGGER audit",
                "SET session_replication_role = replica",
                "CREATE TABLE gmp.shadow (id int)",
                "CREATE TABLE gmp_audit.shadow (id int)",
                "DROP TABLE gmp_audit.event",
                "SELECT gmp_audit.append('INSERT', 'gmp.account', 'x', NULL, '{}', NULL)",
                "SELECT gmp_rules.set_password(session_user, 'a perfectly long password', false)",
                "SELECT gmp_rules.record_signature(gen_random_uuid(), 'approved', 'gmp.account', session_user, NULL)",
                "ALTER ROLE gmp_admin LOGIN",
                "GRANT gmp_qa TO \(person.id)",
            ] {
                Self.expectDenied(connection, statement, role: role)
            }
            #expect(try Self.eventCount(admin) == before)
        }
    }

    @Test("account administration is for admins only", arguments: roles.filter { $0 != "admin" })
    func administrationNeedsAdmin(role: String) throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: [role])
            let other = try TestAccount.create(in: database, roles: ["operator"])
            let connection = try person.connect()
            for statement in [
                "SELECT gmp.add_account('newperson', 'New Person', 'a perfectly long password', '{qa}', 'x')",
                "SELECT gmp.grant_role('\(other.id)', 'qa', 'x')",
                "SELECT gmp.revoke_role('\(other.id)', 'operator', 'x')",
                "SELECT gmp.disable_account('\(other.id)', 'x')",
                "SELECT gmp.enable_account('\(other.id)', 'x')",
                "SELECT gmp.reset_password('\(other.id)', 'a perfectly long password', 'x')",
            ] {
                Self.expectDenied(connection, statement, role: role)
            }
        }
    }

    @Test("an administrator cannot sign, review or change their own roles")
    func administratorLimits() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["admin"])
            let connection = try person.connect()
            Self.expectDenied(connection, "SELECT gmp.sign_audit_review(gen_random_uuid(), 1, NULL)", role: "admin")
            Self.expectDenied(connection, "SELECT gmp.grant_role('\(person.id)', 'qa', 'x')", role: "admin")
            Self.expectDenied(connection, "SELECT * FROM gmp_audit.event", role: "admin")
        }
    }

    @Test("who may read the audit trail: qa, director and auditor", arguments: roles)
    func auditTrailReaders(role: String) throws {
        try TestServer.withMigratedDatabase { database in
            let connection = try TestAccount.create(in: database, roles: [role]).connect()
            if ["qa", "director", "auditor"].contains(role) {
                #expect(try connection.query("SELECT count(*) AS n FROM gmp_audit.event")[0].decode("n", as: Int64.self) > 0)
            } else {
                Self.expectDenied(connection, "SELECT count(*) FROM gmp_audit.event", role: role)
            }
        }
    }

    @Test("a change needs a reason, even for the superuser")
    func reasonRequired() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qc"])
            let admin = try TestServer.connect(database)
            #expect { try admin.execute("UPDATE gmp.account SET full_name = 'Someone Else' WHERE id = \(person.id)") } throws: {
                ($0 as? PostgresError)?.kind == .refusedByRule
            }
            #expect { try admin.execute("DELETE FROM gmp.account_role WHERE account_id = \(person.id)") } throws: {
                ($0 as? PostgresError)?.kind == .refusedByRule
            }
        }
    }

    private func firstColumn(_ admin: PostgresConnection, _ relation: String) throws -> String {
        try admin.query("""
            SELECT quote_ident(attname) AS name FROM pg_attribute
            WHERE attrelid = \(relation)::regclass AND attnum > 0 AND NOT attisdropped AND attidentity = '' ORDER BY attname = 'id', attnum LIMIT 1
            """)[0].decode("name")
    }
}
