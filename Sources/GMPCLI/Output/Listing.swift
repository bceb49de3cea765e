import ArgumentParser
import PostgresClient

/// How every `list` command prints its rows: a table, `--json` (an array of the rows'
/// documents) or `--csv` (the same columns as the table, `--bom` for spreadsheets).
/// One place, so that the three forms of a list never drift apart.
struct Listing<Row: Encodable & Sendable>: Sendable {
    let columns: [String]
    let cells: @Sendable (Row) -> [String]
    /// Said on stdout (text only) when there is no row.
    let empty: String
    /// Columns of the table that line up on their last digit (counts, quantities).
    var rightAligned: Set<Int> = []

    func print(_ rows: [Row], format: TraceFormat, in context: CommandContext) throws {
        if format.csv {
            format.write(header: columns, rows: rows.map(cells))
            return
        }
        try context.output.document(rows)
        context.output.data(rows.isEmpty ? empty
                            : textTable(header: columns.map { $0.uppercased() }, rows: rows.map(cells), rightAligned: rightAligned))
    }
}

/// `--from` and `--to`: whole UTC days, both included.
struct DateRangeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only those from this day on (YYYY-MM-DD, UTC).", valueName: "date")) var from: CalendarDate?
    @Option(help: ArgumentHelp("Only those up to and including this day (YYYY-MM-DD, UTC).", valueName: "date")) var to: CalendarDate?

    func validate() throws {
        if let from, let to, to < from { throw ValidationError("--to \(to) is before --from \(from)") }
    }
}

extension TraceFormat {
    /// `--csv` and `--json` exclude each other.
    func requireOne(json: Bool) throws {
        if csv && json { throw ValidationError("choose one of --csv and --json") }
    }
}
