import Foundation
import PostgresClient
import Testing
import TestSupport

/// What an inspector takes away and what a facility sticks on a bag, through the built
/// binary: labels with ISBT 128 bar codes (decoded back with zbarimg), the audit-trail
/// report and the rejection record as HTML and PDF, the completed certificate.
@Suite("printed documents and labels, end to end")
struct PrintedDocumentTests {
    typealias Site = DonorLotCommandTests.Site

    /// Runs a helper program (pdftoppm, zbarimg); nil when it is not installed.
    static func tool(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String)? {
        guard let path = ["/usr/bin", "/usr/local/bin", "/bin"].map({ "\($0)/\(name)" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// ISBT 128 data structure 001 computed here, independently of gmp: "=", the DIN, and
    /// 60 + the value of its check character.
    static func dinStructure(_ din: String, check: String) -> String {
        let value = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*").firstIndex(of: Character(check))!
        return "=" + din + String(60 + value)
    }

    /// A cryopreserved master cell bank filled into 10 units.
    static func filledLot(_ site: Site) throws -> DonorLotCommandTests.CreatedLot {
        let donation = try DonorLotCommandTests.donation(in: site)
        try DonorLotCommandTests.screen(in: site, donation.tested, DonorLotCommandTests.livingDonorPanel)
        try site.expectSuccess { try site.signed(site.director, ["donor", "determine", donation.donor, "--outcome", "eligible"]) }
        let lot = try DonorLotCommandTests.createLot(in: site, ["--collection", donation.collection])
        for (kind, extra) in [("isolation", []), ("passage", DonorLotCommandTests.passage), ("harvest", []),
                              ("fill", DonorLotCommandTests.fill), ("cryopreservation", [])] {
            try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, kind, extra) }
        }
        return lot
    }

    /// Copies rendered PDFs to $GMP_TEST_PRINTS_DIR, when set, so a person can look at them.
    static func keep(_ files: [String]) {
        guard let target = ProcessInfo.processInfo.environment["GMP_TEST_PRINTS_DIR"] else { return }
        for file in files {
            try? FileManager.default.copyItem(atPath: file, toPath: "\(target)/\((file as NSString).lastPathComponent)")
        }
    }

    static func scratch() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-print-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("product codes: a placeholder is warned by doctor and on the label sheet and ZPL; a configured code is printed and shown with its origin")
    func productCodes() throws {
        try DonorLotCommandTests.withSite { site in
            let directory = try Self.scratch()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let lot = try Self.filledLot(site)
            let configured = "\(directory)/configured.yaml"
            let codes = ["master_cell_bank/cells": "S1234"]
            try (try String(contentsOfFile: site.configPath, encoding: .utf8)
                 + "product_codes:\n" + codes.map { "  \($0.key): \($0.value)\n" }.joined())
                .write(toFile: configured, atomically: true, encoding: .utf8)
            func gmp(_ config: String, _ arguments: [String]) throws -> GMPRun {
                try GMPBinary.run(arguments + ["--database", site.database, "--user", site.operatorAccount.id, "--config", config],
                                  environment: ["PGPASSWORD": site.operatorAccount.password])
            }
            func text(_ pdf: String) throws -> String {
                try #require(try Self.tool("pdftotext", [pdf, "-"]), "pdftotext (poppler-utils) is not installed").output
            }

            // The starter configuration names no code: a placeholder, warned everywhere.
            let doctor = try gmp(site.configPath, ["doctor", "--json"])
            #expect(doctor.status == 0, "a warning, not a failure: \(doctor)")
            let check = try #require((try doctor.json()["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "product codes" },
                                     "\(doctor)")
            #expect(check["status"] as? String == "warning", "\(doctor)")
            #expect((check["detail"] as? String)?.contains("every product") == true, "\(doctor)")
            #expect((check["detail"] as? String)?.contains("PLACEHOLDER PRODUCT CODE") == true, "\(doctor)")
            #expect((check["fix"] as? String)?.contains("product_codes") == true, "\(doctor)")
            let placeholder = try site.expectSuccess {
                try gmp(site.configPath, ["label", "print", lot.keyed + "-001", "--pdf", "\(directory)/p.pdf", "--zpl", "\(directory)/p.zpl", "--json"])
            }
            let placeholderLabel = try #require((try placeholder.json()["labels"] as? [[String: Any]])?.first?["label"] as? [String: Any])
            #expect(placeholderLabel["product_code_data"] as? String == "=<S9001VA0", "\(placeholder)")
            #expect(placeholderLabel["placeholder_product_code"] as? Bool == true, "\(placeholder)")
            #expect(placeholder.stderr.contains("PLACEHOLDER PRODUCT CODE"), "\(placeholder)")
            #expect(try text("\(directory)/p.pdf").contains("PLACEHOLDER PRODUCT CODE — not for clinical use"))
            #expect(try String(contentsOfFile: "\(directory)/p.zpl", encoding: .utf8).contains("PLACEHOLDER PRODUCT CODE"))
            let shown = try gmp(site.configPath, ["config", "show", "--json"])
            let placeholderSetting = try #require((try shown.json()["settings"] as? [[String: Any]])?
                .first { $0["key"] as? String == "product_codes.master_cell_bank/cells" }, "\(shown)")
            #expect(placeholderSetting["value"] as? String == "S9001 (placeholder)", "\(shown)")
            #expect(placeholderSetting["origin"] as? String == "default", "\(shown)")

            // The facility's code: on the label and in its bar code, no warning, shown from the file.
            let real = try site.expectSuccess {
                try gmp(configured, ["label", "print", lot.keyed + "-002", "--pdf", "\(directory)/r.pdf", "--zpl", "\(directory)/r.zpl", "--json"])
            }
            let realLabel = try #require((try real.json()["labels"] as? [[String: Any]])?.first?["label"] as? [String: Any])
            #expect(realLabel["product_code_data"] as? String == "=<S1234VAa", "\(real)")
            #expect(realLabel["placeholder_product_code"] as? Bool == false, "\(real)")
            #expect(!real.stderr.contains("PLACEHOLDER"), "\(real)")
            let realText = try text("\(directory)/r.pdf")
            #expect(realText.contains("=<S1234VAa") && !realText.contains("PLACEHOLDER"), "\(realText)")
            let realZPL = try String(contentsOfFile: "\(directory)/r.zpl", encoding: .utf8)
            #expect(realZPL.contains("^FD>:=<S1234VAa^FS") && !realZPL.contains("PLACEHOLDER"), "\(realZPL)")
            let configuredShown = try gmp(configured, ["config", "show"])
            let line = configuredShown.stdout.split(separator: "\n").first { $0.hasPrefix("product_codes.master_cell_bank/cells") } ?? ""
            #expect(line.contains("S1234") && line.contains("file: \(configured)") && !line.contains("placeholder"), "\(configuredShown)")

            // One product configured: doctor names the others, not it.
            let partly = try gmp(configured, ["doctor", "--json"])
            let partlyCheck = (try partly.json()["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "product codes" }
            let detail = partlyCheck?["detail"] as? String ?? ""
            #expect(partlyCheck?["status"] as? String == "warning" && detail.contains("working_cell_bank/cells")
                    && !detail.contains("master_cell_bank/cells"), "\(partly)")

            // Every product configured: doctor has nothing to warn about.
            let all = "\(directory)/all.yaml"
            try (try String(contentsOfFile: site.configPath, encoding: .utf8) + "product_codes:\n"
                 + ["master_cell_bank", "working_cell_bank", "drug_product"].enumerated().flatMap { stage in
                     ["cells", "conditioned_medium", "extracellular_vesicles"].enumerated().map { kind in
                         "  \(stage.element)/\(kind.element): S12\(stage.offset)\(kind.offset)\n"
                     }
                 }.joined()).write(toFile: all, atomically: true, encoding: .utf8)
            let healthy = try gmp(all, ["doctor", "--json"])
            let allCheck = (try healthy.json()["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "product codes" }
            #expect(allCheck?["status"] as? String == "ok", "\(healthy)")
            // A malformed code is refused before anything is printed (exit 78).
            let bad = "\(directory)/bad.yaml"
            try (try String(contentsOfFile: site.configPath, encoding: .utf8) + "product_codes:\n  drug_product/cells: S12\n")
                .write(toFile: bad, atomically: true, encoding: .utf8)
            expectOneLineError(try gmp(bad, ["label", "print", lot.keyed + "-004", "--zpl", "\(directory)/b.zpl"]), exit: 78,
                               mentioning: ["product_codes.drug_product/cells", "capital letter and four digits"])
        }
    }

    @Test("a unit's label sheet decodes back (zbarimg) to exactly the ISBT 128 data structures; the print is audited; a reprint needs --reason")
    func unitLabel() throws {
        try DonorLotCommandTests.withSite { site in
            let directory = try Self.scratch()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let lot = try Self.filledLot(site)
            let unit = lot.keyed + "-003", pdf = "\(directory)/unit3.pdf", zpl = "\(directory)/unit3.zpl"
            let before = try site.auditEvents()
            let printed = try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["label", "print", unit, "--pdf", pdf, "--zpl", zpl, "--json"])
            }
            #expect(try site.auditEvents() == before + 1, "one audited print\n\(printed)")
            let labels = try #require(try printed.json()["labels"] as? [[String: Any]], "\(printed)")
            #expect(labels.count == 1)
            let label = try #require(labels.first?["label"] as? [String: Any])
            let din = Self.dinStructure(lot.din, check: lot.checkCharacter)
            #expect(label["din_data"] as? String == din, "\(printed)")
            let product = try #require(label["product_code_data"] as? String)
            #expect(product == "=<S9001VAb", "master cell bank, cells, volunteer allogeneic, unit 3 → Ab: \(printed)")
            let expiry = try #require(label["expiration_data"] as? String)
            #expect(expiry.wholeMatch(of: /=>0\d{5}/) != nil, "\(printed)")
            #expect((labels.first?["print"] as? [String: Any])?["reprint"] as? Bool == false, "\(printed)")

            // The bar codes as a scanner reads them, from the rendered page.
            let zplText = try String(contentsOfFile: zpl, encoding: .utf8)
            #expect(zplText.contains("^FD>:\(din)^FS") && zplText.contains("^FD>:\(product)^FS"), "\(zplText)")
            let png = "\(directory)/page"
            let render = try #require(try Self.tool("pdftoppm", ["-r", "300", "-png", "-f", "1", "-l", "1", pdf, png]),
                                      "pdftoppm (poppler-utils) is not installed")
            #expect(render.status == 0)
            let image = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasSuffix(".png") })
            let decoded = try #require(try Self.tool("zbarimg", ["--raw", "-q", "\(directory)/\(image)"]),
                                       "zbarimg (zbar-tools) is not installed")
            let symbols = Set(decoded.output.split(separator: "\n").map(String.init))
            #expect(symbols == [din, product, expiry], "decoded: \(decoded.output)")
            // zbar reads no DataMatrix; libdmtx's dmtxread does: the compound message (=+, count, 000).
            let matrix = try #require(try Self.tool("dmtxread", ["-N", "1", "\(directory)/\(image)"]),
                                      "dmtxread (dmtx-utils) is not installed")
            #expect(matrix.output.trimmingCharacters(in: .whitespacesAndNewlines) == "=+03000" + din + product + expiry,
                    "decoded: \(matrix.output)")

            // Printing the same unit again is a reprint: refused without a reason, nothing recorded.
            try site.expectRefused(mentioning: ["reprint needs its reason", "--reason"]) {
                try site.gmp(site.operatorAccount, ["label", "print", unit, "--zpl", zpl])
            }
            let again = try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["label", "print", unit, "--zpl", zpl, "--reason", "label smudged", "--json"])
            }
            let reprint = try #require((try again.json()["labels"] as? [[String: Any]])?.first?["print"] as? [String: Any])
            #expect(reprint["reprint"] as? Bool == true, "\(again)")
            // Chained first: gmp chains lazily (issue 19), the reprint's event may still be pending.
            let chainer = try TestServer.connect(site.database)
            try chainer.execute("SELECT gmp_audit.chain_pending()")
            let reason: String? = try chainer.query("""
                SELECT reason FROM gmp_audit.event WHERE table_name = 'gmp.label_print' ORDER BY seq DESC LIMIT 1
                """).first?.decode("reason")
            #expect(reason == "label smudged")

            // A lot prints one label per filled unit; unit 3 among them is a reprint, so the
            // sheet needs a reason too.
            try site.expectRefused(mentioning: ["\(lot.din)-003 was printed 2 time(s) before"]) {
                try site.gmp(site.operatorAccount, ["label", "print", lot.keyed, "--zpl", "\(directory)/lot.zpl"])
            }
            let sheet = try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["label", "print", lot.keyed, "--pdf", "\(directory)/lot.pdf",
                                                    "--reason", "first sheet of the lot; unit 3 reprinted", "--json"])
            }
            let sheetLabels = try #require(try sheet.json()["labels"] as? [[String: Any]], "\(sheet)")
            #expect(sheetLabels.count == 10, "\(sheet)")
            #expect(sheetLabels.compactMap { ($0["print"] as? [String: Any])?["reprint"] as? Bool } == (1...10).map { $0 == 3 })

            // The audit report of those prints, as an inspector takes it away.
            let html = "\(directory)/audit.html", reportPDF = "\(directory)/audit.pdf"
            let report = try site.expectSuccess {
                try site.gmp(site.qa, ["audit", "report", "--table", "gmp.label_print", "--html", html, "--pdf", reportPDF])
            }
            let superuser = try TestServer.connect(site.database)
            let events: Int64 = try superuser.query(
                "SELECT count(*) AS n FROM gmp_audit.event WHERE table_name = 'gmp.label_print'")[0].decode("n")
            let inserts: Int64 = try superuser.query(
                "SELECT count(*) AS n FROM gmp_audit.event WHERE table_name = 'gmp.label_print' AND action = 'INSERT'")[0].decode("n")
            #expect(inserts == 12, "one print, one reprint, a sheet of 10")
            #expect(report.stdout == "\(events) event(s)\n", "\(report)")
            let page = try String(contentsOfFile: html, encoding: .utf8)
            #expect(page.contains("Audit trail report") && page.contains("table gmp.label_print"), "\(report)")
            #expect(page.contains("<td>din_data</td><td>—</td><td>\(din)</td>"), "an insert shows each field old → new")
            #expect(page.contains("Reason: label smudged"))
            #expect(page.contains("How to verify this report") && page.contains("gmp audit verify"))
            // These events are hash format v2 (since V0032): the page gives that formula too, and
            // points to documentation the inspector can read with the binary, not to the sources.
            #expect(page.contains("field(\"gmp-audit-v2\") || field(seq) || field(write_order)"), "the v2 formula")
            #expect(page.contains("gmp help audit-trail") && !page.contains("docs/"), "documentation that ships with gmp")
            #expect(page.contains("chain hash <code>"))
            let head = try #require(FileManager.default.contents(atPath: reportPDF)).prefix(5)
            #expect(String(decoding: head, as: UTF8.self) == "%PDF-")
            Self.keep([pdf, "\(directory)/lot.pdf", reportPDF])
        }
    }

    @Test("the rejection record of a lot rejected for a failed endotoxin: why, who signed, the units; text, JSON, HTML, PDF")
    func rejectionRecord() throws {
        try QCReleaseCommandTests.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.assignedLot()
            let ids = try qs.passAll(lot, except: ["endotoxin"])
            #expect(!ids.isEmpty)
            let failed = try qs.record(lot, "endotoxin", "40", unit: "EU/mL")
            #expect(failed.verdict == "fail", "\(failed.run)")
            try site.expectRefused(mentioning: ["rejection record exists for rejected lots only"]) {
                try site.gmp(site.qa, ["release", "rejection", lot.keyed])
            }
            try site.expectSuccess {
                try site.signed(qs.releaser, ["release", "reject", lot.keyed, "--reason", "endotoxin 40 EU/mL out of specification"])
            }
            let html = "\(qs.directory)/rejection.html", pdf = "\(qs.directory)/rejection.pdf"
            let text = try site.expectSuccess {
                try site.gmp(site.qa, ["release", "rejection", lot.keyed, "--html", html, "--pdf", pdf])
            }
            #expect(text.stdout.hasPrefix("REJECTION RECORD"), "\(text)")
            #expect(text.stdout.contains("reason         endotoxin 40 EU/mL out of specification"), "\(text)")
            #expect(text.stdout.contains("FAIL       Bacterial endotoxins: 40 EU/mL"), "\(text)")
            #expect(text.stdout.contains("rejected by    Quinn Quality (\(qs.releaser.id))"), "\(text)")
            #expect(text.stdout.contains("meaning: rejected"), "\(text)")
            let json = try site.expectSuccess { try site.gmp(site.qa, ["release", "rejection", lot.keyed, "--json"]) }.json()
            let criteria = try #require(json["failed_criteria"] as? [[String: Any]])
            #expect(criteria.map { $0["test"] as? String } == ["endotoxin"])
            #expect((json["rejection"] as? [String: Any])?["intact"] as? Bool == true)
            let page = try String(contentsOfFile: html, encoding: .utf8)
            #expect(page.contains("Batch rejection record") && page.contains("Quinn Quality"))
            #expect(page.contains("<td>40 EU/mL</td><td class=\"fail\">FAIL</td>"), "\(page)")
            let head = try #require(FileManager.default.contents(atPath: pdf)).prefix(5)
            #expect(String(decoding: head, as: UTF8.self) == "%PDF-")

            // The rejected lot's audit report: the signature with its manifestation.
            let auditHTML = "\(qs.directory)/disposition-audit.html", auditPDF = "\(qs.directory)/disposition-audit.pdf"
            try site.expectSuccess {
                try site.gmp(site.qa, ["audit", "report", "--table", "gmp.disposition", "--html", auditHTML, "--pdf", auditPDF])
            }
            let audit = try String(contentsOfFile: auditHTML, encoding: .utf8)
            #expect(audit.contains("<th>Signed by</th><td>Quinn Quality (\(qs.releaser.id))</td>"), "\(audit)")
            #expect(audit.contains("<th>Meaning</th><td>rejected</td>"), "\(audit)")
            #expect(audit.contains("<span class=\"intact\">intact</span>"), "\(audit)")
            Self.keep([pdf, auditPDF])
        }
    }
}
