#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Shipments of units to a consignee (sql/code/14_shipping.sql): created, packed into a qualified dry
/// shipper, dispatched to a courier (signed by the sender) and received by the named
/// receiver (signed, with time and condition). The database refuses everything else:
/// unreleased units off the urgent-need path, units an open excursion affects, steps
/// out of order, receipt by anyone but the named receiver.
public struct Shipments {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// What a new shipment names. `urgentNeed` and `physician` go together, and only a
    /// director may give them (the documented urgent-need path, 21 CFR 1271.60(d)).
    public struct Plan: Sendable, Equatable {
        public var consignee: String
        public var consigneeAddress: String
        public var receiver: String
        public var shipper: String
        public var shipperQualification: String
        public var urgentNeed: String?
        public var physician: String?

        public init(consignee: String, consigneeAddress: String, receiver: String, shipper: String,
                    shipperQualification: String, urgentNeed: String? = nil, physician: String? = nil) {
            self.consignee = consignee
            self.consigneeAddress = consigneeAddress
            self.receiver = receiver
            self.shipper = shipper
            self.shipperQualification = shipperQualification
            self.urgentNeed = urgentNeed
            self.physician = physician
        }
    }

    /// One shipment as `gmp ship list` shows it.
    public struct Row: Encodable, Sendable, Equatable {
        public let id: String
        public let status: String
        public let consignee: String
        public let receiver: String
        public let shipper: String
        public let urgent: Bool
        public let units: Int64
        public let createdAt: Timestamp
        public let dispatchedAt: Timestamp?
        public let receivedAt: Timestamp?
    }

    /// Creates the shipment; returns its id (SHP26-00001).
    public func create(_ plan: Plan) throws -> String {
        try connection.query("""
            SELECT gmp.create_shipment(\(plan.consignee), \(plan.consigneeAddress), \(plan.receiver), \(plan.shipper),
                                       \(plan.shipperQualification), \(plan.urgentNeed), \(plan.physician)) AS id
            """)[0].decode("id")
    }

    /// Packs units from your hands into the shipment's shipper; returns how many units
    /// the shipment now holds.
    public func pack(_ shipment: String, units: [String]) throws -> Int {
        try connection.query("SELECT gmp.pack_shipment(\(shipment), \(units)::text[]) AS n")[0].decode("n")
    }

    /// The sender hands the packed units to the courier, signing "performed". Call
    /// inside a signature ceremony; returns the signature id.
    public static func dispatch(on db: PostgresConnection, challenge: UUID, shipment: String, courier: String,
                                reason: String?) throws -> Int64 {
        try db.query("SELECT gmp.dispatch_shipment(\(challenge), \(shipment), \(courier), \(reason)) AS id")[0].decode("id")
    }

    /// The named receiver confirms receipt at `time` (nil: now) with the condition,
    /// signing "verified". Call inside a signature ceremony; returns the signature id.
    public static func receive(on db: PostgresConnection, challenge: UUID, shipment: String, at time: Timestamp?,
                               condition: String) throws -> Int64 {
        try db.query("""
            SELECT gmp.receive_shipment(\(challenge), \(shipment), \(time)::timestamptz, \(condition)) AS id
            """)[0].decode("id")
    }

    /// Shipments, newest first; only those in `status` when given.
    public func list(status: String?) throws -> [Row] {
        try connection.query("""
            SELECT s.id, s.status, s.consignee, s.receiver, s.shipper_id, s.urgent_need IS NOT NULL AS urgent,
                   s.created_at, s.dispatched_at, s.received_at,
                   (SELECT count(*) FROM gmp.unit u WHERE u.shipment_id = s.id) AS units
            FROM gmp.shipment s
            WHERE \(status)::text IS NULL OR s.status = \(status)
            ORDER BY s.created_at DESC, s.id DESC
            """).map { row in
            Row(id: try row.decode("id"), status: try row.decode("status"), consignee: try row.decode("consignee"),
                receiver: try row.decode("receiver"), shipper: try row.decode("shipper_id"), urgent: try row.decode("urgent"),
                units: try row.decode("units"), createdAt: try row.decode("created_at"),
                dispatchedAt: try row.decode("dispatched_at"), receivedAt: try row.decode("received_at"))
        }
    }

    /// The shipment as the server wrote it (indented JSON): the `--json` of `gmp ship show`.
    public func documentJSON(_ shipment: String) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.shipment_document(\(shipment))) AS doc")[0].decode("doc")
    }

    public func document(_ shipment: String) throws -> ShipmentDocument {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ShipmentDocument.self, from: Data(try documentJSON(shipment).utf8))
    }
}
