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

/// Human-readable: one line per event, values and signatures indented below it. The
/// events stream (constant memory), so the columns have set widths: on a terminal (or with
/// COLUMNS) they are fitted to its width, a cut cell ending in `…`, and the indented
/// values wrap onto more indented lines; a pipe gets every character on one line.
struct TextReportWriter: AuditReportWriter {
    let style: Style
    var width: Int? = Terminal.width()

    static let header = ["SEQ", "TIME (UTC)", "WHO", "ACTION", "RECORD"]
    /// SEQ and TIME hold their widest value; WHO and RECORD their usual one.
    static let widths = [7, 27, 28, 6, 24]
    static let indent = 8

    private var columns: StreamedColumns { StreamedColumns(header: Self.header, widths: Self.widths, width: width, keep: [0, 1]) }

    func begin() {
        StandardStream.output.write(columns.line(Self.header) + "\n")
    }

    func write(_ entry: AuditReportEntry) {
        let who = entry.actorName.map { "\(entry.actor) (\($0))" } ?? entry.actor
        var text = columns.line([String(entry.seq), entry.occurredAt.iso8601, who, entry.action,
                                 entry.table + (entry.key.map { " " + $0 } ?? "")]) + "\n"
        if let reason = entry.reason { text += detail("reason: \(reason)") }
        if let signature = entry.signature {
            let state = signature.intact ? "intact" : "BROKEN: the record changed after it was signed"
            let line = detail("signature: \(signature.meaning) by \(signature.printedName) (\(signature.signer)) "
                              + "at \(signature.signedAt.iso8601): \(state)")
            // The state coloured after wrapping, so colour never counts toward a width.
            text += line.replacing(state, with: signature.intact ? style.green(state) : style.red(state))
        } else {
            if let old = entry.oldValues { text += detail("old: \(old)") }
            if let new = entry.newValues { text += detail("new: \(new)") }
        }
        StandardStream.output.write(text)
    }

    /// An indented line under an event; on a terminal, wrapped to its width (every character kept).
    private func detail(_ text: String) -> String {
        let margin = String(repeating: " ", count: Self.indent)
        guard let width, width - Self.indent - 2 >= 10, text.count > width - Self.indent else { return margin + text + "\n" }
        var lines = [String]()
        var rest = Substring(text)
        var room = width - Self.indent
        while rest.count > room {
            let chunk = rest.prefix(room)
            // Break after a space or comma in the second half of the line, else at the width.
            let cut = chunk.lastIndex { $0 == " " || $0 == "," }.flatMap { index in
                chunk.distance(from: chunk.startIndex, to: index) >= room / 2 ? chunk.index(after: index) : nil
            } ?? chunk.endIndex
            lines.append(String(rest[..<cut]))
            rest = rest[cut...]
            room = width - Self.indent - 2
        }
        lines.append(String(rest))
        return margin + lines.joined(separator: "\n" + margin + "  ") + "\n"
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
