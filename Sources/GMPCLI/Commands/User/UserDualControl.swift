import ArgumentParser
import GMPRecords
import GMPRules

/// `gmp user approve ID ROLE --reason …`: the second administrator of dual control.
struct UserApprove: GMPCommand {
    static let path = "user approve"
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a role another administrator proposed: only then does it take effect.",
        discussion: """
            Dual control: the approver is neither the proposer nor the person receiving \
            the role, and neither created the other's account (directly or through \
            accounts created in between).

            Example:
              gmp user approve jlee qa --reason "QA hire confirmed with HR"
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var change: AccountChangeOptions
    @Argument(help: "The proposed role: operator, qc, qa, director, admin or auditor.") var role: Role

    func execute(in context: CommandContext) throws {
        try AccountChange.run(context, account: change.id, change: "granted \(role.rawValue)", reason: change.reason) {
            try $0.approve(role, for: change.id, reason: change.reason)
        }
    }
}

/// `gmp user decline ID ROLE --reason …`
struct UserDecline: GMPCommand {
    static let path = "user decline"
    static let configuration = CommandConfiguration(
        commandName: "decline",
        abstract: "Decline a proposed role (or withdraw your own proposal).",
        discussion: """
            Example:
              gmp user decline jlee admin --reason "not part of the job description"
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var change: AccountChangeOptions
    @Argument(help: "The proposed role: operator, qc, qa, director, admin or auditor.") var role: Role

    func execute(in context: CommandContext) throws {
        try AccountChange.run(context, account: change.id, change: "declined \(role.rawValue)", reason: change.reason) {
            try $0.decline(role, for: change.id, reason: change.reason)
        }
    }
}

/// `gmp user pending`: what waits for a second person.
struct UserPending: GMPCommand {
    static let path = "user pending"
    static let configuration = CommandConfiguration(
        commandName: "pending",
        abstract: "List role proposals waiting for approval and accounts waiting for identity confirmation.",
        discussion: """
            Example:
              gmp user pending --json
            """)

    @OptionGroup var options: GlobalOptions

    struct Document: Encodable {
        struct Proposal: Encodable {
            let account: String
            let role: String
            let proposedBy: String
            let proposedAt: String
            let reason: String
        }
        struct Confirmation: Encodable {
            let account: String
            let passwordSetBy: String
            let passwordSetAt: String
            /// False while the owner has not yet replaced the temporary password.
            let ownerSetPassword: Bool
        }
        let roles: [Proposal]
        let identities: [Confirmation]
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let (proposals, accounts) = try connection.transaction(.repeatableRead, readOnly: true) { db in
            let directory = AccountDirectory(db)
            return (try directory.pendingRoles(), try directory.all().filter { $0.credentialResetBy != nil })
        }
        let document = Document(
            roles: proposals.map {
                .init(account: $0.account, role: $0.role, proposedBy: $0.proposedBy, proposedAt: $0.proposedAt.iso8601,
                      reason: $0.reason)
            },
            identities: accounts.map {
                .init(account: $0.id, passwordSetBy: $0.credentialResetBy ?? "", passwordSetAt: $0.credentialResetAt?.iso8601 ?? "",
                      ownerSetPassword: !$0.mustChangePassword)
            })
        try context.output.document(document)
        let rows = document.roles.map { p in
            ["role", p.account, "role \(p.role)", p.proposedBy, p.proposedAt, "gmp user approve \(p.account) \(p.role) --reason …"]
        } + document.identities.map { i in
            ["identity", i.account, "password set", i.passwordSetBy, i.passwordSetAt,
             i.ownerSetPassword ? "gmp user confirm \(i.account) (QA or director)" : "the owner must first replace the temporary password"]
        }
        context.output.data(rows.isEmpty ? "nothing pending"
                            : textTable(header: ["PENDING", "ACCOUNT", "WHAT", "BY", "AT (UTC)", "NEXT"], rows: rows))
    }
}

/// `gmp user confirm ID`: a QA person or director signs that the owner set their own
/// password after an administrator set one.
struct UserConfirm: GMPCommand {
    static let path = "user confirm"
    static let configuration = CommandConfiguration(
        commandName: "confirm",
        abstract: "Sign that a person, not the administrator who set their password, now holds their account (QA, director).",
        discussion: """
            After an administrator adds an account or resets its password, the account \
            may change its password and do nothing else until you confirm, with your \
            electronic signature (meaning "verified"), that its owner has set their own \
            password: ask the person in person, or through a channel the administrator \
            does not control. You may not be that administrator.

            Example:
              gmp user confirm jlee --statement "met J. Lee at the QA office, password set by them"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The account whose owner you confirm.") var id: String
    @Option(help: ArgumentHelp("How you confirmed it, in your words.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.runAndReport(
            connection, function: "gmp.confirm_identity(uuid, text, text)", refusal: "confirm identities",
            fix: "a QA person or a director confirms it",
            signing: SigningIntent(record: "that \(id) set their own password", meaning: .verified, statement: statement),
            passwordStdin: passwordStdin, record: id, done: "confirmed the owner of \(id)",
            next: "; the account may work again", in: context
        ) { db, challenge in
            try AccountDirectory.confirmIdentity(on: db, challenge: challenge, of: id, statement: statement)
        }
    }
}
