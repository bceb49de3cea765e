import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 20, definer-owner finding: SECURITY DEFINER functions owned by the superuser that
/// migrates turn any future injection into one of them into superuser code. They are
/// owned by gmp_definer, a NOLOGIN role with only the rights they need, but for the few
/// that need a superuser's power, listed here with why (and in
/// gmp_meta.superuser_definers(), sql/code/99_privileges.sql).
@Suite("Definer owner: gmp's SECURITY DEFINER functions run as gmp_definer, not as a superuser")
struct DefinerOwnerTests {
    /// The definers that stay the superuser's. Adding one here is a security decision.
    static let superuserDefiners: [String: String] = [
        "gmp_audit.record_ddl()": "an event trigger's function",
        "gmp_audit.guard_drop()": "an event trigger's function",
        "gmp.add_account(text,text,text,text[],text)": "CREATE ROLE and GRANT of a role group (CREATEROLE is superuser in all but name in PostgreSQL 15)",
        "gmp.grant_role(text,text,text)": "GRANT of a role group",
        "gmp.revoke_role(text,text,text)": "REVOKE of a role group",
        "gmp.approve_role(text,text,text)": "GRANT of a role group, through give_role",
        "gmp_rules.give_role(text,text,gmp.role_proposal,text)": "GRANT of a role group (not callable by gmp_definer, or any definer could grant roles)",
        "gmp_rules.propose_role(text,text,text)": "the database owner's grant takes effect at once, through give_role",
        "gmp.disable_account(text,text)": "ALTER ROLE … NOLOGIN, ends the account's sessions",
        "gmp.enable_account(text,text)": "ALTER ROLE … LOGIN",
        "gmp.reset_password(text,text,text)": "sets a password",
        "gmp.change_password(uuid,text)": "sets a password",
        "gmp_rules.set_password(text,text,boolean)": "ALTER ROLE … PASSWORD",
        "gmp_rules.record_signing_failures(gmp.account,uuid)": "ALTER ROLE … NOLOGIN at the fifth wrong signing password",
        "gmp_audit.record_failed_logins()": "reads the server's log files; ALTER ROLE … NOLOGIN at the fifth failed login",
    ]

    static func definers(_ connection: PostgresConnection) throws -> [(routine: String, owner: String, superuser: Bool)] {
        try connection.execute("SELECT set_config('search_path', 'pg_catalog', false)")
        defer { _ = try? connection.execute("RESET search_path") }
        return try connection.query("""
            SELECT p.oid::regprocedure::text AS routine, o.rolname AS owner, o.rolsuper AS superuser
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles o ON o.oid = p.proowner
            WHERE n.nspname IN ('gmp', 'gmp_rules', 'gmp_audit', 'gmp_meta', 'gmp_private') AND p.prosecdef
            ORDER BY 1
            """).map { (try $0.decode("routine"), try $0.decode("owner"), try $0.decode("superuser")) }
    }

    @Test("no SECURITY DEFINER function of gmp's schemas is owned by a superuser, but the listed ones; the rest by gmp_definer")
    func ownedByDefiner() throws {
        try TestServer.withMigratedDatabase { database in
            let definers = try Self.definers(try TestServer.connect(database))
            #expect(definers.count > 80)
            let superuserOwned = Set(definers.filter(\.superuser).map(\.routine))
            #expect(superuserOwned == Set(Self.superuserDefiners.keys),
                    "superuser-owned but not listed: \(superuserOwned.subtracting(Self.superuserDefiners.keys).sorted()); listed but not superuser-owned: \(Set(Self.superuserDefiners.keys).subtracting(superuserOwned).sorted())")
            #expect(definers.filter { !$0.superuser }.allSatisfy { $0.owner == "gmp_definer" },
                    "\(definers.filter { !$0.superuser && $0.owner != "gmp_definer" })")
            // The database's own list says the same.
            let listed: [String] = try TestServer.connect(database)
                .query("SELECT routine FROM gmp_meta.superuser_definers()").map { try $0.decode("routine") }
            #expect(Set(listed) == Set(Self.superuserDefiners.keys))
        }
    }

    @Test("a definer a later code change creates goes to gmp_definer at the next migrate")
    func newDefinerMoved() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestServer.connect(database)
            try admin.execute("SELECT set_config('gmp.reason', 'test: a new definer', false)")
            try admin.execute("""
                CREATE FUNCTION gmp_rules.a_new_definer() RETURNS text LANGUAGE sql SECURITY DEFINER
                SET search_path = pg_catalog, pg_temp AS $$ SELECT current_user::text $$
                """)
            #expect(try admin.query("SELECT gmp_meta.give_definers_their_owner() AS n")[0].decode("n", as: Int.self) == 1)
            // Whatever runs inside it runs as gmp_definer.
            #expect(try admin.query("SELECT gmp_rules.a_new_definer() AS who")[0].decode("who", as: String.self) == "gmp_definer")
        }
    }

    @Test("gmp_definer: no login, no superuser, no role or database creation, no row-security bypass, creates nothing, no server files or programs")
    func definerHasOnlyWhatItNeeds() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestServer.connect(database)
            let role = try admin.query("""
                SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication,
                       (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid) AS memberships,
                       has_database_privilege('gmp_definer', current_database(), 'CREATE') AS creates_schemas,
                       (SELECT bool_or(has_schema_privilege('gmp_definer', s, 'CREATE'))
                        FROM unnest(ARRAY['gmp', 'gmp_rules', 'gmp_audit', 'gmp_meta', 'gmp_private', 'public']) s) AS creates_objects,
                       has_table_privilege('gmp_definer', 'gmp_meta.schema_migrations', 'INSERT') AS writes_ledger,
                       has_table_privilege('gmp_definer', 'gmp.account_role', 'DELETE') AS deletes
                FROM pg_roles r WHERE r.rolname = 'gmp_definer'
                """)[0]
            for flag in ["rolcanlogin", "rolsuper", "rolcreaterole", "rolcreatedb", "rolbypassrls", "rolreplication",
                         "creates_schemas", "creates_objects", "writes_ledger", "deletes"] {
                #expect(try role.decode(flag, as: Bool.self) == false, "gmp_definer: \(flag)")
            }
            #expect(try role.decode("memberships", as: Int64.self) == 0)
            // What an injection into one of its functions could try: refused.
            try admin.execute("SET ROLE gmp_definer")
            func refused(_ attack: String, _ body: () throws -> Void) {
                DonorAndLotRulesTests.expectSQLState("42501", "gmp_definer tries to \(attack)", body)
            }
            refused("run a program") { try admin.execute("COPY (SELECT 1) TO PROGRAM 'true'") }
            refused("read a server file") { _ = try admin.query("SELECT pg_read_file('postgresql.conf')") }
            refused("create a role") { try admin.execute("CREATE ROLE intruder LOGIN SUPERUSER") }
            refused("make itself superuser") { try admin.execute("ALTER ROLE gmp_definer SUPERUSER") }
            refused("switch the audit trigger off") { try admin.execute("ALTER TABLE gmp.lot DISABLE TRIGGER audit") }
            refused("create a function") {
                try admin.execute("CREATE FUNCTION gmp.intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'")
            }
            refused("delete a role grant") { try admin.execute("DELETE FROM gmp.account_role") }
            try admin.execute("RESET ROLE")
        }
    }
}
