import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp lot list` (also `gmp batch list`).
struct LotList: GMPCommand {
    static let path = "lot list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List lots, newest first: table, --json or --csv.",
        discussion: """
            The LOT column is the id to type back (DIN and check character).

            Examples:
              gmp lot list --status quarantine
              gmp lot list --product cells --from 2026-11-01 --to 2026-11-30 --csv --bom > november.csv
              gmp batch list --donor D26-000001 --json
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Option(help: ArgumentHelp("Only lots in this status: \(LotStatus.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "status"))
    var status: LotStatus?
    @Option(help: ArgumentHelp("Only this product kind: \(ProductKind.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "kind"))
    var product: ProductKind?
    @Option(help: ArgumentHelp("Only lots of this donor (a birth mother: also her newborns').", valueName: "donor"))
    var donor: String?
    @OptionGroup var dates: DateRangeOptions

    static let listing = Listing<Row>(
        columns: ["lot", "status", "stage", "product_kind", "donor", "parent", "expires_on", "created_at"],
        cells: { [$0.lot, $0.status, $0.stage, $0.productKind, $0.donor, $0.parent ?? "", $0.expiresOn, $0.createdAt.iso8601] },
        empty: "no lots")

    typealias Row = LotListing.Row

    func validate() throws { try format.requireOne(json: options.json) }

    func execute(in context: CommandContext) throws {
        let filter = ListFilter(status: status?.rawValue, product: product?.rawValue, from: dates.from, to: dates.to, donor: donor)
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in try LotListing(db).rows(filter) }
        try Self.listing.print(rows, format: format, in: context)
    }
}
