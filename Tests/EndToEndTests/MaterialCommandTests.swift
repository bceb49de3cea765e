import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp material …`, `--material` on `gmp lot step` and `gmp qc record`, and `gmp trace
/// material` as people run them (issue 14, materials): the built binary, its output and
/// exit codes; every refusal one line, leaving the audit trail as it was. The rules
/// themselves are tried in SQL by MaterialRulesTests.
@Suite("material commands and --material, end to end")
struct MaterialCommandTests {
    typealias Site = DonorLotCommandTests.Site
    typealias CreatedLot = DonorLotCommandTests.CreatedLot

    static func day(_ offset: Int) -> String { DonorLotCommandTests.day(offset) }

    /// Receives a lot of MEM-ALPHA as the operator; returns its id.
    static func receive(_ site: Site, certificate: String, at: Int = -10, expires: Int = 100,
                        _ extra: [String] = []) throws -> String {
        let run = try site.expectSuccess {
            try site.gmp(site.operatorAccount, ["material", "receive", "MEM-ALPHA", "--supplier", "Gibco",
                                                "--manufacturer", "Gibco", "--supplier-lot", "2841733", "--quantity", "500", "--unit", "mL",
                                                "--expires", day(expires), "--condition", "intact, 4 C",
                                                "--certificate", certificate, "--at", day(at), "--json"] + extra)
        }
        let json = try run.json()
        #expect(json["status"] as? String == "quarantine", "\(run)")
        return try #require(json["id"] as? String, "\(run)")
    }

    @Test("the material trace as a recall reads it: each lot reached with its product and status, each unit where it is or its consignee; --json, text and --csv (issue 14)")
    func traceNamesUnitsAndConsignees() throws {
        try ShipCommandTests.withShipSite { ss in
            let site = ss.site
            let certificate = try ss.qs.file("coa-2841733.pdf", "%PDF-1.4 certificate of analysis, lot 2841733\n")
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["material", "type", "add", "MEM-ALPHA", "--name", "alpha-MEM",
                                                    "--category", "culture_medium", "--storage", "2-8 C"])
            }
            let medium = try Self.receive(site, certificate: certificate)
            try site.expectSuccess { try site.signed(site.qa, ["material", "release", medium]) }
            // A drug product that consumed it, released, with one unit delivered to the consignee.
            let shipped = try ss.qs.eligibleLot()
            for (kind, extra) in [("isolation", ["--material", "\(medium):50 mL"]), ("harvest", []), ("fill", DonorLotCommandTests.fill)] {
                try site.expectSuccess { try DonorLotCommandTests.step(in: site, shipped, kind, extra) }
            }
            try site.expectSuccess { try site.signed(site.qc, ["spec", "assign", shipped.keyed, "E2E-DP", "--max-dose", "0.4"]) }
            try ss.qs.passAll(shipped)
            try site.expectSuccess { try site.signed(ss.qs.releaser, ["release", "approve", shipped.keyed]) }
            let shipment = try ss.shipment()
            try site.expectSuccess { try site.gmp(site.operatorAccount, ["ship", "pack", shipment, "--unit", ss.unit(shipped, 1)]) }
            try site.expectSuccess {
                try site.signed(site.operatorAccount, ["ship", "dispatch", shipment, "--courier", "ColdChain Couriers, waybill 4711"])
            }
            try site.expectSuccess { try site.signed(ss.receiver, ["ship", "receive", shipment, "--condition", "shipper intact"]) }
            // Another lot that consumed it, still in quarantine, without units.
            let held = try ss.qs.eligibleLot()
            try site.expectSuccess { try DonorLotCommandTests.step(in: site, held, "isolation", ["--material", "\(medium):5 mL"]) }

