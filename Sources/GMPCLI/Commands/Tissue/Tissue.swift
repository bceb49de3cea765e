import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp tissue`: collections (recoveries) and their receipt.
struct Tissue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tissue",
        abstract: "Record tissue collections and their receipt at the facility (operators).",
        discussion: """
            Sources and units: bone_marrow (mL), umbilical_cord (cm, g), cord_blood (mL), \
            placenta (g), amniotic_membrane (g, cm2), amniotic_fluid (mL), adipose (mL, g), \
            peripheral_blood (mL), dental_pulp (g, teeth), gingiva (g, mm2), dermis (g, \
            mm2), hair_follicle (follicles).

            A collection needs the donor's consent in force (for a newborn, the birth \
            mother's) and is refused after a withdrawal.
            """,
        subcommands: [TissueCollect.self, TissueReceive.self])
}

/// `gmp tissue collect DONOR SOURCE …`
struct TissueCollect: GMPCommand {
    static let path = "tissue collect"
    static let configuration = CommandConfiguration(
        commandName: "collect", abstract: "Record a tissue collection and print its id.",
        discussion: """
            Examples:
              gmp tissue collect D26-000001 bone_marrow --site "Apheresis unit, OR 2" --at 2026-11-30T09:15:00Z --collector "Dr Ray Chen" --amount 60 --unit mL --transport "2–8 °C in transport medium"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The donor code.", completion: ObjectCompletion.donors) var donor: String
    @Argument(help: ArgumentHelp("The source, e.g. bone_marrow, umbilical_cord, adipose.", valueName: "source")) var source: String
    @Option(help: ArgumentHelp("Where it was collected.", valueName: "text")) var site: String
    @Option(help: ArgumentHelp("When: ISO 8601 with an offset, e.g. 2026-11-30T09:15:00Z.", valueName: "time")) var at: TimeArgument
    @Option(help: ArgumentHelp("Who collected it.", valueName: "name")) var collector: String
    @Option(help: ArgumentHelp("The amount, e.g. 60.", valueName: "number")) var amount: ExactDecimal
    @Option(help: ArgumentHelp("The amount's unit, one the source allows (mL, g, cm …).", valueName: "unit")) var unit: String
    @Option(help: ArgumentHelp("Transport conditions, e.g. \"2–8 °C in transport medium\".", valueName: "text")) var transport: String

    struct Document: Encodable {
        let collection: String
        let donor: String
        let source: String
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let recovery = TissueRecovery(donor: donor, source: source, site: site, collectedAt: at.timestamp, collector: collector,
                                      amount: amount, unit: unit, transportConditions: transport)
        let id = try connection.transaction(WriteIsolation.lockedRows) { db in try TissueCollections(db).collect(recovery) }
        try context.output.document(Document(collection: id, donor: donor, source: source))
        context.output.data("recorded collection \(id): \(source), \(amount) \(unit) from donor \(donor)")
    }
}

/// `gmp tissue receive ID`
struct TissueReceive: GMPCommand {
    static let path = "tissue receive"
    static let configuration = CommandConfiguration(
        commandName: "receive", abstract: "Record that you received a collection at the facility, with its condition.",
        discussion: """
            Examples:
              gmp tissue receive T26-000001 --condition acceptable --note "2–8 °C on arrival, seal intact"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The collection id (T26-000001).") var collection: String
    @Option(help: ArgumentHelp("When it arrived (default: now).", valueName: "time")) var at: TimeArgument?
    @Option(help: "acceptable or compromised.") var condition: ReceiptCondition
    @Option(help: ArgumentHelp("What you observed (temperature, packaging).", valueName: "text")) var note: String?

    struct Document: Encodable {
        let collection: String
        let receivedAt: String
        let condition: String
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let time = try connection.transaction(WriteIsolation.lockedRows) { db in
            try TissueCollections(db).receive(collection, at: at?.timestamp, condition: condition, note: note)
        }
        try context.output.document(Document(collection: collection, receivedAt: time.iso8601, condition: condition.rawValue))
        context.output.data("\(collection): received \(time.iso8601) (\(condition.rawValue))")
    }
}
