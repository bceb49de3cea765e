#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// The executed batch record and QA's review of it (sql/code/24_batch_record.sql, issue 15).
/// The database builds the document, judges the review and blocks release; this type names
/// the operations.
public struct BatchRecords {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// The document as the server wrote it (its JSON text), for `--json` and for decoding.
    public func documentJSON(_ lot: DonationIdentificationNumber) throws -> String {
        try connection.query("SELECT gmp.batch_record(\(lot.value))::text AS r")[0].decode("r")
    }

    /// QA's review, signed "reviewed", over `contentSha256`: the hash of the record the
    /// reviewer was shown (refused, GM010, when it changed since). Call inside a signature
    /// ceremony. Returns the signature's id.
    public static func review(on db: PostgresConnection, challenge: UUID, lot: DonationIdentificationNumber,
                              contentSha256: String, statement: String?) throws -> Int64 {
        try db.query("""
            SELECT gmp.review_batch_record(\(challenge), \(lot.value), \(contentSha256), \(statement)) AS id
            """)[0].decode("id")
    }
}
