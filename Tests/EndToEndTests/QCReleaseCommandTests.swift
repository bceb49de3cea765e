import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp spec …`, `gmp qc …`, `gmp deviation …`, `gmp release …` and `gmp coa` as people
/// run them: the built binary, its stdout, --json and exit codes; every refusal leaves the
/// audit trail without one event more. The rules themselves are tried in SQL by
/// QCReleaseRulesTests; these tests try the commands.
@Suite("spec, qc, deviation, release and coa commands, end to end")
struct QCReleaseCommandTests {
    typealias Site = DonorLotCommandTests.Site
    typealias CreatedLot = DonorLotCommandTests.CreatedLot

    /// A small specification with one criterion of most kinds (docs/qc-and-release.md):
    /// lower, upper, window, qualitative, not detected, endotoxin dose.
    static let specification = """
        specification: E2E-DP
        title: End-to-end test drug product
        applies_to:
          product_kind: cells
          stage: drug_product
        max_retests: 1
        criteria:
          - test: cd105
            name: CD105 positive cells
            method: Flow cytometry
            unit: "%"
            at_least: 95
          - test: cd45
            name: CD45 positive cells
            method: Flow cytometry
            unit: "%"
            at_most: 2
          - test: cell_dose
            name: Viable cells per bag
            method: Automated count
            unit: "10^6 cells"
            at_least: 45
            less_than: 60.5
            max_retests: 2
          - test: sterility
            name: Sterility (14 days)
            method: Ph. Eur. 2.6.1
            accept: [no_growth]
            max_retests: 0
          - test: residual_bsa
            name: Residual BSA
            method: ELISA
            unit: ng/mL
            not_detected_at: 50
          - test: endotoxin
            name: Bacterial endotoxins
            method: Ph. Eur. 2.6.14
            unit: EU/mL
            endotoxin_k: 5
            max_dose: {unit: mL/kg/h, min: 0.1, max: 4}

        """

    /// A value of `specification` for each test: (test, printed name, value, unit, limit as checked).
    static let passing: [(test: String, name: String, value: String, unit: String?, limit: String)] = [
        ("cd105", "CD105 positive cells", "98.2", "%", "≥ 95 %"),
        ("cd45", "CD45 positive cells", "0.4", "%", "≤ 2 %"),
        // In cells, converted exactly to the criterion's 10^6 cells.
        ("cell_dose", "Viable cells per bag", "50000000", "cells", "≥ 45 and < 60.5 10^6 cells"),
        ("sterility", "Sterility (14 days)", "no_growth", nil, "no_growth"),
        ("residual_bsa", "Residual BSA", "<10", "ng/mL", "< LOD, LOD ≤ 50 ng/mL"),
        // The boundary: K/M = 5 / 0.4 = 12.5 EU/mL.
        ("endotoxin", "Bacterial endotoxins", "12.5", "EU/mL", "≤ 12.5 (K/M = 5 / 0.4) EU/mL"),
    ]

    static let exceptionalRequest = ["--physician", "Dr. T. Physician", "--request", "letter 2026-11-30",
                                     "--acceptance", "accepts the endotoxin risk", "--justification", "no alternative therapy",
                                     "--notified", "sponsor, 2026-11-30"]

    // MARK: - Set-up

    /// The donor-and-lot site (DonorLotCommandTests.Site) with the people QC and release
    /// need besides: a second QC person who verifies, a second QA person who approves
    /// specifications, and a QA person who releases and took no part in the results; a
    /// scratch directory holding the specification file.
    final class QCSite {
        let site: Site
        let qc2: TestAccount
        let qa2: TestAccount
        let releaser: TestAccount
        let directory: String
        let specificationPath: String
        private var collection: String?

        init(_ site: Site) throws {
            self.site = site
            qc2 = try TestAccount.create(in: site.database, roles: ["qc"], fullName: "Riley Reviewer")
            qa2 = try TestAccount.create(in: site.database, roles: ["qa"], fullName: "Avery Approver")
            releaser = try TestAccount.create(in: site.database, roles: ["qa"], fullName: "Quinn Quality")
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-qc-e2e-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            specificationPath = "\(directory)/e2e-dp.yaml"
            try QCReleaseCommandTests.specification.write(toFile: specificationPath, atomically: true, encoding: .utf8)
        }

        /// Writes `text` to a file in the scratch directory; returns its path.
        func file(_ name: String, _ text: String) throws -> String {
            let path = "\(directory)/\(name)"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// The specification file imported by QC and approved by the second QA person: E2E-DP@1.
        @discardableResult
        func approvedSpecification() throws -> String {
            let imported = try site.expectSuccess { try site.gmp(site.qc, ["spec", "import", specificationPath, "--json"]) }
            let id = try #require(try imported.json()["id"] as? String, "\(imported)")
            try site.expectSuccess { try site.signed(qa2, ["spec", "approve", id]) }
            return id
        }

        /// A drug-product lot in quarantine from a donor determined eligible (one donation
        /// per site, shared by its lots).
        func eligibleLot(_ extra: [String] = []) throws -> CreatedLot {
            if collection == nil {
                let donation = try DonorLotCommandTests.donation(in: site)
                try DonorLotCommandTests.screen(in: site, donation.tested, DonorLotCommandTests.livingDonorPanel)
                try site.expectSuccess {
                    try site.signed(site.director, ["donor", "determine", donation.donor, "--outcome", "eligible"])
                }
                collection = donation.collection
            }
            return try DonorLotCommandTests.createLot(in: site, ["--collection", collection ?? ""] + extra, stage: "drug_product")
        }

        /// An eligible lot judged against E2E-DP with M = 0.4 mL/kg/h (endotoxin ≤ 12.5 EU/mL).
        func assignedLot() throws -> CreatedLot {
            let lot = try eligibleLot()
            try site.expectSuccess { try site.signed(site.qc, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4"]) }
            return lot
        }

        struct Recorded {
            let id: Int
            let attempt: Int
            let verdict: String
            let deviation: String?
            let run: GMPRun
        }

        /// `gmp qc record LOT TEST VALUE [--unit U] --method M --json` as `person` (default: QC).
        @discardableResult
        func record(_ lot: CreatedLot, _ test: String, _ value: String, unit: String?, by person: TestAccount? = nil,
                    _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> Recorded {
            let run = try site.expectSuccess(sourceLocation: sourceLocation) {
                try site.gmp(person ?? site.qc, ["qc", "record", lot.keyed, test, value, "--method", "SOP-\(test)", "--json"]
                                                + (unit.map { ["--unit", $0] } ?? []) + extra)
            }
            let result = try #require(try run.json()["result"] as? [String: Any], "\(run)", sourceLocation: sourceLocation)
            return Recorded(id: try #require(result["id"] as? Int, "\(run)", sourceLocation: sourceLocation),
                            attempt: result["attempt"] as? Int ?? 0, verdict: result["verdict"] as? String ?? "",
                            deviation: result["deviation_id"] as? String, run: run)
        }

        /// Every criterion recorded by QC with its passing value, all verified by the second
        /// QC person in one `gmp qc verify` call; the result ids.
        @discardableResult
        func passAll(_ lot: CreatedLot, except skipped: Set<String> = []) throws -> [Int] {
            let ids = try QCReleaseCommandTests.passing.filter { !skipped.contains($0.test) }.map {
                try record(lot, $0.test, $0.value, unit: $0.unit).id
            }
            try verify(ids)
            return ids
        }

        /// `gmp qc verify ID…` by `person` (default: the second QC person).
        @discardableResult
        func verify(_ ids: [Int], by person: TestAccount? = nil) throws -> GMPRun {
            try site.expectSuccess { try site.signed(person ?? qc2, ["qc", "verify"] + ids.map(String.init) + ["--json"]) }
        }

        /// A lot that passes every criterion, verified: releasable.
        func releasableLot() throws -> CreatedLot {
            let lot = try assignedLot()
            try passAll(lot)
            return lot
        }

        /// `gmp release check LOT` as QA.
        func check(_ lot: CreatedLot, json: Bool = false) throws -> GMPRun {
            try site.gmp(site.qa, ["release", "check", lot.keyed] + (json ? ["--json"] : []))
        }

        /// The lot's status, as `gmp lot show --json` reports it.
        func status(_ lot: CreatedLot) throws -> String? {
            let shown = try site.expectSuccess { try site.gmp(site.qa, ["lot", "show", lot.keyed, "--json"]) }
            return (try shown.json()["lot"] as? [String: Any])?["status"] as? String
        }

        /// Rows in gmp.disposition for the lot, counted by the superuser.
        func dispositions(_ lot: CreatedLot) throws -> Int64 {
            try TestServer.connect(site.database)
                .query("SELECT count(*) AS n FROM gmp.disposition WHERE din = \(lot.din)")[0].decode("n", as: Int64.self)
        }
    }

    static func withQCSite<T>(_ body: (QCSite) throws -> T) throws -> T {
        try DonorLotCommandTests.withSite { site in
            let qcSite = try QCSite(site)
            defer { try? FileManager.default.removeItem(atPath: qcSite.directory) }
            return try body(qcSite)
        }
    }

    /// The stdout line of `gmp release check` for `test` (it starts with the test code).
    static func checkLine(_ run: GMPRun, _ test: String) -> String {
        run.stdout.split(separator: "\n").first { $0.hasPrefix(test + " ") }.map(String.init) ?? ""
    }

    // MARK: - Tests

    @Test("happy path: import, approve, assign, record, verify, check, release, certificate in text, JSON, HTML and PDF")
    func happyPath() throws {
        try Self.withQCSite { qs in
            let site = qs.site
            let imported = try site.expectSuccess { try site.gmp(site.qc, ["spec", "import", qs.specificationPath, "--json"]) }
            #expect(try imported.json()["id"] as? String == "E2E-DP@1", "\(imported)")
            #expect(try imported.json()["status"] as? String == "draft", "\(imported)")
            #expect(try imported.json()["criteria"] as? Int == 6, "\(imported)")
            let approved = try site.expectSuccess { try site.signed(qs.qa2, ["spec", "approve", "E2E-DP@1", "--json"]) }
            #expect(try approved.json()["meaning"] as? String == "approved", "\(approved)")
            #expect(try approved.json()["signer"] as? String == qs.qa2.id, "\(approved)")

            let lot = try qs.eligibleLot()
            for (kind, extra) in [("isolation", []), ("harvest", []), ("fill", DonorLotCommandTests.fill)] {
                try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, kind, extra) }
            }
            let assign = try site.expectSuccess {
                try site.signed(site.qc, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4", "--json"])
            }
            #expect(try assign.json()["specification"] as? String == "E2E-DP@1", "\(assign)")

            var ids: [Int] = []
            for value in Self.passing {
                let recorded = try qs.record(lot, value.test, value.value, unit: value.unit)
                #expect(recorded.verdict == "pass" && recorded.attempt == 1 && recorded.deviation == nil, "\(recorded.run)")
                ids.append(recorded.id)
            }
            // The second QC person verifies all six with one password: one signature each.
            let verified = try qs.verify(ids)
            let signatures = try #require(try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [[String: Any]],
                                          "\(verified)")
            #expect(signatures.count == ids.count, "\(verified)")
            #expect(signatures.allSatisfy { $0["meaning"] as? String == "reviewed" && $0["signer"] as? String == qs.qc2.id },
                    "\(verified)")
            #expect(signatures.compactMap { $0["record"] as? String } == ids.map { "result \($0)" }, "\(verified)")

            let check = try site.expectSuccess { try qs.check(lot) }
            #expect(check.stdout.contains("RELEASABLE: QA may release it"), "\(check)")
            for value in Self.passing {
                let line = Self.checkLine(check, value.test)
                #expect(line.contains(value.limit) && line.hasSuffix("PASS"), "\(value.test): \(check)")
            }
            let checkJSON = try site.expectSuccess { try qs.check(lot, json: true) }
            let package = try #require(try checkJSON.json()["package_sha256"] as? String, "\(checkJSON)")
            #expect(try checkJSON.json()["releasable"] as? Bool == true, "\(checkJSON)")

            let release = try site.expectSuccess { try site.signed(qs.releaser, ["release", "approve", lot.keyed, "--json"]) }
            let released = try release.json()
            #expect(released["status"] as? String == "released", "\(release)")
            #expect(released["meaning"] as? String == "released", "\(release)")
            #expect(released["package_sha256"] as? String == package, "the signature covers the package the check showed: \(release)")
            #expect(try qs.status(lot) == "released")
            #expect(try qs.dispositions(lot) == 1)
            // Checked again, a released lot says why it is not releasable: its status, not
            // "1 blocker(s)" over an empty list.
            let again = try qs.check(lot)
            #expect(again.status == 65, "\(again)")
            #expect(again.stdout.hasSuffix("NOT RELEASABLE: lot is already released: a final disposition is never changed\n"), "\(again)")
            let againJSON = try qs.check(lot, json: true).json()
            #expect((againJSON["blockers"] as? [Any])?.isEmpty == true && againJSON["status_problem"] as? String == "lot is already released",
                    "\(againJSON)")

            // The certificate, as text: every test, the signature manifestation.
            let coa = try site.expectSuccess { try site.gmp(site.qa, ["coa", lot.keyed]) }
            #expect(coa.stdout.hasPrefix("CERTIFICATE OF ANALYSIS"), "\(coa)")
            for value in Self.passing {
                #expect(coa.stdout.contains(value.name), "\(value.name) missing: \(coa)")
            }
            #expect(coa.stdout.contains("Printed name:   Quinn Quality (\(qs.releaser.id))"), "\(coa)")
            #expect(coa.stdout.contains("Meaning:        released"), "\(coa)")
            #expect(coa.stdout.contains("intact: the signed content is unchanged"), "\(coa)")
            #expect(coa.stdout.contains("Units:             10 × 1.5 mL"), "\(coa)")
            // A result is shown in the unit it was recorded in, not the criterion's.
            #expect(coa.stdout.contains("50000000 cells"), "\(coa)")
            #expect(!coa.stdout.contains("50000000 10^6 cells"), "\(coa)")

            let coaJSON = try site.expectSuccess { try site.gmp(site.qa, ["coa", lot.keyed, "--json"]) }
            let document = try coaJSON.json()
            let signature = try #require(document["release"] as? [String: Any], "\(coaJSON)")
            #expect(signature["intact"] as? Bool == true, "\(coaJSON)")
            #expect(signature["meaning"] as? String == "released", "\(coaJSON)")
            #expect(signature["printed_name"] as? String == "Quinn Quality", "\(coaJSON)")
            #expect(signature["package_sha256"] as? String == package, "\(coaJSON)")
            let tests = try #require(document["tests"] as? [[String: Any]], "\(coaJSON)")
            #expect(tests.compactMap { $0["test"] as? String } == Self.passing.map(\.test), "\(coaJSON)")
            #expect(tests.allSatisfy { $0["verdict"] as? String == "pass" }, "\(coaJSON)")
            #expect((document["specification"] as? [String: Any])?["id"] as? String == "E2E-DP@1", "\(coaJSON)")

            let html = "\(qs.directory)/coa.html", pdf = "\(qs.directory)/coa.pdf"
            let printed = try site.expectSuccess { try site.gmp(site.qa, ["coa", lot.keyed, "--html", html, "--pdf", pdf]) }
            let page = try String(contentsOfFile: html, encoding: .utf8)
            #expect(page.contains("Certificate of Analysis"), "\(printed)")
            #expect(page.contains("Quinn Quality"), "\(printed)")
            let pdfHead = try #require(FileManager.default.contents(atPath: pdf), "\(printed)").prefix(5)
            #expect(String(decoding: pdfHead, as: UTF8.self) == "%PDF-", "\(printed)")
        }
    }

    @Test("spec import refuses a broken file naming its path (65); the importer and QC cannot approve (77); a shipped file imports")
    func specificationRefusals() throws {
        try Self.withQCSite { qs in
            let site = qs.site
            let broken: [(String, String, [String])] = [
                ("empty-window.yaml", "less_than: 60.5", "less_than: 40"),
                ("unknown-unit.yaml", "unit: \"10^6 cells\"", "unit: \"million cells\""),
                ("misspelt.yaml", "at_least: 45", "at_leest: 45"),
            ].map { name, good, bad in
                (name, Self.specification.replacing(good, with: bad), [name])
            }
            let expected = [["empty-window.yaml: criteria[2].less_than:", "empty"],
                            ["unknown-unit.yaml: criteria[2].unit:", "\"million cells\" is not one of"],
                            ["misspelt.yaml: criteria[2].at_leest: unknown key"]]
            for ((name, text, _), words) in zip(broken, expected) {
                let path = try qs.file(name, text)
                try site.expectRefused(exit: 65, mentioning: words) { try site.gmp(site.qc, ["spec", "import", path]) }
            }
            let list = try site.expectSuccess { try site.gmp(site.qa, ["spec", "list", "--json"]) }
            #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any])?.isEmpty == true,
                    "nothing was imported: \(list)")

            // QC imports; QC may not approve, whoever imported.
            try site.expectSuccess { try site.gmp(site.qc, ["spec", "import", qs.specificationPath]) }
            try site.expectRefused(exit: 77, mentioning: ["permission denied", "approve specifications"]) {
                try site.signed(site.qc, ["spec", "approve", "E2E-DP@1"])
            }
            // QA who imported a version may not approve it; another QA person may.
            let changed = try qs.file("v2.yaml", Self.specification.replacing("title: End-to-end test drug product",
                                                                             with: "title: End-to-end test drug product, v2"))
            let second = try site.expectSuccess { try site.gmp(site.qa, ["spec", "import", changed, "--json"]) }
            #expect(try second.json()["id"] as? String == "E2E-DP@2", "a change is a new version: \(second)")
            try site.expectRefused(exit: 77, mentioning: ["you imported E2E-DP@2"]) {
                try site.signed(site.qa, ["spec", "approve", "E2E-DP@2"])
            }
            try site.expectSuccess { try site.signed(qs.qa2, ["spec", "approve", "E2E-DP@2"]) }
            let show = try site.expectSuccess { try site.gmp(site.qa, ["spec", "show", "E2E-DP@2"]) }
            #expect(show.stdout.contains("(approved, approved by \(qs.qa2.id))"), "\(show)")
            try TerminalOutputTests.expectTableFits("TEST") { try site.gmp(site.qa, ["spec", "show", "E2E-DP@2"], environment: $0) }

            // A shipped specification imports as it is.
            let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("config/specs/uc-msc.yaml").path
            let uc = try site.expectSuccess { try site.gmp(site.qc, ["spec", "import", shipped, "--json"]) }
            #expect(try uc.json()["id"] as? String == "UC-MSC-DP@1", "\(uc)")
            #expect(try uc.json()["criteria"] as? Int == 16, "\(uc)")
        }
    }

    @Test("qc record refuses malformed values (64), a unit the test does not take, an unknown test, a lot without specification (65)")
    func resultRefusals() throws {
        try Self.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.eligibleLot()
            try site.expectRefused(mentioning: ["has no specification", "gmp spec assign"]) {
                try site.gmp(site.qc, ["qc", "record", lot.keyed, "cd105", "98.2", "--unit", "%", "--method", "Flow"])
            }
            try site.expectSuccess { try site.signed(site.qc, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4"]) }
            let malformed: [(String, [String])] = [
                ("9O.5", ["\"9O.5\" is neither a decimal nor an outcome", "letters such as O for 0"]),
                ("NaN", ["\"NaN\" is neither a decimal nor an outcome"]),
                ("1e999", ["\"1e999\" is neither a decimal nor an outcome", "no exponent"]),
                ("", ["error: the result is empty"]),
                ("-3", ["-3", "cannot be negative"]),
                ("95%", ["\"95%\" carries its unit in the value", "--unit %"]),
            ]
            for (value, words) in malformed {
                try site.expectRefused(exit: 64, mentioning: words) {
                    try site.gmp(site.qc, ["qc", "record", lot.keyed, "cd105", value, "--unit", "%", "--method", "Flow"])
                }
            }
            try site.expectRefused(mentioning: ["cell_dose is specified in 10^6 cells, not %"]) {
                try site.gmp(site.qc, ["qc", "record", lot.keyed, "cell_dose", "50", "--unit", "%", "--method", "Count"])
            }
            try site.expectRefused(mentioning: ["has no test cd999", "cd105, cd45, cell_dose"]) {
                try site.gmp(site.qc, ["qc", "record", lot.keyed, "cd999", "50", "--unit", "%", "--method", "Count"])
            }
            let list = try site.expectSuccess { try site.gmp(site.qa, ["qc", "list", lot.keyed]) }
            #expect(list.stdout.hasPrefix("no results for lot"), "nothing was recorded: \(list)")
        }
    }

    @Test("verify, correct, invalidate and retest refusals: second person, no correcting an OOS, QA and a cause, the retest limit")
    func resultWorkflowRefusals() throws {
        try Self.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.assignedLot()
            let cd105 = try qs.record(lot, "cd105", "97.1", unit: "%")
            #expect(cd105.run.stdout.isEmpty == false)
            // Separation of duties: another person must do it (GM005, exit 77).
            try site.expectRefused(exit: 77, mentioning: ["you recorded result \(cd105.id)", "different person"]) {
                try site.signed(site.qc, ["qc", "verify", String(cd105.id)])
            }
            let cd45 = try qs.record(lot, "cd45", "0.4", unit: "%", ["--analyst", qs.qc2.id])
            try site.expectRefused(exit: 77, mentioning: ["you performed result \(cd45.id)", "different person"]) {
                try site.signed(qs.qc2, ["qc", "verify", String(cd45.id)])
            }

            // An OOS result: flagged, an investigation opened, never corrected.
            let oos = try site.expectSuccess {
                try site.gmp(site.qc, ["qc", "record", lot.keyed, "endotoxin", "13", "--unit", "EU/mL", "--method", "LAL"])
            }
            #expect(oos.stdout.contains("13 EU/mL against ≤ 12.5 (K/M = 5 / 0.4): OUT OF SPECIFICATION"), "\(oos)")
            let oosID = try #require(oos.stdout.firstMatch(of: /result (\d+):/).map { String($0.1) }, "\(oos)")
            let investigation = try #require(oos.stdout.firstMatch(of: /OOS investigation (DEV\d\d-\d+) opened/).map { String($0.1) },
                                             "\(oos)")
            try site.expectRefused(mentioning: ["result \(oosID) is out of specification", "never corrected"]) {
                try site.gmp(site.qc, ["qc", "correct", oosID, "10", "--unit", "EU/mL", "--method", "LAL", "--reason", "typo"])
            }
            try site.expectRefused(exit: 64, mentioning: ["--reason"]) {
                try site.gmp(site.qc, ["qc", "correct", String(cd105.id), "97.7", "--unit", "%", "--method", "Flow"])
            }
            // A typing error is corrected: a new result, the original kept.
            let corrected = try site.expectSuccess {
                try site.gmp(site.qc, ["qc", "correct", String(cd105.id), "97.7", "--unit", "%", "--method", "Flow",
                                       "--reason", "transcription error", "--json"])
            }
            let correctedID = try #require((try corrected.json()["result"] as? [String: Any])?["id"] as? Int, "\(corrected)")
            let list = try site.expectSuccess { try site.gmp(site.qa, ["qc", "list", lot.keyed]) }
            #expect(list.stdout.contains("corrected by \(correctedID)"), "\(list)")
            // The JSON names the lot so that it can be typed back into the next command.
            let listed = try #require(try JSONSerialization.jsonObject(
                with: Data(try site.expectSuccess { try site.gmp(site.qa, ["qc", "list", lot.keyed, "--json"]) }.stdout.utf8)) as? [[String: Any]])
            let typedBack = try #require(listed.first?["lot"] as? String)
            #expect(typedBack.filter { !$0.isWhitespace } == lot.keyed, "\(listed)")
            #expect(listed.first?["din"] as? String == lot.din)
            try site.expectSuccess { try site.gmp(site.qa, ["qc", "list", typedBack]) }

            // Invalidation: QA's, with an assignable cause.
            try site.expectRefused(exit: 77, mentioning: ["permission denied", "invalidate results"]) {
                try site.signed(qs.qc2, ["qc", "invalidate", oosID, "--cause", "pipette P-12 out of calibration"])
            }
            try site.expectRefused(mentioning: ["assignable cause"]) {
                try site.signed(site.qa, ["qc", "invalidate", oosID, "--cause", "bad"])
            }
            try site.expectSuccess {
                try site.signed(site.qa, ["qc", "invalidate", oosID, "--cause", "pipette P-12 out of calibration on the day"])
            }
            let retest = try qs.record(lot, "endotoxin", "14", unit: "EU/mL", by: qs.qc2)
            #expect(retest.attempt == 2 && retest.verdict == "fail", "\(retest.run)")
            // max_retests 1: no third attempt.
            try site.expectRefused(mentioning: ["no retest of endotoxin left", "allows 1 retest"]) {
                try site.gmp(qs.qc2, ["qc", "record", lot.keyed, "endotoxin", "1", "--unit", "EU/mL", "--method", "LAL"])
            }
            // Sterility allows none.
            let growth = try qs.record(lot, "sterility", "growth", unit: nil)
            #expect(growth.verdict == "fail" && growth.deviation != nil, "\(growth.run)")
            try site.expectRefused(mentioning: ["no retest of sterility left", "allows 0 retest"]) {
                try site.gmp(qs.qc2, ["qc", "record", lot.keyed, "sterility", "no_growth", "--method", "Ph. Eur."])
            }
            let deviations = try site.expectSuccess { try site.gmp(site.qa, ["deviation", "list", "--open", "--lot", lot.keyed]) }
            #expect(deviations.stdout.contains(investigation), "\(deviations)")
        }
    }

    @Test("release check names every blocker (65) until the lot is releasable (0); release approve refused without asking the password")
    func releaseCheckAndBlockers() throws {
        try Self.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.assignedLot()
            // cd105 missing; cd45 unverified; endotoxin OOS (verified); the rest pass, verified.
            try qs.passAll(lot, except: ["cd105", "cd45", "endotoxin"])
            let cd45 = try qs.record(lot, "cd45", "0.4", unit: "%")
            let endotoxin = try qs.record(lot, "endotoxin", "13", unit: "EU/mL")
            let investigation = try #require(endotoxin.deviation, "\(endotoxin.run)")
            try qs.verify([endotoxin.id])

            let blockerWords = ["missing: CD105 positive cells (≥ 95 %)", "unverified: CD45 positive cells (≤ 2 %)",
                                "fail: Bacterial endotoxins (≤ 12.5 (K/M = 5 / 0.4) EU/mL)",
                                "oos_investigation \(investigation) is open"]
            let check = try site.expectRefused(mentioning: ["release of lot", "refused"] + blockerWords) { try qs.check(lot) }
            let header = check.stdout.split(separator: "\n").first { $0.hasPrefix("TEST") }.map(String.init) ?? ""
            #expect(header.contains("LIMIT") && header.contains("RESULT") && header.contains("VERDICT"), "\(check)")
            let rows: [(String, [String])] = [
                ("cd105", ["≥ 95 %", "—", "MISSING"]), ("cd45", ["≤ 2 %", "0.4 %", "UNVERIFIED"]),
                ("cell_dose", ["≥ 45 and < 60.5 10^6 cells", "50000000 cells", "PASS"]),
                ("sterility", ["no_growth", "PASS"]), ("residual_bsa", ["< LOD, LOD ≤ 50 ng/mL", "<10 ng/mL", "PASS"]),
                ("endotoxin", ["≤ 12.5 (K/M = 5 / 0.4) EU/mL", "13 EU/mL", "FAIL"]),
            ]
            for (test, words) in rows {
                let line = Self.checkLine(check, test)
                for word in words { #expect(line.contains(word), "\(test): '\(word)' not in '\(line)'") }
                #expect(line.hasSuffix(words.last ?? ""), "\(line)")
            }
            #expect(check.stdout.contains("deviations     \(investigation) open"), "\(check)")
            #expect(check.stdout.contains("NOT RELEASABLE: 4 blocker(s)"), "\(check)")

            let checkJSON = try site.expectRefused { try qs.check(lot, json: true) }
            let document = try checkJSON.json()
            #expect(document["releasable"] as? Bool == false, "\(checkJSON)")
            let blockers = try #require(document["blockers"] as? [[String: Any]], "\(checkJSON)")
            #expect(Set(blockers.compactMap { $0["item"] as? String }) == ["cd105", "cd45", "endotoxin", investigation], "\(checkJSON)")
            let evaluation = try #require(document["evaluation"] as? [[String: Any]], "\(checkJSON)")
            #expect(evaluation.compactMap { $0["verdict"] as? String }
                    == ["missing", "unverified", "pass", "pass", "pass", "fail"], "\(checkJSON)")
            let package = try #require(document["package_sha256"] as? String, "\(checkJSON)")
            #expect(package.wholeMatch(of: /[0-9a-f]{64}/) != nil, "\(checkJSON)")

            // Refused before the password is read: a wrong one on stdin makes no difference.
            let approve = try site.expectRefused(mentioning: blockerWords) {
                try site.gmp(qs.releaser, ["release", "approve", lot.keyed, "--password-stdin"], stdin: "not my password\n")
            }
            #expect(approve.stdout.contains("NOT RELEASABLE: 4 blocker(s)"), "the check is shown: \(approve)")
            #expect(!approve.stderr.contains("password"), "\(approve)")

            // Resolve each blocker: record cd105, verify, set the OOS aside and retest, close the investigation.
            let cd105 = try qs.record(lot, "cd105", "98.2", unit: "%")
            try qs.verify([cd105.id, cd45.id])
            try site.expectSuccess {
                try site.signed(site.qa, ["qc", "invalidate", String(endotoxin.id), "--cause", "reagent lot expired on the test day"])
            }
            let retest = try qs.record(lot, "endotoxin", "2", unit: "EU/mL", by: qs.qc2)
            try qs.verify([retest.id], by: site.qc)
            let still = try site.expectRefused(mentioning: ["oos_investigation \(investigation) is open"]) { try qs.check(lot) }
            #expect(still.stdout.contains("NOT RELEASABLE: 1 blocker(s)"), "\(still)")
            try site.expectRefused(exit: 77, mentioning: ["permission denied", "close deviations"]) {
                try site.signed(site.qc, ["deviation", "close", investigation, "--outcome", "assay error"])
            }
            try site.expectSuccess {
                try site.signed(site.qa, ["deviation", "close", investigation, "--outcome", "invalid assay, reagent expired; retest passes"])
            }
            let ready = try site.expectSuccess { try qs.check(lot) }
            #expect(Self.checkLine(ready, "endotoxin").hasSuffix("PASS"), "\(ready)")
            #expect(ready.stdout.contains("RELEASABLE: QA may release it (gmp release approve \(lot.keyed))"), "\(ready)")
            let readyJSON = try site.expectSuccess { try qs.check(lot, json: true) }
            #expect(try readyJSON.json()["releasable"] as? Bool == true, "\(readyJSON)")
            #expect((try readyJSON.json()["blockers"] as? [Any])?.isEmpty == true, "\(readyJSON)")
        }
    }

    @Test("segregation of duties: QC cannot release (77); a QA person who verified a result is refused at commit (77)")
    func releasePermissions() throws {
        try Self.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.assignedLot()
            let ids = try Self.passing.map { try qs.record(lot, $0.test, $0.value, unit: $0.unit).id }
            try qs.verify(Array(ids.dropLast()))
            // The second QA person verifies one result, and so may not release the lot.
            try qs.verify([ids.last ?? 0], by: qs.qa2)
            try site.expectSuccess { try qs.check(lot) }
            try site.expectRefused(exit: 77, mentioning: ["permission denied", "may not release lots"]) {
                try site.signed(site.qc, ["release", "approve", lot.keyed])
            }
            try site.expectRefused(exit: 77, mentioning: ["permission denied", "may not release lots"]) {
                try site.signed(qs.qc2, ["release", "approve", lot.keyed])
            }
            try site.expectRefused(exit: 77, mentioning: ["\(qs.qa2.id) recorded, performed or verified results of lot \(lot.din)",
                                                           "another person decides"]) {
                try site.signed(qs.qa2, ["release", "approve", lot.keyed])
            }
            try site.expectRefused(exit: 77, mentioning: ["permission denied", "may not reject lots"]) {
                try site.signed(site.qc, ["release", "reject", lot.keyed, "--reason", "x"])
            }
            #expect(try qs.status(lot) == "quarantine")
            #expect(try qs.dispositions(lot) == 0)
        }
    }

    @Test("an open deviation blocks release until QA closes it; a rejected lot is never released and has no certificate")
    func deviationAndRejection() throws {
        try Self.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.releasableLot()
            let opened = try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["deviation", "open", "--lot", lot.keyed, "--title", "Incubator alarm during passage 2",
                                                    "--json"])
            }
            let id = try #require(try opened.json()["id"] as? String, "\(opened)")
            try site.expectRefused(mentioning: ["deviation \(id) is open: Incubator alarm during passage 2"]) { try qs.check(lot) }
            try site.expectRefused(mentioning: ["deviation \(id) is open"]) {
                try site.signed(qs.releaser, ["release", "approve", lot.keyed])
            }
            let closed = try site.expectSuccess {
                try site.signed(site.qa, ["deviation", "close", id, "--outcome", "no impact: within the validated range", "--json"])
            }
            #expect(try closed.json()["meaning"] as? String == "approved", "\(closed)")
            try site.expectSuccess { try qs.check(lot) }

            // The fix names the lot as it is typed back: DIN and check character.
            try site.expectRefused(mentioning: ["released lots only", "gmp release check \(lot.keyed) "]) {
                try site.gmp(site.qa, ["coa", lot.keyed])
            }
            let reject = try site.expectSuccess {
                try site.signed(site.qa, ["release", "reject", lot.keyed, "--reason", "bag damaged in transit", "--json"])
            }
            #expect(try reject.json()["status"] as? String == "rejected", "\(reject)")
            #expect(try reject.json()["meaning"] as? String == "rejected", "\(reject)")
            try site.expectRefused(mentioning: ["already rejected"]) {
                try site.signed(qs.releaser, ["release", "approve", lot.keyed])
            }
            try site.expectRefused(mentioning: ["is rejected", "released lots only"]) { try site.gmp(site.qa, ["coa", lot.keyed]) }
            #expect(try qs.status(lot) == "rejected")
            #expect(try qs.dispositions(lot) == 1)
        }
    }

    @Test("exceptional release: the director's, only for failed criteria with the investigation closed, never shown as released")
    func exceptionalRelease() throws {
        try Self.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let good = try qs.releasableLot()
            let lot = try qs.assignedLot()
            try qs.passAll(lot, except: ["endotoxin"])
            let oos = try qs.record(lot, "endotoxin", "20", unit: "EU/mL")
            try qs.verify([oos.id])
            let investigation = try #require(oos.deviation, "\(oos.run)")

            try site.expectRefused(exit: 77, mentioning: ["permission denied", "release lots exceptionally"]) {
                try site.signed(site.qa, ["release", "exceptional", lot.keyed] + Self.exceptionalRequest)
            }
            try site.expectRefused(mentioning: ["meets its release criteria", "gmp release approve \(good.keyed)"]) {
                try site.signed(site.director, ["release", "exceptional", good.keyed] + Self.exceptionalRequest)
            }
            try site.expectRefused(mentioning: ["failed criteria and donor eligibility only", "\(investigation) is open"]) {
                try site.signed(site.director, ["release", "exceptional", lot.keyed] + Self.exceptionalRequest)
            }
            try site.expectSuccess {
                try site.signed(site.qa, ["deviation", "close", investigation, "--outcome", "confirmed OOS; root cause water system"])
            }
            let exceptional = try site.expectSuccess {
                try site.signed(site.director, ["release", "exceptional", lot.keyed, "--json"] + Self.exceptionalRequest)
            }
            #expect(try exceptional.json()["status"] as? String == "exceptionally_released", "\(exceptional)")
            #expect(try exceptional.json()["meaning"] as? String == "authorized", "\(exceptional)")
            #expect(try qs.status(lot) == "exceptionally_released")
            let shown = try site.expectSuccess { try site.gmp(site.qa, ["lot", "show", lot.keyed]) }
            #expect(shown.stdout.contains("exceptionally_released"), "\(shown)")
            #expect(!shown.stdout.split(separator: "\n").contains { $0.hasSuffix(" released") && !$0.contains("exceptionally") },
                    "never shown as a plain release: \(shown)")
            let check = try site.expectRefused(mentioning: ["already exceptionally released"]) { try qs.check(lot) }
            #expect(check.stdout.contains("; exceptionally_released)"), "\(check)")
            try site.expectRefused(mentioning: ["exceptionally released", "released lots only"]) {
                try site.gmp(site.qa, ["coa", lot.keyed])
            }

            // The lot that met its criteria is released normally; it had no manufacturing
            // step recorded, and its certificate says so rather than failing.
            try site.expectSuccess { try site.signed(qs.releaser, ["release", "approve", good.keyed]) }
            let coa = try site.expectSuccess { try site.gmp(site.qa, ["coa", good.keyed]) }
            #expect(coa.stdout.contains("Manufactured:      —"), "\(coa)")
            let coaJSON = try site.expectSuccess { try site.gmp(site.qa, ["coa", good.keyed, "--json"]) }
            #expect((try coaJSON.json()["lot"] as? [String: Any])?["manufactured_on"] is NSNull, "\(coaJSON)")
        }
    }

    @Test("two QA people release and reject the same lot at the same moment: one disposition, one clear refusal")
    func simultaneousDispositions() throws {
        try Self.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.releasableLot()
            // Hold the lot's row so that both decisions queue behind it, then let them race.
            let gate = try TestServer.connect(site.database)
            try gate.execute("BEGIN")
            try gate.execute("SELECT 1 FROM gmp.lot WHERE din = \(lot.din) FOR UPDATE")
            let runs = Locked<[String: GMPRun]>([:])
            let failures = Locked<[String]>([])
            let group = DispatchGroup()
            let commands: [(String, TestAccount, [String])] = [
                ("approve", qs.releaser, ["release", "approve", lot.keyed]),
                ("reject", qs.qa2, ["release", "reject", lot.keyed, "--reason", "decided at the same moment"]),
            ]
            for (name, person, arguments) in commands {
                DispatchQueue.global().async(group: group) {
                    do {
                        let run = try site.signed(person, arguments)
                        runs.mutate { $0[name] = run }
                    } catch {
                        failures.mutate { $0.append("\(name): \(error)") }
                    }
                }
            }
            Thread.sleep(forTimeInterval: 1.5)
            try gate.execute("COMMIT")
            group.wait()
            #expect(failures.value.isEmpty, "\(failures.value)")
            let approve = try #require(runs.value["approve"]), reject = try #require(runs.value["reject"])
            #expect([approve.status, reject.status].sorted() == [0, 65], "approve: \(approve)\nreject: \(reject)")
            let (winner, loser) = approve.status == 0 ? (approve, reject) : (reject, approve)
            let decided = approve.status == 0 ? "released" : "rejected"
            #expect(winner.stdout.contains("status \(decided.uppercased())"), "\(winner)")
            expectOneLineError(loser, exit: 65, mentioning: ["lot \(lot.din) is already \(decided)", "a final disposition is never changed"])
            #expect(try qs.dispositions(lot) == 1)
            #expect(try qs.status(lot) == decided)
        }
    }
}
