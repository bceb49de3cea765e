import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp custody`: signed hand-overs and the chain of custody.
struct CustodyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custody",
        abstract: "Hand units over (signed), confirm receipt (signed), list pending hand-overs, show the chain of custody.",
        discussion: """
            At every moment a unit is in exactly one storage position or one person's or \
            party's hands; the database refuses gaps and double custody, whoever writes. \
            Handing units to another person takes two signatures: the sender signs the \
            hand-over off, then the named receiver — nobody else — confirms receipt with \
            the time and the condition of the units. Until then the sender keeps custody \
            and the units are frozen: no place, move, thaw or discard.

            Example:
              gmp custody hand-over --unit G123426000001-001 --to jlee --reason "to the clean room"
              gmp custody receive 7 --condition "intact, frozen, label legible"   (as jlee)
              gmp custody history G1234260000014 --csv
            """,
        subcommands: [CustodyHandOver.self, CustodyReceive.self, CustodyPending.self, CustodyHistory.self])
}

/// `gmp custody hand-over --unit U … --to PERSON --reason …`
struct CustodyHandOver: GMPCommand {
    static let path = "custody hand-over"
    static let configuration = CommandConfiguration(
        commandName: "hand-over", abstract: "Sign off a hand-over of units in your hands to a named person.",
        discussion: """
            Examples:
              gmp custody hand-over --unit G1234260000014-001 --unit G1234260000014-002 --to jlee --reason "to QC for testing"
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("unit"), help: ArgumentHelp("A unit in your hands (repeat for more).", valueName: "unit"),
            completion: ObjectCompletion.units)
    var units: [String] = []
    @Option(help: ArgumentHelp("The receiver's account.", valueName: "person")) var to: String
    @Option(help: ArgumentHelp("Why they are handed over.", valueName: "text")) var reason: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    struct Document: Encodable {
        let transfer: Int64
        let units: [String]
        let from: String
        let to: String
        let signature: Int64
        let meaning: String
    }

    func execute(in context: CommandContext) throws {
        guard !units.isEmpty else { throw Failure(exitCode: .usage, problem: "no unit given", fix: "give --unit UNIT at least once") }
        let ids = try units.map(UnitIdentifier.init)
        let connection = try context.connect(startingEmbedded: false)
        let (transfer, signature) = try SignedAction.run(
            connection, function: "gmp.hand_over(uuid, text[], text, text)", refusal: "hand over units",
            fix: "operators, QC and QA hand units over",
            signing: SigningIntent(record: "hand-over of \(ids.map(\.value).joined(separator: ", ")) to \(to)", meaning: .performed,
                                   statement: reason),
            passwordStdin: passwordStdin) { db, challenge in
            try Custody.handOver(on: db, challenge: challenge, units: ids, to: to, reason: reason)
        }
        try context.output.document(Document(transfer: transfer, units: ids.map(\.value), from: connection.userName, to: to,
                                             signature: signature, meaning: SignatureMeaning.performed.rawValue))
        context.output.data("""
            signed: \(connection.userName) handed \(ids.count) unit(s) over to \(to) (transfer \(transfer), signature \(signature))
            custody passes when \(to) confirms receipt: gmp custody receive \(transfer) --condition "…"
            """)
    }
}

/// `gmp custody receive TRANSFER --condition … [--at TIME]`
struct CustodyReceive: GMPCommand {
    static let path = "custody receive"
    static let configuration = CommandConfiguration(
        commandName: "receive", abstract: "Confirm receipt of a hand-over to you, with the time and the units' condition.",
        discussion: """
            Examples:
              gmp custody receive 42 --condition "intact, frozen, labels legible"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The transfer (gmp custody pending lists them).", valueName: "transfer")) var transfer: Int64
    @Option(help: ArgumentHelp("The condition of what you received, e.g. \"intact, frozen, labels legible\".", valueName: "text"))
    var condition: String
    @Option(help: ArgumentHelp("When they reached you (default: now), ISO 8601 with an offset.", valueName: "time"))
    var at: TimeArgument?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    struct Document: Encodable {
        let transfer: Int64
        let receiver: String
        let signature: Int64
        let meaning: String
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let signature = try SignedAction.run(
            connection, function: "gmp.receive_transfer(uuid, bigint, timestamptz, text)", refusal: "receive units",
            fix: "operators, QC and QA receive units",
            signing: SigningIntent(record: "receipt of transfer \(transfer)", meaning: .verified, statement: condition),
            passwordStdin: passwordStdin) { db, challenge in
            try Custody.receive(on: db, challenge: challenge, transfer: transfer, at: at?.timestamp, condition: condition)
        }
        try context.output.document(Document(transfer: transfer, receiver: connection.userName, signature: signature,
                                             meaning: SignatureMeaning.verified.rawValue))
        context.output.data("signed: \(connection.userName) received transfer \(transfer) (signature \(signature)); the units are in your hands")
    }
}

/// `gmp custody pending`
struct CustodyPending: GMPCommand {
    static let path = "custody pending"
    static let configuration = CommandConfiguration(
        commandName: "pending", abstract: "Hand-overs signed off by their sender and awaiting the receiver's confirmation.",
        discussion: """
            Examples:
              gmp custody pending
              gmp custody pending --json
            """)

    @OptionGroup var options: GlobalOptions

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let pending = try Custody(connection).pending()
        try context.output.document(pending)
        let rows = pending.map { t in
            [String(t.transfer), t.from, t.to, t.signedOffAt.iso8601, t.units.joined(separator: ", "), t.reason]
        }
        context.output.data(rows.isEmpty ? "no hand-overs awaiting receipt"
            : textTable(header: ["TRANSFER", "FROM", "TO", "SIGNED OFF (UTC)", "UNITS", "REASON"], rows: rows))
    }
}
