import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp release rejection LOT`: the rejection record of a rejected lot.
struct RejectionRecordCommand: GMPCommand {
    static let path = "release rejection"
    static let configuration = CommandConfiguration(
        commandName: "rejection",
        abstract: "Print the rejection record of a rejected lot (text, --json, --html FILE, --pdf FILE).",
        discussion: """
            What an inspector asks for a rejected batch: the lot and its product, why it was \
            rejected (QA's reason, the criteria not met with their results, the blockers and \
            deviations the signed package showed), who rejected it (printed name, UTC time, \
            meaning, whether the signature is intact), the audit-trail position, and the state \
            and holder of every unit. --pdf needs weasyprint.

            Examples:
              gmp release rejection G1234260000022
              gmp release rejection G1234260000022 --pdf rejection.pdf
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("Also write a printable HTML page here.", valueName: "file"), completion: .file(extensions: ["html"]))
    var html: String?
    @Option(help: ArgumentHelp("Also write a PDF here (weasyprint).", valueName: "file"), completion: .file(extensions: ["pdf"]))
    var pdf: String?

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        // The record names the signature's audit event: chained, not pending.
        context.chainPendingEvents(on: connection)
        let json = try connection.transaction(.repeatableRead, readOnly: true) { db in try Disposition(db).rejectionJSON(din) }
        let record = try RejectionRecord.decode(json: json)
        try context.output.serverDocument(json)
        try PrintedFile.write({ RejectionRendering.html(record) }, html: html, pdf: pdf, in: context)
        context.output.data(RejectionRendering.text(record))
    }
}
