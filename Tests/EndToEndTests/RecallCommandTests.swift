import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp recall …` as people run them (issue 17): the built binary, its output, --json,
/// --csv, the printable report and exit codes, one test per cause (product lot, material
/// lot, donor, post-release result) and one for the errors. Every refusal is checked to
/// be one line with its fix, its documented exit code, and to leave the audit trail as it
/// was. The rules themselves are tried in SQL by RecallRulesTests.
@Suite("recall commands, end to end")
struct RecallCommandTests {
    typealias Site = DonorLotCommandTests.Site
    typealias ShipSite = ShipCommandTests.ShipSite

    /// Ships `divisions` of `lot` to the consignee: packed, dispatched, received; returns the shipment.
    static func ship(_ ss: ShipSite, _ lot: DonorLotCommandTests.CreatedLot, _ divisions: [Int]) throws -> String {
        let site = ss.site
        let id = try ss.shipment()
        try site.expectSuccess {
            try site.gmp(site.operatorAccount, ["ship", "pack", id] + divisions.flatMap { ["--unit", ss.unit(lot, $0)] })
        }
        try site.expectSuccess { try site.signed(site.operatorAccount, ["ship", "dispatch", id, "--courier", "ColdChain, waybill 1"]) }
        try site.expectSuccess { try site.signed(ss.receiver, ["ship", "receive", id, "--condition", "intact"]) }
        return id
    }

    static func open(_ site: Site, _ cause: [String]) throws -> String {
        let run = try site.expectSuccess {
            try site.signed(site.qa, ["recall", "open"] + cause + ["--reason", "notice R-2026-14", "--json"])
        }
        #expect(try run.json()["meaning"] as? String == "held", "\(run)")
        return try #require(try run.json()["id"] as? String, "\(run)")
    }

    @Test("product lot: open, the rest does not ship, notify and acknowledge the clinic, dispose, close; show, list, csv, report")
    func productLot() throws {
        try ShipCommandTests.withShipSite { ss in
            let site = ss.site
            let lot = try ss.releasedLot()
            let shipment = try Self.ship(ss, lot, [1, 2])
            _ = try site.expectRefused(exit: 77, mentioning: ["open recalls"]) {
                try site.signed(site.operatorAccount, ["recall", "open", "--lot", lot.keyed, "--reason", "x"])
            }
            _ = try site.expectRefused(exit: 64, mentioning: ["exactly one cause"]) {
                try site.signed(site.qa, ["recall", "open", "--lot", lot.keyed, "--donor", "D1", "--reason", "x"])
            }
            let recall = try Self.open(site, ["--lot", lot.keyed])
            #expect(recall.wholeMatch(of: /RCL\d\d-\d{5}/) != nil)

            let id = try ss.shipment()
            _ = try site.expectRefused(mentioning: [ss.unit(lot, 3), recall]) {
                try site.gmp(site.operatorAccount, ["ship", "pack", id, "--unit", ss.unit(lot, 3)])
            }
            _ = try site.expectRefused(exit: 65, mentioning: ["not notified"]) {
                try site.gmp(site.qa, ["recall", "acknowledge", recall, "--consignee", ShipCommandTests.consignee,
                                       "--by", "Dr A. Clinician", "--returned", ss.unit(lot, 1)])
            }
            try site.expectSuccess {
                try site.gmp(site.qa, ["recall", "notify", recall, "--consignee", ShipCommandTests.consignee,
                                       "--method", "phone", "--contact", "Dr A. Clinician"])
            }
            try site.expectSuccess {
                try site.gmp(site.qa, ["recall", "acknowledge", recall, "--consignee", ShipCommandTests.consignee,
                                       "--by", "Dr A. Clinician", "--returned", ss.unit(lot, 1),
                                       "--administered", ss.unit(lot, 2)])
            }
            _ = try site.expectRefused(mentioning: ["without a disposition"]) {
                try site.signed(site.qa, ["recall", "close", recall, "--summary", "done"])
            }
            let show = try site.expectSuccess { try site.gmp(site.qa, ["recall", "show", recall, "--json"]) }
            let consignees = try #require(try show.json()["consignees"] as? [[String: Any]], "\(show)")
            #expect(consignees.first?["units"] as? [String] == [ss.unit(lot, 1), ss.unit(lot, 2)], "\(show)")
            let units = try #require(try show.json()["units"] as? [[String: Any]], "\(show)")
            #expect(units.first { $0["unit"] as? String == ss.unit(lot, 1) }?["state"] as? String == "recalled", "\(show)")
            #expect(units.first { $0["unit"] as? String == ss.unit(lot, 1) }?["shipment"] as? String == shipment, "\(show)")
            for division in 3...10 {
                try site.expectSuccess {
                    try site.gmp(site.qa, ["recall", "dispose", recall, ss.unit(lot, division), "--as", "cleared",
                                           "--reason", "retained sample retested: sterile"])
                }
            }
            let text = try site.expectSuccess { try site.gmp(site.qa, ["recall", "show", recall]) }
            #expect(text.stdout.contains("nothing: QA may close it"), "\(text)")
            try site.expectSuccess { try site.signed(site.qa, ["recall", "close", recall, "--summary", "all accounted for"]) }
            let csv = try site.expectSuccess { try site.gmp(site.qa, ["recall", "show", recall, "--csv"]) }
            #expect(csv.stdout.hasPrefix("recall,status,cause,subject,unit,"), "\(csv)")
            #expect(csv.stdout.split(whereSeparator: \.isNewline).count == 11, "\(csv)")
            let list = try site.expectSuccess { try site.gmp(site.qa, ["recall", "list", "--json"]) }
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            #expect(rows.first?["status"] as? String == "closed" && rows.first?["acknowledged"] as? Int == 1, "\(list)")
            try TerminalOutputTests.expectTableFits("RECALL") { try site.gmp(site.qa, ["recall", "list"], environment: $0) }
            let html = NSTemporaryDirectory() + "recall-\(recall).html"
            try site.expectSuccess { try site.gmp(site.qa, ["recall", "report", recall, "--html", html]) }
            let page = try String(contentsOfFile: html, encoding: .utf8)
            #expect(page.contains("Recall \(recall) — closed") && page.contains(ShipCommandTests.consignee))
            #expect(page.contains("cleared: retained sample retested: sterile") && page.contains("final: kept its status"))
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/weasyprint") {
                let pdf = NSTemporaryDirectory() + "recall-\(recall).pdf"
                try site.expectSuccess { try site.gmp(site.qa, ["recall", "report", recall, "--pdf", pdf]) }
                let bytes = try #require(FileManager.default.contents(atPath: pdf))
                #expect(bytes.starts(with: Data("%PDF".utf8)))
            }
            // Closed: the lot's units ship again.
            try site.expectSuccess { try site.gmp(site.operatorAccount, ["ship", "pack", id, "--unit", ss.unit(lot, 3)]) }
        }
    }

    @Test("material lot: the lot that consumed it goes on hold and shows a recall blocker; release refused")
    func materialLot() throws {
        try ShipCommandTests.withShipSite { ss in
            let site = ss.site
            let certificate = try ss.qs.file("coa.pdf", "%PDF-1.4 certificate\n")
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["material", "type", "add", "MEM-ALPHA", "--name", "alpha-MEM",
                                                    "--category", "culture_medium", "--storage", "2-8 C"])
            }
            let medium = try MaterialCommandTests.receive(site, certificate: certificate)
            try site.expectSuccess { try site.signed(site.qa, ["material", "release", medium]) }
            let lot = try ss.qs.eligibleLot()
            try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, "isolation", ["--material", "\(medium):50 mL"]) }
            for (kind, extra) in [("harvest", []), ("fill", DonorLotCommandTests.fill)] {
                try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, kind, extra) }
            }
            try site.expectSuccess { try site.signed(site.qc, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4"]) }
            _ = try ss.qs.passAll(lot)
            let recall = try Self.open(site, ["--material-lot", medium])
            #expect(try ss.qs.status(lot) == "on_hold")
            try site.expectSuccess { try site.gmp(site.qa, ["lot", "unhold", lot.keyed, "--reason", "checked"]) }
            let check = try site.gmp(site.qa, ["release", "check", lot.keyed, "--json"])
            let blockers = try #require(try check.json()["blockers"] as? [[String: Any]], "\(check)")
            #expect(blockers.contains { $0["kind"] as? String == "recall" && $0["item"] as? String == recall }, "\(check)")
            // Every result passes, yet the release is refused while the recall is open.
            _ = try site.expectRefused(mentioning: [recall]) {
                try site.signed(ss.qs.releaser, ["release", "approve", lot.keyed])
            }
            #expect(try ss.qs.status(lot) == "quarantine")
            // Nothing more of the recalled medium is used.
            let other = try ss.qs.eligibleLot()
            _ = try site.expectRefused(mentioning: ["material lot \(medium)", recall]) {
                try DonorLotCommandTests.step(in: site, other, "isolation", ["--material", "\(medium):50 mL"])
            }
            let text = try site.expectSuccess { try site.gmp(site.qa, ["recall", "show", recall]) }
            #expect(text.stdout.contains("material lot \(medium)") && text.stdout.contains("1, 1 held"), "\(text)")
        }
    }

    @Test("donor: the lookback lists the donor's lots and units; the recall holds them")
    func donor() throws {
        try ShipCommandTests.withShipSite { ss in
            let site = ss.site
            let lot = try ss.releasedLot()
            _ = try Self.ship(ss, lot, [1])
            let donor: String = try TestServer.connect(site.database)
                .query("SELECT donor_code FROM gmp.lot WHERE din = \(lot.din)")[0].decode("donor_code")
            let lookback = try site.expectSuccess { try site.gmp(site.qa, ["recall", "lookback", donor, "--json"]) }
            let consignees = try #require(try lookback.json()["consignees"] as? [[String: Any]], "\(lookback)")
            #expect(consignees.first?["consignee"] as? String == ShipCommandTests.consignee, "\(lookback)")
            #expect((try lookback.json()["in_facility"] as? [Any])?.count == 9, "\(lookback)")
            let csv = try site.expectSuccess { try site.gmp(site.qa, ["recall", "lookback", donor, "--csv"]) }
            #expect(csv.stdout.hasPrefix("donor,unit,lot,"), "\(csv)")
            let quarantined = try ss.filledLot()
            let recall = try Self.open(site, ["--donor", donor])
            #expect(try ss.qs.status(quarantined) == "on_hold")
            // Nothing of the donor ships, and no new lot is made from their tissue.
            let id = try ss.shipment()
            _ = try site.expectRefused(mentioning: [ss.unit(lot, 2), recall]) {
                try site.gmp(site.operatorAccount, ["ship", "pack", id, "--unit", ss.unit(lot, 2)])
            }
            let collection: String = try TestServer.connect(site.database)
                .query("SELECT collection_id FROM gmp.lot WHERE din = \(lot.din)")[0].decode("collection_id")
            _ = try site.expectRefused(mentioning: ["donor \(donor)", recall]) {
                try site.gmp(site.operatorAccount, ["lot", "create", "--collection", collection, "--stage", "drug_product",
                                                    "--use", "allogeneic", "--expires", DonorLotCommandTests.day(365)])
            }
            let show = try site.expectSuccess { try site.gmp(site.qa, ["recall", "show", recall, "--json"]) }
            #expect((try show.json()["lots"] as? [Any])?.count == 2, "\(show)")
            let text = try site.expectSuccess { try site.gmp(site.qa, ["recall", "lookback", donor]) }
            #expect(text.stdout.split(separator: "\n").contains { $0.hasPrefix("  ") && $0.hasSuffix(recall) }, "\(text)")
            try TerminalOutputTests.expectTableFits("LOT") { try site.gmp(site.qa, ["recall", "lookback", donor], environment: $0) }
        }
    }

    @Test("post-release result: the released lot's units here neither ship nor thaw; shipped ones are listed by consignee")
    func postReleaseResult() throws {
        try ShipCommandTests.withShipSite { ss in
            let site = ss.site
            let lot = try ss.releasedLot()
            _ = try Self.ship(ss, lot, [1])
            let result: Int64 = try TestServer.connect(site.database)
                .query("SELECT max(id) AS id FROM gmp.qc_result WHERE din = \(lot.din)")[0].decode("id")
            _ = try site.expectRefused(mentioning: ["no result 999999", "gmp qc list"]) {
                try site.signed(site.qa, ["recall", "open", "--post-release-result", lot.keyed, "--result", "999999",
                                          "--reason", "x"])
            }
            let recall = try Self.open(site, ["--post-release-result", lot.keyed, "--result", String(result)])
            let show = try site.expectSuccess { try site.gmp(site.qa, ["recall", "show", recall, "--json"]) }
            #expect(try show.json()["cause"] as? String == "post_release_result", "\(show)")
            #expect((try show.json()["result_id"] as? NSNumber)?.int64Value == result, "\(show)")
            let lots = try #require(try show.json()["lots"] as? [[String: Any]], "\(show)")
            #expect(lots.count == 1 && lots.first?["held"] as? Bool == false && lots.first?["status"] as? String == "released")
            let consignees = try #require(try show.json()["consignees"] as? [[String: Any]], "\(show)")
            #expect(consignees.first?["units"] as? [String] == [ss.unit(lot, 1)], "\(show)")
            // The lot stays released (final), yet nothing of it leaves: not packed, not thawed.
            let id = try ss.shipment()
            _ = try site.expectRefused(mentioning: [ss.unit(lot, 2), recall]) {
                try site.gmp(site.operatorAccount, ["ship", "pack", id, "--unit", ss.unit(lot, 2)])
            }
            _ = try site.expectRefused(mentioning: [ss.unit(lot, 3), recall, "not thawed"]) {
                try site.gmp(site.operatorAccount, ["unit", "thaw", ss.unit(lot, 3), "--reason", "for administration"])
            }
            let csv = try site.expectSuccess { try site.gmp(site.qa, ["recall", "show", recall, "--csv"]) }
            #expect(csv.stdout.split(whereSeparator: \.isNewline).count == 11, "\(csv)")
        }
    }

    @Test("errors: an unknown recall, consignee or unit, a closure with outstanding items, a non-QA opener: one line, the fix, the exit code, the trail unchanged")
    func errors() throws {
        try ShipCommandTests.withShipSite { ss in
            let site = ss.site
            let lot = try ss.releasedLot()
            _ = try Self.ship(ss, lot, [1])
            _ = try site.expectRefused(exit: 77, mentioning: ["open recalls"]) {
                try site.signed(site.operatorAccount, ["recall", "open", "--lot", lot.keyed, "--reason", "x"])
            }
            _ = try site.expectRefused(mentioning: ["no donor", "D26-999999"]) {
                try site.signed(site.qa, ["recall", "open", "--donor", "D26-999999", "--reason", "x"])
            }
            let recall = try Self.open(site, ["--lot", lot.keyed])
            for command in [["show", "RCL26-99999"], ["report", "RCL26-99999", "--html", NSTemporaryDirectory() + "none.html"],
                            ["notify", "RCL26-99999", "--consignee", ShipCommandTests.consignee, "--method", "phone",
                             "--contact", "Dr A. Clinician"]] {
                _ = try site.expectRefused(mentioning: ["no recall RCL26-99999", "gmp recall list"]) {
                    try site.gmp(site.qa, ["recall"] + command)
                }
            }
            _ = try site.expectRefused(mentioning: ["Nobody's Clinic", "gmp recall show \(recall)"]) {
                try site.gmp(site.qa, ["recall", "notify", recall, "--consignee", "Nobody's Clinic", "--method", "phone",
                                       "--contact", "Dr B"])
            }
            _ = try site.expectRefused(mentioning: ["Nobody's Clinic", "gmp recall show \(recall)"]) {
                try site.gmp(site.qa, ["recall", "acknowledge", recall, "--consignee", "Nobody's Clinic", "--by", "Dr B",
                                       "--returned", ss.unit(lot, 1)])
            }
            _ = try site.expectRefused(mentioning: ["did not reach unit", "gmp recall show \(recall)"]) {
                try site.gmp(site.qa, ["recall", "dispose", recall, "G1234-NONE", "--as", "cleared", "--reason", "x"])
            }
            _ = try site.expectRefused(mentioning: ["cannot be closed", "has not acknowledged", "without a disposition",
                                                    "gmp recall acknowledge"]) {
                try site.signed(site.qa, ["recall", "close", recall, "--summary", "done"])
            }
            _ = try site.expectRefused(exit: 77) {
                try site.signed(site.operatorAccount, ["recall", "close", recall, "--summary", "done"])
            }
        }
    }
}
