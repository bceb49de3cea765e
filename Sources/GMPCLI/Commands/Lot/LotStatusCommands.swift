import ArgumentParser
import GMPDomain
import PostgresClient

/// The document every status change prints.
struct LotStatusDocument: Encodable {
    let lot: String
    let status: String
    let signature: Int64?
}

/// `gmp lot hold LOT --reason …` (QA).
struct LotHold: GMPCommand {
    static let path = "lot hold"
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Put a lot on hold pending an investigation (QA).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var lot: LotArgument
    @Option(help: ArgumentHelp("Why, for the audit trail (required).", valueName: "text")) var reason: String

    func execute(in context: CommandContext) throws {
        let din = try lot.din()
        let connection = try context.connect(startingEmbedded: false)
        try connection.transaction { db in try Lots(db).hold(din, reason: reason) }
        try context.output.document(LotStatusDocument(lot: din.eyeReadable, status: LotStatus.onHold.rawValue, signature: nil))
        context.output.data("\(din.eyeReadable): on_hold")
    }
}

/// `gmp lot unhold LOT --reason …` (QA): back to quarantine.
struct LotUnhold: GMPCommand {
    static let path = "lot unhold"
    static let configuration = CommandConfiguration(
        commandName: "unhold", abstract: "Lift a hold: the lot returns to quarantine (QA).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var lot: LotArgument
    @Option(help: ArgumentHelp("Why, for the audit trail (required).", valueName: "text")) var reason: String

    func execute(in context: CommandContext) throws {
        let din = try lot.din()
        let connection = try context.connect(startingEmbedded: false)
        try connection.transaction { db in try Lots(db).unhold(din, reason: reason) }
        try context.output.document(LotStatusDocument(lot: din.eyeReadable, status: LotStatus.quarantine.rawValue, signature: nil))
        context.output.data("\(din.eyeReadable): quarantine")
    }
}

/// `gmp lot reject LOT --reason …` (QA, signed).
struct LotReject: GMPCommand {
    static let path = "lot reject"
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a lot, with your e-signature (QA). Final: nothing may change it afterwards.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var lot: LotArgument
    @Option(help: ArgumentHelp("Why, signed with the rejection (required).", valueName: "text")) var reason: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let din = try lot.din()
        let connection = try context.connect(startingEmbedded: false)
        let password = try PasswordReader.forSignature(account: connection.userName, fromStandardInput: passwordStdin)
        let signature = try SignatureCeremony(connection).sign(password: password) { db, challenge in
            try Lots.reject(on: db, challenge: challenge, lot: din, reason: reason)
        }
        try context.output.document(LotStatusDocument(lot: din.eyeReadable, status: LotStatus.rejected.rawValue,
                                                      signature: signature))
        context.output.data("signed: \(connection.userName) rejected lot \(din.eyeReadable) (signature \(signature))")
    }
}
