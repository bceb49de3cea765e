import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp unit list`: units with their state and holder.
struct UnitList: GMPCommand {
    static let path = "unit list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List units (vials and bags) by lot and division: table, --json or --csv.",
        discussion: """
            HOLDER says where a unit is: a box and position, a person, an outside party, \
            or a shipment.

            Examples:
              gmp unit list --lot G1234260000014
              gmp unit list --status stored --product cells --csv
            """)

    static let states = ["in_hand", "stored", "packed", "in_transit", "delivered", "thawed", "discarded"]

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Option(help: ArgumentHelp("Only units in this state: \(states.joined(separator: ", ")).", valueName: "state"))
    var status: String?
    @Option(help: ArgumentHelp("Only units of this lot (DIN and check character).", valueName: "lot")) var lot: String?
    @Option(help: ArgumentHelp("Only units of this product kind: \(ProductKind.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "kind"))
    var product: ProductKind?
    @Option(help: ArgumentHelp("Only units of this donor's lots (a birth mother: also her newborns').", valueName: "donor"))
    var donor: String?
    @OptionGroup var dates: DateRangeOptions

    static let listing = Listing<UnitListing.Row>(
        columns: ["unit", "lot", "container", "volume_ml", "state", "holder", "expires_on"],
        cells: { [$0.unit, $0.lot, $0.container, $0.volumeMl, $0.state, $0.holder ?? "", $0.expiresOn] },
        empty: "no units")

    func validate() throws {
        try format.requireOne(json: options.json)
        if let status, !Self.states.contains(status) {
            throw ValidationError("no unit state '\(status)': one of \(Self.states.joined(separator: ", "))")
        }
    }

    func execute(in context: CommandContext) throws {
        let din = try lot.map(DonationIdentificationNumber.init(keyed:))
        let filter = ListFilter(status: status, product: product?.rawValue, from: dates.from, to: dates.to, donor: donor, lot: din)
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in try UnitListing(db).rows(filter) }
        try Self.listing.print(rows, format: format, in: context)
    }
}
