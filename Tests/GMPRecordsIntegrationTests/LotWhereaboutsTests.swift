import Foundation
import PostgresClient
import Testing
import TestSupport

/// V0044: each lot's units as the material trace lists them, kept in
/// gmp_meta.lot_whereabouts by the database. The rows must always be the units as they
/// are now: after every kind of move, whoever writes, and with two writers of one lot.
@Suite("A lot's kept units are its units as they are now, whoever writes")
struct LotWhereaboutsTests {
    /// Lots whose kept units differ from their units now, or that have units and no row.
    static func stale(_ db: PostgresConnection) throws -> [String] {
        try db.query("""
            SELECT w.din FROM gmp_meta.lot_whereabouts w
            WHERE w.units::text IS DISTINCT FROM gmp_rules.lot_units_json(w.din)::text
            UNION ALL
            SELECT DISTINCT u.din FROM gmp.unit u
            WHERE NOT EXISTS (SELECT FROM gmp_meta.lot_whereabouts w WHERE w.din = u.din)
            ORDER BY 1
            """).map { try $0.decode("din") }
    }

    /// The kept entry of `unit`, as the trace would list it.
    static func kept(_ db: PostgresConnection, _ din: String, _ unit: String) throws -> [String: Any] {
        let text: String = try db.query("SELECT units::text AS u FROM gmp_meta.lot_whereabouts WHERE din = \(din)")[0].decode("u")
        let units = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        return try #require(units.first { $0["unit"] as? String == unit })
    }

    @Test("filled, stored, packed, dispatched and received: after each move the lot's row is its units now")
    func followsEveryMove() throws {
        try ShippingSite.with { s in
            let db = s.superuser
            let din = try s.releasedLot()
            let units = try s.units(din)
            #expect(try Self.stale(db) == [])
            #expect(try Self.kept(db, din, units[0])["person"] as? String == s.site.operatorAccount.id)

            try s.storeInTank(units[3])
            #expect(try Self.stale(db) == [])
            let stored = try Self.kept(db, din, units[3])
            #expect(stored["state"] as? String == "stored" && stored["location"] as? String != nil
                    && stored["position"] as? String != nil && stored["person"] == nil, "\(stored)")

            let shipment = try s.createShipment()
            #expect(try s.pack(shipment, Array(units.prefix(2))) == 2)
            #expect(try Self.stale(db) == [])
            try s.dispatch(shipment)
            #expect(try Self.stale(db) == [])
            #expect(try Self.kept(db, din, units[0])["received_at"] == nil)
            try s.receive(shipment, condition: "shipper intact, logger in range")
            #expect(try Self.stale(db) == [])
            let delivered = try Self.kept(db, din, units[0])
            #expect(delivered["state"] as? String == "delivered")
            #expect(delivered["consignee"] as? String == ShippingSite.consignee)
            #expect(delivered["received_at"] is String, "the shipment's receipt reaches its units' row: \(delivered)")
        }
    }

    @Test("a superuser cannot store units that are not the lot's: an update is set back, a second row, a delete and a truncate are refused, replica mode too")
    func rowsAreTheRules() throws {
        try ShippingSite.with { s in
            let db = s.superuser
            let din = try s.filledLot()
            let before: String = try db.query("SELECT units::text AS u FROM gmp_meta.lot_whereabouts WHERE din = \(din)")[0].decode("u")
            for mode in ["origin", "replica"] {
                _ = try db.execute("SELECT set_config('session_replication_role', \(mode), false)")
                let after: String = try db.query("""
                    UPDATE gmp_meta.lot_whereabouts SET units = '[{"unit":"forged","state":"in_hand"}]' WHERE din = \(din)
                    RETURNING units::text AS u
                    """)[0].decode("u")
                #expect(after == before, "\(mode): the row is the units, not what was written")
                for (statement, state) in [("INSERT INTO gmp_meta.lot_whereabouts VALUES ('\(din)', '[]')", "23505"),
                                           ("DELETE FROM gmp_meta.lot_whereabouts WHERE din = '\(din)'", "GM004"),
                                           ("TRUNCATE gmp_meta.lot_whereabouts", "GM004")] {
                    do {
                        try db.execute(script: SQLScript(shippedWithBinary: statement))
                        Issue.record("\(mode): \(statement) succeeded")
                    } catch let error as PostgresError {
                        #expect(error.sqlState == state, "\(mode): \(statement): \(error.sqlState) \(error.message)")
                    }
                }
            }
            _ = try db.execute("SELECT set_config('session_replication_role', 'origin', false)")
            #expect(try Self.stale(db) == [])
        }
    }

    @Test("two sessions storing units of one lot at READ COMMITTED, the second waiting for the first's row: both moves are in it")
    func twoWritersOfOneLot() throws {
        try ShippingSite.with { s in
            let din = try s.filledLot()
            let units = try s.units(din)
            try s.site.operatorSession.execute(
                "SELECT gmp.add_location('LN2-01-B2', 'box', 'LN2-01', 'Box 2', NULL, NULL, 9, 9)")
            let first = s.site.operatorSession
            let account = s.site.operatorAccount
            try first.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            try first.execute("SELECT gmp.place_unit(\(units[0]), 'LN2-01-B1', 1, 1, 'stored')")
            let second = units[1]
            // Another box, another unit: the lot's row is all the two share.
            let outcome = try SameRecordRaceTests.race(s.site, waiting: account, second: {
                try account.connect().transaction(.readCommitted) { db in
                    _ = try db.execute("SELECT gmp.place_unit(\(second), 'LN2-01-B2', 1, 1, 'stored')")
                }
            }, release: { try first.execute("COMMIT") })
            #expect(outcome == "ok")
            #expect(try Self.stale(s.superuser) == [])
            #expect(try Self.kept(s.superuser, din, units[0])["location"] as? String != nil)
            #expect(try Self.kept(s.superuser, din, units[1])["location"] as? String != nil)
        }
    }
}
