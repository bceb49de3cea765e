import GMPRecords

/// The audit-trail report as a printable page an inspector takes away: every event with
/// who, when, what and why, old → new per field, signatures with their manifestation
/// (21 CFR 11.50), each event's chain position (seq and hash), and how to verify it.
///
/// Unlike the text, CSV and JSON writers it holds the page in memory until the end: a
/// printed report is bounded by what a person reads (filter by record, person or time).
struct HTMLReportWriter: AuditReportWriter {
    /// What the report covers, as printed in its header: "table gmp.lot, key G123426000001".
    let scope: String
    private(set) var rows: [String] = []

    init(scope: String) { self.scope = scope }

    func begin() {}
    func end(count: Int) {}

    mutating func write(_ entry: AuditReportEntry) {
        let e = CertificateRendering.escape
        let who = entry.actorName.map { "\(e($0)) <span class=\"id\">(\(e(entry.actor)))</span>" } ?? e(entry.actor)
        var body = ""
        if let reason = entry.reason { body += "<p class=\"reason\">Reason: \(e(reason))</p>" }
        if let signature = entry.signature {
            let state = signature.intact ? "<span class=\"intact\">intact</span>"
                : "<span class=\"broken\">BROKEN: the record changed after it was signed</span>"
            body += """
                <table class="signature"><tr><th>Signed by</th><td>\(e(signature.printedName)) (\(e(signature.signer)))</td>\
                <th>Date and time (UTC)</th><td>\(e(signature.signedAt.iso8601))</td></tr>\
                <tr><th>Meaning</th><td>\(e(signature.meaning))</td><th>Signature</th><td>\(state)</td></tr></table>
                """
        } else {
            if let changes = entry.changes, !changes.isEmpty {
                body += "<table class=\"changes\"><thead><tr><th>Field</th><th>Old</th><th>New</th></tr></thead><tbody>"
                    + changes.map { "<tr><td>\(e($0.field))</td><td>\(e($0.old ?? "—"))</td><td>\(e($0.new ?? "—"))</td></tr>" }.joined()
                    + "</tbody></table>"
            }
        }
        rows.append("""
            <section class="event"><h3><span class="seq">seq \(entry.seq)</span> \(e(entry.action)) \
            <span class="record">\(e(entry.table))\(entry.key.map { " " + e($0) } ?? "")</span></h3>
            <p class="meta">\(e(entry.occurredAt.iso8601)) · \(who)</p>
            \(body)
            <p class="hash">chain hash <code>\(e(entry.hash))</code></p></section>
            """)
    }

    /// The whole page. `head` is the chain head when the report was printed.
    func page(count: Int, printedAt: String, head: (seq: Int64, hash: String)?) -> String {
        let e = CertificateRendering.escape
        let headText = head.map { "seq \($0.seq), hash <code>\(e($0.hash))</code>" } ?? "the trail is empty"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Audit trail report</title>
            <style>\(Self.style)</style></head>
            <body>
            <header><h1>Audit trail report</h1>
            <p>\(e(scope)) · \(count) event(s) · printed \(e(printedAt))</p>
            <p>Chain head when printed: \(headText)</p></header>
            \(rows.isEmpty ? "<p>No events match.</p>" : rows.joined(separator: "\n"))
            <section class="verify"><h2>How to verify this report</h2>
            <p>Every event above is one link of a hash chain. An event written before schema version 32
            has a hash of format v1; every later event (it has a write order) one of format v2:</p>
            <pre>v1: hash_n = SHA-256( field("gmp-audit-v1") || field(seq) || field(occurred_at)
                 || field(transaction_id) || field(actor) || field(action) || field(table_name)
                 || field(record_key) || field(old_values) || field(new_values) || field(reason)
                 || field(previous_hash) )
            v2: hash_n = SHA-256( field("gmp-audit-v2") || field(seq) || field(write_order)
                 || field(occurred_at) || field(transaction_id) || field(actor) || field(action)
                 || field(table_name) || field(record_key) || field(old_values) || field(new_values)
                 || field(reason) || field(previous_hash) )
            field(x) = 4-byte big-endian byte length of x, then its UTF-8 bytes; NULL = FF FF FF FF</pre>
            <p>seq, write_order and transaction_id are decimal ASCII; occurred_at is written
            YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC); old and new values are PostgreSQL's jsonb text as stored;
            previous_hash is the 32 raw bytes of the previous event's hash (zeros for seq 1; the first v2
            event follows the last v1 one). The encoding is documented in gmp itself:
            <code>gmp help audit-trail</code> ("Hash format v1" and "Hash format v2").</p>
            <p>To check: run <code>gmp audit verify</code>, which recomputes every hash from seq 1 to the head and
            checks every audited table and signature against the trail; with <code>gmp audit verify --checkpoint FILE
            --public-key qa.key.pub</code> it also checks QA's signed checkpoints, which prove the chain was not
            recomputed after them. The hash printed beside each event must equal the recomputed one.</p></section>
            </body></html>

            """
    }

    private static let style = """
        @page { size: A4 portrait; margin: 12mm 12mm 14mm 12mm;
          @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 7pt sans-serif; color: #555; }
          @bottom-left { content: "Audit trail report"; font: 7pt sans-serif; color: #555; } }
        body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 7.5pt; color: #111; margin: 0; }
        header { border-bottom: 2px solid #1d3b5a; margin-bottom: 2mm; }
        h1 { font-size: 15pt; color: #1d3b5a; margin: 0; }
        header p { margin: 0.5mm 0; }
        h2 { font-size: 10pt; color: #1d3b5a; }
        .event { border-bottom: 0.5pt solid #ccc; padding: 1mm 0; page-break-inside: avoid; }
        .event h3 { font-size: 8.5pt; margin: 0; }
        .seq { color: #1d3b5a; font-family: "DejaVu Sans Mono", monospace; }
        .record { font-family: "DejaVu Sans Mono", monospace; font-weight: normal; }
        .meta, .reason { margin: 0.3mm 0; }
        .id { color: #555; }
        table { border-collapse: collapse; width: 100%; table-layout: fixed; margin: 0.5mm 0; }
        th, td { text-align: left; vertical-align: top; padding: 0.3mm 1.2mm; overflow-wrap: break-word; word-break: break-all; }
        .changes th { background: #e8eef4; }
        .changes td:first-child { width: 22%; font-family: "DejaVu Sans Mono", monospace; }
        .changes tr { border-bottom: 0.3pt solid #ddd; }
        .signature { border: 1pt solid #1d3b5a; }
        .signature th { color: #444; font-weight: normal; width: 18%; }
        .intact { color: #14632b; font-weight: bold; }
        .broken { color: #a4161a; font-weight: bold; }
        .hash { margin: 0.3mm 0 0; color: #555; }
        code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 6.5pt; word-break: break-all; }
        pre { white-space: pre-wrap; background: #f3f6f9; padding: 1.5mm; }
        .verify { page-break-inside: avoid; }
        """
}
