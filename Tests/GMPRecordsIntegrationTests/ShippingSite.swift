import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// A QC-and-release site (QCReleaseSite) with storage and shipping set up: a site, an
/// LN2 tank with one box, a dry shipper DS-01, and a receiver at the consignee with
/// their own account; the steps of shipping as helpers, in plain SQL as psql users
/// would call them.
final class ShippingSite {
    static let consignee = "City Clinic Cell Therapy Unit"

    let qcSite: QCReleaseSite
    var site: DonorAndLotRulesTests.Site { qcSite.site }
    var superuser: PostgresConnection { site.superuser }
    let receiver: TestAccount
    let receiverSession: PostgresConnection
    private var nextPosition = 0

    static func with(_ body: (ShippingSite) throws -> Void) throws {
        try QCReleaseSite.with { qcSite in try body(try ShippingSite(qcSite)) }
    }

    private init(_ qcSite: QCReleaseSite) throws {
        self.qcSite = qcSite
        receiver = try TestAccount.create(in: qcSite.site.database, roles: ["operator"], fullName: "Rita Receiver")
        receiverSession = try receiver.connect()
        for call in ["SELECT gmp.add_location('SITE-A', 'site', NULL, 'Main site', NULL, NULL, NULL, NULL)",
                     "SELECT gmp.add_location('LN2-01', 'tank', 'SITE-A', 'LN2 vapour tank', -150, '{cells}', NULL, NULL)",
                     "SELECT gmp.add_location('LN2-01-B1', 'box', 'LN2-01', 'Box 1', NULL, NULL, 9, 9)",
                     "SELECT gmp.add_location('DS-01', 'shipper', 'SITE-A', 'Dry shipper 1', -150, '{cells}', NULL, NULL)"] {
            try qcSite.site.operatorSession.execute(script: SQLScript(shippedWithBinary: call))
        }
    }

    // Lots and units.

    /// A drug-product lot manufactured through the fill (20 units in the operator's
    /// hands) and cryopreserved, still in quarantine.
    func filledLot(eligible: Bool = true) throws -> String {
        let din = try qcSite.lot(eligible: eligible)
        for kind in ["isolation", "passage", "harvest", "formulation", "fill", "cryopreservation"] {
            try site.step(din, kind)
        }
        return din
    }

    /// A filled lot whose results all pass, released by QA.
    func releasedLot() throws -> String {
        let din = try filledLot()
        try qcSite.passAll(din)
        try qcSite.release(din)
        return din
    }

    func units(_ din: String) throws -> [String] {
        try superuser.query("SELECT id FROM gmp.unit WHERE din = \(din) ORDER BY division").map { try $0.decode("id") }
    }

    func unitState(_ unit: String) throws -> String {
        try superuser.query("SELECT state FROM gmp.unit WHERE id = \(unit)")[0].decode("state")
    }

    func shipmentStatus(_ shipment: String) throws -> String {
        try superuser.query("SELECT status FROM gmp.shipment WHERE id = \(shipment)")[0].decode("status")
    }

    // Storage and excursions.

    /// The operator places the unit in the tank's box, at the next free position.
    func storeInTank(_ unit: String) throws {
        nextPosition += 1
        try site.operatorSession.execute("""
            SELECT gmp.place_unit(\(unit), 'LN2-01-B1', \(1 + nextPosition / 9)::int, \(1 + nextPosition % 9)::int, 'stored')
            """)
    }

    /// Loads two readings of `device` just past: one warmer than its limit, then one back
    /// within it, which opens and ends an excursion covering whatever is in the device
    /// now; returns the excursion's id.
    func excursion(device: String) throws -> String {
        // The readings must fall inside the holdings that began just before.
        Thread.sleep(forTimeInterval: 0.02)
        try site.operatorSession.transaction { db in
            let times = try db.query("""
                SELECT (clock_timestamp() - interval '8 milliseconds')::text AS t1,
                       (clock_timestamp() - interval '4 milliseconds')::text AS t2
                """)[0]
            let t1: String = try times.decode("t1"), t2: String = try times.decode("t2")
            let id: Int64 = try db.query("""
                SELECT gmp.begin_readings_import(\(device), repeat('a', 64), 2::bigint, \(t1)::timestamptz,
                                                 \(t2)::timestamptz) AS id
                """)[0].decode("id")
            try db.execute("""
                INSERT INTO gmp.temperature_reading (import_id, device_id, read_at, celsius)
                VALUES (\(id), \(device), \(t1)::timestamptz, -120), (\(id), \(device), \(t2)::timestamptz, -190)
                """)
        }
        return try superuser.query("""
            SELECT id FROM gmp.excursion WHERE device_id = \(device) AND status = 'open' ORDER BY id DESC LIMIT 1
            """)[0].decode("id")
    }

    /// QA closes the excursion with a signed impact assessment.
    func assess(_ excursion: String) throws {
        try SignatureCeremony(site.qaSession).sign(password: site.qa.password) { db, challenge in
            _ = try db.execute("SELECT gmp.assess_excursion(\(challenge), \(excursion), 'no impact: peak -120 °C for seconds')")
        }
    }

    // Shipping.

    /// A shipment to the consignee in DS-01, received by ``receiver``; on the urgent-need
    /// path it is created by the director.
    func createShipment(urgent: Bool = false, as session: PostgresConnection? = nil) throws -> String {
        let need: String? = urgent ? "relapse; no alternative therapy; cannot wait for eligibility" : nil
        let physician: String? = urgent ? "Dr. P. Hysician, written request of today" : nil
        return try (session ?? (urgent ? site.directorSession : site.operatorSession)).query("""
            SELECT gmp.create_shipment(\(Self.consignee), '1 Main St, Springfield', \(receiver.id), 'DS-01',
                                       'PQ-DS-01 (48 h below -150 °C), valid to 2027-06-30', \(need), \(physician)) AS id
            """)[0].decode("id")
    }

    /// Packs `units` as the operator (who filled them); returns how many the shipment holds.
    func pack(_ shipment: String, _ units: [String], as session: PostgresConnection? = nil) throws -> Int {
        try (session ?? site.operatorSession).query("SELECT gmp.pack_shipment(\(shipment), \(units)::text[]) AS n")[0]
            .decode("n")
    }

    /// The sender (default: the operator who packed) dispatches, signing.
    func dispatch(_ shipment: String, as account: TestAccount? = nil, session: PostgresConnection? = nil) throws {
        try SignatureCeremony(session ?? site.operatorSession).sign(password: (account ?? site.operatorAccount).password) {
            db, challenge in
            _ = try Shipments.dispatch(on: db, challenge: challenge, shipment: shipment,
                                       courier: "ColdChain Couriers, waybill 4711", reason: "handed to the courier")
        }
    }

    /// The receiver (default: the named one) confirms receipt, `secondsAgo` (default: now).
    func receive(_ shipment: String, condition: String, secondsAgo: Int? = nil, as account: TestAccount? = nil,
                 session: PostgresConnection? = nil) throws {
        try SignatureCeremony(session ?? receiverSession).sign(password: (account ?? receiver).password) { db, challenge in
            _ = try db.query("""
                SELECT gmp.receive_shipment(\(challenge), \(shipment),
                                            clock_timestamp() - \(secondsAgo ?? 0)::int * interval '1 second',
                                            \(condition)) AS id
                """)
        }
    }
}
