import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp lot show LOT`: the lot, its status and its steps.
struct LotShow: GMPCommand {
    static let path = "lot show"
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a lot: status, donor eligibility, units and manufacturing steps.",
        discussion: """
            Examples:
              gmp lot show G1234260000014
              gmp lot show "G1234 26 000001 4" --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String

    /// Written by hand (`JSONEncodable`): no `JSONEncoder` on a cold command (issue 18).
    struct Document: JSONEncodable {
        let lot: TraceDocument.Lot
        let steps: [TraceDocument.Step]

        var jsonValue: JSONValue { .object(omittingNil: [("lot", lot.jsonValue), ("steps", steps.jsonValue)]) }
    }

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        let trace = try connection.transaction(.repeatableRead, readOnly: true) { db in try Traceability(db).lotAndSteps(din) }
        try context.output.document(Document(lot: trace.lot, steps: trace.steps))
        let steps = LotText.steps(trace.steps)
        context.output.data((LotText.summary(trace.lot) + steps).joined(separator: "\n"))
    }
}

/// `gmp lot label LOT`: the statements the label must carry, never a personal identifier.
struct LotLabel: GMPCommand {
    static let path = "lot label"
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Print the label text a lot requires now (quarantine, autologous, donor warnings).",
        discussion: """
            The statements follow 21 CFR 1271.60, .65 and .90 for the lot's status, \
            intended use and donor eligibility. A label carries the DIN and the donor \
            code, never a name or record number.

            Examples:
              gmp lot label G1234260000014
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String

    struct Document: Encodable {
        let lot: String
        let din: String
        let checkCharacter: String
        let product: String
        let expiresOn: String
        let statements: [String]
    }

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        let trace = try connection.transaction(.repeatableRead, readOnly: true) { db in try Traceability(db).lotAndSteps(din) }
        let statements = LabelStatements.statements(for: LotText.labelFacts(trace.lot))
        let product = "\(trace.lot.productKind.replacing("_", with: " ")), \(trace.lot.stage.replacing("_", with: " "))"
        try context.output.document(Document(lot: din.eyeReadable, din: din.value, checkCharacter: String(din.checkCharacter),
                                             product: product, expiresOn: trace.lot.expiresOn, statements: statements))
        context.output.data(([din.eyeReadable, product, "EXP \(trace.lot.expiresOn)"] + statements).joined(separator: "\n"))
    }
}

extension LotShow: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([.globalOptions, .argument { $0.lot = $1 }])
}

extension LotLabel: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([.globalOptions, .argument { $0.lot = $1 }])
}
