import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp process …`, `--process` on `gmp lot create`, `--param` on `gmp lot step` and
/// `gmp lot check` as people run them (issue 15, master batch records): the built
/// binary, its output and exit codes; every refusal one line, leaving the audit trail as
/// it was. The rules themselves are tried in SQL by MasterRecordRulesTests.
@Suite("master batch record commands, end to end")
struct MasterRecordCommandTests {
    typealias Site = DonorLotCommandTests.Site

    static let process = """
        process: E2E-MBR
        title: End-to-end process
        applies_to:
          product_kind: cells
          stage: drug_product
        steps:
          - kind: isolation
            procedure: SOP-E2E-01
            check: required
            parameters:
              - name: digestion_time
                unit: min
                at_least: 30
                at_most: 60
          - kind: passage
            procedure: SOP-E2E-02
            check: none
            parameters:
              - name: seeding_density
                unit: cells/cm²
                at_least: 3000
                at_most: 5000
          - kind: harvest
            procedure: SOP-E2E-03
            check: required
        """

    static func array(_ run: GMPRun) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]], "\(run)")
    }

    @Test("import, approve, list and show; a lot made under the master records parameters, a deviation when out of range, and a second person's check")
    func masterRecordFromImportToCheck() throws {
        try DonorLotCommandTests.withSite { site in
            let qcSite = try QCReleaseCommandTests.QCSite(site)
            let path = try qcSite.file("e2e-mbr.yaml", Self.process)
            let imported = try site.expectSuccess { try site.gmp(site.qa, ["process", "import", path, "--json"]) }
            #expect(try imported.json()["id"] as? String == "E2E-MBR@1", "\(imported)")
            #expect(try imported.json()["status"] as? String == "draft", "\(imported)")
            _ = try site.expectRefused(exit: 65, mentioning: ["already imported as E2E-MBR@1"]) {
                try site.gmp(site.qa, ["process", "import", path])
            }
            let broken = try qcSite.file("broken.yaml", Self.process.replacingOccurrences(of: "check: none", with: "check: maybe"))
            _ = try site.expectRefused(exit: 65, mentioning: ["steps[1].check", "fix: "]) {
                try site.gmp(site.qa, ["process", "import", broken])
            }
            // A draft makes no lot; its importer does not approve it.
            let donation = try DonorLotCommandTests.donation(in: site)
            _ = try site.expectRefused(exit: 65, mentioning: ["E2E-MBR@1", "draft"]) {
                try site.gmp(site.operatorAccount, ["lot", "create", "--collection", donation.collection, "--stage", "drug_product",
                                                    "--use", "allogeneic", "--expires", DonorLotCommandTests.day(365),
                                                    "--process", "E2E-MBR@1"])
            }
            _ = try site.expectRefused(exit: 77, mentioning: ["you imported E2E-MBR@1"]) {
                try site.signed(site.qa, ["process", "approve", "E2E-MBR@1"])
            }
            let approved = try site.expectSuccess { try site.signed(qcSite.qa2, ["process", "approve", "E2E-MBR@1", "--json"]) }
            #expect(try approved.json()["meaning"] as? String == "approved", "\(approved)")

            let list = try site.expectSuccess { try site.gmp(site.operatorAccount, ["process", "list", "--json"]) }
            #expect(try Self.array(list).first?["status"] as? String == "approved", "\(list)")
            let csv = try site.expectSuccess { try site.gmp(site.operatorAccount, ["process", "list", "--csv"]) }
            let lines = csv.stdout.split(whereSeparator: \.isNewline)
            #expect(lines.first == "id,status,product_kind,stage,title,approved_by,approved_at,steps,lots", "\(csv)")
            #expect(lines.dropFirst().first?.hasPrefix("E2E-MBR@1,approved,cells,drug_product,") == true, "\(csv)")
            let show = try site.expectSuccess { try site.gmp(site.operatorAccount, ["process", "show", "E2E-MBR@1"]) }
            #expect(show.stdout.contains("seeding_density") && show.stdout.contains("≥ 3000 and ≤ 5000 cells/cm²"), "\(show)")
            // The shipped files import as they are.
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            try site.expectSuccess {
                try site.gmp(site.qa, ["process", "import", root.appendingPathComponent("config/processes/uc-msc.yaml").path])
            }

            try qcSite.approvedSpecification()
            let lot = try qcSite.eligibleLot(["--process", "E2E-MBR"])
            // Without --process, the approved master for cells / drug product is used (the
            // imported UC-MSC-MBR is still a draft).
            _ = try qcSite.eligibleLot()
            let used = try site.expectSuccess { try site.gmp(site.qa, ["process", "list", "E2E-MBR", "--json"]) }
            #expect(try Self.array(used).first?["lots"] as? Int == 2, "\(used)")
            try site.expectSuccess { try site.signed(site.qc, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4"]) }

            _ = try site.expectRefused(exit: 65, mentioning: ["digestion_time"]) {
                try DonorLotCommandTests.step(in: site, lot, "isolation")
            }
            _ = try site.expectRefused(exit: 64, mentioning: ["NAME=VALUE", "fix: "]) {
                try DonorLotCommandTests.step(in: site, lot, "isolation", ["--param", "digestion_time"])
            }
            _ = try site.expectRefused(exit: 65, mentioning: ["digestion_time", "min"]) {
                try DonorLotCommandTests.step(in: site, lot, "isolation", ["--param", "digestion_time=1 h"])
            }
            let isolation = try site.expectSuccess {
                try DonorLotCommandTests.step(in: site, lot, "isolation", ["--param", "digestion_time=45min"])
            }
            #expect(try isolation.json()["master"] as? String == "E2E-MBR@1", "\(isolation)")
            let step = try #require(try isolation.json()["step_id"] as? Int, "\(isolation)")
            let passage = try site.expectSuccess {
                try DonorLotCommandTests.step(in: site, lot, "passage", DonorLotCommandTests.passage + ["--param", "seeding_density=6000"])
            }
            let deviations = try #require(try passage.json()["deviations"] as? [String], "\(passage)")
            #expect(deviations.count == 1, "\(passage)")
            let passageText = try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["lot", "step", lot.keyed, "passage"] + DonorLotCommandTests.passage
                             + ["--param", "seeding_density=4000"])
            }
            #expect(passageText.stdout.contains("passage recorded (P2) under E2E-MBR@1, step "), "\(passageText)")

            _ = try site.expectRefused(exit: 77, mentioning: ["you performed step \(step)"]) {
                try site.signed(site.operatorAccount, ["lot", "check", String(step)])
            }
            let before = try site.gmp(site.qa, ["release", "check", lot.keyed, "--json"])
            let blockers = try #require(try before.json()["blockers"] as? [[String: Any]], "\(before)")
            #expect(blockers.contains { $0["kind"] as? String == "unchecked_step" && $0["item"] as? String == String(step) }, "\(before)")
            #expect(blockers.contains { $0["kind"] as? String == "deviation" && $0["item"] as? String == deviations[0] }, "\(before)")
            let checked = try site.expectSuccess { try site.signed(site.qa, ["lot", "check", String(step), "--json"]) }
            #expect(try checked.json()["meaning"] as? String == "verified", "\(checked)")
            let after = try site.gmp(site.qa, ["release", "check", lot.keyed, "--json"])
            let remaining = try #require(try after.json()["blockers"] as? [[String: Any]], "\(after)")
            #expect(!remaining.contains { $0["kind"] as? String == "unchecked_step" }, "\(after)")
        }
    }
}
