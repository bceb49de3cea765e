#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRecords

/// Writes audit report entries to stdout: the table and CSV as they arrive (constant
/// memory), the JSON document whole at the end.
protocol AuditReportWriter {
    mutating func begin()
    mutating func write(_ entry: AuditReportEntry) throws
    mutating func end(count: Int)
}

/// Human-readable: one line per event, values and signatures indented below it.
struct TextReportWriter: AuditReportWriter {
    let style: Style

    func begin() {
        StandardStream.output.write("SEQ".padding(8) + "TIME (UTC)".padding(28) + "WHO".padding(28)
                                    + "ACTION".padding(8) + "RECORD\n")
    }

    func write(_ entry: AuditReportEntry) {
        let who = entry.actorName.map { "\(entry.actor) (\($0))" } ?? entry.actor
        var text = String(entry.seq).padding(8) + entry.occurredAt.iso8601.padding(28) + who.padding(28)
            + entry.action.padding(8) + entry.table + (entry.key.map { " " + $0 } ?? "") + "\n"
        if let reason = entry.reason { text += "        reason: \(reason)\n" }
        if let signature = entry.signature {
            let state = signature.intact ? style.green("intact")
                : style.red("BROKEN: the record changed after it was signed")
            text += "        signature: \(signature.meaning) by \(signature.printedName) (\(signature.signer)) "
                + "at \(signature.signedAt.iso8601): \(state)\n"
        } else {
            if let old = entry.oldValues { text += "        old: \(old)\n" }
            if let new = entry.newValues { text += "        new: \(new)\n" }
        }
        StandardStream.output.write(text)
    }

    func end(count: Int) {
        StandardStream.output.write("\(count) event(s)\n")
    }
}

/// CSV (`CSV`: RFC 4180, formula-like values neutralised) with a header row; otherwise
/// values verbatim, so the export holds what the trail holds.
struct CSVReportWriter: AuditReportWriter {
    /// With `--bom`: the UTF-8 byte order mark first.
    var byteOrderMark = false

    static let header = ["seq", "occurred_at", "actor", "actor_name", "action", "table", "record_key", "reason",
                         "old_values", "new_values", "signature_meaning", "signature_name", "signature_time",
                         "signature_intact"]

    func begin() {
        StandardStream.output.write((byteOrderMark ? CSV.byteOrderMark : "") + Self.line(Self.header))
    }

    func write(_ entry: AuditReportEntry) {
        let signature = entry.signature
        StandardStream.output.write(Self.line([
            String(entry.seq), entry.occurredAt.iso8601, entry.actor, entry.actorName ?? "", entry.action, entry.table,
            entry.key ?? "", entry.reason ?? "", entry.oldValues ?? "", entry.newValues ?? "",
            signature?.meaning ?? "", signature?.printedName ?? "", signature?.signedAt.iso8601 ?? "",
            signature.map { $0.intact ? "true" : "false" } ?? "",
        ]))
    }

    func end(count: Int) {}

    static func line(_ fields: [String]) -> String { CSV.line(fields) }
}

/// One JSON document, `{"complete": true, "count": n, "events": [...]}`, held until the
/// report has ended and then written whole: a failure part-way (permission denied, a lost
/// connection) leaves stdout empty, never a document cut short (issue 16, item 6). The
/// text, table and CSV forms still stream in constant memory.
struct JSONReportWriter: AuditReportWriter {
    struct Event: Encodable {
        struct Signature: Encodable {
            let meaning: String
            let signer: String
            let printedName: String
            let signedAt: String
            let intact: Bool
        }
        let seq: Int64
        let occurredAt: String
        let actor: String
        let actorName: String?
        let action: String
        let table: String
        let recordKey: String?
        let reason: String?
        /// The jsonb text the chain hashes, verbatim.
        let oldValues: String?
        let newValues: String?
        let signature: Signature?
    }

    private var events: [String] = []

    func begin() {}

    mutating func write(_ entry: AuditReportEntry) throws {
        let event = Event(
            seq: entry.seq, occurredAt: entry.occurredAt.iso8601, actor: entry.actor, actorName: entry.actorName,
            action: entry.action, table: entry.table, recordKey: entry.key, reason: entry.reason,
            oldValues: entry.oldValues, newValues: entry.newValues,
            signature: entry.signature.map {
                .init(meaning: $0.meaning, signer: $0.signer, printedName: $0.printedName,
                      signedAt: $0.signedAt.iso8601, intact: $0.intact)
            })
        let text = String(decoding: try Self.encoder.encode(event), as: UTF8.self)
        events.append(text)
    }

    func end(count: Int) {
        let text = "{\"complete\": true, \"count\": \(count), \"events\": [" + events.joined(separator: ",") + "]}"
        // In gmp's one shape, as every other document (the encoder's own text if that could fail).
        StandardStream.output.write(((try? JSONDocument(parsing: text).text) ?? text) + "\n")
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()
}
