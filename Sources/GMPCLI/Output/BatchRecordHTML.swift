import GMPRules

extension BatchRecordRendering {
    /// The batch record as a self-contained A4 page for an inspector: inline CSS only, every
    /// value from the document through `CertificateRendering.escape`, the lot and the page
    /// number in every page's margin (string-set from the page's own text, so no value is
    /// ever written into CSS), each signature's manifestation (printed name, UTC time, meaning).
    static func html(_ r: BatchRecord) -> String {
        let e = CertificateRendering.escape
        let utc = CertificateRendering.utc
        func row(_ label: String, _ value: String) -> String { "<tr><th>\(e(label))</th><td>\(e(value))</td></tr>" }
        func grid(_ headers: [String], _ rows: [[String]], empty: String) -> String {
            guard !rows.isEmpty else { return "<p class=\"none\">\(e(empty))</p>" }
            return "<table class=\"grid\"><thead><tr>" + headers.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead><tbody>"
                + rows.map { "<tr>" + $0.map { "<td>\(e($0))</td>" }.joined() + "</tr>" }.joined() + "</tbody></table>"
        }
        let facts = [
            row("Lot (DIN)", r.lot.eyeReadable),
            row("Product", product(r)),
            row("Donor · collection", "\(r.lot.donorCode) · \(r.lot.collectionId)"),
            row("Made from", r.lot.parentDin ?? "the collection (no parent lot)"),
            row("Created · expires", "\(utc(r.lot.createdAt)) by \(r.lot.createdBy) · \(r.lot.expiresOn)"),
            row("Specification", r.specification.map { "\($0.id): \($0.title)" } ?? "none assigned"),
            row("Master batch record", master(r)),
            row("Status", r.status.replacing("_", with: " ")),
        ].joined()
        let stepRows: [String] = r.steps.enumerated().map { n, s in
            var details: [String] = stepData(s).map { ["<div>\(e($0))</div>"] } ?? []
            details += s.materials.map { "<div>Material: \(e(material($0)))</div>" }
            details += s.equipment.map { "<div>Equipment: \(e(equipment($0)))</div>" }
            details += s.executionLines(time: utc).map { "<div>\(e($0))</div>" }
            if let note = s.note { details.append("<div>Note: \(e(note))</div>") }
            let who = "<td>\(e(s.performerName))<br><span class=\"id\">\(e(s.performedBy))</span></td>"
            let data = details.isEmpty ? "—" : details.joined()
            return "<tr><td>\(n + 1)</td><td>\(e(utc(s.performedAt)))</td><td>\(e(s.kind))</td>\(who)<td>\(data)</td></tr>"
        }
        let stepsHead = "<table class=\"grid steps\"><colgroup><col class=\"c-n\"><col class=\"c-time\"><col class=\"c-kind\">"
            + "<col class=\"c-who\"><col></colgroup><thead><tr><th>#</th><th>Performed (UTC)</th><th>Step</th>"
            + "<th>Performed by</th><th>Data, materials, equipment</th></tr></thead><tbody>"
        let steps = stepRows.isEmpty ? "<p class=\"none\">No step recorded.</p>" : stepsHead + stepRows.joined() + "</tbody></table>"
        let qcRows: [[String]] = r.qc.map { c in
            let result = c.results.last(where: \.counted) ?? c.results.last
            let value = result.map { CertificateRendering.withUnit($0.result ?? "—", $0.resultUnit ?? c.unit) } ?? "no result"
            let verifier = result.map { v in
                v.verifiedBy.map { "\(BatchRecord.person($0, v.verifierName)), \(utc(v.verifiedAt ?? ""))" } ?? "not verified"
            } ?? "—"
            let analyst = result.map { BatchRecord.person($0.analyst, $0.analystName) } ?? "—"
            return [c.name, CertificateRendering.withUnit(c.limit, c.unit), value, c.verdict.uppercased(), analyst, verifier]
        }
        let qc = grid(["Test", "Limit", "Result", "Verdict", "Analyst", "Verified by"], qcRows,
                      empty: "No specification assigned: no QC summary.")
        var reviewRows: [String] = []
        if let v = r.latestReview {
            reviewRows.append(row("Printed name", "\(v.printedName ?? v.reviewedBy) (\(v.reviewedBy))"))
            reviewRows.append(row("Date and time (UTC)", utc(v.signedAt ?? v.reviewedAt)))
            reviewRows.append(row("Meaning", v.meaning ?? "—"))
            reviewRows.append(row("Statement", v.statement ?? "—"))
            reviewRows.append(row("Reviewed SHA-256", v.documentSha256))
        }
        reviewRows.append(row("State", reviewState(r)))
        let reviewBox = "<section class=\"signature\"><h2>QA review of this batch record <span>21 CFR 211.192, 11.50</span></h2>"
            + "<table class=\"facts\">" + reviewRows.joined() + "</table></section>"
        let deviations = grid(["Id", "Kind", "Title", "Status", "Outcome"], r.deviations.map {
            [$0.id, $0.kind.replacing("_", with: " "), $0.title, $0.status,
             ($0.outcome ?? "—") + ($0.closedBy.map { " (closed by \($0))" } ?? "")]
        }, empty: "None.")
        let excursions = grid(["Id", "Device", "Started (UTC)", "Peak / limit", "Units", "Status and assessment"], r.excursions.map {
            [$0.id, $0.device, utc($0.startedAt), "\($0.peakCelsius) / \($0.limitCelsius) °C", $0.units.joined(separator: ", "),
             $0.status + ($0.assessment.map { ": \($0)" } ?? "")]
        }, empty: "None.")
        let units = grid(["Unit", "Container", "State", "Holder / position"], r.units.map {
            [$0.unit, "\($0.container), \($0.volumeMl) mL", $0.state.replacing("_", with: " "), $0.holder ?? "—"]
        }, empty: "No unit filled.")
        let custody = grid(["Time (UTC)", "Unit", "Event", "Holder / position", "Recorded by"], r.custody.map {
            [utc($0.at), $0.unit, $0.action.replacing("_", with: " ") + ($0.reason.map { ": \($0)" } ?? ""),
             $0.holder ?? "—", $0.recordedBy]
        }, empty: "No custody event.")
        let signatureRows = r.signatures.map {
            ["\($0.printedName) (\($0.signer))", utc($0.signedAt), $0.meaning, "\($0.recordTable) \($0.recordKey) · signature \($0.id)"]
        } + r.dispositions.map {
            ["\($0.printedName ?? $0.decidedBy) (\($0.decidedBy))", utc($0.signedAt ?? $0.decidedAt), $0.meaning ?? "—",
             "disposition \($0.id): \($0.decision.replacing("_", with: " "))"]
        }
        let signatures = grid(["Printed name", "Date and time (UTC)", "Meaning", "Record"], signatureRows, empty: "None.")
        let position = r.audit.map { "Newest audit event covered: <code>seq \($0.seq)</code>, hash <code>\(e($0.hash))</code>." }
            ?? "No audit event of these records is chained yet."
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Batch record \(e(r.lot.eyeReadable))</title>
            <style>\(style)</style></head>
            <body>
            <header><h1>Executed batch record</h1><p class="lot">Lot <b class="lotid">\(e(r.lot.eyeReadable))</b></p></header>
            <table class="facts">\(facts)</table>
            <h2>Manufacturing steps</h2>
            \(steps)
            <h2>Deviations</h2>
            \(deviations)
            <h2>Temperature excursions</h2>
            \(excursions)
            <h2>Quality control</h2>
            \(qc)
            <h2>Units and custody</h2>
            \(units)
            \(custody)
            <h2>Signatures on these records</h2>
            \(signatures)
            \(reviewBox)
            <section><h2>Integrity</h2>
            <p>Batch record SHA-256 (what a review signs): <code>\(e(r.contentSha256))</code></p>
            <p>\(position) Verify with <code>gmp audit verify</code>.</p></section>
            <footer>Issued \(e(utc(r.issuedAt))) from the electronic record of lot \(e(r.lot.keyedId)).</footer>
            </body></html>

            """
    }

    private static let style = """
        @page { size: A4 portrait; margin: 14mm 12mm 14mm 12mm;
          @top-left { content: "Executed batch record · Lot " string(lot); font: 7.5pt sans-serif; color: #555; }
          @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 7.5pt sans-serif; color: #555; } }
        body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 8pt; color: #111; margin: 0; }
        header { border-bottom: 2px solid #1d3b5a; margin-bottom: 2mm; }
        h1 { font-size: 16pt; color: #1d3b5a; margin: 0; }
        .lot { font-size: 11pt; margin: 1mm 0; }
        .lotid { string-set: lot content(); }
        h2 { font-size: 10pt; color: #1d3b5a; margin: 4mm 0 1mm; page-break-after: avoid; }
        h2 span { font-weight: normal; font-size: 8pt; color: #555; }
        table { border-collapse: collapse; width: 100%; table-layout: fixed; }
        th, td { text-align: left; vertical-align: top; padding: 0.6mm 1.5mm; overflow-wrap: break-word; }
        .facts th { width: 28%; color: #444; font-weight: normal; }
        .facts tr { border-bottom: 0.5pt solid #ddd; }
        .grid thead { display: table-header-group; }
        .grid thead th { background: #1d3b5a; color: #fff; }
        .grid tr { border-bottom: 0.5pt solid #ccc; page-break-inside: avoid; }
        .steps .c-n { width: 5%; } .steps .c-time { width: 17%; } .steps .c-kind { width: 13%; } .steps .c-who { width: 18%; }
        .id { color: #555; font-size: 7pt; }
        .none { color: #444; }
        .signature { border: 1pt solid #1d3b5a; padding: 1.5mm 2.5mm; margin-top: 3mm; page-break-inside: avoid; }
        code { font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; word-break: break-all; }
        footer { margin-top: 3mm; border-top: 0.5pt solid #999; color: #444; font-size: 7pt; }
        """
}
