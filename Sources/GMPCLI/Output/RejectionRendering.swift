import GMPRules

/// The rejection record as text and as a printable page; every value through
/// `CertificateRendering.escape` in HTML, times in UTC as on the certificate.
enum RejectionRendering {
    private typealias C = CertificateRendering

    static func text(_ r: RejectionRecord) -> String {
        var lines = [
            "REJECTION RECORD  lot \(r.lot.eyeReadable)",
            "product        \(ProductNames.name(stage: r.lot.stage, productKind: r.lot.productKind)), \(r.lot.intendedUse)",
            "donor          \(r.lot.donorCode)   collection \(r.lot.collectionId)   expires \(r.lot.expiresOn)",
            "specification  \(r.specification.map { "\($0.id) \($0.title)" } ?? "none assigned")",
            "reason         \(r.reason ?? "—")",
        ]
        if !r.failedCriteria.isEmpty {
            lines.append("criteria not met")
            lines += r.failedCriteria.map { c in
                "  \(c.verdict.uppercased().padding(10)) \(c.name): \(result(c)) (limit \(C.withUnit(c.limit, c.unit)))"
            }
        }
        if !r.blockers.isEmpty {
            lines.append("blockers when signed")
            lines += r.blockers.map { "  \($0.kind): \($0.problem)" }
        }
        if !r.deviations.isEmpty {
            lines.append("deviations")
            lines += r.deviations.map { "  \($0.id) (\($0.kind), \($0.status)): \($0.title)" + ($0.outcome.map { ". Outcome: \($0)" } ?? "") }
        }
        let s = r.rejection
        lines += [
            "rejected by    \(s.printedName) (\(s.signer)), \(C.utc(s.signedAt)), meaning: \(s.meaning)",
            "signature      \(s.signatureId): " + (s.intact ? "intact" : "BROKEN: the disposition changed after signing"),
            "audit          seq \(r.audit.seq), hash \(r.audit.hash) (gmp audit verify)",
            "units          \(unitsSummary(r))",
        ]
        lines += r.units.map { "  \($0.unit)  \($0.state.replacing("_", with: " "))  \($0.holder ?? "—")" }
        return lines.joined(separator: "\n")
    }

    static func result(_ c: RejectionRecord.FailedCriterion) -> String {
        c.result.map { C.withUnit($0, c.resultUnit ?? c.unit) } ?? "no result"
    }

    static func unitsSummary(_ r: RejectionRecord) -> String {
        let filled = r.unitsFilled.map { "\($0) filled" } ?? "not filled"
        let discarded = r.units.filter { $0.state == "discarded" }.count
        return "\(filled); \(r.units.count) recorded as units, \(discarded) discarded"
    }

