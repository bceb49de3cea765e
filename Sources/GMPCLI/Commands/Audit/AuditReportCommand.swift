import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp audit report`: audit events by record, person or time, streamed.
struct AuditReportCommand: GMPCommand {
    static let path = "audit report"
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print audit events by record, person or time range: table, --json or --csv.",
        discussion: """
            Streams in constant memory, in sequence order, from one consistent snapshot. \
            Signatures show with printed name, time and meaning, and BROKEN when the \
            signed record changed afterwards.

            Examples:
              gmp audit report --table gmp.account --key jlee
              gmp audit report --actor jlee --since 2026-11-01 --until 2026-12-01 --csv > nov.csv
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("Only this table's records (e.g. gmp.account), with signatures on them.", valueName: "table"))
    var table: String?
    @Option(help: ArgumentHelp("Only this record key (with --table).", valueName: "key")) var key: String?
    @Option(help: ArgumentHelp("Only changes by this person.", valueName: "id")) var actor: String?
    @Option(help: ArgumentHelp("From this time on (2026-11-01 or an ISO 8601 instant).", valueName: "time"))
    var since: TimeArgument?
    @Option(help: ArgumentHelp("Before this time.", valueName: "time")) var until: TimeArgument?
    @Flag(help: "CSV (RFC 4180) for spreadsheets, with a header row.") var csv = false

    func validate() throws {
        if key != nil && table == nil { throw ValidationError("--key needs --table: keys are unique only within a table") }
        if csv && options.json { throw ValidationError("choose one of --csv and --json") }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        context.chainPendingEvents(on: connection)
        let filter = AuditReportFilter(table: table, key: key, actor: actor, since: since?.timestamp, until: until?.timestamp)
        var writer: any AuditReportWriter
        if options.json {
            writer = JSONReportWriter()
        } else if csv {
            writer = CSVReportWriter()
        } else {
            writer = TextReportWriter(style: context.output.stdoutStyle)
        }
        // Begun at the first event: a refusal before any (permission denied) leaves stdout
        // empty, not an opened document; one after some closes the document as incomplete.
        var written = 0
        do {
            let count = try AuditReport(connection).run(filter) { entry in
                if written == 0 { writer.begin() }
                try writer.write(entry)
                written += 1
            }
            if written == 0 { writer.begin() }
            writer.end(count: count)
        } catch {
            if written > 0 { writer.abort(count: written) }
            throw error
        }
    }
}
