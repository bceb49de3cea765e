import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp donor list`: donors by code, without personal data.
struct DonorList: GMPCommand {
    static let path = "donor list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List donors by code, newest first: table, --json or --csv.",
        discussion: """
            No personal data: names and dates of birth stay with gmp donor identity \
            (directors and admins).

            Examples:
              gmp donor list --from 2026-11-01
              gmp donor list --donor D26-000001 --csv    (a birth mother and her newborns)
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Option(help: ArgumentHelp("Only this donor and, for a birth mother, her newborns.", valueName: "donor"))
    var donor: String?
    @OptionGroup var dates: DateRangeOptions

    static let listing = Listing<DonorListing.Row>(
        columns: ["donor", "intended_use", "birth_mother", "collections", "lots", "consent_withdrawn", "registered_at"],
        cells: { [$0.donor, $0.intendedUse, $0.birthMother ?? "", String($0.collections), String($0.lots),
                  $0.consentWithdrawn ? "true" : "false", $0.registeredAt.iso8601] },
        empty: "no donors")

    func validate() throws { try format.requireOne(json: options.json) }

    func execute(in context: CommandContext) throws {
        let filter = ListFilter(from: dates.from, to: dates.to, donor: donor)
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in try DonorListing(db).rows(filter) }
        try Self.listing.print(rows, format: format, in: context)
    }
}
