import Foundation
import Testing
@testable import GMPCLI
import GMPRules

@Suite("Certificate of Analysis: text, HTML and PDF from the server's document")
struct CertificateRenderingTests {
    let coa = try! CertificateOfAnalysis.decode(json: CertificateFixture.json)

    @Test("the document decodes with every field; numbers that are text stay text")
    func decodes() throws {
        #expect(coa.tests.count == 12)
        #expect(coa.lot.unitVolumeMl == "5.0")
        #expect(coa.dose.maxDoseMlPerKgH == "0.2")
        #expect(coa.release.packageSha256.count == 64)
        #expect(coa.tests.first { $0.test == "sterility" }?.unit == nil)
        #expect(coa.tests.first { $0.test == "endotoxin" }?.result == "<0.05")
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let again = try CertificateOfAnalysis.decode(json: String(decoding: try encoder.encode(coa), as: UTF8.self))
        #expect(again == coa)
    }

    @Test("text: header, every test row with limit, result and verdict")
    func textRows() {
        let text = CertificateRendering.text(coa)
        for needle in ["G1234 26 000003 K", "2026-11-20", "2027-11-20", "2026-11-25 14:03:07 UTC",
                       "UC-MSC-DP@1: Umbilical-cord MSC drug product, cryopreserved", "eligible (determination 3",
                       "Closed deviations", "DEV26-0001"] {
            #expect(text.contains(needle), "missing \(needle)")
        }
        let rows = Self.tableRows(text)
        #expect(rows.count == coa.tests.count)
        for (test, row) in zip(coa.tests, rows) {
            #expect(row == [CertificateRendering.testName(test), test.method, CertificateRendering.withUnit(test.limit, test.unit),
                            CertificateRendering.withUnit(test.result, test.unit), test.verdict.uppercased()])
        }
        #expect(text.contains("<0.05 EU/mL"))
        #expect(rows.contains { $0[3] == "osteogenic: positive; adipogenic: positive; chondrogenic: positive" })
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 100 }, "a line overflows the table")
    }

    /// The tests table read back by column: a row starts on a line with a verdict, and a
    /// wrapped cell's lines are joined with the spaces the wrapping took.
    static func tableRows(_ text: String) -> [[String]] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        guard let header = lines.firstIndex(where: { String($0).hasPrefix("  Test ") }) else { return [] }
        let starts = ["Test", "Method", "Limit", "Result", "Verdict"].map { String(lines[header]).distance(
            from: String(lines[header]).startIndex, to: String(lines[header]).range(of: $0)!.lowerBound) }
        var rows: [[String]] = []
        for line in lines[(header + 2)...] {
            guard !line.isEmpty else { break }
            let cells = starts.indices.map { i in
                let from = min(starts[i], line.count), to = i + 1 < starts.count ? min(starts[i + 1], line.count) : line.count
                return String(line[from..<to]).trimmingCharacters(in: .whitespaces)
            }
            if !cells[4].isEmpty { rows.append(cells) } else if !rows.isEmpty {
                rows[rows.count - 1] = zip(rows[rows.count - 1], cells).map { $1.isEmpty ? $0 : $0 + " " + $1 }
            }
        }
        return rows
    }

    @Test("text: the signature manifestation and how to verify the audit position")
    func textSignature() {
        let text = CertificateRendering.text(coa)
        for needle in ["Printed name:", "Quinn Quality (quinn)", "Date and time:", "2026-11-25 14:03:07 UTC",
                       "Meaning:", "released", "Signature id:", "42", "intact: the signed content is unchanged",
                       "seq 1234", coa.audit.hash, "gmp audit verify"] {
            #expect(text.contains(needle), "missing \(needle)")
        }
        #expect(!text.contains("NOT VALID"))
    }

    @Test("a broken signature or a failed test is shown as such, never as PASS")
    func brokenAndFailed() throws {
        let json = CertificateFixture.json.replacingOccurrences(of: "\"intact\": true", with: "\"intact\": false")
            .replacingOccurrences(of: "\"result\": \"98.2\", \"verdict\": \"pass\"", with: "\"result\": \"90.1\", \"verdict\": \"fail\"")
        let broken = try CertificateOfAnalysis.decode(json: json)
        let text = CertificateRendering.text(broken), html = CertificateRendering.html(broken)
        #expect(text.hasPrefix("NOT VALID: the release signature is broken."))
        #expect(text.contains("BROKEN"))
        #expect(text.split(separator: "\n").first { $0.contains("CD105") }?.contains("FAIL") == true)
        #expect(html.contains("<td class=\"verdict fail\">FAIL</td>"))
        #expect(!html.contains("90.1 %</td><td class=\"verdict pass\""))
    }

    @Test("escaping turns markup characters into entities", arguments: [
        ("<script>", "&lt;script&gt;"), ("&\"'", "&amp;&quot;&#39;"), ("a > b", "a &gt; b"),
        ("≥ 95 %", "≥ 95 %"), ("\u{1B}[31m", "\u{FFFD}[31m"), ("line\nbreak", "line\nbreak"),
    ])
    func escaping(raw: String, escaped: String) {
        #expect(CertificateRendering.escape(raw) == escaped)
    }

    @Test("hostile values come out escaped in HTML and harmless in text")
    func hostile() throws {
        let json = CertificateFixture.json
            .replacingOccurrences(of: "CD105 positive cells", with: "<script>alert(1)</script>")
            .replacingOccurrences(of: "Flow cytometry, ISCT panel", with: "&\\\"'<img src=x>")
            .replacingOccurrences(of: "Quinn Quality", with: "Quinn \\u001b[2J")
        let hostile = try CertificateOfAnalysis.decode(json: json)
        let html = CertificateRendering.html(hostile)
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&amp;&quot;&#39;&lt;img src=x&gt;"))
        #expect(!CertificateRendering.text(hostile).contains("\u{1B}"))
    }

    @Test("HTML: self-contained, printable, every section present")
    func htmlPage() {
        let html = CertificateRendering.html(coa)
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.lowercased().contains("http"))
        #expect(!html.contains("src=") && !html.contains("<link") && !html.contains("@import"))
        for needle in ["<title>Certificate of Analysis", "size: A4 portrait", "@page", "G1234 26 000003 K",
                       "<th>Verdict</th>", "Printed name", "Date and time (UTC)", "Meaning", "Signature id",
                       "seq 1234", coa.audit.hash, "gmp audit verify", "Issued at 2026-11-25 14:05:00 UTC",
                       "&lt;0.05 EU/mL", "≥ 95 %"] {
            #expect(html.contains(needle), "missing \(needle)")
        }
        #expect(html.components(separatedBy: "<td class=\"verdict pass\">PASS</td>").count == 13)
    }

    @Test("ICH Q7 §11.4: manufacturer and address, product name, document number, compliance statement only when valid")
    func ichQ7() throws {
        let maker = CertificateRendering.Manufacturer(name: "Example Cell Therapy Facility",
                                                      address: "1 Example Road\n  Example City, EX 00000\n")
        let html = CertificateRendering.html(coa, manufacturer: maker), text = CertificateRendering.text(coa, manufacturer: maker)
        for page in [html, text] {
            #expect(page.contains("Example Cell Therapy Facility, 1 Example Road, Example City, EX 00000"))
            #expect(page.contains("CoA-\(coa.lot.din)-17"))
            #expect(page.contains("meet specification \(coa.specification.id), version \(coa.specification.version)"))
            #expect(!page.contains("drug_product") && !page.contains("cells, drug"), "code words, not names")
            #expect(page.contains(ProductNames.name(stage: coa.lot.stage, productKind: coa.lot.productKind)))
        }
        #expect(text.hasPrefix("CERTIFICATE OF ANALYSIS   CoA-\(coa.lot.din)-17"))
        // Unconfigured, the certificate says so instead of leaving the manufacturer out.
        #expect(CertificateRendering.text(coa).contains("not configured: set facility.name and facility.address"))
        let broken = try CertificateOfAnalysis.decode(json: CertificateFixture.json.replacingOccurrences(
            of: "\"intact\": true", with: "\"intact\": false"))
        #expect(!CertificateRendering.html(broken, manufacturer: maker).contains("meet specification"))
        #expect(!CertificateRendering.text(broken, manufacturer: maker).contains("meet specification"))
    }

    @Test("PDF/A-3b through weasyprint, when installed: the archival identification is in the file",
          .enabled(if: PDFConverter.executable(named: "weasyprint") != nil))
    func pdfA() throws {
        let path = NSTemporaryDirectory() + "/gmp-coa-pdfa-\(getpid()).pdf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let maker = CertificateRendering.Manufacturer(name: "Example Cell Therapy Facility", address: "1 Example Road\nExample City")
        try PDFConverter.convert(html: CertificateRendering.html(coa, manufacturer: maker), to: path, variant: "pdf/a-3b")
        // $GMP_TEST_PRINTS_DIR keeps a copy for a person to look at.
        if let keep = ProcessInfo.processInfo.environment["GMP_TEST_PRINTS_DIR"] {
            try? FileManager.default.copyItem(atPath: path, toPath: keep + "/coa.pdf")
        }
        let data = FileManager.default.contents(atPath: path) ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("pdfaid:part") && text.contains("pdfaid:conformance"), "no PDF/A XMP identification")
    }

    @Test("UTC times are shown to the second; other text as given")
    func times() {
        #expect(CertificateRendering.utc("2026-11-01T09:00:00.000000Z") == "2026-11-01 09:00:00 UTC")
        #expect(CertificateRendering.utc("2026-11-01T09:00:00+00:00") == "2026-11-01 09:00:00 UTC")
        #expect(CertificateRendering.utc("2026-11-01T09:00:00+02:00") == "2026-11-01T09:00:00+02:00")
    }

    @Test("a missing weasyprint names the package to install")
    func missingConverter() {
        #expect(PDFConverter.executable(named: "weasyprint", path: "/nonexistent") == nil)
        #expect(throws: Failure(exitCode: .unavailable, problem: "weasyprint was not found on PATH",
                                fix: "install it: apt-get install -y weasyprint")) {
            try PDFConverter.convert(html: "<p>x</p>", to: "/tmp/never.pdf", searchPath: "/nonexistent")
        }
    }

    @Test("PDF through weasyprint, when installed",
          .enabled(if: PDFConverter.executable(named: "weasyprint") != nil))
    func pdf() throws {
        let path = NSTemporaryDirectory() + "/gmp-coa-test-\(getpid()).pdf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PDFConverter.convert(html: CertificateRendering.html(coa), to: path)
        let data = FileManager.default.contents(atPath: path) ?? Data()
        #expect(data.starts(with: Array("%PDF".utf8)))
    }
}

