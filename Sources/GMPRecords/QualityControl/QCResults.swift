#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// QC results in the database (sql/code/09_qc.sql): recorded as typed and judged there, verified
/// by a second person, corrected or invalidated without ever losing the original.
public struct QCResults {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Where and how a test was done.
    public struct Provenance: Sendable, Equatable {
        public var method: String
        public var instrument: String?
        /// The account that performed the test; nil: the person recording it.
        public var analyst: String?
        /// nil: now, by the server's clock.
        public var performedAt: Timestamp?
        public var note: String?

        public init(method: String, instrument: String? = nil, analyst: String? = nil, performedAt: Timestamp? = nil,
                    note: String? = nil) {
            self.method = method
            self.instrument = instrument
            self.analyst = analyst
            self.performedAt = performedAt
            self.note = note
        }
    }

    /// What the database made of a recorded result.
    public struct Recorded: Codable, Sendable, Equatable {
        public let id: Int64
        public let attempt: Int
        public let verdict: String
        /// The OOS investigation opened on the lot when the verdict is fail.
        public let deviationId: String?
        public let limitText: String
        /// Set when a retest is by an analyst of an earlier attempt.
        public let warning: String?
        /// The analyst named on a result someone else recorded: the result counts for
        /// release only once they confirm it (`gmp qc confirm`). Nil when the recorder
        /// is the analyst.
        public let awaitingAnalyst: String?
    }

    /// Records a result, or with `corrects` a correction of an earlier one (with its reason).
    public func record(_ entry: ResultEntry, test: String, on lot: DonationIdentificationNumber, _ provenance: Provenance,
                       corrects: Int64? = nil, reason: String? = nil) throws -> Recorded {
        let row = try connection.query("""
            SELECT r.id, r.attempt, r.verdict, r.deviation_id, r.limit_text, r.warning
            FROM gmp.record_result(\(lot.value), \(test), \(entry.sqlQualifier), \(entry.number)::numeric,
                                   \(entry.unit?.rawValue), \(entry.outcomeWords)::text[], \(provenance.method),
                                   \(provenance.instrument), \(provenance.analyst), \(provenance.performedAt)::timestamptz,
                                   \(provenance.note), \(corrects), \(reason)) r
            """)[0]
        let id: Int64 = try row.decode("id")
        // A statement of its own: the one that recorded the result does not see its row.
        let awaiting: String? = try connection.query("""
            SELECT CASE WHEN s.awaiting_analyst THEN s.analyst END AS a FROM gmp.qc_result_status s WHERE s.id = \(id)
            """)[0].decode("a")
        return Recorded(id: id, attempt: try row.decode("attempt"), verdict: try row.decode("verdict"),
                        deviationId: try row.decode("deviation_id"), limitText: try row.decode("limit_text"),
                        warning: try row.decode("warning"), awaitingAnalyst: awaiting)
    }

    /// A second person verifies, signing "reviewed". Call inside a signature ceremony.
    public static func verify(on db: PostgresConnection, challenge: UUID, result: Int64, statement: String?) throws -> Int64 {
        try db.query("SELECT gmp.verify_result(\(challenge), \(result), \(statement)) AS id")[0].decode("id")
    }

    /// The analyst named on a result someone else recorded confirms it as their own,
    /// signing "performed". Call inside a signature ceremony.
    public static func confirm(on db: PostgresConnection, challenge: UUID, result: Int64, statement: String?) throws -> Int64 {
        try db.query("SELECT gmp.confirm_result(\(challenge), \(result), \(statement)) AS id")[0].decode("id")
    }

    /// QA invalidates for an assignable cause, signing "approved". Call inside a ceremony.
    public static func invalidate(on db: PostgresConnection, challenge: UUID, result: Int64, cause: String) throws -> Int64 {
        try db.query("SELECT gmp.invalidate_result(\(challenge), \(result), \(cause)) AS id")[0].decode("id")
    }

    /// One result as `gmp qc list` shows it.
    public struct Row: Encodable, Sendable, Equatable {
        public let id: Int64
        /// The lot as a person types it back: DIN and check character, eye-readable
        /// ("G1234 26 000004 Z", as `gmp lot create` prints it).
        public let lot: String
        /// The lot's DIN as stored, without the check character.
        public let din: String
        public let test: String
        public let attempt: Int
        public let result: String
        public let verdict: String
        public let analyst: String
        public let recordedBy: String
        public let performedAt: Timestamp
        public let corrects: Int64?
        public let correctedBy: Int64?
        public let verifiedBy: String?
        public let invalidatedBy: String?
        public let deviationId: String?
        /// Who confirmed, as the named analyst, a result someone else recorded.
        public let analystConfirmedBy: String?
        /// True while such a result still waits for its analyst's confirmation.
        public let awaitingAnalyst: Bool
    }

    public func list(_ lot: DonationIdentificationNumber) throws -> [Row] {
        try rows(lot: lot.value, id: nil)
    }

    public func result(_ id: Int64) throws -> Row? {
        try rows(lot: nil, id: id).first
    }

    private func rows(lot: String?, id: Int64?) throws -> [Row] {
        try connection.query("""
            SELECT s.id, s.din, s.test, s.attempt, s.verdict, s.analyst, s.recorded_by, s.performed_at, s.corrects,
                   s.corrected_by, s.verified_by, s.invalidated_by, s.deviation_id, s.analyst_confirmed_by,
                   s.awaiting_analyst,
                   coalesce(CASE s.qualifier WHEN '=' THEN '' ELSE s.qualifier END || s.value::text || ' ' || s.unit,
                            array_to_string(s.outcomes, ', ')) AS result
            FROM gmp.qc_result_status s
            WHERE (\(lot)::text IS NULL OR s.din = \(lot)) AND (\(id)::bigint IS NULL OR s.id = \(id))
            ORDER BY s.id
            """).map { row in
            let din: String = try row.decode("din")
            return Row(id: try row.decode("id"), lot: try DonationIdentificationNumber(stored: din).eyeReadable, din: din,
                test: try row.decode("test"), attempt: try row.decode("attempt"),
                result: try row.decode("result"), verdict: try row.decode("verdict"), analyst: try row.decode("analyst"),
                recordedBy: try row.decode("recorded_by"), performedAt: try row.decode("performed_at"),
                corrects: try row.decode("corrects"), correctedBy: try row.decode("corrected_by"),
                verifiedBy: try row.decode("verified_by"), invalidatedBy: try row.decode("invalidated_by"),
                deviationId: try row.decode("deviation_id"), analystConfirmedBy: try row.decode("analyst_confirmed_by"),
                awaitingAnalyst: try row.decode("awaiting_analyst"))
        }
    }
}
