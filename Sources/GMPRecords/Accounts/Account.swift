import GMPRules
import PostgresClient

/// A person's account as gmp shows it (`gmp user list`, `gmp user show`).
public struct Account: Sendable, Equatable {
    /// The login id, which is also the PostgreSQL role name. Never reused.
    public let id: String
    /// The printed name that appears in every signature (21 CFR 11.50).
    public let fullName: String
    /// Whether the account may be used; disabled accounts are kept, never deleted.
    public let isDisabled: Bool
    /// When five failed signing attempts in a row locked the account, if they did.
    public let lockedAt: Timestamp?
    public let failedSigningAttempts: Int
    /// A temporary password set by an administrator must be changed before any work.
    public let mustChangePassword: Bool
    public let passwordChangedAt: Timestamp
    /// After this the server refuses the login; an administrator must reset it.
    public let passwordExpiresAt: Timestamp
    public let createdAt: Timestamp
    public let createdBy: String
    public let roles: [Role]
    /// Roles the server grants but gmp did not record (granted in psql by a superuser).
    public let rolesGrantedOutsideGMP: [String]
    public let canLogIn: Bool
    /// The password was changed with ALTER ROLE rather than through gmp: signing is
    /// refused until it is set through gmp again.
    public let passwordChangedOutsideGMP: Bool
    /// Roles an administrator proposed that wait for a second administrator's approval.
    public let pendingRoles: [Role]
    /// The administrator who set the current password (a new account or a reset), while
    /// no second person has confirmed the owner since: the account does no GMP work.
    public let credentialResetBy: String?
    public let credentialResetAt: Timestamp?

    /// "active", "disabled" or "locked", for listings.
    public var state: String {
        if isDisabled { return "disabled" }
        if lockedAt != nil { return "locked" }
        return "active"
    }
}

extension Account {
    /// Every account, by id; `init(row:)` reads these columns.
    static let selection: SQLQuery = """
        SELECT id, full_name, status, locked_at, failed_signing_attempts, must_change_password,
               password_changed_at, password_expires_at, created_at, created_by,
               array_to_string(roles, ',') AS roles,
               array_to_string(roles_granted_outside_gmp, ',') AS roles_granted_outside_gmp,
               can_log_in, password_changed_outside_gmp,
               array_to_string(pending_roles, ',') AS pending_roles, credential_reset_by, credential_reset_at
        FROM gmp.account_overview
        """

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        fullName = try row.decode("full_name")
        isDisabled = try row.decode("status", as: String.self) == "disabled"
        lockedAt = try row.decode("locked_at")
        failedSigningAttempts = try row.decode("failed_signing_attempts")
        mustChangePassword = try row.decode("must_change_password")
        passwordChangedAt = try row.decode("password_changed_at")
        passwordExpiresAt = try row.decode("password_expires_at")
        createdAt = try row.decode("created_at")
        createdBy = try row.decode("created_by")
        roles = try row.decode("roles", as: String.self).split(separator: ",").compactMap { Role(rawValue: String($0)) }
        rolesGrantedOutsideGMP = try row.decode("roles_granted_outside_gmp", as: String.self)
            .split(separator: ",").map(String.init)
        canLogIn = try row.decode("can_log_in")
        passwordChangedOutsideGMP = try row.decode("password_changed_outside_gmp")
        pendingRoles = try row.decode("pending_roles", as: String.self).split(separator: ",")
            .compactMap { Role(rawValue: String($0)) }
        credentialResetBy = try row.decode("credential_reset_by")
        credentialResetAt = try row.decode("credential_reset_at")
    }
}
