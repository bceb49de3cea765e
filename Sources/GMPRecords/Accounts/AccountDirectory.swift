import GMPRules
import PostgresClient

/// Account administration (`gmp user …`), through the database's guarded functions.
///
/// Every operation calls a SECURITY DEFINER function in schema `gmp` (sql/code/02_accounts.sql), which
/// checks that the caller may do it, records the reason, and is audited; this type only
/// passes the arguments. Callers run each operation in a transaction of their own.
public struct AccountDirectory {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Every account, by id.
    public func all() throws -> [Account] {
        try connection.query(Account.selection + " ORDER BY id").map(Account.init(row:))
    }

    /// One account, or nil when no account has that id.
    public func account(_ id: String) throws -> Account? {
        try connection.query(Account.selection + " WHERE id = \(id)").first.map(Account.init(row:))
    }

    /// Creates the person's login role with a temporary password and their roles.
    public func add(id: String, fullName: String, temporaryPassword: String, roles: [Role], reason: String?) throws {
        let roleArray = "{" + roles.map(\.rawValue).joined(separator: ",") + "}"
        try connection.execute("""
            SELECT gmp.add_account(\(id), \(fullName), \(temporaryPassword), \(roleArray)::text[], \(reason))
            """)
    }

    public func grant(_ role: Role, to id: String, reason: String) throws {
        try connection.execute("SELECT gmp.grant_role(\(id), \(role.rawValue), \(reason))")
    }

    public func revoke(_ role: Role, from id: String, reason: String) throws {
        try connection.execute("SELECT gmp.revoke_role(\(id), \(role.rawValue), \(reason))")
    }

    public func disable(_ id: String, reason: String) throws {
        try connection.execute("SELECT gmp.disable_account(\(id), \(reason))")
    }

    /// Enables a disabled account, or unlocks one locked after failed signing attempts.
    public func enable(_ id: String, reason: String) throws {
        try connection.execute("SELECT gmp.enable_account(\(id), \(reason))")
    }

    /// An administrator sets a temporary password for someone else.
    public func resetPassword(of id: String, temporaryPassword: String, reason: String) throws {
        try connection.execute("SELECT gmp.reset_password(\(id), \(temporaryPassword), \(reason))")
    }
}
