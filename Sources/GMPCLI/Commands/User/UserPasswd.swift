import ArgumentParser
import GMPRecords

/// `gmp user passwd`: change your own password (proving the current one), or with an
/// id, an administrator sets a temporary one for someone else.
struct UserPasswd: GMPCommand {
    static let path = "user passwd"
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Change your own password, or (administrators) reset someone else's.",
        discussion: """
            Without an id: asks for your current password (a signing-grade check, \
            counted like a signature) and the new one. With --password-stdin the first \
            line of standard input is the current password and the second the new one.

            With an id (administrators): sets a generated temporary password, valid 7 \
            days, that the person must change. Needs --reason. As you know that \
            password, the account then does no GMP work until a QA person or director \
            other than you confirms, with their signature, that the person has set their \
            own ('gmp user confirm ID'). The reset is listed by 'gmp audit alerts'.

            Examples:
              gmp user passwd --password-stdin < current-then-new.txt
              gmp user passwd jlee --reason "forgot it; identity checked by phone" --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Whose password to reset (administrators); omit to change your own.") var id: String?
    @Option(help: ArgumentHelp("Why (required for a reset): recorded in the audit trail.", valueName: "text"))
    var reason: String?
    @Flag(help: "Read passwords from standard input (current, then new, one per line).") var passwordStdin = false

    struct Document: Encodable {
        let account: String
        let change: String
        let temporaryPassword: String?
    }

    func validate() throws {
        if id != nil && reason == nil {
            throw ValidationError("resetting someone else's password needs --reason")
        }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        if let id, let reason {
            let temporary = TemporaryPassword.generate()
            try connection.transaction { db in
                try AccountDirectory(db).resetPassword(of: id, temporaryPassword: temporary, reason: reason)
            }
            try context.output.document(Document(account: id, change: "password reset", temporaryPassword: temporary))
            context.output.data("\(id): temporary password \(temporary)  (valid 7 days; must be changed with gmp user passwd)")
            context.output.data("then a QA person or director other than you confirms the person set their own: gmp user confirm \(id)")
            return
        }
        let me = connection.userName
        let current = try PasswordReader.currentPassword(account: me, fromStandardInput: passwordStdin)
        let new = try passwordStdin ? PasswordReader.fromStandardInput() : newPassword()
        try SignatureCeremony(connection).sign(password: current) { db, challenge in
            try db.execute("SELECT gmp.change_password(\(challenge), \(new))")
        }
        try context.output.document(Document(account: me, change: "password changed", temporaryPassword: nil))
        context.output.data("\(me): password changed")
    }

    private func newPassword() throws -> String {
        guard let first = try PasswordReader.prompt("New password: "),
              let second = try PasswordReader.prompt("New password again: ") else {
            throw Failure(exitCode: .usage, problem: "no terminal to ask for the new password on",
                          fix: "pass --password-stdin with the current and new password on two lines")
        }
        guard first == second else {
            throw Failure(exitCode: .usage, problem: "the two new passwords differ", fix: "run gmp user passwd again")
        }
        return first
    }
}
