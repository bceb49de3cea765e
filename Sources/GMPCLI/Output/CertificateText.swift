import GMPRules

/// The Certificate of Analysis for people: `text` for terminals, `html` for print.
/// Both show every value as the document holds it; nothing is recomputed here.
enum CertificateRendering {
    /// Who made the lot, from the configuration's facility section (ICH Q7 §11.4: the
    /// certificate names the original manufacturer and its address).
    struct Manufacturer: Equatable {
        let name: String
        let address: String
    }

    /// A plain-text certificate: header, a fixed-width table of tests, the release
    /// signature as 21 CFR 11.50 requires it, and where the audit trail recorded it.
    static func text(_ coa: CertificateOfAnalysis, manufacturer: Manufacturer? = nil) -> String {
        let lot = coa.lot, spec = coa.specification, release = coa.release
        var lines = ["CERTIFICATE OF ANALYSIS   \(documentNumber(coa))", ""]
        lines += labelled([
            ("Manufacturer", manufacturerLine(manufacturer)),
            ("Product", "\(productName(lot)), \(lot.intendedUse)"),
            ("Lot (DIN)", lot.eyeReadable),
            ("Facility (FIN)", facility(of: lot)),
            ("Units", units(of: lot)),
            ("Manufactured", lot.manufacturedOn ?? "—"),
            ("Released", utc(release.signedAt)),
            ("Expires", lot.expiresOn),
            ("Specification", "\(spec.id): \(spec.title)"),
            ("Approved", "\(utc(spec.approvedAt)) by \(spec.approvedBy)"),
            ("Max dose", dose(coa.dose)),
            ("Donor", "\(lot.donorCode), collection \(lot.collectionId)"),
            ("Donor eligibility", eligibility(coa.eligibility)),
        ])
        lines += ["", "Tests"]
        lines += table(
            header: ["Test", "Method", "Limit", "Result", "Verdict"],
            widths: [24, 22, 15, 22, 7],
            rows: coa.tests.map { [testName($0), $0.method, withUnit($0.limit, $0.unit), withUnit($0.result, $0.resultUnit ?? $0.unit), verdict($0)] })
        lines += ["", "Closed deviations"]
        lines += coa.deviations.isEmpty ? ["  none"] : coa.deviations.flatMap {
            let entry = "\($0.id) (\($0.kind)): \($0.title); outcome: \($0.outcome); closed \(utc($0.closedAt)) by \($0.closedBy)"
            return wrap(entry, width: 94).enumerated().map { ($0.offset == 0 ? "  " : "    ") + $0.element }
        }
        lines += ["", "Release signature (21 CFR 11.50)"]
        lines += labelled([
            ("Printed name", "\(release.printedName) (\(release.signer))"),
            ("Date and time", utc(release.signedAt)),
            ("Meaning", release.meaning),
            ("Signature id", String(release.signatureId)),
            ("Signature", signatureState(release)),
            ("Signed SHA-256", release.packageSha256),
        ])
        lines += ["", "Audit trail"]
        lines += labelled([("Event", "seq \(coa.audit.seq)"), ("Hash", coa.audit.hash)])
        lines += ["  Verify with `gmp audit verify`: it recomputes the chain up to this event.", ""]
        if let statement = complianceStatement(coa) { lines += wrap(statement, width: 96) + [""] }
        lines += ["Issued \(utc(coa.issuedAt))"]
        if let warning = invalidity(coa) { lines.insert(contentsOf: [warning, ""], at: 0) }
        return lines.map(printable).joined(separator: "\n") + "\n"
    }

    // MARK: Shared with the HTML form

    /// The certificate's document number: one per lot and release disposition, so a
    /// reprint carries the same number ("CoA-G123426000001-17").
    static func documentNumber(_ coa: CertificateOfAnalysis) -> String {
        "CoA-\(coa.lot.din)" + (coa.release.dispositionId.map { "-\($0)" } ?? "")
    }

    static func productName(_ lot: CertificateOfAnalysis.Lot) -> String {
        ProductNames.name(stage: lot.stage, productKind: lot.productKind)
    }

    static func manufacturerLine(_ manufacturer: Manufacturer?) -> String {
        guard let manufacturer else { return "not configured: set facility.name and facility.address in gmp.yaml" }
        let address = manufacturer.address.split(whereSeparator: \.isNewline)
            .map { String($0.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()) }
        return ([manufacturer.name] + address.filter { !$0.isEmpty }).joined(separator: ", ")
    }

