import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp batch-record` (and `gmp lot record`, `gmp batch record`) and `gmp batch-record
/// review` as people run them: the built binary, text, --json, the HTML and PDF files, the
/// exit codes, and the review as the release check sees it. The rules are tried in SQL by
/// BatchRecordRulesTests.
@Suite("batch-record commands, end to end")
struct BatchRecordCommandTests {
    /// A releasable drug-product lot with an isolation and a passage recorded.
    /// Two steps, no parameters and no checks: what is tried here is the review alone.
    static let process = """
        process: BR-MBR
        title: Batch record test process
        applies_to:
          product_kind: cells
          stage: drug_product
        steps:
          - kind: isolation
            procedure: SOP-T-01
            check: none
          - kind: passage
            procedure: SOP-T-02
            check: none
        """

    static func madeLot(_ qs: QCReleaseCommandTests.QCSite) throws -> DonorLotCommandTests.CreatedLot {
        let site = qs.site
        try qs.approvedSpecification()
        let lot = try qs.assignedLot()
        try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, "isolation") }
        try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, "passage", DonorLotCommandTests.passage) }
        try qs.passAll(lot)
        return lot
    }

    @Test("the batch record as text, --json (one shape), HTML and PDF; the same through gmp lot record and gmp batch record")
    func printed() throws {
        try QCReleaseCommandTests.withQCSite { qs in
            let site = qs.site
            let lot = try Self.madeLot(qs)
            let html = "\(qs.directory)/record.html", pdf = "\(qs.directory)/record.pdf"
            let text = try site.expectSuccess {
                try site.gmp(site.qa, ["batch-record", lot.keyed, "--html", html, "--pdf", pdf])
            }
            #expect(text.stdout.hasPrefix("BATCH RECORD  lot G1234"), "\(text)")
            #expect(text.stdout.contains("steps (2)") && text.stdout.contains("isolation  by "), "\(text)")
            #expect(text.stdout.contains("PASS       CD105 positive cells: 98.2 %"), "\(text)")
            #expect(text.stdout.contains("meaning: determined"), "\(text)")
            #expect(text.stdout.contains("not reviewed (not required"), "\(text)")
            for words in [["lot", "record"], ["batch", "record"], ["batch-record", "show"]] {
                let again = try site.expectSuccess { try site.gmp(site.operatorAccount, words + [lot.keyed]) }
                #expect(again.stdout.split(separator: "\n").first == text.stdout.split(separator: "\n").first, "\(again)")
            }
            let json = try site.expectSuccess { try site.gmp(site.qa, ["batch-record", lot.keyed, "--json"]) }
            let document = try json.json()
            #expect((document["steps"] as? [[String: Any]])?.count == 2, "\(json)")
            #expect((document["content_sha256"] as? String)?.count == 64, "\(json)")
            #expect((document["audit"] as? [String: Any])?["seq"] as? Int != nil, "readers chain first: \(json)")
            #expect((document["issued_at"] as? String)?.hasSuffix("Z") == true, "one timestamp form: \(json)")
            let page = try String(contentsOfFile: html, encoding: .utf8)
            #expect(page.contains("Executed batch record") && page.contains("string-set: lot"), "\(page)")
            #expect(page.contains("counter(page)"))
            let head = try #require(FileManager.default.contents(atPath: pdf)).prefix(5)
            #expect(String(decoding: head, as: UTF8.self) == "%PDF-")
            PrintedDocumentTests.keep([pdf])

            try site.expectRefused(exit: 65, mentioning: ["check character"]) {
                try site.gmp(site.qa, ["batch-record", lot.din + (lot.checkCharacter == "A" ? "B" : "A")])
            }
            try site.expectRefused(exit: 65, mentioning: ["no lot"]) {
                let unknown: String = try TestServer.connect(site.database)
                    .query("SELECT 'G123426999999' || gmp_rules.iso7064_mod37_2('G123426999999') AS d")[0].decode("d")
                return try site.gmp(site.qa, ["batch-record", unknown])
            }
        }
    }

    @Test("review: QA only, over the record as it is; release waits for it on a lot made under a master, and a later step breaks it")
    func review() throws {
        try QCReleaseCommandTests.withQCSite { qs in
            let site = qs.site
            // A master batch record in force: the lot below is made under it (lot create's default).
            let process = try qs.file("br-mbr.yaml", Self.process)
            try site.expectSuccess { try site.gmp(site.qa, ["process", "import", process]) }
            try site.expectSuccess { try site.signed(qs.qa2, ["process", "approve", "BR-MBR@1"]) }
            let lot = try Self.madeLot(qs)
            let blocked = try qs.check(lot)
            #expect(blocked.stdout.contains("has not been reviewed by QA"), "\(blocked)")
            try site.expectRefused(exit: 77, mentioning: ["may not review batch records"]) {
                try site.signed(site.operatorAccount, ["batch-record", "review", lot.keyed])
            }
            let reviewed = try site.expectSuccess {
                try site.signed(qs.releaser, ["batch-record", "review", lot.keyed, "--statement", "complete", "--json"])
            }
            #expect(try reviewed.json()["meaning"] as? String == "reviewed", "\(reviewed)")
            let shown = try site.expectSuccess { try site.gmp(site.qa, ["batch-record", lot.keyed]) }
            #expect(shown.stdout.contains("the record is unchanged since"), "\(shown)")
            #expect(!(try qs.check(lot)).stdout.contains("batch_record_review"))

            try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, "passage", DonorLotCommandTests.passage) }
            let again = try qs.check(lot)
            #expect(again.stdout.contains("changed since the review at") && again.stdout.contains("review again"), "\(again)")
            try site.expectRefused(exit: 65, mentioning: ["refused: the batch record of lot", "changed since the review at"]) {
                try site.signed(qs.releaser, ["release", "approve", lot.keyed])
            }
            try site.expectSuccess { try site.signed(qs.releaser, ["batch-record", "review", lot.keyed]) }
            try site.expectSuccess { try site.signed(qs.releaser, ["release", "approve", lot.keyed]) }
            #expect(try qs.status(lot) == "released")
        }
    }
}
