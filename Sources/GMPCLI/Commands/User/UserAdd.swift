import ArgumentParser
import GMPRecords
import GMPRules

/// `gmp user add ID --name "…" --role qa …`
struct UserAdd: GMPCommand {
    static let path = "user add"
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a person: their own login, printed name and roles.",
        discussion: """
            Prints a temporary password to hand to the person (or reads one with \
            --password-stdin). It expires in 7 days and must be changed with \
            'gmp user passwd' before any other work. Ids are never reused.

            You know that password, so the account does no GMP work until a QA person \
            or director confirms, with their signature, that the person set their own \
            ('gmp user confirm'). Its roles are proposals a second administrator \
            approves ('gmp user approve'). The database owner (a superuser) setting up \
            the first people is trusted with neither step.

            Example:
              gmp user add jlee --name "Jordan Lee" --role qc --reason "new QC analyst"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Login id: a lowercase letter, then lowercase letters, digits or _ (2–40).") var id: String
    @Option(help: ArgumentHelp("Full printed name, as it appears in signatures.", valueName: "name")) var name: String
    @Option(help: ArgumentHelp("A role (repeatable): operator, qc, qa, director, admin, auditor.", valueName: "role"))
    var role: [Role] = []
    @Option(help: ArgumentHelp("Why: recorded in the audit trail.", valueName: "text")) var reason: String?
    @Flag(help: "Read the temporary password from the first line of standard input instead of generating one.")
    var passwordStdin = false

    struct Document: Encodable {
        let account: String
        let fullName: String
        /// Roles in effect now (granted by the database owner).
        let roles: [String]
        /// Roles waiting for a second administrator's approval.
        let proposedRoles: [String]
        /// Whether the account waits for a second person to confirm its owner.
        let awaitsConfirmation: Bool
        /// Only when gmp generated it: to be handed to the person.
        let temporaryPassword: String?
    }

    func execute(in context: CommandContext) throws {
        let generated = passwordStdin ? nil : TemporaryPassword.generate()
        let password = try generated ?? PasswordReader.fromStandardInput()
        let connection = try context.connect(startingEmbedded: false)
        let account = try connection.transaction { db in
            let directory = AccountDirectory(db)
            try directory.add(id: id, fullName: name, temporaryPassword: password, roles: role, reason: reason)
            return try directory.account(id)
        }
        let granted = account?.roles.map(\.rawValue) ?? []
        let proposed = account?.pendingRoles.map(\.rawValue) ?? []
        let held = account?.credentialResetBy != nil
        try context.output.document(Document(account: id, fullName: name, roles: granted, proposedRoles: proposed,
                                             awaitsConfirmation: held, temporaryPassword: generated))
        context.output.data("added \(id) (\(name))" + (granted.isEmpty ? "" : " with roles \(granted.joined(separator: ", "))"))
        if !proposed.isEmpty {
            context.output.data("proposed roles: \(proposed.joined(separator: ", ")) (a second administrator approves each: "
                                + "gmp user approve \(id) ROLE --reason …)")
        }
        if let generated {
            context.output.data("temporary password: \(generated)  (valid 7 days; the person must change it with gmp user passwd)")
        }
        if held {
            context.output.data("then a QA person or director confirms the person set their own password: gmp user confirm \(id)")
        }
    }
}

/// Temporary passwords gmp makes up: 20 characters from an alphabet without look-alikes.
enum TemporaryPassword {
    static let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