    /// The quality unit's statement, only on a valid certificate (intact release signature).
    static func complianceStatement(_ coa: CertificateOfAnalysis) -> String? {
        guard invalidity(coa) == nil else { return nil }
        return "This lot was manufactured and tested under Good Manufacturing Practice (21 CFR 1271 and 210/211; "
            + "ICH Q7) and its results meet specification \(coa.specification.id), version \(coa.specification.version). "
            + "It was released by the quality unit with the electronic signature above."
    }

    /// "2026-11-20T14:03:07.123456Z" → "2026-11-20 14:03:07 UTC"; anything else as given,
    /// so an unexpected form is shown rather than lost.
    static func utc(_ iso: String) -> String {
        let parts = iso.split(separator: "T", maxSplits: 1)
        guard parts.count == 2, parts[1].count >= 8,
              iso.hasSuffix("Z") || iso.hasSuffix("+00:00") || iso.hasSuffix("+00") else { return iso }
        return "\(parts[0]) \(parts[1].prefix(8)) UTC"
    }

    static func withUnit(_ value: String, _ unit: String?) -> String {
        guard let unit, !unit.isEmpty else { return value }
        return "\(value) \(unit)"
    }

    /// The document's verdict, upper-cased; never derived from the result.
    static func verdict(_ test: CertificateOfAnalysis.TestResult) -> String { test.verdict.uppercased() }

    static func testName(_ test: CertificateOfAnalysis.TestResult) -> String {
        test.attempt > 1 ? "\(test.name) (retest \(test.attempt - 1))" : test.name
    }

    /// The FIN is the DIN's first five characters (ISBT 128).
    static func facility(of lot: CertificateOfAnalysis.Lot) -> String { String(lot.din.prefix(5)) }

    static func units(of lot: CertificateOfAnalysis.Lot) -> String {
        switch (lot.units, lot.unitVolumeMl) {
        case let (count?, volume?): "\(count) × \(volume) mL"
        case let (count?, nil): "\(count)"
        case let (nil, volume?): "\(volume) mL"
        case (nil, nil): "—"
        }
    }

    static func dose(_ dose: CertificateOfAnalysis.Dose) -> String {
        dose.summary
    }

    static func eligibility(_ e: CertificateOfAnalysis.Eligibility) -> String {
        var line = "\(e.outcome) (determination \(e.determinationId)"
        if let by = e.signedBy { line += ", signed by \(by)" }
        if let at = e.signedAt { line += " at \(utc(at))" }
        return line + ")"
    }

    static func signatureState(_ release: CertificateOfAnalysis.Release) -> String {
        release.intact ? "intact: the signed content is unchanged"
                       : "BROKEN: the signed content changed after signing"
    }

    /// Why this document must not be used as a certificate, if it must not (Annex 11
    /// §8.2: a printout shows when data changed after signing).
    static func invalidity(_ coa: CertificateOfAnalysis) -> String? {
        if !coa.release.intact { return "NOT VALID: the release signature is broken." }
        if coa.release.decision != "released" { return "NOT VALID: the lot's decision is \(coa.release.decision), not released." }
        return nil
    }

    // MARK: Text layout

    private static func labelled(_ pairs: [(String, String)]) -> [String] {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { "  " + pad($0.0 + ":", width + 2) + $0.1 }
    }

    /// Columns of fixed width; a cell too long for its column wraps onto more lines.
    private static func table(header: [String], widths: [Int], rows: [[String]]) -> [String] {
        func render(_ cells: [String]) -> [String] {
            let wrapped = zip(cells, widths).map { wrap($0, width: $1) }
            let height = wrapped.map(\.count).max() ?? 1
            return (0..<height).map { line in
                "  " + zip(wrapped, widths).map { pad(line < $0.count ? $0[line] : "", $1) }
                    .joined(separator: "  ").trimmingTrailingSpaces
            }
        }
        let rule = "  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return render(header) + [rule] + rows.flatMap(render)
    }

    /// Word-wraps `text` to `width` characters, breaking a word longer than a line.
    private static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            var word = Substring(word)
            while word.count > width {
                if !current.isEmpty { lines.append(current); current = "" }
                lines.append(String(word.prefix(width)))
                word = word.dropFirst(width)
            }
            if current.isEmpty { current = String(word) }
            else if current.count + 1 + word.count <= width { current += " " + word }
            else { lines.append(current); current = String(word) }
        }
        return lines + (current.isEmpty && !lines.isEmpty ? [] : [current])
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Control characters replaced: a value must not move the cursor or recolor the
    /// terminal (escape-sequence injection).
    private static func printable(_ line: String) -> String {
        String(String.UnicodeScalarView(line.unicodeScalars.map {
            $0.properties.generalCategory == .control ? "\u{FFFD}" : $0
        }))
    }
}

private extension String {
    var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
