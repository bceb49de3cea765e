import Foundation
import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// The storage and custody rules of sql/code/11_storage.sql and 12_custody.sql, tried as the people who use them and as
/// a superuser with psql: one unit per position, positions inside the layout, devices
/// that may hold the product, signed hand-overs received only by the named person, no
/// gap and no double custody, nothing deleted; and two people placing at once.
@Suite("Storage and custody rules hold in the database, whoever asks")
struct CustodyRulesTests {
    typealias Site = CustodySite

    /// Expects `body` to be refused by GMPRecords with a ``Refusal``; returns it.
    @discardableResult
    static func expectRefusal(_ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                              _ body: () throws -> Void) -> Refusal? {
        do {
            try body()
            Issue.record("\(what): accepted, expected a refusal", sourceLocation: sourceLocation)
        } catch let refusal as Refusal {
            return refusal
        } catch {
            Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    // MARK: - Positions

    @Test("a second unit into an occupied position is refused, naming the unit there; a stored unit is not placed twice")
    func occupiedPosition() throws {
        try Site.with { s in
            let first = try s.unit(1), second = try s.unit(2)
            try s.place(1, at: "A1")
            #expect(try s.holding(1) == "stored \(Site.box) A1")
            try s.site.expectRefused("23505", "a second unit into A1 in SQL") {
                _ = try s.site.operatorSession.execute("SELECT gmp.place_unit(\(second.value), \(Site.box), 1, 1, NULL)")
            }
            let refusal = Self.expectRefusal("a second unit into A1") { try s.place(2, at: "A1") }
            #expect(refusal?.reasons == ["position A1 of box \(Site.box) is taken by \(first.value)"])
            #expect(refusal?.fix == "choose a free one: gmp storage layout \(Site.box)")
            #expect(try s.holding(2) == "in_hand \(s.site.operatorAccount.id)")
            // One position per unit: a stored unit must be withdrawn before it goes anywhere but by a move.
            try s.site.expectRefused("GM003", naming: ["stored", "placed"], "placing a stored unit again") {
                _ = try s.site.operatorSession.execute("SELECT gmp.place_unit(\(first.value), \(Site.box), 1, 2, NULL)")
            }
        }
    }

    @Test("a position outside the box's layout, a location that is not a box, and a device that may not hold the product are refused")
    func wherePlaced() throws {
        try Site.with { s in
            for (box, position, naming) in [(Site.box, "D1", ["no position D1", "rows A–C"]),
                                            (Site.box, "A4", ["no position A4", "columns 1–3"]),
                                            ("TANK-1-R1", "A1", ["is a rack, not a box"]),
                                            (Site.mediumBox, "A1", ["FRZ-CM", "conditioned_medium", "not cells"])] {
                try s.site.expectRefused("GM002", naming: naming, "placing in \(box) \(position)") {
                    try s.place(4, box: box, at: position)
                }
            }
            #expect(try s.holding(4) == "in_hand \(s.site.operatorAccount.id)")
            #expect(try s.eventCount(4) == 1)
        }
    }

    @Test("a discarded unit cannot be moved, withdrawn or placed; its record stays")
    func discardedUnit() throws {
        try Site.with { s in
            try s.place(3, at: "A2")
            _ = try s.site.operatorSession.transaction { db in try Units(db).perform(.discard, on: try s.unit(3), reason: "label damaged") }
            #expect(try s.holding(3) == "discarded \(s.site.operatorAccount.id)")
            let unit = try s.unit(3).value
            try s.site.expectRefused("GM003", naming: ["discarded", "cannot be moved"], "moving a discarded unit") {
                _ = try s.site.operatorSession.execute("SELECT gmp.move_unit(\(unit), \(Site.box), 2, 2, 'tidy up')")
            }
            try s.site.expectRefused("GM003", naming: ["discarded"], "withdrawing a discarded unit") {
                _ = try s.site.operatorSession.execute("SELECT gmp.withdraw_unit(\(unit), 'for use')")
            }
            try s.site.expectRefused("GM003", naming: ["discarded"], "placing a discarded unit") {
                try s.place(3, at: "B2")
            }
            // The position it left is free again.
            try s.place(4, at: "A2")
        }
    }

    @Test("a unit in someone else's hands, held or thawed, is not yours to thaw or discard; a hand-over is to someone else")
    func othersUnits() throws {
        try Site.with { s in
            let unit = try s.unit(5).value
            let operatorID = s.site.operatorAccount.id
            try s.site.expectRefused("GM005", naming: ["in the hands of \(operatorID)"], "QA discarding the operator's unit") {
                _ = try s.site.qaSession.execute("SELECT gmp.discard_unit(\(unit), 'not needed')")
            }
            _ = try s.site.operatorSession.execute("SELECT gmp.thaw_unit(\(unit), 'post-thaw viability')")
            try s.site.expectRefused("GM005", naming: ["in the hands of \(operatorID)"], "QA discarding a thawed unit it does not hold") {
                _ = try s.site.qaSession.execute("SELECT gmp.discard_unit(\(unit), 'not needed')")
            }
            try s.site.expectRefused("GM005", naming: ["someone else"], "a hand-over to oneself") {
                _ = try s.handOver([6], from: s.site.operatorAccount, s.site.operatorSession, to: s.site.operatorAccount)
            }
            #expect(try s.holding(5) == "thawed \(operatorID)")
        }
    }

    // MARK: - Hand-overs

    @Test("only the named receiver confirms a hand-over; custody passes at receipt")
    func namedReceiver() throws {
        try Site.with { s in
            let transfer = try s.handOver([7], from: s.site.operatorAccount, s.site.operatorSession, to: s.operator2)
            for (account, session) in [(s.site.qa, s.site.qaSession), (s.site.qc, s.site.qcSession)] {
                DonorAndLotRulesTests.expectSQLState("42501", "\(account.id) receiving a transfer to \(s.operator2.id)") {
                    try s.receive(transfer, by: account, session)
                }
            }
            // Nor can an owner write the receipt for someone else.
            let qa = s.site.qa.id
            try s.site.expectRefused("42501", naming: ["is to \(s.operator2.id), not to \(qa)"], "a receipt by another, in SQL") {
                try s.site.asSuperuser("""
                    INSERT INTO gmp.custody_receipt (transfer_id, received_at, received_by, condition)
                    VALUES (\(transfer), now(), '\(qa)', 'intact')
                    """)
            }
            // Until then the sender keeps custody.
            #expect(try s.holding(7) == "in_hand \(s.site.operatorAccount.id)")
            #expect(try Custody(s.site.qaSession).pending().map(\.transfer) == [transfer])
            try s.receive(transfer, by: s.operator2, s.operator2Session)
            #expect(try s.holding(7) == "in_hand \(s.operator2.id)")
            #expect(try Custody(s.site.qaSession).pending().isEmpty)
            DonorAndLotRulesTests.expectSQLState("GM004", "receiving the same transfer twice") {
                try s.receive(transfer, by: s.operator2, s.operator2Session)
            }
        }
    }

    @Test("a pending hand-over freezes its units until the receiver confirms")
    func pendingFreezes() throws {
        try Site.with { s in
            let transfer = try s.handOver([8], from: s.site.operatorAccount, s.site.operatorSession, to: s.operator2)
            let unit = try s.unit(8)
            try s.site.expectRefused("GM007", naming: ["being handed over"], "placing a unit being handed over") {
                try s.place(8, at: "C3")
            }
            for action in Units.Action.allCases where action != .withdraw {
                try s.site.expectRefused("GM007", naming: ["being handed over"], "\(action) of a unit being handed over") {
                    _ = try s.site.operatorSession.transaction { db in try Units(db).perform(action, on: unit, reason: "try") }
                }
            }
            DonorAndLotRulesTests.expectSQLState("GM007", "a second hand-over of the same unit") {
                _ = try s.handOver([8], from: s.site.operatorAccount, s.site.operatorSession, to: s.site.qa)
            }
            #expect(try s.eventCount(8) == 1)
            try s.receive(transfer, by: s.operator2, s.operator2Session)
            try s.place(8, at: "C3", as: s.operator2Session)
            #expect(try s.holding(8) == "stored \(Site.box) C3")
        }
    }

    // MARK: - The chain itself

    @Test("custody gaps and double custody are impossible, even for a superuser writing events and units directly")
    func noGapNoDoubleCustody() throws {
        try Site.with { s in
            try s.place(9, at: "A3")
            let unit = try s.unit(9).value
            let events: [Int64] = try s.site.superuser.query("""
                SELECT id FROM gmp.custody_event WHERE unit_id = \(unit) ORDER BY id
                """).map { try $0.decode("id") }
            try #require(events.count == 2)
            let (filled, placed) = (events[0], events[1])
            let qa = s.site.qa.id
            let statements: [(String, String, [String])] = [
                // A second holding continuing the fill: the placement already did.
                ("GM010", """
                    INSERT INTO gmp.custody_event (unit_id, previous_event, action, state, holder_person, recorded_by)
                    VALUES ('\(unit)', \(filled), 'withdrawn', 'in_hand', '\(qa)', '\(qa)')
                    """, ["moved on"]),
                // A second chain.
                ("GM003", """
                    INSERT INTO gmp.custody_event (unit_id, action, state, holder_person, recorded_by)
                    VALUES ('\(unit)', 'filled', 'in_hand', '\(qa)', '\(qa)')
                    """, ["filled already"]),
                // A holding that does not follow from the stored state.
                ("GM003", """
                    INSERT INTO gmp.custody_event (unit_id, action, state, holder_person, recorded_by)
                    VALUES ('\(unit)', 'thawed', 'thawed', '\(qa)', '\(qa)')
                    """, ["stored", "cannot be thawed"]),
                // A holding that starts before the one it ends (a gap run backwards).
                ("GM007", """
                    INSERT INTO gmp.custody_event (unit_id, at, action, state, holder_person, recorded_by)
                    VALUES ('\(unit)', '2000-01-01', 'withdrawn', 'in_hand', '\(qa)', '\(qa)')
                    """, ["precede"]),
                // The unit handed to someone no event names.
                ("GM007", """
                    UPDATE gmp.unit SET state = 'in_hand', box_id = NULL, box_row = NULL, box_column = NULL,
                                        device_id = NULL, holder_person = '\(qa)' WHERE id = '\(unit)'
                    """, ["only by a custody event"]),
                // The unit pointed back at an older event.
                ("GM007", "UPDATE gmp.unit SET last_event = \(filled) WHERE id = '\(unit)'", ["only by a custody event"]),
            ]
            for (state, statement, naming) in statements {
                try s.site.expectRefused(state, naming: naming, statement) {
                    try TestServer.connect(s.site.database).execute(script: SQLScript(shippedWithBinary: """
                        BEGIN; SELECT set_config('gmp.reason', 'superuser edit in a test', true); \(statement); COMMIT
                        """))
                }
            }
            // Behind the rule trigger, the unique previous_event refuses a second
            // continuation of the same holding, even from an owner who switches the rule
            // trigger off (and the DDL recorder that refuses that, first).
            DonorAndLotRulesTests.expectSQLState("23505", "a second continuation with the rule trigger disabled") {
                try Tampering.asSuperuser(s.site.database, """
                    ALTER TABLE gmp.custody_event DISABLE TRIGGER custody_rules;
                    SELECT set_config('gmp.reason', 'owner forcing a second holding', true);
                    INSERT INTO gmp.custody_event (unit_id, previous_event, action, state, holder_person, recorded_by)
                    VALUES ('\(unit)', \(filled), 'withdrawn', 'in_hand', '\(qa)', '\(qa)')
                    """)
            }
            #expect(try s.holding(9) == "stored \(Site.box) A3")
            let history = try Custody(s.site.qaSession).history(.unit(try s.unit(9)))
            #expect(history.first?.problems == [])
            #expect(history.first?.holdings.map(\.event) == [filled, placed])
        }
    }

    @Test("units, custody events, transfers and locations are never deleted or rewritten")
    func nothingDeleted() throws {
        try Site.with { s in
            try s.place(10, at: "B1")
            _ = try s.handOver([11], from: s.site.operatorAccount, s.site.operatorSession, to: s.operator2)
            try s.receive(try s.handOver([13], from: s.site.operatorAccount, s.site.operatorSession, to: s.operator2),
                          by: s.operator2, s.operator2Session)
            let unit = try s.unit(10).value
            for (state, statement) in [
                ("GM004", "DELETE FROM gmp.unit WHERE id = '\(unit)'"),
                ("GM004", "UPDATE gmp.unit SET volume_ml = 2 WHERE id = '\(unit)'"),
                ("42501", "TRUNCATE gmp.unit CASCADE"),
                ("42501", "UPDATE gmp.custody_event SET reason = 'rewritten' WHERE unit_id = '\(unit)'"),
                ("42501", "DELETE FROM gmp.custody_event WHERE unit_id = '\(unit)'"),
                ("42501", "DELETE FROM gmp.custody_transfer"),
                ("42501", "UPDATE gmp.custody_transfer SET to_person = from_person"),
                ("42501", "DELETE FROM gmp.custody_receipt"),
                ("42501", "UPDATE gmp.custody_receipt SET condition = 'rewritten'"),
                ("GM004", "DELETE FROM gmp.storage_location WHERE id = '\(Site.box)'"),
                ("GM004", "UPDATE gmp.storage_location SET rows = 9 WHERE id = '\(Site.box)'"),
            ] {
                try s.site.expectRefused(state, statement) { try s.site.asSuperuser(statement) }
            }
            // People cannot write the tables at all.
            for session in [s.site.operatorSession, s.site.qaSession] {
                DonorAndLotRulesTests.expectSQLState("42501", "a person inserting a custody event") {
                    _ = try session.execute("""
                        INSERT INTO gmp.custody_event (unit_id, action, state, holder_person) VALUES (\(unit), 'moved', 'in_hand', 'x')
                        """)
                }
            }
        }
    }

    // MARK: - Two people at once

    /// Two people place different units into B2 at the same moment: the first holds its
    /// uncommitted placement while the second's queues behind the unique index; then the
    /// first commits. Returns what the second got.
    static func race(_ s: Site, second: @escaping @Sendable (PostgresConnection, UnitIdentifier) throws -> Void) throws -> String {
        let (first, other) = try s.twoHolders()
        let a = s.site.operatorSession
        try a.execute("BEGIN")
        _ = try a.execute("SELECT gmp.place_unit(\(first.value), \(Site.box), 2, 2, NULL)")
        let outcome = Locked<String>("not run")
        let group = DispatchGroup()
        let account = s.operator2
        DispatchQueue.global().async(group: group) {
            do {
                try second(try account.connect(), other)
                outcome.mutate { $0 = "ok" }
            } catch let refusal as Refusal {
                outcome.mutate { $0 = "refusal: \(refusal.reasons.joined(separator: "; ")); fix: \(refusal.fix)" }
            } catch let error as PostgresError {
                outcome.mutate { $0 = "\(error.sqlState) \(error.constraint ?? "")" }
            } catch {
                outcome.mutate { $0 = "other \(error)" }
            }
        }
        // Commit only once the second placement is waiting on the first.
        let deadline = Date().addingTimeInterval(10)
        var queued = false
        while !queued && Date() < deadline {
            let waiting: Int64 = try s.site.superuser.query("""
                SELECT count(*) AS n FROM pg_stat_activity WHERE usename = \(account.id) AND wait_event_type = 'Lock'
                """)[0].decode("n")
            queued = waiting > 0
            if !queued { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(queued, "the second placement never waited on the first: the two did not overlap")
        try a.execute("COMMIT")
        group.wait()
        #expect(try s.holding(5) == "stored \(Site.box) B2")
        #expect(try s.holding(6) == "in_hand \(account.id)")
        return outcome.value
    }

    @Test("two people placing different units into the same position at once: one succeeds, one gets a unique violation")
    func concurrentPlacementInSQL() throws {
        try Site.with { s in
            let outcome = try Self.race(s) { db, unit in
                try db.execute("BEGIN")
                defer { _ = try? db.execute("ROLLBACK") }
                _ = try db.execute("SELECT gmp.place_unit(\(unit.value), \(Site.box), 2, 2, NULL)")
                try db.execute("COMMIT")
            }
            #expect(outcome == "23505 unit_position")
        }
    }

    @Test("two people placing at once through gmp: the second is told which unit took the position and where to look")
    func concurrentPlacementExplained() throws {
        try Site.with { s in
            let first = try s.unit(5)
            let outcome = try Self.race(s) { db, unit in
                _ = try Units.store(unit, in: Site.box, at: try StoragePosition("B2"), .place(reason: nil), on: db)
            }
            #expect(outcome == "refusal: position B2 of box \(Site.box) is taken by \(first.value); "
                    + "fix: choose a free one: gmp storage layout \(Site.box)")
        }
    }

    // MARK: - Reading

    @Test("custody history: filled → placed → withdrawn → handed over, no problems, identity back to the donor")
    func history() throws {
        try Site.with { s in
            let unit = try s.unit(12)
            try s.place(12, at: "C1")
            _ = try s.site.operatorSession.transaction { db in try Units(db).perform(.withdraw, on: unit, reason: "for QC") }
            let transfer = try s.handOver([12], from: s.site.operatorAccount, s.site.operatorSession, to: s.operator2)
            try s.receive(transfer, by: s.operator2, s.operator2Session)

            let documents = try Custody(s.site.qaSession).history(.unit(unit))
            try #require(documents.count == 1)
            let d = documents[0]
            #expect(d.unit == unit.value)
            #expect(d.lot == s.lot)
            #expect(d.problems == [])
            #expect(d.holdings.map(\.action) == ["filled", "placed", "withdrawn", "handed_over"])
            #expect(d.identity.map(\.kind) == ["donor", "collection", "lot", "unit"])
            #expect(d.identity.first?.id == s.donor)
            #expect(d.donor == s.donor)
            // No gap: each holding ends when the next begins; the last is still held.
            for (held, next) in zip(d.holdings, d.holdings.dropFirst()) { #expect(held.until == next.since) }
            #expect(d.holdings.last?.until == nil)
            #expect(d.holdings[1].location == "SITE-T › TANK-1 › TANK-1-R1 › \(Site.box)")
            #expect(d.holdings[1].position == "C1")
            #expect(d.holdings[2].person == s.site.operatorAccount.id)
            #expect(d.holdings[3].person == s.operator2.id)
            #expect(d.holdings[3].transfer == transfer)
            #expect(d.holdings[3].condition == "intact, frozen")

            let lot = try Custody(s.site.qaSession).history(.lot(try DonationIdentificationNumber(stored: s.lot)))
            #expect(lot.count == 20)
            #expect(lot.allSatisfy { $0.problems.isEmpty && $0.volumeMl == "1.5" })
        }
    }

    @Test("the tree, a box's layout, where units are, and occupancy per device")
    func reading() throws {
        try Site.with { s in
            try s.place(1, at: "A1")
            try s.place(2, at: "C3")
            let storage = StorageLocations(s.site.qaSession)
            let tree = try storage.tree(under: "tank-1")
            #expect(tree.map(\.id) == ["TANK-1", "TANK-1-R1", Site.box])
            #expect(tree.map(\.depth) == [1, 2, 3])
            #expect(tree.last?.occupied == 2)
            #expect(try storage.tree(under: nil).count == 6)
            let layout = try storage.layout(box: Site.box)
            #expect(layout.grid.render() == "    1   2   3\nA 001   .   .\nB   .   .   .\nC   .   . 002")
            let places = try storage.find(.lot(try DonationIdentificationNumber(stored: s.lot)))
            #expect(places.count == 20)
            #expect(places[0].holder == "SITE-T › TANK-1 › TANK-1-R1 › \(Site.box) A1")
            #expect(places[2].holder == "in the hands of \(s.site.operatorAccount.id)")
            let occupancy = try storage.occupancy("SITE-T")
            #expect(occupancy.map(\.device) == ["FRZ-CM", "TANK-1"])
            #expect(occupancy.map(\.positions) == [9, 9])
            #expect(occupancy.map(\.occupied) == [0, 2])
            #expect(occupancy.map(\.percentUsed) == ["0.0", "22.2"])
            #expect(try storage.occupancy(Site.box).map(\.device) == ["TANK-1"])
            #expect(Self.expectRefusal("a box that does not exist") { _ = try storage.layout(box: "NOPE") }?.reasons
                    == ["there is no storage location NOPE"])
        }
    }
}
