import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp lot check STEP`: the second person's signed check of an executed step.
struct LotStepCheck: GMPCommand {
    static let path = "lot check"
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a manufacturing step as the second person, with your e-signature (not its performer).",
        discussion: """
            Signed with the meaning "verified". A step whose master batch record requires a \
            check blocks the lot's release until it has one (gmp release check). The step ids \
            are in gmp lot show LOT --json.

            Examples:
              gmp lot check 42 --statement "parameters and materials checked against the batch record"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The step's id.", valueName: "step")) var step: Int64
    @Option(help: ArgumentHelp("Your statement, signed with the check.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.runAndReport(connection, function: "gmp.check_step(uuid, bigint, text)",
                                      refusal: "check manufacturing steps",
                                      fix: "operators and QA check steps they did not perform",
                                      signing: SigningIntent(record: "manufacturing step \(step)", meaning: .verified,
                                                             statement: statement),
                                      passwordStdin: passwordStdin, record: String(step), done: "verified step \(step)",
                                      isolation: WriteIsolation.lockedRows, in: context) { db, challenge in
            try MasterRecordRegistry.check(on: db, challenge: challenge, step: step, statement: statement)
        }
    }
}
