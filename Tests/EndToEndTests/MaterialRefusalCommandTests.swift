import Foundation
import PostgresClient
import Testing
import TestSupport

/// Every refusal of a material lot through the built binary (issue 14, "Must show"): each
/// way a lot is unfit for a step and for a QC result, and hostile input on `gmp material`
/// (malformed quantities, wrong units, impossible dates, unknown ids, a missing
/// manufacturer). Each is one line naming the fix, a documented exit code, and leaves the
/// audit trail as it was (`Site.expectRefused`).
@Suite("material refusals and hostile input, end to end")
struct MaterialRefusalCommandTests {
    typealias Site = DonorLotCommandTests.Site

    static func day(_ offset: Int) -> String { DonorLotCommandTests.day(offset) }

    @Test("a quarantined, rejected, expired-after-opening or unopened lot refuses the step and the QC result")
    func unfitLotsRefused() throws {
        try DonorLotCommandTests.withSite { site in
            let qcSite = try QCReleaseCommandTests.QCSite(site)
            let certificate = try qcSite.file("coa.pdf", "%PDF-1.4 certificate of analysis\n")
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["material", "type", "add", "MEM-ALPHA", "--name", "alpha-MEM",
                                                    "--category", "culture_medium", "--storage", "2-8 C"])
            }
            let quarantined = try MaterialCommandTests.receive(site, certificate: certificate)
            let rejected = try MaterialCommandTests.receive(site, certificate: certificate)
            let openedLong = try MaterialCommandTests.receive(site, certificate: certificate, ["--days-after-opening", "1"])
            let unopened = try MaterialCommandTests.receive(site, certificate: certificate, ["--days-after-opening", "7"])
            for id in [rejected, openedLong, unopened] {
                try site.expectSuccess { try site.signed(site.qa, ["material", "release", id]) }
            }
            try site.expectSuccess {
                try site.signed(site.qa, ["material", "reject", rejected, "--reason", "supplier recall R-1"])
            }
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["material", "open", openedLong, "--at", Self.day(-3)])
            }
            _ = try qcSite.approvedSpecification()
            let lot = try qcSite.assignedLot()
            for (material, says) in [(quarantined, "quarantine"), (rejected, "rejected"), (openedLong, "after opening"),
                                     (unopened, "not opened")] {
                _ = try site.expectRefused(exit: 65, mentioning: [material, says]) {
                    try DonorLotCommandTests.step(in: site, lot, "isolation", ["--material", "\(material):5 mL"])
                }
                _ = try site.expectRefused(exit: 65, mentioning: [material, says]) {
                    try site.gmp(site.qc, ["qc", "record", lot.keyed, "cd105", "98.2", "--unit", "%", "--method", "SOP-cd105",
                                           "--material", "\(material):1 test"])
                }
            }
        }
    }

    @Test("hostile input on gmp material: malformed quantities, wrong units, impossible dates, unknown ids, no manufacturer")
    func hostileInput() throws {
        try DonorLotCommandTests.withSite { site in
            let qcSite = try QCReleaseCommandTests.QCSite(site)
            let certificate = try qcSite.file("coa.pdf", "%PDF-1.4 certificate of analysis\n")
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["material", "type", "add", "MEM-ALPHA", "--name", "alpha-MEM",
                                                    "--category", "culture_medium", "--storage", "2-8 C"])
            }
            let good: [String: String] = [
                "--supplier": "Fisher Scientific", "--manufacturer": "Gibco", "--supplier-lot": "2841733",
                "--quantity": "500", "--unit": "mL", "--expires": Self.day(100), "--condition": "intact, 4 C",
                "--certificate": certificate,
            ]
            /// `gmp material receive` with the good receipt, `changed` replacing (or, empty, leaving out) its options.
            func receive(_ changed: [String: String], type: String = "MEM-ALPHA") throws -> GMPRun {
                let options = good.merging(changed) { $1 }.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }
                return try site.gmp(site.operatorAccount, ["material", "receive", type] + options.flatMap { [$0.key, $0.value] })
            }
            // Refused before anything is sent (64), each naming what to correct.
            let usage: [([String: String], [String])] = [
                (["--quantity": "five"], ["quantity"]),                   // not a number
                (["--quantity": "1,5"], ["quantity"]),                    // a decimal comma
                (["--quantity": "-5"], ["quantity"]),                     // negative
                (["--unit": "cups"], ["unit"]),                           // not a unit of material
                (["--expires": "2026-02-30"], ["expires"]),               // no such day
                (["--expires": "2026-13-01"], ["expires"]),               // no such month
                (["--at": "2026-04-31T10:00:00Z"], ["at"]),               // no such day
                (["--days-after-opening": "0"], ["days-after-opening"]),  // unusable once opened
                (["--certificate": "/nonexistent/coa.pdf"], ["certificate"]),
                (["--manufacturer": ""], ["manufacturer"]),               // left out
            ]
            for (changed, words) in usage {
                _ = try site.expectRefused(exit: 64, mentioning: words) { try receive(changed) }
            }
            // Judged by the database (65).
            let refused: [([String: String], String, [String])] = [
                (["--quantity": "0"], "MEM-ALPHA", ["more than zero"]),
                (["--at": Self.day(30)], "MEM-ALPHA", ["future"]),
                (["--expires": Self.day(-20), "--at": Self.day(-10)], "MEM-ALPHA", ["expired", "before its receipt"]),
                (["--manufacturer": "  "], "MEM-ALPHA", ["manufacturer"]),
                ([:], "NOPE", ["no material type NOPE"]),
            ]
            for (changed, type, words) in refused {
                _ = try site.expectRefused(exit: 65, mentioning: words) { try receive(changed, type: type) }
            }
            _ = try site.expectRefused(exit: 65, mentioning: ["not a material type code", "MEM-ALPHA"]) {
                try site.gmp(site.operatorAccount, ["material", "type", "add", "mem alpha", "--name", "alpha-MEM",
                                                    "--category", "culture_medium", "--storage", "2-8 C"])
            }
            // Unknown material lots, well formed or not.
            for id in ["MAT26-99999", "nonsense"] {
                for arguments in [["material", "show", id], ["material", "open", id], ["trace", "material", id],
                                  ["material", "trace", id]] {
                    _ = try site.expectRefused(exit: 65, mentioning: ["no material lot"]) {
                        try site.gmp(site.operatorAccount, arguments)
                    }
                }
                _ = try site.expectRefused(exit: 65, mentioning: ["no material lot"]) {
                    try site.signed(site.qa, ["material", "release", id])
                }
                _ = try site.expectRefused(exit: 65, mentioning: ["no material lot"]) {
                    try site.signed(site.qa, ["material", "reject", id, "--reason", "recall"])
                }
            }
            // A well-formed --material naming no lot; a usable lot in a unit of another kind.
            _ = try qcSite.approvedSpecification()
            let lot = try qcSite.assignedLot()
            _ = try site.expectRefused(exit: 65, mentioning: ["no material lot MAT26-99999"]) {
                try DonorLotCommandTests.step(in: site, lot, "isolation", ["--material", "MAT26-99999:5 mL"])
            }
            let medium = try MaterialCommandTests.receive(site, certificate: certificate)
            try site.expectSuccess { try site.signed(site.qa, ["material", "release", medium]) }
            _ = try site.expectRefused(exit: 65, mentioning: [medium, "received in mL", "fix: give it in "]) {
                try DonorLotCommandTests.step(in: site, lot, "isolation", ["--material", "\(medium):5 g"])
            }
        }
    }
}
