#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Chain of custody (sql/code/11_storage.sql and 12_custody.sql): signed hand-overs from one person to another, their
/// receipt by the named receiver, and each unit's unbroken history back to the donor.
public struct Custody {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// A hand-over signed off by its sender and not yet confirmed by its receiver.
    public struct PendingTransfer: Encodable, Sendable, Equatable {
        public let transfer: Int64
        public let units: [String]
        public let from: String
        public let to: String
        public let reason: String
        public let signedOffAt: Timestamp
    }

    /// The sender signs off a hand-over of units in their hands to `person` (meaning
    /// "performed"). Call inside a signature ceremony.
    public static func handOver(on db: PostgresConnection, challenge: UUID, units: [UnitIdentifier], to person: String,
                                reason: String) throws -> (transfer: Int64, signature: Int64) {
        let row = try db.query("""
            SELECT transfer_id, signature_id FROM gmp.hand_over(\(challenge), \(units.map(\.value))::text[], \(person), \(reason))
            """)[0]
        return (try row.decode("transfer_id"), try row.decode("signature_id"))
    }

    /// The named receiver confirms receipt with its time (nil: now) and the condition of
    /// the units (meaning "verified"). Call inside a signature ceremony.
    public static func receive(on db: PostgresConnection, challenge: UUID, transfer: Int64, at time: Timestamp?,
                               condition: String) throws -> Int64 {
        try db.query("""
            SELECT gmp.receive_transfer(\(challenge), \(transfer), \(time)::timestamptz, \(condition)) AS id
            """)[0].decode("id")
    }

    /// Hand-overs awaiting receipt, oldest first.
    public func pending() throws -> [PendingTransfer] {
        try connection.query("""
            SELECT id, array_to_string(unit_ids, ',') AS units, from_person, to_person, reason, signed_off_at
            FROM gmp.pending_transfer ORDER BY signed_off_at, id
            """).map { row in
            PendingTransfer(transfer: try row.decode("id"),
                            units: (try row.decode("units", as: String.self)).split(separator: ",").map(String.init),
                            from: try row.decode("from_person"), to: try row.decode("to_person"),
                            reason: try row.decode("reason"), signedOffAt: try row.decode("signed_off_at"))
        }
    }

    /// The documents as the server wrote them (indented JSON array): the `--json` output.
    public func historyJSON(_ subject: UnitOrLot) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.custody_history(\(subject.stored))) AS history")[0].decode("history")
    }

    public func history(_ subject: UnitOrLot) throws -> [CustodyDocument] {
        try Self.decode(try historyJSON(subject))
    }

    public static func decode(_ json: String) throws -> [CustodyDocument] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode([CustodyDocument].self, from: Data(json.utf8))
    }
}
