import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp ship`: distribution of units to a consignee (21 CFR 1271.265(d), 1271.290).
struct Ship: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ship",
        abstract: "Ship units to a consignee: create, pack, dispatch (signed), receive (signed by the named receiver).",
        discussion: """
            A shipment goes created → packed → dispatched → received, one step at a time, \
            and never changes once received. It names the consignee and address, the one \
            person (a gmp account) who alone may confirm receipt, the dry shipper (a \
            storage device of kind shipper, whose logger trace imports like any readings \
            file) and the shipper's qualification.

            Only units of released or exceptionally released lots ship, and none that an \
            open temperature excursion affects. A quarantined lot's units ship only in a \
            shipment a director creates on the documented urgent-need path (--urgent-need \
            and --physician); gmp ship show then prints the label statements they need.

            A typical run:
              gmp ship create --consignee "City Clinic" --address "1 Main St, Springfield" \\
                  --receiver rnurse --shipper DS-01 --qualification "PQ-DS-01 valid to 2027-06"
              gmp ship pack SHP26-00001 --unit W123426000001-001 --unit W123426000001-002
              gmp ship dispatch SHP26-00001 --courier "ColdChain Couriers, waybill 4711"
              gmp ship receive SHP26-00001 --condition "shipper intact, logger in range"   (as rnurse)
            """,
        subcommands: [ShipCreate.self, ShipPack.self, ShipDispatch.self, ShipReceive.self, ShipList.self, ShipShow.self])
}

/// The shipment id every step command takes.
///
/// Each command declares it as its own positional argument, not as an `@OptionGroup` of a
/// type of its own, which cost the command five more conformance scans at start-up
/// (issue 18; see `LotArgument`).
enum ShipmentArgument {
    static let help = ArgumentHelp("The shipment (SHP26-00001).", valueName: "shipment")
}

struct ShipCreate: GMPCommand {
    static let path = "ship create"
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a shipment: consignee, address, named receiver, dry shipper and its qualification.",
        discussion: """
            The urgent-need path (a quarantined lot's units, 21 CFR 1271.60(d)) needs \
            --urgent-need and --physician together, and a director creating the shipment.

            Examples:
              gmp ship create --consignee "City Hospital, Cell Therapy Unit" --address "1 Hospital Road" --receiver morgan --shipper DS-01 --qualification "QR-DS-01, valid to 2027-06"
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("Who receives the units (clinic, hospital pharmacy).", valueName: "name")) var consignee: String
    @Option(help: ArgumentHelp("The consignee's delivery address.", valueName: "text")) var address: String
    @Option(help: ArgumentHelp("The gmp account who alone may confirm receipt.", valueName: "account")) var receiver: String
    @Option(help: ArgumentHelp("The dry shipper: a storage device of kind shipper.", valueName: "id")) var shipper: String
    @Option(help: ArgumentHelp("The shipper's qualification (report, validity).", valueName: "text")) var qualification: String
    @Option(help: ArgumentHelp("Urgent-need path: why the patient cannot wait for release.", valueName: "text"))
    var urgentNeed: String?
    @Option(help: ArgumentHelp("Urgent-need path: the treating physician and their documented request.", valueName: "text"))
    var physician: String?

    struct Document: Encodable {
        let id: String
        let status: String
        let urgent: Bool
    }

    func validate() throws {
        if (urgentNeed == nil) != (physician == nil) {
            throw ValidationError("the urgent-need path needs --urgent-need and --physician together")
        }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let plan = Shipments.Plan(consignee: consignee, consigneeAddress: address, receiver: receiver, shipper: shipper,
                                  shipperQualification: qualification, urgentNeed: urgentNeed, physician: physician)
        let id = try connection.transaction(WriteIsolation.lockedRows) { db in try Shipments(db).create(plan) }
        try context.output.document(Document(id: id, status: "created", urgent: urgentNeed != nil))
        context.output.data("created shipment \(id) to \(consignee) in shipper \(shipper.uppercased()); "
                            + "\(receiver) confirms its receipt" + (urgentNeed == nil ? "" : " (URGENT NEED)"))
    }
}

struct ShipList: GMPCommand {
    static let path = "ship list"
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List shipments, newest first.",
        discussion: """
            Examples:
              gmp ship list --status dispatched
              gmp ship list --csv --bom > shipments.csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Option(help: ArgumentHelp("Only those in this status: created, packed, dispatched or received.", valueName: "status"))
    var status: String?

    func validate() throws {
        try format.requireOne(json: options.json)
        if let status, !["created", "packed", "dispatched", "received"].contains(status) {
            throw ValidationError("--status is one of created, packed, dispatched, received")
        }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in try Shipments(db).list(status: status) }
        if format.csv {
            format.write(header: ["id", "status", "units", "consignee", "shipper", "receiver", "urgent", "created_at", "dispatched_at",
                                  "received_at"],
                         rows: rows.map { r in
                [r.id, r.status, String(r.units), r.consignee, r.shipper, r.receiver, r.urgent ? "true" : "false", r.createdAt.iso8601,
                 r.dispatchedAt?.iso8601 ?? "", r.receivedAt?.iso8601 ?? ""]
            })
            return
        }
        try context.output.document(rows)
        context.output.data(rows.isEmpty ? "no shipments" : ShipText.table(rows))
    }
}

struct ShipShow: GMPCommand {
    static let path = "ship show"
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a shipment: consignee, shipper, steps, units with their label statements, signatures.",
        discussion: """
            --json: the document described in gmp help storage-and-distribution.

            Examples:
              gmp ship show SHP26-00001
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ShipmentArgument.help, completion: ObjectCompletion.shipments) var shipment: String

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        if options.json {
            let json = try connection.transaction(.repeatableRead, readOnly: true) { db in
                try Shipments(db).documentJSON(shipment)
            }
            try context.output.serverDocument(json)
            return
        }
        let document = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try Shipments(db).document(shipment)
        }
        context.output.data(ShipText.report(document).joined(separator: "\n"))
    }
}

extension ShipShow: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([.globalOptions, .argument { $0.shipment = $1 }])
}
