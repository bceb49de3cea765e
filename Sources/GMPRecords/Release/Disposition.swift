#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Lot disposition (sql/code/10_release.sql). The database decides whether a lot may be released
/// (`gmp_rules.release_blockers`) and re-checks every condition when the signed
/// disposition commits; this type asks it, and signs.
public struct Disposition {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// The release check as the server wrote it (compact JSON), for `--json`, which
    /// re-writes it in gmp's one shape (no `jsonb_pretty` on the server, issue 14).
    public func checkJSON(_ lot: DonationIdentificationNumber) throws -> String {
        try connection.query("SELECT gmp.release_check(\(lot.value))::text AS c")[0].decode("c")
    }

    public func check(_ lot: DonationIdentificationNumber) throws -> ReleaseCheck {
        try ReleaseCheck(jsonText: try checkJSON(lot))
    }

    /// The physician's side of an exceptional release (FACT-JACIE D11.1.2).
    public struct ExceptionalRelease: Sendable, Equatable {
        public let physician: String
        public let request: String
        public let acceptance: String
        public let justification: String
        public let notified: String

        public init(physician: String, request: String, acceptance: String, justification: String, notified: String) {
            self.physician = physician
            self.request = request
            self.acceptance = acceptance
            self.justification = justification
            self.notified = notified
        }
    }

    /// The decisions, each called inside ``SignatureCeremony/sign(password:_:)``;
    /// each returns the signature id.
    public enum Decision: Sendable, Equatable {
        /// QA; `packageSha256` is the package the signer was shown.
        case release(packageSha256: String, statement: String?)
        case reject(reason: String)
        case hold(reason: String)
        /// The director; `packageSha256` as for a release.
        case exceptional(packageSha256: String, ExceptionalRelease)

        /// The function that carries it out, for the grant check before a password is asked for.
        public var function: String {
            switch self {
            case .release: "gmp.release_lot(uuid, text, text, text)"
            case .reject: "gmp.reject_lot(uuid, text, text)"
            case .hold: "gmp.hold_for_disposition(uuid, text, text)"
            case .exceptional: "gmp.release_exceptionally(uuid, text, text, text, text, text, text, text)"
            }
        }

        /// The status the lot takes.
        public var status: LotStatus {
            switch self {
            case .release: .released
            case .reject: .rejected
            case .hold: .onHold
            case .exceptional: .exceptionallyReleased
            }
        }

        /// The signature's meaning (21 CFR 11.50).
        public var meaning: SignatureMeaning {
            switch self {
            case .release: .released
            case .reject: .rejected
            case .hold: .held
            case .exceptional: .authorized
            }
        }
    }

    public static func decide(_ decision: Decision, on db: PostgresConnection, challenge: UUID,
                              lot: DonationIdentificationNumber) throws -> Int64 {
        let rows: QueryResult
        switch decision {
        case .release(let hash, let statement):
            rows = try db.query("SELECT gmp.release_lot(\(challenge), \(lot.value), \(hash), \(statement)) AS id")
        case .reject(let reason):
            rows = try db.query("SELECT gmp.reject_lot(\(challenge), \(lot.value), \(reason)) AS id")
        case .hold(let reason):
            rows = try db.query("SELECT gmp.hold_for_disposition(\(challenge), \(lot.value), \(reason)) AS id")
        case .exceptional(let hash, let e):
            rows = try db.query("""
                SELECT gmp.release_exceptionally(\(challenge), \(lot.value), \(hash), \(e.physician), \(e.request),
                                                 \(e.acceptance), \(e.justification), \(e.notified)) AS id
                """)
        }
        return try rows[0].decode("id")
    }

    /// The Certificate of Analysis document as the server wrote it (released lots only).
    public func certificateJSON(_ lot: DonationIdentificationNumber) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.certificate_of_analysis(\(lot.value))) AS c")[0].decode("c")
    }

    /// The rejection record as the server wrote it (rejected lots only).
    public func rejectionJSON(_ lot: DonationIdentificationNumber) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.rejection_record(\(lot.value))) AS r")[0].decode("r")
    }
}
