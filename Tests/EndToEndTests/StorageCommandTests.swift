import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp storage …`, `gmp unit …` and `gmp custody …` as people run them: the built
/// binary, its stdout, --json, --csv and exit codes; every refusal one line on stderr
/// and not one audit event more. The rules themselves are tried in SQL by
/// CustodyRulesTests; these tests try the commands.
@Suite("storage, unit and custody commands, end to end")
struct StorageCommandTests {
    typealias Site = DonorLotCommandTests.Site

    static let box = "LN2-01-R1-B01"

    /// A site with the storage tree SITE-A › LN2-01 (≤ -150 °C, cells) › LN2-01-R1 ›
    /// LN2-01-R1-B01 (3 × 3), added through gmp, and a master cell bank filled with 10
    /// units of 1.5 mL in the operator's hands.
    static func withStoredLot(_ body: (Site, DonorLotCommandTests.CreatedLot) throws -> Void) throws {
        try DonorLotCommandTests.withSite { site in
            for arguments in [["SITE-A", "--kind", "site", "--name", "Cell therapy unit"],
                              ["LN2-01", "--kind", "tank", "--in", "SITE-A", "--max-celsius", "-150", "--holds", "cells"],
                              ["LN2-01-R1", "--kind", "rack", "--in", "LN2-01"],
                              [box, "--kind", "box", "--in", "LN2-01-R1", "--rows", "3", "--columns", "3"]] {
                try site.expectSuccess { try site.gmp(site.operatorAccount, ["storage", "add"] + arguments) }
            }
            let donation = try DonorLotCommandTests.donation(in: site)
            let lot = try DonorLotCommandTests.createLot(in: site, ["--collection", donation.collection])
            for (kind, extra) in [("isolation", []), ("passage", DonorLotCommandTests.passage), ("harvest", []),
                                  ("fill", DonorLotCommandTests.fill), ("cryopreservation", [])] {
                try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, kind, extra) }
            }
            try body(site, lot)
        }
    }

    @Test("storage add and show: a tree with paths, --json; each wrong location refused in one line")
    func storageTree() throws {
        try Self.withStoredLot { site, _ in
            let show = try site.expectSuccess { try site.gmp(site.qa, ["storage", "show"]) }
            #expect(show.stdout == """
                SITE-A  site, "Cell therapy unit"
                  LN2-01  tank, ≤ -150.00 °C, holds cells
                    LN2-01-R1  rack
                      LN2-01-R1-B01  box, 3 × 3, 0 of 9 used

                """, "\(show)")
            let sub = try site.expectSuccess { try site.gmp(site.qa, ["storage", "show", "ln2-01-r1", "--json"]) }
            let nodes = try #require(try JSONSerialization.jsonObject(with: Data(sub.stdout.utf8)) as? [[String: Any]], "\(sub)")
            #expect(nodes.map { $0["path"] as? String } == ["SITE-A › LN2-01 › LN2-01-R1", "SITE-A › LN2-01 › LN2-01-R1 › \(Self.box)"])
            #expect(nodes.last?["rows"] as? Int == 3)
            #expect(nodes.last?["occupied"] as? Int == 0)

            try site.expectRefused(exit: 64, mentioning: ["--rows and --columns"]) {
                try site.gmp(site.operatorAccount, ["storage", "add", "B02", "--kind", "box", "--in", "LN2-01-R1"])
            }
            try site.expectRefused(exit: 64, mentioning: ["--max-celsius"]) {
                try site.gmp(site.operatorAccount, ["storage", "add", "LN2-02", "--kind", "tank", "--in", "SITE-A", "--holds", "cells"])
            }
            try site.expectRefused(mentioning: ["\"plasma\" is not a product kind"]) {
                try site.gmp(site.operatorAccount, ["storage", "add", "LN2-02", "--kind", "tank", "--in", "SITE-A",
                                                    "--max-celsius", "-150", "--holds", "cells,plasma"])
            }
            try site.expectRefused(mentioning: ["a rack cannot be inside a box"]) {
                try site.gmp(site.operatorAccount, ["storage", "add", "R9", "--kind", "rack", "--in", Self.box])
            }
            try site.expectRefused(mentioning: ["storage location LN2-01-R1 already exists", "fix: choose another id"]) {
                try site.gmp(site.operatorAccount, ["storage", "add", "LN2-01-R1", "--kind", "rack", "--in", "LN2-01"])
            }
            try site.expectRefused(mentioning: ["no storage location NOWHERE"]) { try site.gmp(site.qa, ["storage", "show", "NOWHERE"]) }
        }
    }

    @Test("unit place, layout, find and occupancy; a taken position, a bad position and a bad unit id refused")
    func placeAndFind() throws {
        try Self.withStoredLot { site, lot in
            let din = lot.din
            let op = site.operatorAccount
            let place = try site.expectSuccess {
                try site.gmp(op, ["unit", "place", "\(din)-001", "--box", Self.box, "--position", "A1", "--json"])
            }
            let placed = try place.json()
            #expect(placed["action"] as? String == "placed", "\(place)")
            #expect((placed["place"] as? [String: Any])?["position"] as? String == "A1", "\(place)")
            try site.expectSuccess { try site.gmp(op, ["unit", "place", "\(din)-002", "--box", Self.box, "--position", "c3"]) }

            try site.expectRefused(mentioning: ["position A1 of box \(Self.box) is taken by \(din)-001",
                                                "fix: choose a free one: gmp storage layout \(Self.box)"]) {
                try site.gmp(op, ["unit", "place", "\(din)-003", "--box", Self.box, "--position", "A1"])
            }
            try site.expectRefused(mentioning: ["\"7C\" is not a box position"]) {
                try site.gmp(op, ["unit", "place", "\(din)-003", "--box", Self.box, "--position", "7C"])
            }
            try site.expectRefused(mentioning: ["no position D1"]) {
                try site.gmp(op, ["unit", "place", "\(din)-003", "--box", Self.box, "--position", "D1"])
            }
            try site.expectRefused(mentioning: ["is not a unit id"]) {
                try site.gmp(op, ["unit", "place", din, "--box", Self.box, "--position", "B1"])
            }
            try site.expectRefused(mentioning: ["no unit \(din)-011"]) {
                try site.gmp(op, ["unit", "place", "\(din)-011", "--box", Self.box, "--position", "B1"])
            }

            let layout = try site.expectSuccess { try site.gmp(site.qa, ["storage", "layout", Self.box]) }
            #expect(layout.stdout.contains("""
                    1   2   3
                A 001   .   .
                B   .   .   .
                C   .   . 002
                """), "\(layout)")
            #expect(layout.stdout.contains("A1  \(din)-001"), "\(layout)")

            let find = try site.expectSuccess { try site.gmp(site.qa, ["storage", "find", "\(din)-001"]) }
            #expect(find.stdout.contains("SITE-A › LN2-01 › LN2-01-R1 › \(Self.box) A1"), "\(find)")
            let found = try site.expectSuccess { try site.gmp(site.qa, ["storage", "find", lot.keyed, "--json"]) }
            let units = try #require(try JSONSerialization.jsonObject(with: Data(found.stdout.utf8)) as? [[String: Any]], "\(found)")
            #expect(units.count == 10)
            #expect(units.filter { $0["state"] as? String == "stored" }.count == 2)
            try site.expectRefused(mentioning: ["check character"]) { try site.gmp(site.qa, ["storage", "find", din]) }

            let csv = try site.expectSuccess { try site.gmp(site.qa, ["storage", "occupancy", "SITE-A", "--csv"]) }
            #expect(csv.stdout == "device,kind,path,max_celsius,boxes,positions,occupied,free,percent_used\r\n"
                    + "LN2-01,tank,SITE-A › LN2-01,-150.00,1,9,2,7,22.2\r\n", "\(csv)")
            let json = try site.expectSuccess { try site.gmp(site.qa, ["storage", "occupancy", "SITE-A", "--json"]) }
            #expect(try json.json()["occupied"] as? Int == 2, "\(json)")
            #expect(try json.json()["free"] as? Int == 7, "\(json)")
            let table = try site.expectSuccess { try site.gmp(site.qa, ["storage", "occupancy", Self.box]) }
            #expect(table.stdout.contains("22.2 %"), "\(table)")
            try site.expectRefused(exit: 64) { try site.gmp(site.qa, ["storage", "occupancy", "SITE-A", "--csv", "--json"]) }
        }
    }

    @Test("move, withdraw, thaw and discard with reasons; a discarded unit is not moved; unit show prints its label")
    func unitLifecycle() throws {
        try Self.withStoredLot { site, lot in
            let din = lot.din
            let op = site.operatorAccount
            try site.expectSuccess { try site.gmp(op, ["unit", "place", "\(din)-001", "--box", Self.box, "--position", "A1"]) }
            try site.expectRefused(exit: 64, mentioning: ["--reason"]) {
                try site.gmp(op, ["unit", "move", "\(din)-001", "--box", Self.box, "--position", "B2"])
            }
            let move = try site.expectSuccess {
                try site.gmp(op, ["unit", "move", "\(din)-001", "--box", Self.box, "--position", "B2", "--reason", "consolidate"])
            }
            #expect(move.stdout.contains("\(din)-001 moved: SITE-A › LN2-01 › LN2-01-R1 › \(Self.box) B2"), "\(move)")
            try site.expectSuccess { try site.gmp(op, ["unit", "withdraw", "\(din)-001", "--reason", "for administration"]) }
            try site.expectSuccess { try site.gmp(op, ["unit", "thaw", "\(din)-001", "--reason", "for administration"]) }
            try site.expectSuccess { try site.gmp(op, ["unit", "discard", "\(din)-002", "--reason", "label damaged"]) }
            try site.expectRefused(mentioning: ["is discarded: it cannot be moved", "fix: a discarded unit stays discarded"]) {
                try site.gmp(op, ["unit", "move", "\(din)-002", "--box", Self.box, "--position", "C1", "--reason", "x"])
            }
            let show = try site.expectSuccess { try site.gmp(site.qa, ["unit", "show", "\(din)-002"]) }
            #expect(show.stdout.contains("state          discarded"), "\(show)")
            #expect(show.stdout.contains("  DISCARDED: NOT FOR USE\n  QUARANTINE: NOT FOR RELEASE"), "\(show)")
            let thawed = try site.expectSuccess { try site.gmp(site.qa, ["unit", "show", "\(din)-001", "--json"]) }
            let json = try thawed.json()
            #expect((json["label"] as? [String])?.first?.hasSuffix("-001") == true, "\(thawed)")
            #expect((json["label"] as? [String])?.contains("THAWED: DO NOT REFREEZE") == true, "\(thawed)")
            #expect((json["unit"] as? [String: Any])?["person"] as? String == op.id, "\(thawed)")
        }
    }

    @Test("custody hand-over, pending, receipt by the named receiver only, and the history as table, --json and --csv")
    func custody() throws {
        try Self.withStoredLot { site, lot in
            let din = lot.din
            let op = site.operatorAccount
            try site.expectSuccess { try site.gmp(op, ["unit", "place", "\(din)-003", "--box", Self.box, "--position", "A3"]) }
            try site.expectSuccess { try site.gmp(op, ["unit", "withdraw", "\(din)-003", "--reason", "to QC"]) }
            let hand = try site.expectSuccess {
                try site.signed(op, ["custody", "hand-over", "--unit", "\(din)-003", "--unit", "\(din)-004", "--to", site.qc.id,
                                     "--reason", "QC retain", "--json"])
            }
            let transfer = try #require(try hand.json()["transfer"] as? Int, "\(hand)")
            #expect(try hand.json()["meaning"] as? String == "performed", "\(hand)")
            let pending = try site.expectSuccess { try site.gmp(site.qa, ["custody", "pending"]) }
            #expect(pending.stdout.contains("\(din)-003, \(din)-004"), "\(pending)")
            try site.expectRefused(mentioning: ["being handed over"]) {
                try site.gmp(op, ["unit", "place", "\(din)-004", "--box", Self.box, "--position", "B3"])
            }
            let wrong = try site.signed(site.qa, ["custody", "receive", String(transfer), "--condition", "intact"])
            expectOneLineError(wrong, exit: 77, mentioning: ["not to you", "only \(site.qc.id) can confirm receipt"])
            try site.expectSuccess {
                try site.signed(site.qc, ["custody", "receive", String(transfer), "--condition", "intact, frozen"])
            }
            let empty = try site.expectSuccess { try site.gmp(site.qa, ["custody", "pending", "--json"]) }
            #expect((try JSONSerialization.jsonObject(with: Data(empty.stdout.utf8)) as? [Any])?.isEmpty == true, "\(empty)")

            let table = try site.expectSuccess { try site.gmp(site.qa, ["custody", "history", "\(din)-003"]) }
            for word in ["filled", "placed", "withdrawn", "handed_over", "identity       donor D", "intact, frozen"] {
                #expect(table.stdout.contains(word), "\(word): \(table)")
            }
            #expect(!table.stdout.contains("BROKEN"), "\(table)")
            let json = try site.expectSuccess { try site.gmp(site.qa, ["custody", "history", "\(din)-003", "--json"]) }
            let units = try #require(try json.json()["units"] as? [[String: Any]], "\(json)")
            let holdings = try #require(units.first?["holdings"] as? [[String: Any]], "\(json)")
            #expect(holdings.map { $0["action"] as? String } == ["filled", "placed", "withdrawn", "handed_over"], "\(json)")
            #expect(units.first?["problems"] as? [String] == [], "\(json)")
            let csv = try site.expectSuccess { try site.gmp(site.qa, ["custody", "history", "\(din)-003", "--csv"]) }
            let rows = csv.stdout.split(separator: "\r\n")
            #expect(rows.count == 5, "\(csv)")
            #expect(rows.first?.hasPrefix("unit,lot,division,event,action") == true, "\(csv)")
            #expect(rows.last?.contains(",handed_over,in_hand,") == true, "\(csv)")
        }
    }

    @Test("a broken chain is printed and exits 65 — as a table, --json and --csv — never hidden")
    func brokenChain() throws {
        try Self.withStoredLot { site, lot in
            let din = lot.din
            // What the rules make impossible, forced by a superuser who switches them off:
            // a holding that starts before the one it ends, the unit row left behind.
            try Tampering.asSuperuser(site.database, """
                ALTER TABLE gmp.custody_event DISABLE TRIGGER custody_rules, DISABLE TRIGGER custody_applies;
                SELECT set_config('gmp.reason', 'forced break for the test', true);
                INSERT INTO gmp.custody_event (unit_id, previous_event, at, action, state, holder_person, recorded_by)
                SELECT u.id, u.last_event, '2000-01-01', 'withdrawn', 'in_hand', u.holder_person, u.holder_person
                FROM gmp.unit u WHERE u.id = '\(din)-005';
                ALTER TABLE gmp.custody_event ENABLE ALWAYS TRIGGER custody_rules, ENABLE ALWAYS TRIGGER custody_applies
                """)
            for format in [[], ["--json"], ["--csv"]] {
                let run = try site.gmp(site.qa, ["custody", "history", "\(din)-005"] + format)
                expectOneLineError(run, exit: 65, mentioning: ["the chain of custody is broken", "\(din)-005", "earlier than"])
                #expect(run.stdout.contains("withdrawn"), "the data is printed too: \(run)")
            }
            // The lot's other units are whole; the lot as a whole still reports the break.
            try site.expectSuccess { try site.gmp(site.qa, ["custody", "history", "\(din)-006"]) }
            let whole = try site.gmp(site.qa, ["custody", "history", lot.keyed, "--csv"])
            expectOneLineError(whole, exit: 65, mentioning: ["\(din)-005"])
            #expect(whole.stdout.split(separator: "\r\n").count == 12, "\(whole)")
        }
    }
}
