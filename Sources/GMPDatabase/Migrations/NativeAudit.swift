#if canImport(Glibc)
import Glibc
#endif
import PostgresClient

/// The optional C twins of the audit row trigger and the v2 hash: the server extension
/// `gmp_audit_native` (extension/gmp_audit_native/, docs/audit-trail.md "Native
/// trigger"). Same rows, same hashes; the row trigger costs the server about half (docs/benchmarks.md).
///
/// `gmp db migrate` creates the extension when the server has it and the migrating role
/// may (a superuser: it is C code), then binds the twins (`gmp_audit.bind_audit_implementation`);
/// without it, or with `GMP_AUDIT_NATIVE=off`, the PL/pgSQL stays bound.
public enum NativeAudit {
    /// The extension's name, as `CREATE EXTENSION` and `pg_available_extensions` know it.
    public static let extensionName = "gmp_audit_native"

    /// Whether `gmp db migrate` binds the C twins when it can: yes unless the environment
    /// says `GMP_AUDIT_NATIVE=off` (or 0, false, no): a database migrated so keeps (or
    /// goes back to) the PL/pgSQL even where the extension is installed.
    public static var wantedByEnvironment: Bool {
        guard let raw = getenv("GMP_AUDIT_NATIVE") else { return true }
        return !["off", "0", "false", "no"].contains(String(cString: raw).lowercased())
    }

    /// Where the native audit code stands on a database, for `gmp doctor` and `gmp db status`.
    public struct State: Sendable, Equatable {
        /// 'native', 'plpgsql' or 'mixed' (`gmp_audit.audit_implementation()`); nil before the
        /// schema has the function (or when the role may not call it).
        public let implementation: String?
        /// The server has the extension's files (`pg_available_extensions`).
        public let available: Bool
        /// Its version created in this database, if any.
        public let installedVersion: String?
    }

    /// The statement that asks which implementation is in force, for a caller that sends it
    /// with others in one round trip (`gmp db status`).
    public static let implementationReading: SQLQuery = "SELECT gmp_audit.audit_implementation() AS i"

    /// The implementation in force, from the answer to ``implementationReading``; nil when
    /// the schema does not have the function yet or the role may not call it.
    public static func implementation(from answer: Result<QueryResult, any Error>) throws -> String? {
        do {
            return try answer.get()[0].decode("i", as: String?.self)
        } catch let error as PostgresError where error.sqlState == "42883" || error.sqlState == "42501"
                                              || error.sqlState == "3F000" {
            // undefined_function, insufficient_privilege, invalid_schema_name: not known here.
            return nil
        }
    }

    /// Reads the state (read-only).
    public static func state(on connection: PostgresConnection) throws -> State {
        let row = try connection.query("""
            SELECT EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = \(extensionName)) AS available,
                   (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = \(extensionName)) AS installed,
                   coalesce(has_function_privilege(to_regprocedure('gmp_audit.audit_implementation()'), 'EXECUTE'),
                            false) AS known
            """)[0]
        let known: Bool = try row.decode("known")
        let implementation: String? = known
            ? try connection.query("SELECT gmp_audit.audit_implementation() AS i")[0].decode("i") : nil
        return State(implementation: implementation, available: try row.decode("available"),
                     installedVersion: try row.decode("installed", as: String?.self))
    }

    /// Creates the extension if `wanted`, available, not yet created and the role may, or
    /// updates it to the server's version when that is newer (1.0 → 1.1: the trigger pins
    /// its settings itself), then binds what is wanted; records nothing when all is already so. Only on a schema
    /// whose code knows how to bind (a test migrating to an older version gets neither).
    /// Runs in the caller's transaction.
    static func bind(wanted: Bool, on db: PostgresConnection) throws {
        let row = try db.query("""
            SELECT to_regprocedure('gmp_audit.bind_audit_implementation(boolean)') IS NOT NULL AS bindable,
                   EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = \(extensionName)) AS available,
                   EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = \(extensionName)) AS installed,
                   EXISTS (SELECT FROM pg_catalog.pg_extension e
                           JOIN pg_catalog.pg_available_extensions a ON a.name = e.extname
                           JOIN pg_catalog.pg_extension_update_paths(e.extname) u
                             ON u.source = e.extversion AND u.target = a.default_version AND u.path IS NOT NULL
                           WHERE e.extname = \(extensionName) AND e.extversion <> a.default_version) AS outdated,
                   (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) AS superuser
            """)[0]
        guard try row.decode("bindable", as: Bool.self) else { return }
        let superuser: Bool = try row.decode("superuser")
        if wanted, try row.decode("available", as: Bool.self), try !row.decode("installed", as: Bool.self), superuser {
            try db.execute("SELECT set_config('gmp.reason', 'gmp db migrate: the native audit trigger (extension gmp_audit_native)', true)")
            try db.execute("CREATE EXTENSION gmp_audit_native")
            // Its trigger is SECURITY DEFINER: gmp_definer's, never the superuser's (issue 20).
            try db.execute("SELECT gmp_meta.give_definers_their_owner()")
        } else if try row.decode("outdated", as: Bool.self), superuser {
            // The server has a newer version than this database created (1.1: the trigger
            // pins its settings itself, not through SET clauses at every row).
            try db.execute("SELECT set_config('gmp.reason', 'gmp db migrate: the native audit trigger updated to the version the server has (extension gmp_audit_native)', true)")
            try db.execute("ALTER EXTENSION gmp_audit_native UPDATE")
        }
        try db.execute("""
            SELECT set_config('gmp.reason', \(wanted ? "gmp db migrate: binding the audit implementation wanted (native when installed)" : "gmp db migrate: binding the PL/pgSQL audit implementation (GMP_AUDIT_NATIVE=off)"), true)
            """)
        try db.execute("SELECT gmp_audit.bind_audit_implementation(\(wanted))")
    }
}
