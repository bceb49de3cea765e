import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp equipment …`, `--equipment` on `gmp lot step` and `gmp qc record`, and the
/// equipment in `gmp trace lot` as people run them (issue 14, equipment): the built
/// binary, its output and exit codes; every refusal one line, leaving the audit trail as
/// it was. The rules themselves are tried in SQL by EquipmentRulesTests.
@Suite("equipment commands and --equipment, end to end")
struct EquipmentCommandTests {
    typealias Site = DonorLotCommandTests.Site

    static func day(_ offset: Int) -> String { DonorLotCommandTests.day(offset) }

    @Test("register, calibrate and maintain, name it on a step and a result, refuse it overdue and out of service, trace it, find it out of tolerance")
    func equipmentFromRegisterToOutOfTolerance() throws {
        try DonorLotCommandTests.withSite { site in
            let qcSite = try QCReleaseCommandTests.QCSite(site)
            for (id, interval) in [("BSC-01", "180"), ("BSC-02", "30")] {
                try site.expectSuccess {
                    try site.gmp(site.operatorAccount, ["equipment", "register", id, "--kind", "biosafety_cabinet",
                                                        "--name", "Class II cabinet", "--calibration-interval", interval,
                                                        "--maintenance-interval", "365"])
                }
            }
            _ = try site.expectRefused(exit: 64, mentioning: ["kind of equipment", "fix: "]) {
                try site.gmp(site.operatorAccount, ["equipment", "register", "TOASTER-1", "--kind", "toaster", "--name", "x"])
            }
            // BSC-01 calibrated and maintained 20 days ago; BSC-02's calibration is 40 days old: overdue.
            for (id, daysAgo) in [("BSC-01", -20), ("BSC-02", -40)] {
                let calibration = try site.expectSuccess {
                    try site.signed(site.operatorAccount, ["equipment", "calibrate", id, "--as-found", "in", "--as-left", "in",
                                                           "--at", Self.day(daysAgo), "--reference", "cert 1", "--json"])
                }
                #expect(try calibration.json()["as_found"] as? String == "in_tolerance", "\(calibration)")
                #expect(try calibration.json()["signature_intact"] as? Bool == true, "\(calibration)")
                try site.expectSuccess {
                    try site.signed(site.operatorAccount, ["equipment", "maintain", id, "--at", Self.day(-20), "--note", "HEPA checked"])
                }
            }
            let list = try site.expectSuccess { try site.gmp(site.qa, ["equipment", "list", "--csv"]) }
            #expect(list.stdout.hasPrefix("id,kind,name,storage_device,status,calibration_due_at,maintenance_due_at,usable"),
                    "\(list)")
            #expect(list.stdout.contains("BSC-02,biosafety_cabinet") && list.stdout.contains(",false,"), "\(list)")

            let spec = try qcSite.approvedSpecification()
            #expect(!spec.isEmpty)
            let lot = try qcSite.assignedLot()
            let step = try site.expectSuccess {
                try DonorLotCommandTests.step(in: site, lot, "isolation", ["--equipment", "BSC-01"])
            }
            #expect((try step.json()["equipment"] as? [String]) == ["BSC-01"], "\(step)")

            // Overdue: refused by the database, the step not recorded either.
            _ = try site.expectRefused(exit: 65, mentioning: ["BSC-02", "overdue"]) {
                try DonorLotCommandTests.step(in: site, lot, "passage", DonorLotCommandTests.passage + ["--equipment", "BSC-02"])
            }
            _ = try site.expectRefused(exit: 64, mentioning: ["equipment id", "fix: "]) {
                try DonorLotCommandTests.step(in: site, lot, "passage", DonorLotCommandTests.passage + ["--equipment", "bsc 1"])
            }
            _ = try site.expectRefused(exit: 65, mentioning: ["no equipment", "NOPE-1"]) {
                try DonorLotCommandTests.step(in: site, lot, "passage", DonorLotCommandTests.passage + ["--equipment", "NOPE-1"])
            }
            // A QC result on the cabinet.
            _ = try qcSite.record(lot, "cd105", "98.2", unit: "%", ["--equipment", "BSC-01"])

            // Out of service (signed), refused; only QA returns it.
            try site.expectSuccess {
                try site.signed(site.operatorAccount, ["equipment", "status", "BSC-01", "out-of-service", "--reason", "airflow alarm"])
            }
            _ = try site.expectRefused(exit: 65, mentioning: ["BSC-01", "out of service"]) {
                try site.gmp(site.qc, ["qc", "record", lot.keyed, "cd45", "0.4", "--unit", "%", "--method", "SOP-cd45",
                                       "--equipment", "BSC-01"])
            }
            _ = try site.expectRefused(exit: 77, mentioning: ["return equipment to service"]) {
                try site.signed(site.operatorAccount, ["equipment", "status", "BSC-01", "in-service", "--reason", "fixed"])
            }
            try site.expectSuccess {
                try site.signed(site.qa, ["equipment", "status", "BSC-01", "in-service", "--reason", "airflow sensor replaced"])
            }

            // The trace lists it, text, CSV and JSON.
            let back = try site.expectSuccess { try site.gmp(site.qa, ["trace", "lot", lot.keyed, "--json"]) }
            let equipment = try #require(try back.json()["equipment"] as? [[String: Any]], "\(back)")
            #expect(equipment.compactMap { $0["equipment"] as? String } == ["BSC-01", "BSC-01"], "\(back)")
            let backText = try site.expectSuccess { try site.gmp(site.qa, ["trace", "lot", lot.keyed]) }
            #expect(backText.stdout.split(separator: "\n").contains { $0.contains("BSC-01 ") && $0.contains(" biosafety_cabinet") }, "\(backText)")
            let backCSV = try site.expectSuccess { try site.gmp(site.qa, ["trace", "lot", lot.keyed, "--csv"]) }
            #expect(backCSV.stdout.contains("equipment,BSC-01,biosafety_cabinet,"), "\(backCSV)")

            // Found out of tolerance: the step and the result are listed, a deviation opened on the lot.
            let foundText = try site.expectSuccess {
                try site.signed(site.operatorAccount, ["equipment", "calibrate", "BSC-01", "--as-found", "out", "--as-left", "in",
                                                       "--reference", "cert 2"])
            }
            #expect(foundText.stdout.contains("found out of tolerance: 2 step(s) and QC result(s)"), "\(foundText)")
            #expect(foundText.stdout.contains("lots affected  1") && foundText.stdout.contains("deviation DEV"), "\(foundText)")
            let found = try site.expectSuccess { try site.gmp(site.qa, ["equipment", "show", "BSC-01", "--json"]) }
            let services = try #require(try found.json()["services"] as? [[String: Any]], "\(found)")
            let outOfTolerance = try #require(services.last, "\(found)")
            let uses = try #require(outOfTolerance["affected_uses"] as? [[String: Any]], "\(found)")
            #expect(uses.count == 2, "\(found)")
            let lots = try #require(outOfTolerance["affected_lots"] as? [[String: Any]], "\(found)")
            #expect(lots.compactMap { $0["din"] as? String } == [lot.din], "\(found)")
            let deviation = try #require(lots.first?["deviation"] as? String, "\(found)")
            let check = try site.gmp(site.qa, ["release", "check", lot.keyed, "--json"])
            let blockers = try #require(try check.json()["blockers"] as? [[String: Any]], "\(check)")
            #expect(blockers.contains { $0["kind"] as? String == "deviation" && $0["item"] as? String == deviation }, "\(check)")

            let show = try site.expectSuccess { try site.gmp(site.qa, ["equipment", "show", "BSC-01"]) }
            #expect(show.stdout.contains("found out of tolerance, left in tolerance"), "\(show)")
            #expect(show.stdout.contains("used           2 time(s)"), "\(show)")
            // Tables fitted to the terminal (COLUMNS=60, … where cut), whole through a pipe (issue 16).
            try TerminalOutputTests.expectTableFits("EQUIPMENT") { try site.gmp(site.qa, ["equipment", "list"], environment: $0) }
            try TerminalOutputTests.expectTableFits("RECORD") { try site.gmp(site.qa, ["equipment", "show", "BSC-01"], environment: $0) }
            try TerminalOutputTests.expectTableFits("USED (UTC)") { try site.gmp(site.qa, ["equipment", "show", "BSC-01"], environment: $0) }
            try TerminalOutputTests.expectTableFits("USED (UTC)") { try site.gmp(site.qa, ["trace", "lot", lot.keyed], environment: $0) }
            let text = try site.expectSuccess {
                try site.signed(site.operatorAccount, ["equipment", "maintain", "BSC-01", "--note", "filter changed"])
            }
            #expect(text.stdout.contains("signed: \(site.operatorAccount.id) performed maintenance"), "\(text)")
        }
    }
}
