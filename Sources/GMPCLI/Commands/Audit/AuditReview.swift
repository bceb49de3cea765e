import ArgumentParser
import GMPRecords
import GMPRules

/// `gmp audit review`: QA signs that they reviewed the trail (EU GMP Annex 11 §9).
struct AuditReview: GMPCommand {
    static let path = "audit review"
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Sign that you reviewed the audit trail up to an event (QA, director).",
        discussion: """
            An electronic signature with the meaning "reviewed": your password is asked \
            for now (or read with --password-stdin) and checked by the server. The \
            signature covers the event at --through (default: the latest), whose hash \
            covers every earlier event, so any later rewrite shows the review as broken.

            Examples:
              gmp audit review --statement "weekly review: alerts and dispositions checked"
              gmp audit review --through 4812 --password-stdin < password.txt
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("The last event reviewed (default: the latest).", valueName: "seq")) var through: Int64?
    @Option(help: ArgumentHelp("What you checked, in your words.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    struct Document: Encodable {
        let signature: Int64
        let through: Int64
        let meaning: String
        let signer: String
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        // Through the head: everything committed before the review, chained first (lazy chaining).
        if through == nil { context.chainPendingEvents(on: connection) }
        let seq = try through ?? AuditTrail(connection).head().seq
        let intent = SigningIntent(record: "the audit trail through event \(seq)", meaning: .reviewed,
                                   statement: statement ?? "audit trail review")
        let password = try PasswordReader.forSignature(account: connection.userName, signing: intent, fromStandardInput: passwordStdin)
        let id = try SignatureCeremony(connection).sign(password: password) { db, challenge in
            try AuditTrail.signReview(on: db, challenge: challenge, through: seq, statement: statement)
        }
        try context.output.document(Document(signature: id, through: seq, meaning: "reviewed", signer: connection.userName))
        context.output.data("signed: \(connection.userName) reviewed the audit trail through event \(seq) (signature \(id))")
    }
}
