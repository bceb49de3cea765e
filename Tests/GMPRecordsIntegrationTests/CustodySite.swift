import Foundation
import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// A site (DonorAndLotRulesTests.Site) with a storage tree and a filled lot, for the
/// storage and custody rules of sql/code/11_storage.sql and 12_custody.sql:
///
///     SITE-T › TANK-1 (≤ -150 °C, cells) › TANK-1-R1 › TANK-1-B01 (3 × 3)
///            › FRZ-CM (≤ -80 °C, conditioned medium only) › FRZ-CM-B01 (3 × 3)
///
/// The lot is a master cell bank whose fill made 20 units of 1.5 mL, in the hands of the
/// site's operator, who filled them. A second operator can be handed units.
final class CustodySite {
    let site: DonorAndLotRulesTests.Site
    let operator2: TestAccount
    let operator2Session: PostgresConnection
    /// The filled lot's DIN, and the donor of its collection.
    let lot: String
    let donor: String

    static let box = "TANK-1-B01"
    static let mediumBox = "FRZ-CM-B01"

    static func with(_ body: (CustodySite) throws -> Void) throws {
        try DonorAndLotRulesTests.Site.with { site in try body(try CustodySite(site)) }
    }

    private init(_ site: DonorAndLotRulesTests.Site) throws {
        self.site = site
        operator2 = try TestAccount.create(in: site.database, roles: ["operator"], fullName: "Oscar Second")
        operator2Session = try operator2.connect()
        let (donor, collection) = try site.receivedCollection()
        self.donor = donor
        lot = try site.cellBank(from: collection)
        let storage = StorageLocations(site.operatorSession)
        for location in [
            NewStorageLocation(id: "SITE-T", kind: .site, name: "Test site"),
            NewStorageLocation(id: "TANK-1", kind: .tank, parent: "SITE-T", maxCelsius: ExactDecimal("-150"), holds: [.cells]),
            NewStorageLocation(id: "TANK-1-R1", kind: .rack, parent: "TANK-1"),
            NewStorageLocation(id: Self.box, kind: .box, parent: "TANK-1-R1", rows: 3, columns: 3),
            NewStorageLocation(id: "FRZ-CM", kind: .freezer, parent: "SITE-T", maxCelsius: ExactDecimal("-80"),
                               holds: [.conditionedMedium]),
            NewStorageLocation(id: Self.mediumBox, kind: .box, parent: "FRZ-CM", rows: 3, columns: 3),
        ] {
            _ = try storage.add(location)
        }
    }

    /// The unit of the lot with this division: "G123426000001-001".
    func unit(_ division: Int) throws -> UnitIdentifier {
        try UnitIdentifier(din: try DonationIdentificationNumber(stored: lot), division: division)
    }

    /// Places a unit as `session` (default: the operator who filled it) in its own transaction.
    @discardableResult
    func place(_ division: Int, box: String = CustodySite.box, at position: String,
               as session: PostgresConnection? = nil) throws -> Int64 {
        try Units.store(try unit(division), in: box, at: try StoragePosition(position), .place(reason: nil),
                        on: session ?? site.operatorSession)
    }

    /// `from` signs off a hand-over of `divisions` to `to`; returns the transfer.
    func handOver(_ divisions: [Int], from: TestAccount, _ session: PostgresConnection, to: TestAccount) throws -> Int64 {
        let units = try divisions.map(unit)
        return try SignatureCeremony(session).sign(password: from.password) { db, challenge in
            try Custody.handOver(on: db, challenge: challenge, units: units, to: to.id, reason: "to the second operator").transfer
        }
    }

    /// `by` confirms receipt of `transfer`.
    func receive(_ transfer: Int64, by account: TestAccount, _ session: PostgresConnection) throws {
        _ = try SignatureCeremony(session).sign(password: account.password) { db, challenge in
            try Custody.receive(on: db, challenge: challenge, transfer: transfer, at: nil, condition: "intact, frozen")
        }
    }

    /// Units 5 and 6 of the lot: 5 with the first operator, 6 handed over to and received
    /// by the second, so that two people each hold a unit to place.
    func twoHolders() throws -> (first: UnitIdentifier, second: UnitIdentifier) {
        let transfer = try handOver([6], from: site.operatorAccount, site.operatorSession, to: operator2)
        try receive(transfer, by: operator2, operator2Session)
        return (try unit(5), try unit(6))
    }

    /// The unit's state and holder as the unit row has them: "stored TANK-1-B01 A1",
    /// "in_hand uXXXX", …
    func holding(_ division: Int) throws -> String {
        try site.superuser.query("""
            SELECT state || ' ' || coalesce(box_id || ' ' || chr(64 + box_row) || box_column, holder_person, holder_party) AS h
            FROM gmp.unit WHERE id = \(try unit(division).value)
            """)[0].decode("h")
    }

    func eventCount(_ division: Int) throws -> Int64 {
        try site.superuser.query("SELECT count(*) AS n FROM gmp.custody_event WHERE unit_id = \(try unit(division).value)")[0]
            .decode("n")
    }
}
