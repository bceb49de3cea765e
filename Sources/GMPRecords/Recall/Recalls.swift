#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Recalls and lookback (sql/code/19_recall.sql, issue 17): QA's signed opening holds
/// what the cause reached, consignees are notified and acknowledge, held units get a
/// disposition, QA's signed closure ends it. The database holds and refuses; this type
/// names the operation and decodes the answer.
public struct Recalls {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// What a recall is opened for; the raw value is the database's word.
    public enum Cause: String, Sendable, CaseIterable {
        case donor
        case materialLot = "material_lot"
        case productLot = "product_lot"
        case postReleaseResult = "post_release_result"
    }

    /// A recall as `gmp recall list` shows it.
    public struct Row: Encodable, Sendable, Equatable {
        public let id: String
        public let cause: String
        public let subject: String
        public let openedAt: Timestamp
        public let openedBy: String
        public let status: String
        public let lots: Int64
        public let heldLots: Int64
        public let units: Int64
        public let shippedUnits: Int64
        public let consignees: Int64
        public let acknowledged: Int64
    }

    /// The opening, signed "held"; call inside a signature ceremony. Returns the recall's
    /// id and the signature's.
    public static func open(on db: PostgresConnection, challenge: UUID, cause: Cause, subject: String, result: Int64?,
                            description: String) throws -> (id: String, signature: Int64) {
        let id: String = try db.query("""
            SELECT gmp.open_recall(\(challenge), \(cause.rawValue), \(subject), \(result)::bigint, \(description)) AS id
            """)[0].decode("id")
        let signature: Int64 = try db.query("""
            SELECT id FROM gmp.signature WHERE record_table = 'gmp.recall' AND record_key = \(id)
            """)[0].decode("id")
        return (id, signature)
    }

    /// The closure, signed "approved"; call inside a signature ceremony. Returns the signature's id.
    public static func close(on db: PostgresConnection, challenge: UUID, recall: String, summary: String) throws -> Int64 {
        try db.query("SELECT gmp.close_recall(\(challenge), \(recall), \(summary)) AS id")[0].decode("id")
    }

    public func notify(recall: String, consignee: String, method: String, contact: String, at: Timestamp?,
                       note: String?) throws -> Int64 {
        try connection.query("""
            SELECT gmp.notify_recall(\(recall), \(consignee), \(method), \(contact), \(at)::timestamptz, \(note)) AS id
            """)[0].decode("id")
    }

    public func acknowledge(recall: String, consignee: String, by: String, at: Timestamp?, returned: [String],
                            destroyed: [String], administered: [String], note: String?) throws -> Int64 {
        try connection.query("""
            SELECT gmp.acknowledge_recall(\(recall), \(consignee), \(by), \(at)::timestamptz, \(returned)::text[],
                                          \(destroyed)::text[], \(administered)::text[], \(note)) AS id
            """)[0].decode("id")
    }

    public func dispose(recall: String, unit: String, disposition: String, reason: String?) throws -> Int64 {
        try connection.query("""
            SELECT gmp.dispose_recall_unit(\(recall), \(unit), \(disposition), \(reason)) AS id
            """)[0].decode("id")
    }

    public func list() throws -> [Row] {
        try connection.query("SELECT * FROM gmp.recall_list()").map { row in
            Row(id: try row.decode("id"), cause: try row.decode("cause"), subject: try row.decode("subject"),
                openedAt: try row.decode("opened_at"), openedBy: try row.decode("opened_by"), status: try row.decode("status"),
                lots: try row.decode("lots"), heldLots: try row.decode("held_lots"), units: try row.decode("units"),
                shippedUnits: try row.decode("shipped_units"), consignees: try row.decode("consignees"),
                acknowledged: try row.decode("acknowledged"))
        }
    }

    /// One recall as the server wrote it (indented JSON), for `--json`.
    public func documentJSON(_ recall: String) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.recall_document(\(recall))) AS d")[0].decode("d")
    }

    public func document(_ recall: String) throws -> RecallDocument.Recall {
        try Materials.decode(try documentJSON(recall))
    }

    /// A donor's lookback as the server wrote it (indented JSON), for `--json`.
    public func lookbackJSON(_ donor: String) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.recall_lookback(\(donor))) AS d")[0].decode("d")
    }

    public func lookback(_ donor: String) throws -> RecallDocument.Lookback {
        try Materials.decode(try lookbackJSON(donor))
    }
}
