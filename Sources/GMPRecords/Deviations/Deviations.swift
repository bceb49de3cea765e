#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Deviations and OOS investigations (sql/code/08_deviations.sql): opened on lots, closed once by QA
/// with the outcome and a signature. An open one blocks release of its lots.
public struct Deviations {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// One deviation as `gmp deviation list` shows it.
    public struct Row: ListRow, Equatable {
        public let id: String
        public let kind: String
        public let title: String
        public let status: String
        public let lots: [String]
        public let openedBy: String
        public let openedAt: Timestamp
        public let outcome: String?
        public let closedBy: String?
        public let closedAt: Timestamp?
    }

    /// Opens a deviation on `lots`; returns its id.
    public func open(title: String, description: String?, lots: [DonationIdentificationNumber]) throws -> String {
        try connection.query("""
            SELECT gmp.open_deviation(\(title), \(description), \(lots.map(\.value))::text[]) AS id
            """)[0].decode("id")
    }

    public func link(_ deviation: String, to lot: DonationIdentificationNumber, reason: String) throws {
        try connection.execute("SELECT gmp.link_deviation(\(deviation), \(lot.value), \(reason))")
    }

    /// QA closes with the outcome, signing "approved". Call inside a signature ceremony.
    public static func close(on db: PostgresConnection, challenge: UUID, deviation: String, outcome: String) throws -> Int64 {
        try db.query("SELECT gmp.close_deviation(\(challenge), \(deviation), \(outcome)) AS id")[0].decode("id")
    }

    /// Deviations, newest first, filtered: status (open, closed), from/to (opened), donor
    /// (of a lot it is on), lot. `lots` are the ids a person types (DIN and check character).
    public func list(_ filter: ListFilter) throws -> [Row] {
        try connection.query("""
            SELECT d.id, d.kind, d.title, d.status, d.opened_by, d.opened_at, d.outcome, d.closed_by, d.closed_at,
                   (SELECT string_agg(x.din || x.check_character, ',' ORDER BY x.din)
                    FROM gmp.deviation_lot l JOIN gmp.lot x ON x.din = l.din WHERE l.deviation_id = d.id) AS lots
            FROM gmp.deviation d
            WHERE (\(filter.status)::text IS NULL OR d.status = \(filter.status))
              AND (\(filter.lot?.value)::text IS NULL OR EXISTS (SELECT FROM gmp.deviation_lot l
                                                         WHERE l.deviation_id = d.id AND l.din = \(filter.lot?.value)))
              AND (\(filter.from)::date IS NULL OR (d.opened_at AT TIME ZONE 'UTC')::date >= \(filter.from))
              AND (\(filter.to)::date IS NULL OR (d.opened_at AT TIME ZONE 'UTC')::date <= \(filter.to))
              AND (\(filter.donor)::text IS NULL OR EXISTS (
                       SELECT FROM gmp.deviation_lot l JOIN gmp.lot x ON x.din = l.din
                       LEFT JOIN gmp.donor o ON o.code = x.donor_code
                       WHERE l.deviation_id = d.id AND \(filter.donor) IN (x.donor_code, o.birth_mother)))
            ORDER BY d.opened_at DESC, d.id DESC
            """).map { row in
            Row(id: try row.decode("id"), kind: try row.decode("kind"), title: try row.decode("title"),
                status: try row.decode("status"), lots: (try row.decode("lots", as: String?.self) ?? "").split(separator: ",").map(String.init),
                openedBy: try row.decode("opened_by"), openedAt: try row.decode("opened_at"),
                outcome: try row.decode("outcome"), closedBy: try row.decode("closed_by"),
                closedAt: try row.decode("closed_at"))
        }
    }
}
