#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp custody history UNIT|LOT`: the unbroken chain from the fill to today, with the
/// chain of identity back to the donor. A break is printed and exits 65, never hidden.
struct CustodyHistory: GMPCommand {
    static let path = "custody history"
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "The chain of custody of a unit or of every unit of a lot, back to the donor: table, --json or --csv.",
        discussion: """
            Each holding runs from its event until the next: a storage position, a person, \
            or an outside party (courier, consignee). Any break the database finds in a \
            chain (a missing or second start, times running backwards, a holder no event \
            names) is printed — also with --json and --csv — and the command exits 65.

            CSV: one row per holding. --json: {"subject": …, "units": [the documents of \
            gmp.custody_history, untouched]} (gmp help storage-and-distribution).

            Examples:
              gmp custody history G1234260000014-001
              gmp custody history G1234260000014 --csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: ArgumentHelp("A unit (G123426000001-001), or a lot with its check character.", valueName: "unit-or-lot"),
              completion: ObjectCompletion.unitsOrLots)
    var subject: String

    static let csvHeader = ["unit", "lot", "division", "event", "action", "state", "since", "until", "location", "position",
                            "person", "party", "device", "shipment", "transfer", "condition", "reason", "recorded_by"]

    static func csvRow(_ d: CustodyDocument, _ h: CustodyDocument.Holding) -> String {
        let fields: [String] = [d.unit, d.lot + d.checkCharacter, String(d.division), String(h.event), h.action, h.state, h.since,
                                h.until ?? "", h.location ?? "", h.position ?? "", h.person ?? "", h.party ?? "",
                                h.device ?? "", h.shipment ?? "", h.transfer.map(String.init) ?? "",
                                h.condition ?? "", h.reason ?? "", h.recordedBy]
        return CSV.line(fields)
    }

    func validate() throws {
        try format.requireOne(json: options.json)
    }

    func execute(in context: CommandContext) throws {
        let subject = try UnitOrLot(self.subject)
        let connection = try context.connect(startingEmbedded: false)
        // One snapshot: the text passed through and the documents checked for breaks.
        let json = try connection.transaction(.repeatableRead, readOnly: true) { db in try Custody(db).historyJSON(subject) }
        let documents = try Custody.decode(json)
        if options.json {
            let name = String(decoding: try JSONEncoder().encode(self.subject.trimmingWhitespace), as: UTF8.self)
            try context.output.serverDocument("{\"subject\": \(name), \"units\": \(json)}")
        } else if format.csv {
            let rows = documents.flatMap { d in d.holdings.map { h in Self.csvRow(d, h) } }
            format.write(CSV.line(Self.csvHeader) + rows.joined())
        } else {
            let text = documents.map(CustodyText.lines).joined(separator: [""]).joined(separator: "\n")
            context.output.data(documents.isEmpty ? "lot \(subject) has no units yet (they are made by its fill step)" : text)
        }
        let broken = documents.filter { !$0.problems.isEmpty }
        guard broken.isEmpty else {
            throw Failure(exitCode: .refused,
                          problem: "the chain of custody is broken: " + broken.map { d in
                              "\(d.unit): \(d.problems.joined(separator: "; "))"
                          }.joined(separator: " | "),
                          fix: "report it to QA for investigation; the records are shown as they are")
        }
    }
}

/// The text form of one unit's custody document.
enum CustodyText {
    static func lines(_ d: CustodyDocument) -> [String] {
        let identity = d.identity.map { link -> String in
            switch link.kind {
            case "collection":
                return "collection \(link.id) (collected \(link.collectedAt ?? "?") by \(link.collector ?? "?"), received "
                    + "\(link.receivedAt ?? "not yet") by \(link.receivedBy ?? "?"), \(link.receiptCondition ?? "?"))"
            case "lot": return "lot \(link.id)\(d.checkCharacter) (\(link.stage ?? "?"))"
            default: return "\(link.kind) \(link.id)"
            }
        }
        let lot = (try? DonationIdentificationNumber(stored: d.lot).eyeReadable) ?? d.lot + d.checkCharacter
        var lines = [
            "unit           \(d.unit)  (\(d.container), \(d.volumeMl) mL), \(d.state.replacing("_", with: " "))",
            "lot            \(lot)  (\(d.productKind)), \(d.lotStatus)",
            "identity       " + identity.joined(separator: "\n             › "),
        ]
        // Fitted to the terminal: a storage path can be long.
        let rows = d.holdings.map { h in
            [h.since, h.action, h.holder, h.recordedBy, (h.reason ?? "") + (h.condition.map { " [condition: \($0)]" } ?? "")]
        }
        lines += textTable(header: ["SINCE (UTC)", "ACTION", "HOLDER", "BY", "REASON"], rows: rows)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines += d.problems.map { "BROKEN         \($0)" }
        return lines
    }
}