            let json = try site.expectSuccess { try site.gmp(site.qa, ["trace", "material", medium, "--json"]) }
            let lots = try #require(try json.json()["lots"] as? [[String: Any]], "\(json)")
            #expect(lots.map { $0["din"] as? String } == [shipped.din, held.din].sorted(), "\(json)")
            #expect(lots.allSatisfy { Set($0.keys) == ["din", "check_character", "stage", "product_kind", "status", "via",
                                                        "consumed", "whereabouts"] }, "\(json)")
            let byDin = Dictionary(uniqueKeysWithValues: lots.map { ($0["din"] as? String ?? "", $0) })
            #expect(byDin[shipped.din]?["status"] as? String == "released", "\(json)")
            #expect(byDin[held.din]?["status"] as? String == "quarantine", "\(json)")
            #expect((byDin[held.din]?["whereabouts"] as? [Any])?.isEmpty == true, "\(json)")
            let units = try #require(byDin[shipped.din]?["whereabouts"] as? [[String: Any]], "\(json)")
            #expect(units.count == 10, "\(json)")
            #expect(units[0]["unit"] as? String == ss.unit(shipped, 1) && units[0]["state"] as? String == "delivered"
                    && units[0]["consignee"] as? String == ShipCommandTests.consignee && units[0]["shipment"] as? String == shipment,
                    "\(units[0])")
            #expect(Set(units[1].keys) == ["unit", "state", "person"] && units[1]["person"] as? String == site.operatorAccount.id,
                    "a unit in hand names its holder and nothing null: \(units[1])")

            let text = try site.expectSuccess { try site.gmp(site.qa, ["trace", "material", medium]) }
            let lines = text.stdout.split(separator: "\n")
            #expect(lines.contains { $0.contains("LOT") && $0.contains("PRODUCT") && $0.contains("STATUS") }, "\(text)")
            #expect(lines.contains { $0.contains(ss.unit(shipped, 1)) && $0.contains("delivered to \(ShipCommandTests.consignee)")
                                     && $0.contains(shipment) }, "\(text)")
            #expect(lines.contains { $0.contains(ss.unit(shipped, 2)) && $0.contains("in hand") }, "\(text)")
            #expect(lines.contains { $0.contains("quarantine") && $0.contains("cells") }, "\(text)")
            #expect(text.stdout.contains("units          10"), "\(text)")

            let csv = try site.expectSuccess { try site.gmp(site.qa, ["trace", "material", medium, "--csv"]) }
            let rows = csv.stdout.split(whereSeparator: \.isNewline).map(String.init)  // CSV lines end in CRLF
            #expect(rows.first == "material_lot,material_status,lot,stage,product,status,via,consumed,unit,state,where,consignee",
                    "\(csv)")
            #expect(rows.count == 1 + 10 + 1, "a row per unit, one for the lot without units: \(csv)")
            #expect(rows.contains { $0.hasPrefix("\(medium),released,\(shipped.din + shipped.checkCharacter),drug_product,cells,released,")
                                    && $0.contains(ss.unit(shipped, 1)) && $0.hasSuffix(ShipCommandTests.consignee) }, "\(csv)")
            #expect(rows.contains { $0.hasPrefix("\(medium),released,\(held.din + held.checkCharacter),drug_product,cells,quarantine,,true,,")
                                    }, "\(csv)")
        }
    }

    @Test("receive, release, consume in a step and a QC result, refuse an expired reagent, trace both ways, recall blocks release")
    func materialsFromReceiptToRecall() throws {
        try DonorLotCommandTests.withSite { site in
            let qcSite = try QCReleaseCommandTests.QCSite(site)
            let certificate = try qcSite.file("coa-2841733.pdf", "%PDF-1.4 certificate of analysis, lot 2841733\n")
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["material", "type", "add", "MEM-ALPHA", "--name", "alpha-MEM",
                                                    "--category", "culture_medium", "--storage", "2-8 C"])
            }
            _ = try site.expectRefused(exit: 64, mentioning: ["category"]) {
                try site.gmp(site.operatorAccount, ["material", "type", "add", "DMSO", "--name", "DMSO",
                                                    "--category", "solvent", "--storage", "room temperature"])
            }
            let medium = try Self.receive(site, certificate: certificate)
            let expired = try Self.receive(site, certificate: certificate, at: -30, expires: -1)
            let show = try site.expectSuccess { try site.gmp(site.qa, ["material", "show", medium, "--json"]) }
            #expect(try show.json()["certificate_sha256"] as? String
                    == "\(SHA256Hex.of(try String(contentsOfFile: certificate, encoding: .utf8)))", "\(show)")

            // Only QA releases, signed.
            _ = try site.expectRefused(exit: 77, mentioning: ["release material lots"]) {
                try site.signed(site.operatorAccount, ["material", "release", medium])
            }
            for id in [medium, expired] {
                try site.expectSuccess { try site.signed(site.qa, ["material", "release", id]) }
            }

            let spec = try qcSite.approvedSpecification()
            #expect(!spec.isEmpty)
            let lot = try qcSite.assignedLot()
            let step = try site.expectSuccess {
                try DonorLotCommandTests.step(in: site, lot, "isolation", ["--material", "\(medium):50 mL"])
            }
            #expect((try step.json()["materials"] as? [String]) == [medium], "\(step)")

            // An expired reagent: refused by the database, nothing recorded, not the step either.
            _ = try site.expectRefused(exit: 65, mentioning: [expired, "expired"]) {
                try DonorLotCommandTests.step(in: site, lot, "passage",
                                              DonorLotCommandTests.passage + ["--material", "\(expired):5 mL"])
            }
            // Malformed: refused before anything is sent (exit 64), naming the fix.
            for (typed, word) in [("MAT26-1:5 mL", "material lot id"), ("\(medium):5", "no unit"),
                                  ("\(medium):5 cups", "unit"), (medium, "no quantity"), ("\(medium):0 mL", "quantity"),
                                  ("\(medium):1,5 mL", "quantity")] {
                _ = try site.expectRefused(exit: 64, mentioning: [word, "fix: "]) {
                    try DonorLotCommandTests.step(in: site, lot, "passage", DonorLotCommandTests.passage + ["--material", typed])
                }
            }

            // A QC result's kit.
            _ = try qcSite.record(lot, "cd105", "98.2", unit: "%", ["--material", "\(medium):1 mL"])

            let trace = try site.expectSuccess { try site.gmp(site.qa, ["trace", "material", medium, "--json"]) }
            let lots = try #require(try trace.json()["lots"] as? [[String: Any]], "\(trace)")
            #expect(lots.compactMap { $0["din"] as? String } == [lot.din], "\(trace)")
            let consumptions = try #require(try trace.json()["consumptions"] as? [[String: Any]], "\(trace)")
            #expect(consumptions.count == 2, "\(trace)")
            let csv = try site.expectSuccess { try site.gmp(site.qa, ["material", "trace", medium, "--csv"]) }
            #expect(csv.stdout.hasPrefix("material_lot,material_status,lot,"), "\(csv)")
            #expect(csv.stdout.contains(lot.din + lot.checkCharacter), "\(csv)")
            let back = try site.expectSuccess { try site.gmp(site.qa, ["trace", "lot", lot.keyed, "--json"]) }
            let materials = try #require(try back.json()["materials"] as? [[String: Any]], "\(back)")
            #expect(materials.compactMap { $0["material_lot"] as? String } == [medium, medium], "\(back)")
            let backText = try site.expectSuccess { try site.gmp(site.qa, ["trace", "lot", lot.keyed]) }
            #expect(backText.stdout.split(separator: "\n").contains { $0.contains(medium) && $0.contains("MEM-ALPHA") }, "\(backText)")
            let backCSV = try site.expectSuccess { try site.gmp(site.qa, ["trace", "lot", lot.keyed, "--csv"]) }
            #expect(backCSV.stdout.contains("material,\(medium),MEM-ALPHA,"), "\(backCSV)")
            let text = try site.expectSuccess { try site.gmp(site.qa, ["trace", "material", medium]) }
            #expect(text.stdout.contains("lots reached   1"), "\(text)")
            // Tables fitted to the terminal (COLUMNS=60, … where cut), whole through a pipe (issue 16).
            try TerminalOutputTests.expectTableFits("USED (UTC)") { try site.gmp(site.qa, ["material", "show", medium], environment: $0) }
            try TerminalOutputTests.expectTableFits("USED (UTC)") { try site.gmp(site.qa, ["trace", "material", medium], environment: $0) }
            try TerminalOutputTests.expectTableFits("ID") { try site.gmp(site.qa, ["material", "list"], environment: $0) }
            try TerminalOutputTests.expectTableFits("PERFORMED (UTC)") { try site.gmp(site.qa, ["trace", "lot", lot.keyed], environment: $0) }
            try TerminalOutputTests.expectTableFits("USED (UTC)") { try site.gmp(site.qa, ["trace", "lot", lot.keyed], environment: $0) }
            let types = try site.expectSuccess { try site.gmp(site.qa, ["material", "type", "list"], environment: ["COLUMNS": "30"]) }
            #expect(TerminalOutputTests.table(types, from: "TYPE").allSatisfy { $0.count <= 30 }, "\(types)")
            #expect(TerminalOutputTests.table(types, from: "TYPE").contains { $0.contains("…") }, "\(types)")

            let list = try site.expectSuccess { try site.gmp(site.qa, ["material", "list", "--csv"]) }
            #expect(list.stdout.hasPrefix("id,type,supplier,supplier_lot,quantity,unit,expires_on,opened_at,status,usable"), "\(list)")
            let usable = try site.expectSuccess { try site.gmp(site.qa, ["material", "list", "--usable", "--json"]) }
            #expect(usable.stdout.contains(medium) && !usable.stdout.contains(expired), "\(usable)")

            // The supplier recalls the medium: the lot that consumed it cannot be released.
            try site.expectSuccess {
                try site.signed(site.qa, ["material", "reject", medium, "--reason", "supplier recall R-2026-14"])
            }
            let check = try site.gmp(site.qa, ["release", "check", lot.keyed, "--json"])
            let blockers = try #require(try check.json()["blockers"] as? [[String: Any]], "\(check)")
            #expect(blockers.contains { $0["kind"] as? String == "material" && $0["item"] as? String == medium }, "\(check)")
            _ = try site.expectRefused(exit: 65, mentioning: [medium, "rejected"]) {
                try site.gmp(site.operatorAccount, ["qc", "record", lot.keyed, "cd45", "0.4", "--unit", "%",
                                                    "--method", "SOP-cd45", "--material", "\(medium):1 mL"])
            }
        }
    }
}

/// The SHA-256 of a text, as gmp prints certificate hashes (lower-case hex).
enum SHA256Hex {
    static func of(_ text: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return String(out.prefix(64))
    }
}
