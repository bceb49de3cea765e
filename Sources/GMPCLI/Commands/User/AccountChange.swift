import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// The options every account change takes: whose account, and why.
struct AccountChangeOptions: ParsableArguments {
    @Argument(help: "The account id.") var id: String

    @Option(help: ArgumentHelp("Why: recorded in the audit trail (required).", valueName: "text"))
    var reason: String
}

/// Runs one account change in its own transaction and reports it: a line of text, or
/// with --json `{"account": …, "change": …}`.
enum AccountChange {
    struct Document: Encodable {
        let account: String
        let change: String
        let reason: String?
    }

    static func run(_ context: CommandContext, account: String, change: String, reason: String?,
                    _ body: (AccountDirectory) throws -> Void) throws {
        try run(context, account: account, reason: reason) { directory in
            try body(directory)
            return change
        }
    }

    /// As above, when the change made is known only once the database has answered.
    static func run(_ context: CommandContext, account: String, reason: String?,
                    _ body: (AccountDirectory) throws -> String) throws {
        let connection = try context.connect(startingEmbedded: false)
        let change = try connection.transaction { db in try body(AccountDirectory(db)) }
        try context.output.document(Document(account: account, change: change, reason: reason))
        context.output.data("\(account): \(change)")
    }
}

/// `gmp user disable ID --reason …`
struct UserDisable: GMPCommand {
    static let path = "user disable"
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable an account: no more logins, open sessions ended. Accounts are never deleted.",
        discussion: """
            Examples:
              gmp user disable jlee --reason "left the company on 30 November"
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var change: AccountChangeOptions

    func execute(in context: CommandContext) throws {
        try AccountChange.run(context, account: change.id, change: "disabled", reason: change.reason) {
            try $0.disable(change.id, reason: change.reason)
        }
    }
}

/// `gmp user enable ID --reason …`
struct UserEnable: GMPCommand {
    static let path = "user enable"
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Enable a disabled account, or unlock one locked after failed signing attempts.",
        discussion: """
            Examples:
              gmp user enable jlee --reason "returned from leave; identity checked"
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var change: AccountChangeOptions

    func execute(in context: CommandContext) throws {
        try AccountChange.run(context, account: change.id, change: "enabled", reason: change.reason) {
            try $0.enable(change.id, reason: change.reason)
        }
    }
}

/// `gmp user grant ID ROLE --reason …`
struct UserGrant: GMPCommand {
    static let path = "user grant"
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: "Propose a role for a person; a second administrator approves it. Not for your own account.",
        discussion: """
            Dual control: the role takes effect only when another administrator approves \
            it (gmp user approve), one who neither proposed it, nor receives it, nor \
            created your account or had theirs created by you. Until then 'gmp user \
            pending' lists it. The database owner (a superuser) setting up the first \
            people grants at once. --json: {"account", "change": "proposed qa" or "granted qa", "reason"}.

            Example:
              gmp user grant jlee qa --reason "moved to QA"
              gmp -U second_admin user approve jlee qa --reason "confirmed with the QA head"
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var change: AccountChangeOptions
    @Argument(help: "operator, qc, qa, director, admin or auditor.") var role: Role

    func execute(in context: CommandContext) throws {
        try AccountChange.run(context, account: change.id, reason: change.reason) {
            try $0.grant(role, to: change.id, reason: change.reason)
                ? "granted \(role.rawValue)"
                : "proposed \(role.rawValue) (a second administrator approves it: gmp user approve \(change.id) \(role.rawValue))"
        }
    }
}

/// `gmp user revoke ID ROLE --reason …`
struct UserRevoke: GMPCommand {
    static let path = "user revoke"
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Take a role from a person.",
        discussion: """
            Examples:
              gmp user revoke jlee qa --reason "moved to the QC team"
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var change: AccountChangeOptions
    @Argument(help: "operator, qc, qa, director, admin or auditor.") var role: Role

    func execute(in context: CommandContext) throws {
        try AccountChange.run(context, account: change.id, change: "revoked \(role.rawValue)", reason: change.reason) {
            try $0.revoke(role, from: change.id, reason: change.reason)
        }
    }
}
