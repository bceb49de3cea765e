import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp todo` (alias `gmp inbox`): what is waiting for the signed-in person.
struct Todo: GMPCommand {
    static let path = "todo"
    static let configuration = CommandConfiguration(
        commandName: "todo",
        abstract: "What is waiting for you, by your roles: table, --json or --csv.",
        discussion: """
            One row per thing to do, grouped by queue; ITEM is what the command that \
            does it takes:
              qc_to_confirm        results recorded for you as analyst (gmp qc confirm)
              qc_to_verify         results to verify, not yours (qc, qa: gmp qc verify)
              lot_to_release       cryopreserved lots in quarantine (qa: gmp release check)
              deviation_open       open deviations and OOS investigations (qa, director)
              excursion_open       temperature excursions to assess (qa: gmp excursion assess)
              transfer_to_receive  hand-overs to you not yet received (gmp custody receive)
              lot_expiring         lots expiring within --within days (operator, qa, director)
              material_expiring    material lots expiring within --within days (operator, qc, qa)
              material_quarantine  material lots awaiting release (qa: gmp material release)
              role_to_decide       role proposals for a second administrator (admin: gmp user approve)
            Nothing waiting: "nothing to do" (exit 0).

            Examples:
              gmp -U quinn todo
              gmp inbox --within 60 --json
            """,
        aliases: ["inbox"])

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Option(help: ArgumentHelp("Count lots and material lots expiring within this many days (default 30).", valueName: "days"))
    var within = 30

    static let listing = Listing<WorkQueue.Item>(
        columns: ["queue", "item", "summary", "since", "due_on"],
        cells: { [$0.queue, $0.item, $0.summary, $0.since?.iso8601 ?? "", $0.dueOn ?? ""] },
        empty: "nothing to do")

    func validate() throws {
        try format.requireOne(json: options.json)
        if !(0...3650).contains(within) { throw ValidationError("--within is a number of days from 0 to 3650") }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let items = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try WorkQueue(db).items(withinDays: within)
        }
        try Self.listing.print(items, format: format, in: context)
    }
}
