import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

struct ShipPack: GMPCommand {
    static let path = "ship pack"
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Pack units from your hands into the shipment's dry shipper.",
        discussion: """
            The units must be in your hands (withdrawn from storage, or handed over to \
            you). Whoever packs first packs the rest and dispatches; the named receiver \
            never packs. Refused for units of a lot that is not released (off the \
            urgent-need path), units an open excursion affects, and units already shipped.

            Examples:
              gmp ship pack SHP26-00001 --unit G1234260000014-001 --unit G1234260000014-002
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ShipmentArgument.help, completion: ObjectCompletion.shipments) var shipment: String
    @Option(name: .customLong("unit"), help: ArgumentHelp("A unit to pack (repeat for more): W123426000001-001.", valueName: "unit"),
            completion: ObjectCompletion.units)
    var units: [String] = []

    struct Document: Encodable {
        let shipment: String
        let packed: [String]
        let units: Int
        let labels: [UnitLabel]
    }

    struct UnitLabel: Encodable {
        let unit: String
        let statements: [String]
    }

    func validate() throws {
        if units.isEmpty { throw ValidationError("name the units to pack: --unit UNIT at least once") }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let (count, document) = try connection.transaction(WriteIsolation.lockedRows) { db in
            let shipments = Shipments(db)
            return (try shipments.pack(shipment, units: units), try shipments.document(shipment))
        }
        let packed = Set(units.map { $0.uppercased() })
        let labels = document.units.filter { packed.contains($0.unit) }.map {
            UnitLabel(unit: $0.unit, statements: document.labelStatements(for: $0))
        }
        try context.output.document(Document(shipment: document.id, packed: labels.map(\.unit), units: count, labels: labels))
        var lines = ["packed \(labels.count) unit(s) into \(document.shipperId) for \(document.id); it holds \(count)"]
        for label in labels where !label.statements.isEmpty {
            lines.append("  \(label.unit) label: " + label.statements.joined(separator: " | "))
        }
        context.output.data(lines.joined(separator: "\n"))
    }
}

struct ShipDispatch: GMPCommand {
    static let path = "ship dispatch"
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Hand the packed shipment to the courier, with your e-signature (the sender, who packed it).",
        discussion: """
            Examples:
              gmp ship dispatch SHP26-00001 --courier "World Courier, waybill WC-12345"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ShipmentArgument.help, completion: ObjectCompletion.shipments) var shipment: String
    @Option(help: ArgumentHelp("The courier taking custody (company, waybill).", valueName: "text")) var courier: String
    @Option(help: ArgumentHelp("Your statement, signed with the dispatch.", valueName: "text")) var reason: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let id = shipment.uppercased()
        try SignedAction.runAndReport(connection, function: "gmp.dispatch_shipment(uuid, text, text, text)",
                                      refusal: "dispatch shipments", fix: "the operator, QC or QA person who packed it dispatches",
                                      signing: SigningIntent(record: "dispatch of shipment \(id) with \(courier)",
                                                             meaning: .performed, statement: reason),
                                      passwordStdin: passwordStdin, record: id, done: "dispatched \(id) to \(courier)",
                                      next: "; the named receiver confirms receipt", isolation: WriteIsolation.lockedRows, in: context) { db, challenge in
            try Shipments.dispatch(on: db, challenge: challenge, shipment: shipment, courier: courier, reason: reason)
        }
    }
}

struct ShipReceive: GMPCommand {
    static let path = "ship receive"
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Confirm receipt of a shipment with its time and condition, with your e-signature (the named receiver only).",
        discussion: """
            Examples:
              gmp ship receive SHP26-00001 --condition "intact; shipper below −150 °C; logger trace OK"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ShipmentArgument.help, completion: ObjectCompletion.shipments) var shipment: String
    @Option(help: ArgumentHelp("When it arrived (default: now): ISO 8601 with an offset.", valueName: "time")) var at: TimeArgument?
    @Option(help: ArgumentHelp("What you found: shipper, logger, units, labels.", valueName: "text")) var condition: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        // Told at once, before a password is asked for; the database decides again.
        let receiver = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try Shipments(db).document(shipment).receiver
        }
        guard receiver == connection.userName else {
            throw Failure(exitCode: .permissionDenied,
                          problem: "permission denied: shipment \(shipment.uppercased()) is to \(receiver), not to \(connection.userName)",
                          fix: "only \(receiver), the named receiver, confirms its receipt")
        }
        let id = shipment.uppercased()
        let intent = SigningIntent(record: "receipt of shipment \(id)", meaning: .verified, statement: condition)
        let signature = try SignedAction.sign(connection, signing: intent, passwordStdin: passwordStdin,
                                              isolation: WriteIsolation.lockedRows) { db, challenge in
            try Shipments.receive(on: db, challenge: challenge, shipment: shipment, at: at?.timestamp,
                                  condition: condition)
        }
        try SignedAction.report(signature, record: id, signing: intent, done: "received \(id)", on: connection, in: context)
    }
}
