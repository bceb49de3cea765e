import ArgumentParser
import GMPRecords

/// `gmp user show ID`: one account in full.
struct UserShow: GMPCommand {
    static let path = "user show"
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one account: roles, state, password age, and any discrepancy.",
        discussion: """
            Examples:
              gmp user show jlee
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The account id.") var id: String

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        guard let account = try connection.transaction(.repeatableRead, readOnly: true, { db in
            try AccountDirectory(db).account(id)
        }) else {
            throw Failure(exitCode: .refused, problem: "no account \(id)", fix: "gmp user list shows every account")
        }
        let document = AccountDocument(account)
        try context.output.document(document)
        var lines = [
            "id                \(document.id)",
            "name              \(document.fullName)",
            "state             \(document.state)",
            "roles             \(document.roles.isEmpty ? "(none)" : document.roles.joined(separator: ", "))",
            "password          changed \(document.passwordChangedAt), expires \(document.passwordExpiresAt)"
                + (document.mustChangePassword ? " (temporary: must be changed)" : ""),
            "failed signing    \(document.failedSigningAttempts) in a row" + (document.lockedAt.map { ", locked \($0)" } ?? ""),
            "created           \(document.createdAt) by \(document.createdBy)",
        ]
        if !document.pendingRoles.isEmpty {
            lines.append("proposed roles    \(document.pendingRoles.joined(separator: ", ")) (waiting for a second administrator)")
        }
        if let by = document.passwordSetBy {
            lines.append(context.output.stdoutStyle.yellow(
                "identity          unconfirmed: administrator \(by) set the password at \(document.passwordSetAt ?? "?"); "
                + "no GMP work until a QA person or director confirms (gmp user confirm \(document.id))"))
        }
        lines += document.discrepancies.map { context.output.stdoutStyle.yellow("warning           \($0)") }
        context.output.data(lines.joined(separator: "\n"))
    }
}
