#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

    /// Proposes the role (a second administrator approves it); the database owner's
    /// grant takes effect at once. Returns whether the account now holds the role.
    @discardableResult
    public func grant(_ role: Role, to id: String, reason: String) throws -> Bool {
        try connection.execute("SELECT gmp.grant_role(\(id), \(role.rawValue), \(reason))")
        return try holds(role, id)
    }

    /// Whether the account holds the role now (approved, not only proposed).
    public func holds(_ role: Role, _ id: String) throws -> Bool {
        try connection.query("""
            SELECT EXISTS (SELECT FROM gmp.account_role WHERE account_id = \(id) AND role = \(role.rawValue)) AS held
            """)[0].decode("held")
    }

    /// The second administrator's approval of a proposed role: it takes effect.
    public func approve(_ role: Role, for id: String, reason: String) throws {
        try connection.execute("SELECT gmp.approve_role(\(id), \(role.rawValue), \(reason))")
    }

    /// Refuses a proposed role (or, by its proposer, withdraws it).
    public func decline(_ role: Role, for id: String, reason: String) throws {
        try connection.execute("SELECT gmp.decline_role(\(id), \(role.rawValue), \(reason))")
    }

    /// Role proposals waiting for a second administrator, oldest first.
    public func pendingRoles() throws -> [RoleProposal] {
        try connection.query("""
            SELECT id, account_id, role, reason, proposed_at, proposed_by FROM gmp.pending_role ORDER BY id
            """).map { row in
            RoleProposal(id: try row.decode("id"), account: try row.decode("account_id"), role: try row.decode("role"),
                         reason: try row.decode("reason"), proposedAt: try row.decode("proposed_at"),
                         proposedBy: try row.decode("proposed_by"))
        }
    }

    /// A QA person's or director's signed confirmation that the owner set their own
    /// password after an administrator set one; run inside the signing ceremony.
    public static func confirmIdentity(on connection: PostgresConnection, challenge: UUID, of id: String,
                                       statement: String?) throws -> Int64 {
        try connection.query("SELECT gmp.confirm_identity(\(challenge), \(id), \(statement)) AS signature")[0]
            .decode("signature")
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


/// A role an administrator proposed, waiting for a second administrator (dual control).
public struct RoleProposal: Sendable, Equatable {
    public let id: Int64
    public let account: String
    /// The role's name as stored (operator, qc, qa, director, admin, auditor).
    public let role: String
    public let reason: String
    public let proposedAt: Timestamp
    public let proposedBy: String
}
