import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp audit report`: audit events by record, person or time, streamed.
struct AuditReportCommand: GMPCommand {
    static let path = "audit report"
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print audit events by record, person or time range: table, --json, --csv, or a printable --html/--pdf.",
        discussion: """
            Streams in constant memory, in sequence order, from one consistent snapshot \
            (--json: the document is written whole once the last event is read, so a \
            failure part-way prints none of it). \
            Signatures show with printed name, time and meaning, and BROKEN when the \
            signed record changed afterwards.

            --html FILE and --pdf FILE (weasyprint) write the report an inspector takes away: \
            old → new values per field, signatures with printed name, time and meaning, each \
            event's chain position (seq and hash) and how to verify it.

            Examples:
              gmp audit report --table gmp.account --key jlee
              gmp audit report --table gmp.lot --key G123426000001 --pdf lot-audit.pdf
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
    @OptionGroup var format: TraceFormat
    @Option(help: ArgumentHelp("Write a printable HTML report here.", valueName: "file"), completion: .file(extensions: ["html"]))
    var html: String?
    @Option(help: ArgumentHelp("Write a PDF report here (weasyprint).", valueName: "file"), completion: .file(extensions: ["pdf"]))
    var pdf: String?

    func validate() throws {
        if key != nil && table == nil { throw ValidationError("--key needs --table: keys are unique only within a table") }
        try format.requireOne(json: options.json)
        if (html != nil || pdf != nil) && (format.csv || options.json) {
            throw ValidationError("--html and --pdf write files; leave out --csv and --json")
        }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        context.chainPendingEvents(on: connection)
        let filter = AuditReportFilter(table: table, key: key, actor: actor, since: since?.timestamp, until: until?.timestamp)
        if html != nil || pdf != nil { return try printable(filter, connection, context) }
        var writer: any AuditReportWriter
        if options.json {
            writer = JSONReportWriter()
        } else if format.csv {
            writer = CSVReportWriter(byteOrderMark: format.bom)
        } else {
            writer = TextReportWriter(style: context.output.stdoutStyle)
        }
        // Begun at the first event: a refusal before any (permission denied) leaves stdout
        // empty. A failure after some leaves the table's or CSV's lines already out, and the
        // JSON document unwritten (it is written whole at the end, issue 16 item 6).
        var written = 0
        let count = try AuditReport(connection).run(filter) { entry in
            if written == 0 { writer.begin() }
            try writer.write(entry)
            written += 1
        }
        if written == 0 { writer.begin() }
        writer.end(count: count)
    }

    /// The printable report: collected, then written as HTML and/or PDF.
    private func printable(_ filter: AuditReportFilter, _ connection: PostgresConnection, _ context: CommandContext) throws {
        let scope = [table.map { "table \($0)" }, key.map { "key \($0)" }, actor.map { "by \($0)" },
                     since.map { "from \($0.timestamp.iso8601)" }, until.map { "before \($0.timestamp.iso8601)" }]
            .compactMap { $0 }.joined(separator: ", ")
        var writer = HTMLReportWriter(scope: scope.isEmpty ? "every event" : scope)
        let report = AuditReport(connection)
        let count = try report.run(filter, fieldChanges: true) { writer.write($0) }
        let head = try report.chainHead()
        let printedAt = try connection.query("SELECT now() AS t")[0].decode("t", as: Timestamp.self).iso8601
        let page = writer.page(count: count, printedAt: printedAt, head: head)
        if let html { try PrintedFile.write(page, to: html) }
        if let pdf { try PDFConverter.convert(html: page, to: pdf) }
        for file in [html, pdf].compactMap({ $0 }) { context.output.note("wrote \(file)") }
        context.output.data("\(count) event(s)")
    }
}