/// A released drug-product lot as `gmp.certificate_of_analysis` returns it: twelve tests,
/// a multi-part result, a result below the limit of detection, a retest and a closed deviation.
enum CertificateFixture {
    static let json = """
    {
      "lot": {"din": "G123426000003", "keyed_id": "G123426000003K", "eye_readable": "G1234 26 000003 K",
              "product_kind": "cells", "stage": "drug_product", "intended_use": "allogeneic",
              "donor_code": "D26-000002", "collection_id": "T26-000002",
              "manufactured_on": "2026-11-20", "expires_on": "2027-11-20", "units": 10, "unit_volume_ml": "5.0"},
      "specification": {"id": "UC-MSC-DP@1", "code": "UC-MSC-DP", "version": 1,
                        "title": "Umbilical-cord MSC drug product, cryopreserved",
                        "approved_at": "2026-11-01T09:00:00.000000Z", "approved_by": "Quinn Quality"},
      "dose": {"max_dose_ml_per_kg_h": "0.2", "intrathecal": false},
      "tests": [
        \(test(1, "cd105", "CD105 positive cells", "Flow cytometry, ISCT panel", "≥ 95", "\"%\"", "98.2"))
        \(test(2, "cd73", "CD73 positive cells", "Flow cytometry, ISCT panel", "≥ 95", "\"%\"", "99.1"))
        \(test(3, "cd90", "CD90 positive cells", "Flow cytometry, ISCT panel", "≥ 95", "\"%\"", "97.6"))
        \(test(4, "cd45", "CD45 positive cells", "Flow cytometry, ISCT panel", "≤ 2", "\"%\"", "0.4"))
        \(test(5, "hla_dr", "HLA-DR positive cells", "Flow cytometry, ISCT panel", "≤ 2", "\"%\"", "0.9"))
        \(test(6, "viability", "Viability after thaw", "Automated count, trypan blue exclusion", "≥ 70", "\"%\"", "91.3"))
        \(test(7, "cell_dose", "Viable cells per bag", "Automated count, trypan blue", "≥ 45 and < 60.5", "\"10^6 cells\"", "52.7", attempt: 2))
        \(test(8, "sterility", "Sterility (14 days)", "Ph. Eur. 2.6.1, direct inoculation", "no_growth", "null", "no_growth"))
        \(test(9, "mycoplasma", "Mycoplasma", "Ph. Eur. 2.6.7, nucleic acid amplification (validated qPCR)", "not_detected", "null", "not_detected"))
        \(test(10, "endotoxin", "Bacterial endotoxins", "Ph. Eur. 2.6.14, kinetic chromogenic", "≤ 25", "\"EU/mL\"", "<0.05"))
        \(test(11, "trilineage", "Trilineage differentiation", "In vitro differentiation, 21 days", "positive (every part)", "null",
               "osteogenic: positive; adipogenic: positive; chondrogenic: positive"))
        \(test(12, "residual_bsa", "Residual BSA", "ELISA", "< LOD, LOD ≤ 50", "\"ng/mL\"", "<12", last: true))
      ],
      "eligibility": {"outcome": "eligible", "determination_id": 3, "signed_by": "Dana Director",
                      "signed_at": "2026-10-02T11:20:00.000000Z"},
      "deviations": [{"id": "DEV26-0001", "kind": "deviation", "title": "Incubator door alarm during passage 3",
                      "outcome": "no impact on product quality", "closed_at": "2026-11-22T16:40:00.000000Z",
                      "closed_by": "Quinn Quality"}],
      "release": {"decision": "released", "disposition_id": 17, "signer": "quinn", "printed_name": "Quinn Quality",
                  "signed_at": "2026-11-25T14:03:07.512000Z", "meaning": "released", "signature_id": 42, "intact": true,
                  "package_sha256": "9f2c1a7e4b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"},
      "audit": {"seq": 1234, "hash": "3b7e0c9d2a4f6e8b1c3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a4b"},
      "issued_at": "2026-11-25T14:05:00.000000Z"
    }
    """

    private static func test(_ id: Int, _ key: String, _ name: String, _ method: String, _ limit: String,
                             _ unit: String, _ result: String, attempt: Int = 1, last: Bool = false) -> String {
        """
        {"test": "\(key)", "name": "\(name)", "method": "\(method)", "limit": "\(limit)", "unit": \(unit), \
        "result": "\(result)", "verdict": "pass", "analyst": "casey", "performed_at": "2026-11-21T10:00:00.000000Z", \
        "verified_by": "Riley Reviewer", "verified_at": "2026-11-22T09:00:00.000000Z", "result_id": \(id), \
        "attempt": \(attempt)}\(last ? "" : ",")
        """
    }
}
