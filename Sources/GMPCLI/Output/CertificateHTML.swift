import GMPRules

extension CertificateRendering {
    /// A self-contained printable page (A4 portrait): inline CSS only, no scripts, no
    /// external resources, so it prints the same anywhere and years later. Every value
    /// from the document goes through `escape`.
    static func html(_ coa: CertificateOfAnalysis, manufacturer: Manufacturer? = nil) -> String {
        let lot = coa.lot, spec = coa.specification, release = coa.release
        let factRows = [
            pairs(("Manufacturer", manufacturerLine(manufacturer))),
            pairs(("Product", productName(lot)), ("Intended use", lot.intendedUse)),
            pairs(("Lot (DIN)", lot.eyeReadable), ("Facility (FIN)", facility(of: lot))),
            pairs(("Manufactured", lot.manufacturedOn ?? "—"), ("Units", units(of: lot))),
            pairs(("Released", utc(release.signedAt)), ("Donor", lot.donorCode)),
            pairs(("Expires", lot.expiresOn), ("Collection", lot.collectionId)),
            pairs(("Specification", "\(spec.id), approved \(utc(spec.approvedAt)) by \(spec.approvedBy)")),
            pairs(("Max dose", dose(coa.dose))),
            pairs(("Donor eligibility", eligibility(coa.eligibility))),
        ].joined(separator: "\n")
        let testRows = coa.tests.map { test in
            let verdictClass = test.verdict == "pass" ? "pass" : "fail"  // colour only; the text is the document's
            return "<tr><td>\(escape(testName(test)))</td><td>\(escape(test.method))</td>"
                + "<td>\(escape(withUnit(test.limit, test.unit)))</td><td>\(escape(withUnit(test.result, test.resultUnit ?? test.unit)))</td>"
                + "<td class=\"verdict \(verdictClass)\">\(escape(verdict(test)))</td></tr>"
        }.joined(separator: "\n")
        let deviations = coa.deviations.isEmpty ? "<p class=\"none\">None.</p>" : "<ul class=\"deviations\">" + coa.deviations.map {
            "<li><b>\(escape($0.id))</b> (\(escape($0.kind))): \(escape($0.title)). Outcome: \(escape($0.outcome)). "
                + "Closed \(escape(utc($0.closedAt))) by \(escape($0.closedBy)).</li>"
        }.joined() + "</ul>"
        let banner = invalidity(coa).map { "<p class=\"invalid\">\(escape($0))</p>" } ?? ""
        let signatureRows = [
            pairs(("Printed name", release.printedName), ("Signature id", String(release.signatureId))),
            pairs(("Date and time (UTC)", utc(release.signedAt)), ("User id", release.signer)),
            pairs(("Meaning", release.meaning)),
            pairs(("Signature", signatureState(release))),
        ].joined(separator: "\n")

        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>Certificate of Analysis \(escape(lot.eyeReadable))</title>
            <style>\(style)</style></head>
            <body>
            <header><h1>Certificate of Analysis</h1>
            <p class="lot">Lot <span class="din">\(escape(lot.eyeReadable))</span></p>
            <p class="spec">\(escape(spec.title))</p>
            <p class="docno">Document <span class="docnumber">\(escape(documentNumber(coa)))</span></p></header>
            \(banner)
            <table class="facts">\(factRows)</table>
            <h2>Test results</h2>
            <table class="tests">
            <colgroup><col class="c-name"><col class="c-method"><col class="c-limit"><col class="c-result"><col class="c-verdict"></colgroup>
            <thead><tr><th>Test</th><th>Method</th><th>Limit</th><th>Result</th><th>Verdict</th></tr></thead>
            <tbody>
            \(testRows)
            </tbody></table>
            <h2>Closed deviations</h2>
            \(deviations)
            \(complianceStatement(coa).map { "<p class=\"statement\">\(escape($0))</p>" } ?? "")
            <section class="signature"><h2>Release signature <span>21 CFR 11.50</span></h2>
            <table>\(signatureRows)</table>
            <p class="hash">Signed content SHA-256: <code>\(escape(release.packageSha256))</code></p></section>
            <section class="audit"><h2>Audit trail position</h2>
            <p>Event <code>seq \(coa.audit.seq)</code>, hash <code class="hash">\(escape(coa.audit.hash))</code></p>
            <p>Verify with <code>gmp audit verify</code>: it recomputes the audit chain up to this event;
            a signed checkpoint at or after it proves the record was not rewritten.</p></section>
            <footer>Issued at \(escape(utc(coa.issuedAt))) from the electronic record of lot \(escape(lot.keyedId)); \
            specification \(escape(spec.id)).</footer>
            </body></html>

            """
    }

    /// HTML text and attribute escaping: the five significant characters, and control
    /// characters (invalid in HTML) replaced, so no value can open markup.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                out.unicodeScalars.append(scalar.properties.generalCategory == .control ? "\u{FFFD}" : scalar)
            }
        }
        return out
    }

    /// One table row of one or two label/value pairs; a single pair spans the row.
    private static func pairs(_ first: (String, String), _ second: (String, String)? = nil) -> String {
        func cell(_ pair: (String, String), _ span: String = "") -> String {
            "<th>\(escape(pair.0))</th><td\(span)>\(escape(pair.1))</td>"
        }
        guard let second else { return "<tr>" + cell(first, " colspan=\"3\"") + "</tr>" }
        return "<tr>" + cell(first) + cell(second) + "</tr>"
    }

    /// Print layout: A4 portrait, lot and page number in every page's margin (taken from
    /// the page's own text with string-set, so no value is ever written into CSS).
    private static let style = """
        @page { size: A4 portrait; margin: 11mm 14mm 14mm 14mm;
          @bottom-left { content: "Certificate of Analysis · Lot " string(lot) " · " string(docno); font: 7.5pt sans-serif; color: #555; }
          @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 7.5pt sans-serif; color: #555; } }
        * { box-sizing: border-box; }
        body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 8pt; color: #111;
          line-height: 1.25; margin: 0; }
        @media screen { body { max-width: 180mm; margin: 10mm auto; } }
        header { border-bottom: 2px solid #1d3b5a; padding-bottom: 2mm; margin-bottom: 2mm; }
        h1 { font-size: 17pt; margin: 0; color: #1d3b5a; letter-spacing: 0.02em; }
        header .lot { font-size: 11pt; margin: 1mm 0 0; }
        .din { font-family: "DejaVu Sans Mono", monospace; font-weight: bold; string-set: lot content(); }
        header .spec { margin: 0.5mm 0 0; color: #444; }
        .docnumber { string-set: docno content(); }
        header .docno { margin: 0.5mm 0 0; font-family: "DejaVu Sans Mono", monospace; }
        .statement { margin: 3mm 0 0; padding: 1.5mm 2.5mm; background: #eef5ee; border-left: 2pt solid #14632b; }
        h2 { font-size: 10pt; color: #1d3b5a; margin: 3mm 0 1mm; page-break-after: avoid; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; vertical-align: top; padding: 0.4mm 1.5mm; overflow-wrap: break-word; word-wrap: break-word; }
        .facts, .signature table { table-layout: fixed; }
        .facts th, .signature th { width: 19%; color: #444; font-weight: normal; }
        .facts td, .signature td { width: 31%; font-weight: bold; }
        .facts tr { border-bottom: 0.5pt solid #ddd; }
        .tests { table-layout: fixed; }
        .c-name { width: 22%; } .c-method { width: 27%; } .c-limit { width: 19%; } .c-result { width: 23%; } .c-verdict { width: 9%; }
        .tests thead { display: table-header-group; }
        .tests thead th { background: #1d3b5a; color: #fff; font-weight: bold; }
        .tests tbody tr { page-break-inside: avoid; border-bottom: 0.5pt solid #ccc; }
        .tests tbody tr:nth-child(even) { background: #f3f6f9; }
        .verdict, .tests thead th:last-child { font-weight: bold; text-align: center; }
        .verdict.pass { color: #14632b; }
        .verdict.fail { color: #fff; background: #a4161a; }
        .none { margin: 0; color: #444; }
        .deviations { margin: 0; padding-left: 5mm; }
        .invalid { border: 2pt solid #a4161a; color: #a4161a; font-weight: bold; font-size: 12pt; padding: 2mm; text-align: center; }
        .signature { border: 1pt solid #1d3b5a; padding: 1.5mm 2.5mm; margin-top: 3mm; page-break-inside: avoid; }
        .signature th { width: 22%; } .signature td { width: 28%; }
        .signature h2 { margin-top: 0; }
        .signature h2 span { font-weight: normal; color: #555; font-size: 8pt; margin-left: 2mm; }
        .signature .hash { margin: 1.5mm 0 0; color: #444; }
        code { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; }
        .hash, code.hash { word-break: break-all; }
        .audit { page-break-inside: avoid; }
        .audit p { margin: 0 0 1mm; }
        footer { margin-top: 3mm; padding-top: 1.5mm; border-top: 0.5pt solid #999; color: #444; font-size: 7.5pt; }
        """
}
