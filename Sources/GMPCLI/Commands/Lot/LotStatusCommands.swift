import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// The document every status change prints.
struct LotStatusDocument: Encodable {
    let lot: String
    let status: String
    let signature: Int64?
}

/// Runs an unsigned status change in its own transaction and reports the new status.
enum LotStatusChange {
    static func run(_ context: CommandContext, _ lot: String, to status: LotStatus,
                    _ change: (Lots, DonationIdentificationNumber) throws -> Void) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        try connection.transaction(WriteIsolation.lockedRows) { db in try change(Lots(db), din) }
        try context.output.document(LotStatusDocument(lot: din.eyeReadable, status: status.rawValue, signature: nil))
        context.output.data("\(din.eyeReadable): \(status.rawValue)")
    }
}

/// `gmp lot hold LOT --reason …` (QA).
struct LotHold: GMPCommand {
    static let path = "lot hold"
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Put a lot on hold pending an investigation (QA).",
        discussion: """
            Examples:
              gmp lot hold G1234260000014 --reason "awaiting the sterility retest"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("Why, for the audit trail (required).", valueName: "text")) var reason: String

    func execute(in context: CommandContext) throws {
        try LotStatusChange.run(context, lot, to: .onHold) { lots, din in try lots.hold(din, reason: reason) }
    }
}

/// `gmp lot unhold LOT --reason …` (QA): back to quarantine.
struct LotUnhold: GMPCommand {
    static let path = "lot unhold"
    static let configuration = CommandConfiguration(
        commandName: "unhold", abstract: "Lift a hold: the lot returns to quarantine (QA).",
        discussion: """
            Examples:
              gmp lot unhold G1234260000014 --reason "sterility retest passed"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("Why, for the audit trail (required).", valueName: "text")) var reason: String

    func execute(in context: CommandContext) throws {
        try LotStatusChange.run(context, lot, to: .quarantine) { lots, din in try lots.unhold(din, reason: reason) }
    }
}

/// `gmp lot reject LOT --reason …` (QA, signed).
struct LotReject: GMPCommand {
    static let path = "lot reject"
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a lot, with your e-signature (QA). Final: nothing may change it afterwards.",
        discussion: """
            Examples:
              gmp lot reject G1234260000014 --reason "culture contaminated at passage 2"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("Why, signed with the rejection (required).", valueName: "text")) var reason: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    /// The same signed disposition as `gmp release reject`.
    func execute(in context: CommandContext) throws {
        try DispositionRun.run(context, lot: lot, passwordStdin: passwordStdin, refusal: "reject lots",
                               fix: "QA rejects lots") { _ in .reject(reason: reason) }
    }
}
