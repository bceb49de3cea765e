#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp label print UNIT|LOT`: labels as a label-sheet PDF and/or ZPL, each recorded.
struct LabelPrint: GMPCommand {
    static let path = "label print"
    static let configuration = CommandConfiguration(
        commandName: "print",
        abstract: "Print the labels of a unit, or of every unit of a lot (the lot's own label before its fill).",
        discussion: """
            Writes a label-sheet PDF (--pdf, needs weasyprint and zint) and/or ZPL for a \
            label printer (--zpl). Each label is recorded before the file is written; a \
            label printed before for the same lot or unit is a reprint and is refused \
            without --reason.

            Examples:
              gmp label print G1234260000014-003 --pdf unit3.pdf
              gmp label print G1234260000014 --zpl lot.zpl
              gmp label print G1234260000014-003 --pdf unit3.pdf --reason "label smudged"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("A unit (G1234260000014-003) or a lot (G1234260000014) with its check character.",
                                 valueName: "unit-or-lot"), completion: ObjectCompletion.unitsOrLots)
    var target: String
    @Option(help: ArgumentHelp("Write a label-sheet PDF here.", valueName: "file"), completion: .file(extensions: ["pdf"]))
    var pdf: String?
    @Option(help: ArgumentHelp("Write the labels as ZPL (Zebra printers) here.", valueName: "file"), completion: .file(extensions: ["zpl"]))
    var zpl: String?
    @Option(help: ArgumentHelp("Why the label is printed again (required for a reprint).", valueName: "text"))
    var reason: String?

    struct Document: Encodable {
        let labels: [Printed]
    }

    struct Printed: Encodable {
        let label: ProductLabel
        let print: LabelPrints.Recorded
    }

    func validate() throws {
        guard pdf != nil || zpl != nil else {
            throw ValidationError("give --pdf FILE or --zpl FILE (or both)")
        }
    }

    func execute(in context: CommandContext) throws {
        let (din, division) = try parsedTarget()
        let connection = try context.connect(startingEmbedded: false)
        // Read the record and draw the symbols before anything is recorded: a missing zint
        // must not leave a recorded print without a label.
        let labels = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try Self.labels(din: din, division: division, productCodes: context.settings.productCodes, db: db)
        }
        let symbols = try pdf == nil ? [] : labels.map(LabelSheet.Symbols.draw)
        let formats = [pdf.map { _ in "pdf" }, zpl.map { _ in "zpl" }].compactMap { $0 }
        let printed = try connection.transaction(.readCommitted) { db in
            let records = LabelPrints(db)
            let printed = try labels.map { label in
                Printed(label: label, print: try records.record(label, formats: formats, reason: reason))
            }
            // Written inside the transaction: a file that cannot be written rolls the records back.
            if let pdf {
                try PDFConverter.convert(html: LabelSheet.html(Array(zip(labels, symbols)), facility: din.facility.value), to: pdf)
            }
            if let zpl { try PrintedFile.write(labels.map(\.zpl).joined(), to: zpl) }
            return printed
        }
        try context.output.document(Document(labels: printed))
        for file in [pdf, zpl].compactMap({ $0 }) { context.output.note("wrote \(file)") }
        if printed.contains(where: \.label.placeholderProductCode) {
            context.output.warning("\(ProductLabel.placeholderWarning): set product_codes in the configuration "
                                + "to the codes ICCBBA assigned (gmp help printed-documents)")
        }
        context.output.data(printed.map { item in
            let kind = item.print.reprint ? "reprinted" : "printed"
            return "\(item.label.id)  \(kind)  \(item.label.dinData)  \(item.label.productCodeData)  \(item.label.expirationData)"
        }.joined(separator: "\n"))
    }

    /// A unit ("…-003") or a lot.
    private func parsedTarget() throws -> (DonationIdentificationNumber, Int?) {
        if UnitIdentifier.looksLikeUnit(target) {
            let unit = try UnitIdentifier(target)
            return (unit.din, unit.division)
        }
        return (try DonationIdentificationNumber(keyed: target), nil)
    }

    /// The unit's label; for a lot, one label per filled unit, or the lot's own label before its fill.
    static func labels(din: DonationIdentificationNumber, division: Int?, productCodes: [String: String],
                       db: PostgresConnection) throws -> [ProductLabel] {
        let lot = try Traceability(db).lotAndSteps(din).lot
        let facts = LotText.labelFacts(lot)
        let divisions: [Int?] = division.map { [$0] } ?? (lot.units.map { Array(1...max($0, 1)) } ?? [nil])
        let records = LabelPrints(db)
        do {
            return try divisions.map { division in
                var statements = LabelStatements.statements(for: facts)
                if let division, let state = try records.unitState(try UnitIdentifier(din: din, division: division)) {
                    statements = UnitLabel.statements(lot: facts, unitState: state)
                }
                return try ProductLabel(din: din, division: division, stage: lot.stage, productKind: lot.productKind,
                                        intendedUse: lot.intendedUse, expiresOn: lot.expiresOn, statements: statements,
                                        productCodes: productCodes)
            }
        } catch let error as LabelError {
            throw Failure(exitCode: .refused, problem: error.description, fix: "print the lot's label, or a unit of 1 to 702")
        }
    }
}
