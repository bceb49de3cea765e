import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp user list`: every account, one line each.
struct UserList: GMPCommand {
    static let path = "user list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every account: id, name, state, roles, password expiry.",
        discussion: """
            Examples:
              gmp user list
              gmp user list --json
            """)

    @OptionGroup var options: GlobalOptions

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let accounts = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try AccountDirectory(db).all()
        }
        try context.output.document(accounts.map(AccountDocument.init))
        let rows = accounts.map { account in
            [account.id, account.fullName, account.state, account.roles.map(\.rawValue).joined(separator: ","),
             account.passwordExpiresAt.iso8601]
        }
        context.output.data(textTable(header: ["ID", "NAME", "STATE", "ROLES", "PASSWORD EXPIRES"], rows: rows))
    }
}

/// An account in `--json` output (`user list`, `user show`).
struct AccountDocument: Encodable {
    let id: String
    let fullName: String
    let state: String
    let roles: [String]
    let lockedAt: String?
    let failedSigningAttempts: Int
    let mustChangePassword: Bool
    let passwordChangedAt: String
    let passwordExpiresAt: String
    let createdAt: String
    let createdBy: String
    let canLogIn: Bool
    /// Roles proposed and waiting for a second administrator's approval.
    let pendingRoles: [String]
    /// The administrator who set the current password, while no second person has
    /// confirmed the owner: the account does no GMP work until then. Null otherwise.
    let passwordSetBy: String?
    let passwordSetAt: String?
    /// Where the server disagrees with gmp's records; empty when they agree.
    let discrepancies: [String]

    init(_ account: Account) {
        id = account.id
        fullName = account.fullName
        state = account.state
        roles = account.roles.map(\.rawValue)
        lockedAt = account.lockedAt?.iso8601
        failedSigningAttempts = account.failedSigningAttempts
        mustChangePassword = account.mustChangePassword
        passwordChangedAt = account.passwordChangedAt.iso8601
        passwordExpiresAt = account.passwordExpiresAt.iso8601
        createdAt = account.createdAt.iso8601
        createdBy = account.createdBy
        canLogIn = account.canLogIn
        pendingRoles = account.pendingRoles.map(\.rawValue)
        passwordSetBy = account.credentialResetBy
        passwordSetAt = account.credentialResetAt?.iso8601
        var problems: [String] = []
        if !account.rolesGrantedOutsideGMP.isEmpty {
            problems.append("roles granted outside gmp: \(account.rolesGrantedOutsideGMP.joined(separator: ", "))")
        }
        if account.passwordChangedOutsideGMP {
            problems.append("password changed outside gmp: signing is refused until it is set with gmp user passwd")
        }
        if !account.isDisabled && account.lockedAt == nil && !account.canLogIn {
            problems.append("the server refuses this account's login although gmp has it active")
        }
        discrepancies = problems
    }
}
