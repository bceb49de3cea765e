#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp coa LOT`: the Certificate of Analysis of a released lot.
struct Coa: GMPCommand {
    static let path = "coa"
    static let configuration = CommandConfiguration(
        commandName: "coa",
        abstract: "Print the Certificate of Analysis of a released lot (text, --json, --html FILE, --pdf FILE).",
        discussion: """
            Issued for released lots only (ICH Q7 §11.4). It is built from the release \
            package the QA signature covers, so every test shows the method, limit, result \
            and verdict that were evaluated, with the specification version, the signature \
            manifestation (printed name, UTC time, meaning) and the audit-trail position to \
            verify it with 'gmp audit verify'. It names the manufacturer and its address (facility.name \
            and facility.address in gmp.yaml), carries a document number (CoA-DIN-disposition) \
            and, when the signature is intact, the quality unit's compliance statement. --pdf \
            writes PDF/A-3b and needs weasyprint (apt-get install -y weasyprint).

            Examples:
              gmp coa G1234260000014
              gmp coa G1234260000014 --html coa.html --pdf coa.pdf
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
        // The certificate names the signature's audit event: chained, not pending.
        context.chainPendingEvents(on: connection)
        let json = try connection.transaction(.repeatableRead, readOnly: true) { db in try Disposition(db).certificateJSON(din) }
        let certificate = try CertificateOfAnalysis.decode(json: json)
        let manufacturer = context.settings.facility.flatMap { facility in
            facility.name.map { CertificateRendering.Manufacturer(name: $0, address: facility.address ?? "") }
        }
        try context.output.serverDocument(json)
        // PDF/A-3b: fonts embedded and XMP metadata, for a certificate kept for years.
        try PrintedFile.write({ CertificateRendering.html(certificate, manufacturer: manufacturer) }, html: html, pdf: pdf,
                              pdfVariant: "pdf/a-3b", in: context)
        context.output.data(CertificateRendering.text(certificate, manufacturer: manufacturer))
    }
}
