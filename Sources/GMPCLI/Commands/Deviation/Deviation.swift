import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp deviation`: deviations and investigations.
struct Deviation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deviation",
        abstract: "Open, link and close deviations and OOS investigations.",
        discussion: """
            A deviation names the lots it touches; while it is open none of them can be \
            released. An out-of-specification result opens an OOS investigation by itself. \
            QA closes a deviation once, with its outcome and an e-signature; nothing about a \
            closed deviation changes.
            """,
        subcommands: [DeviationOpen.self, DeviationLink.self, DeviationClose.self, DeviationList.self])
}

struct DeviationOpen: GMPCommand {
    static let path = "deviation open"
    static let configuration = CommandConfiguration(commandName: "open", abstract: "Open a deviation on one or more lots.",
        discussion: """
            Examples:
              gmp deviation open --lot G1234260000014 --title "incubator CO2 at 3.1 % for 40 min" --description "alarm at 02:10; door seal"
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("lot"), help: ArgumentHelp("A lot it touches (repeat for more), with its check character.", valueName: "lot"))
    var lots: [String]
    @Option(help: ArgumentHelp("What happened, in one line.", valueName: "text")) var title: String
    @Option(help: ArgumentHelp("The details.", valueName: "text")) var description: String?

    struct Document: Encodable {
        let id: String
        let lots: [String]
    }

    func execute(in context: CommandContext) throws {
        guard !lots.isEmpty else { throw Failure(exitCode: .usage, problem: "no lot given", fix: "give --lot LOT at least once") }
        let dins = try lots.map(DonationIdentificationNumber.init(keyed:))
        let connection = try context.connect(startingEmbedded: false)
        // READ COMMITTED: each link locks its lot (docs/concurrency.md); the new deviation is
        // no one else's to change.
        let id = try connection.transaction(WriteIsolation.lockedRows) { db in
            try Deviations(db).open(title: title, description: description, lots: dins)
        }
        try context.output.document(Document(id: id, lots: dins.map(\.eyeReadable)))
        context.output.data("opened \(id) on \(dins.map(\.eyeReadable).joined(separator: ", ")); it blocks their release until QA closes it")
    }
}

struct DeviationLink: GMPCommand {
    static let path = "deviation link"
    static let configuration = CommandConfiguration(commandName: "link", abstract: "Link an open deviation to another lot.",
        discussion: """
            Examples:
              gmp deviation link DEV26-00001 G1234260000014 --reason "same incubator during the excursion"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The deviation.", valueName: "id")) var id: String
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("Why the lot is affected.", valueName: "text")) var reason: String

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        try connection.transaction { db in try Deviations(db).link(id, to: din, reason: reason) }
        try context.output.document(DeviationOpen.Document(id: id, lots: [din.eyeReadable]))
        context.output.data("linked \(id) to lot \(din.eyeReadable)")
    }
}

struct DeviationClose: GMPCommand {
    static let path = "deviation close"
    static let configuration = CommandConfiguration(
        commandName: "close", abstract: "Close a deviation with its outcome, with your e-signature (QA).",
        discussion: """
            Examples:
              gmp deviation close DEV26-00001 --outcome "root cause: door seal; no impact on the lot; seal replaced (CAPA-12)"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The deviation.", valueName: "id")) var id: String
    @Option(help: ArgumentHelp("What was found and decided (root cause, impact, CAPA).", valueName: "text")) var outcome: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.runAndReport(connection, function: "gmp.close_deviation(uuid, text, text)",
                                      refusal: "close deviations", fix: "QA closes deviations",
                                      signing: SigningIntent(record: "closure of deviation \(id)", meaning: .approved, statement: outcome),
                                      passwordStdin: passwordStdin, record: id, done: "closed \(id)", in: context) { db, challenge in
            try Deviations.close(on: db, challenge: challenge, deviation: id, outcome: outcome)
        }
    }
}

struct DeviationList: GMPCommand {
    static let path = "deviation list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List deviations, newest first: table, --json or --csv.",
        discussion: """
            Examples:
              gmp deviation list --open
              gmp deviation list --status closed --from 2026-01-01 --csv --bom > closed-2026.csv
              gmp deviation list --lot G1234260000014 --json
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Flag(help: "Only open ones (as --status open).") var open = false
    @Option(help: ArgumentHelp("Only those in this status: open or closed.", valueName: "status")) var status: String?
    @Option(help: ArgumentHelp("Only those on this lot.", valueName: "lot")) var lot: String?
    @Option(help: ArgumentHelp("Only those on this donor's lots (a birth mother: also her newborns').", valueName: "donor"))
    var donor: String?
    @OptionGroup var dates: DateRangeOptions

    static let listing = Listing<Deviations.Row>(
        columns: ["id", "status", "kind", "title", "lots", "opened_at", "opened_by", "outcome", "closed_by"],
        cells: { [$0.id, $0.status, $0.kind, $0.title, $0.lots.joined(separator: " "), $0.openedAt.iso8601, $0.openedBy,
                  $0.outcome ?? "", $0.closedBy ?? ""] },
        empty: "no deviations")

    func validate() throws {
        try format.requireOne(json: options.json)
        if let status, !["open", "closed"].contains(status) { throw ValidationError("--status is open or closed") }
        if open && status == "closed" { throw ValidationError("--open and --status closed exclude each other") }
    }

    func execute(in context: CommandContext) throws {
        let din = try lot.map(DonationIdentificationNumber.init(keyed:))
        let filter = ListFilter(status: open ? "open" : status, from: dates.from, to: dates.to, donor: donor, lot: din)
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in try Deviations(db).list(filter) }
        try Self.listing.print(rows, format: format, in: context)
    }
}
