import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 20, items 7 and 11, through the built binary: the maximum dose of a K/M limit is
/// set signed and within the specification's range, shown by `gmp release check` and the
/// certificate, and its setter does not decide the lot; a result recorded in another
/// person's name counts only once that analyst confirms it (`gmp qc confirm`).
@Suite("spec assign --max-dose and qc confirm, end to end")
struct DecisionInputCommandTests {
    typealias QC = QCReleaseCommandTests

    @Test("a dose outside the range is refused (exit 65); the signed dose is shown; its setter may not release (exit 77)")
    func dose() throws {
        try QC.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.eligibleLot()
            // The permitted range comes from the approved document, and is shown with it.
            let shown = try site.expectSuccess { try site.gmp(site.qa, ["spec", "show", "E2E-DP@1", "--json"]) }
            let criteria = try #require(try shown.json()["criteria"] as? [[String: Any]], "\(shown)")
            #expect(criteria.first { $0["test"] as? String == "endotoxin" }?["max_dose"] as? String == "0.1–4 mL/kg/h", "\(shown)")
            #expect(criteria.first { $0["test"] as? String == "cd105" }?["max_dose"] == nil, "\(shown)")
            // The attack: M = 0.0001 mL/kg/h would turn 40 EU/mL into a pass.
            try site.expectRefused(exit: 65, mentioning: ["outside specification E2E-DP@1", "from 0.1 to 4 mL/kg/h"]) {
                try site.signed(qs.releaser, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.0001"])
            }
            // A wrong password sets nothing either (the failed attempt itself is recorded).
            let wrong = try site.gmp(qs.releaser, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4", "--password-stdin"],
                                     stdin: "not my password\n")
            #expect(wrong.status == 77, "\(wrong)")
            let assigned = try site.expectSuccess {
                try site.signed(qs.releaser, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4", "--json"])
            }
            let document = try assigned.json()
            #expect(document["meaning"] as? String == "determined" && document["signer"] as? String == qs.releaser.id, "\(assigned)")
            #expect(document["max_dose_ml_per_kg_h"] as? String == "0.4" && document["signature"] is Int, "\(assigned)")
            try qs.passAll(lot)

            let check = try site.expectSuccess { try qs.check(lot) }
            #expect(check.stdout.contains("M = 0.4 mL/kg/h, not intrathecal; set by \(qs.releaser.id) (Quinn Quality)"), "\(check)")
            #expect(check.stdout.contains("permitted 0.1–4 mL/kg/h"), "\(check)")
            let checkJSON = try site.expectSuccess { try qs.check(lot, json: true) }
            let dose = try #require(try checkJSON.json()["dose"] as? [String: Any], "\(checkJSON)")
            #expect(dose["set_by"] as? String == qs.releaser.id && dose["meaning"] as? String == "determined", "\(dose)")

            // The person who set the dose decides nothing about the lot.
            try site.expectRefused(exit: 77, mentioning: ["set the maximum dose of lot \(lot.din)"]) {
                try site.signed(qs.releaser, ["release", "approve", lot.keyed])
            }
            try site.expectRefused(exit: 77, mentioning: ["set the maximum dose of lot \(lot.din)"]) {
                try site.signed(qs.releaser, ["release", "reject", lot.keyed, "--reason", "dose setter deciding"])
            }
            try site.expectSuccess { try site.signed(qs.qa2, ["release", "approve", lot.keyed]) }
            let coa = try site.expectSuccess { try site.gmp(site.qa, ["coa", lot.keyed]) }
            #expect(coa.stdout.contains("0.4 mL/kg/h, not intrathecal; set by \(qs.releaser.id)"), "\(coa)")
            let coaJSON = try site.expectSuccess { try site.gmp(site.qa, ["coa", lot.keyed, "--json"]) }
            let coaDose = try #require(try coaJSON.json()["dose"] as? [String: Any], "\(coaJSON)")
            #expect(coaDose["signed_by"] as? String == "Quinn Quality" && coaDose["signature_id"] is Int, "\(coaDose)")
        }
    }

    @Test("a result recorded in another's name blocks release until that analyst confirms it; nobody else can (exit 77)")
    func analystConfirms() throws {
        try QC.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.assignedLot()
            var ids = try qs.passAll(lot, except: ["cd105"])
            let cd105 = try qs.record(lot, "cd105", "98.2", unit: "%", ["--analyst", qs.qc2.id])
            let result = try #require(try cd105.run.json()["result"] as? [String: Any])
            #expect(result["awaiting_analyst"] as? String == qs.qc2.id, "\(cd105.run)")
            try qs.verify([cd105.id], by: qs.qa2)
            ids.append(cd105.id)

            let blocked = try site.gmp(site.qa, ["release", "check", lot.keyed])
            #expect(blocked.status == 65 && QC.checkLine(blocked, "cd105").hasSuffix("UNCONFIRMED"), "\(blocked)")
            let list = try site.expectSuccess { try site.gmp(site.qa, ["qc", "list", lot.keyed]) }
            #expect(list.stdout.contains("awaiting \(qs.qc2.id)'s confirmation"), "\(list)")
            // The recorder cannot confirm in the analyst's name, nor can QA.
            for person in [site.qc, qs.qa2] {
                try site.expectRefused(exit: 77, mentioning: ["only \(qs.qc2.id) confirms it"]) {
                    try site.signed(person, ["qc", "confirm", String(cd105.id)])
                }
            }
            let confirmed = try site.expectSuccess { try site.signed(qs.qc2, ["qc", "confirm", String(cd105.id), "--json"]) }
            #expect(try confirmed.json()["meaning"] as? String == "performed", "\(confirmed)")
            try site.expectRefused(exit: 65, mentioning: ["already confirmed"]) {
                try site.signed(qs.qc2, ["qc", "confirm", String(cd105.id)])
            }
            let check = try site.expectSuccess { try qs.check(lot) }
            #expect(check.stdout.contains("RELEASABLE"), "\(check)")
            try site.expectSuccess { try site.signed(qs.releaser, ["release", "approve", lot.keyed]) }
        }
    }
}
