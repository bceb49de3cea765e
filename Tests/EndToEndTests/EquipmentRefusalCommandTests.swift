import Foundation
import PostgresClient
import Testing
import TestSupport

/// Every refusal of equipment through the built binary (issue 14, "Must show"): each way
/// equipment is unfit for a step and for a QC result, and hostile input on `gmp equipment`
/// (impossible dates and intervals, a due date before the record, unknown ids). Each is
/// one line naming the fix, a documented exit code, and leaves the audit trail as it was
/// (`Site.expectRefused`).
@Suite("equipment refusals and hostile input, end to end")
struct EquipmentRefusalCommandTests {
    typealias Site = DonorLotCommandTests.Site

    static func day(_ offset: Int) -> String { DonorLotCommandTests.day(offset) }

    static func register(_ site: Site, _ id: String, _ intervals: [String]) throws {
        try site.expectSuccess {
            try site.gmp(site.operatorAccount, ["equipment", "register", id, "--kind", "biosafety_cabinet",
                                                "--name", "Class II cabinet"] + intervals)
        }
    }

    static func calibrate(_ site: Site, _ id: String, found: String = "in", left: String = "in", at: Int,
                          _ extra: [String] = []) throws {
        try site.expectSuccess {
            try site.signed(site.operatorAccount, ["equipment", "calibrate", id, "--as-found", found, "--as-left", left,
                                                   "--at", Self.day(at)] + extra)
        }
    }

    @Test("never calibrated, maintenance overdue, left out of tolerance, a given due date passed: the step and the result are refused")
    func unfitEquipmentRefused() throws {
        try DonorLotCommandTests.withSite { site in
            let qcSite = try QCReleaseCommandTests.QCSite(site)
            let both = ["--calibration-interval", "180", "--maintenance-interval", "30"]
            try Self.register(site, "BSC-NEVER", both)
            try Self.register(site, "BSC-MAINT", both)
            try Self.register(site, "BSC-LEFT", both)
            try Self.register(site, "BSC-DUE", [])
            try site.expectSuccess { try site.signed(site.operatorAccount, ["equipment", "maintain", "BSC-NEVER", "--at", Self.day(-5)]) }
            try Self.calibrate(site, "BSC-MAINT", at: -5)
            try site.expectSuccess { try site.signed(site.operatorAccount, ["equipment", "maintain", "BSC-MAINT", "--at", Self.day(-40)]) }
            try Self.calibrate(site, "BSC-LEFT", found: "out", left: "out", at: -5)
            try site.expectSuccess { try site.signed(site.operatorAccount, ["equipment", "maintain", "BSC-LEFT", "--at", Self.day(-5)]) }
            // No interval, but the certificate said the next calibration was due 10 days ago.
            try Self.calibrate(site, "BSC-DUE", at: -40, ["--due", Self.day(-10)])
            _ = try qcSite.approvedSpecification()
            let lot = try qcSite.assignedLot()
            for (id, says) in [("BSC-NEVER", "no calibration"), ("BSC-MAINT", "maintenance was overdue"),
                               ("BSC-LEFT", "left out of tolerance"), ("BSC-DUE", "calibration was overdue")] {
                _ = try site.expectRefused(exit: 65, mentioning: [id, says]) {
                    try DonorLotCommandTests.step(in: site, lot, "isolation", ["--equipment", id])
                }
                _ = try site.expectRefused(exit: 65, mentioning: [id, says]) {
                    try site.gmp(site.qc, ["qc", "record", lot.keyed, "cd105", "98.2", "--unit", "%", "--method", "SOP-cd105",
                                           "--equipment", id])
                }
            }
            let list = try site.expectSuccess { try site.gmp(site.qa, ["equipment", "list", "--csv"]) }
            // CSV lines end in CRLF, one Character in Swift: look for the row's cells, not its line.
            #expect(list.stdout.contains(",false,equipment BSC-DUE: its calibration was overdue"), "\(list)")
        }
    }

    @Test("hostile input on gmp equipment: impossible dates and intervals, a due date before the record, unknown ids")
    func hostileInput() throws {
        try DonorLotCommandTests.withSite { site in
            try Self.register(site, "BSC-01", ["--calibration-interval", "30"])
            // Refused before anything is sent.
            for (arguments, word) in [
                (["equipment", "register", "bsc 1", "--kind", "biosafety_cabinet", "--name", "x"], "equipment id"),
                (["equipment", "register", "BSC-02", "--kind", "biosafety_cabinet", "--name", "x",
                  "--calibration-interval", "0"], "calibration-interval"),
                (["equipment", "register", "BSC-02", "--kind", "biosafety_cabinet", "--name", "x",
                  "--maintenance-interval", "99999"], "maintenance-interval"),
                (["equipment", "register", "BSC-02", "--kind", "biosafety_cabinet", "--name", "x",
                  "--calibration-interval", "thirty"], "calibration-interval"),
                (["equipment", "calibrate", "BSC-01", "--as-found", "maybe", "--as-left", "in"], "as-found"),
                (["equipment", "calibrate", "BSC-01", "--as-found", "in", "--as-left", "in", "--at", "2026-02-30"], "at"),
                (["equipment", "maintain", "BSC-01", "--due", "2026-13-01"], "due"),
                (["equipment", "status", "BSC-01", "broken", "--reason", "x"], "state"),
            ] {
                // register is not signed: it takes no --password-stdin, which would fail it for another reason.
                _ = try site.expectRefused(exit: 64, mentioning: [word]) {
                    arguments[1] == "register" ? try site.gmp(site.operatorAccount, arguments)
                                               : try site.signed(site.operatorAccount, arguments)
                }
            }
            // Judged by the database.
            for (arguments, words) in [
                (["equipment", "calibrate", "BSC-01", "--as-found", "in", "--as-left", "in", "--at", Self.day(30)], ["BSC-01", "not in the future"]),
                (["equipment", "calibrate", "BSC-01", "--as-found", "in", "--as-left", "in", "--at", Self.day(-5),
                  "--due", Self.day(-6)], ["BSC-01", "due"]),
                (["equipment", "calibrate", "BSC-01", "--as-found", "in", "--as-left", "in", "--at", Self.day(-5),
                  "--due", Self.day(60)], ["BSC-01", "within 30 day(s)"]),
                (["equipment", "maintain", "BSC-01", "--at", Self.day(-5)], ["BSC-01", "no maintenance interval"]),
                (["equipment", "calibrate", "NOPE-1", "--as-found", "in", "--as-left", "in"], ["no equipment NOPE-1"]),
                (["equipment", "maintain", "NOPE-1"], ["no equipment NOPE-1"]),
                (["equipment", "status", "NOPE-1", "out-of-service", "--reason", "x"], ["no equipment NOPE-1"]),
            ] {
                _ = try site.expectRefused(exit: 65, mentioning: words) { try site.signed(site.operatorAccount, arguments) }
            }
            _ = try site.expectRefused(exit: 65, mentioning: ["no equipment NOPE-1"]) {
                try site.gmp(site.operatorAccount, ["equipment", "show", "NOPE-1"])
            }
        }
    }
}