    static func html(_ r: RejectionRecord) -> String {
        let e = C.escape
        let s = r.rejection
        func row(_ label: String, _ value: String) -> String { "<tr><th>\(e(label))</th><td>\(e(value))</td></tr>" }
        let facts = [
            row("Lot (DIN)", r.lot.eyeReadable),
            row("Product", "\(ProductNames.name(stage: r.lot.stage, productKind: r.lot.productKind)), \(r.lot.intendedUse)"),
            row("Donor · collection", "\(r.lot.donorCode) · \(r.lot.collectionId)"),
            row("Manufactured · expires", "\(r.lot.manufacturedOn ?? "—") · \(r.lot.expiresOn)"),
            row("Specification", r.specification.map { "\($0.id): \($0.title)" } ?? "none assigned"),
            row("Reason for rejection", r.reason ?? "—"),
        ].joined()
        let criteria = r.failedCriteria.isEmpty ? "<p>None.</p>" : "<table class=\"grid\"><thead><tr><th>Test</th><th>Method</th>"
            + "<th>Limit</th><th>Result</th><th>Verdict</th></tr></thead><tbody>" + r.failedCriteria.map { c in
                "<tr><td>\(e(c.name))</td><td>\(e(c.method))</td><td>\(e(C.withUnit(c.limit, c.unit)))</td>"
                    + "<td>\(e(result(c)))</td><td class=\"fail\">\(e(c.verdict.uppercased()))</td></tr>"
            }.joined() + "</tbody></table>"
        let blockers = r.blockers.isEmpty ? "" : "<h2>Blockers when the rejection was signed</h2><ul>"
            + r.blockers.map { "<li>\(e($0.kind)): \(e($0.problem))</li>" }.joined() + "</ul>"
        let deviations = r.deviations.isEmpty ? "<p>None.</p>" : "<ul>" + r.deviations.map {
            "<li><b>\(e($0.id))</b> (\(e($0.kind)), \(e($0.status))): \(e($0.title))"
                + ($0.outcome.map { ". Outcome: \(e($0))" } ?? "") + "</li>"
        }.joined() + "</ul>"
        let units = r.units.isEmpty ? "<p>No unit was recorded in storage.</p>" : "<table class=\"grid\"><thead><tr><th>Unit</th>"
            + "<th>State</th><th>Holder / position</th></tr></thead><tbody>" + r.units.map {
                "<tr><td>\(e($0.unit))</td><td>\(e($0.state.replacing("_", with: " ")))</td><td>\(e($0.holder ?? "—"))</td></tr>"
            }.joined() + "</tbody></table>"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Rejection record \(e(r.lot.eyeReadable))</title>
            <style>\(style)</style></head>
            <body>
            <header><h1>Batch rejection record</h1><p class="lot">Lot <b>\(e(r.lot.eyeReadable))</b> · REJECTED: NOT FOR USE</p></header>
            <table class="facts">\(facts)</table>
            <h2>Criteria not met</h2>
            \(criteria)
            \(blockers)
            <h2>Deviations</h2>
            \(deviations)
            <h2>Disposition of units</h2>
            <p>\(e(unitsSummary(r)))</p>
            \(units)
            <section class="signature"><h2>Rejection signature <span>21 CFR 11.50</span></h2>
            <table class="facts">\(row("Printed name", "\(s.printedName) (\(s.signer))"))\(row("Date and time (UTC)", C.utc(s.signedAt)))\
            \(row("Meaning", s.meaning))\(row("Signature", "\(s.signatureId): " + (s.intact ? "intact: the signed content is unchanged" : "BROKEN: the disposition changed after signing")))</table>
            <p class="hash">Signed package SHA-256: <code>\(e(s.packageSha256))</code></p></section>
            <section><h2>Audit trail position</h2>
            <p>Event <code>seq \(r.audit.seq)</code>, hash <code>\(e(r.audit.hash))</code>. Verify with <code>gmp audit verify</code>;
            <code>gmp audit report --table gmp.disposition --key \(s.dispositionId) --pdf FILE</code> prints its events.</p></section>
            <footer>Issued \(e(C.utc(r.issuedAt))) from the electronic record of lot \(e(r.lot.keyedId)).</footer>
            </body></html>

            """
    }

    private static let style = """
        @page { size: A4 portrait; margin: 12mm 14mm;
          @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 7pt sans-serif; color: #555; } }
        body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 8pt; color: #111; margin: 0; }
        header { border-bottom: 2px solid #a4161a; margin-bottom: 2mm; }
        h1 { font-size: 16pt; color: #a4161a; margin: 0; }
        .lot { font-size: 11pt; margin: 1mm 0; }
        h2 { font-size: 10pt; color: #1d3b5a; margin: 3mm 0 1mm; }
        h2 span { font-weight: normal; font-size: 8pt; color: #555; }
        table { border-collapse: collapse; width: 100%; table-layout: fixed; }
        th, td { text-align: left; vertical-align: top; padding: 0.5mm 1.5mm; overflow-wrap: break-word; }
        .facts th { width: 28%; color: #444; font-weight: normal; }
        .facts tr { border-bottom: 0.5pt solid #ddd; }
        .grid thead th { background: #1d3b5a; color: #fff; }
        .grid tr { border-bottom: 0.5pt solid #ccc; }
        .fail { color: #fff; background: #a4161a; font-weight: bold; text-align: center; }
        .signature { border: 1pt solid #1d3b5a; padding: 1.5mm 2.5mm; margin-top: 3mm; page-break-inside: avoid; }
        code { font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; word-break: break-all; }
        footer { margin-top: 3mm; border-top: 0.5pt solid #999; color: #444; font-size: 7pt; }
        """
}
