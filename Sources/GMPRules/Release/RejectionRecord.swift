#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The rejection record of a rejected lot, as `gmp.rejection_record` (sql/code/10_release.sql)
/// returns it: the lot, why it was rejected (reason, criteria not met, blockers and
/// deviations as the signed package showed them), who rejected it with the signature's
/// manifestation, its audit-chain position, and what became of each unit.
public struct RejectionRecord: Codable, Sendable, Equatable {
    public let lot: CertificateOfAnalysis.Lot
    public let specification: CertificateOfAnalysis.Specification?
    public let reason: String?
    public let failedCriteria: [FailedCriterion]
    public let blockers: [Blocker]
    public let deviations: [Deviation]
    public let rejection: Rejection
    public let unitsFilled: Int?
    public let units: [UnitDisposition]
    public let audit: CertificateOfAnalysis.AuditPosition
    public let issuedAt: String

    public struct FailedCriterion: Codable, Sendable, Equatable {
        public let test: String
        public let name: String
        public let method: String
        public let limit: String
        public let unit: String?
        public let verdict: String
        /// The last result recorded, nil when none was (verdict "missing").
        public let result: String?
        public let resultUnit: String?
    }

    public struct Blocker: Codable, Sendable, Equatable {
        public let kind: String
        public let item: String
        public let problem: String
    }

    public struct Deviation: Codable, Sendable, Equatable {
        public let id: String
        public let kind: String
        public let title: String
        public let status: String
        public let outcome: String?
    }

    public struct Rejection: Codable, Sendable, Equatable {
        public let dispositionId: Int64
        public let decidedAt: String
        public let signer: String
        public let printedName: String
        public let signedAt: String
        public let meaning: String
        public let signatureId: Int64
        /// False when the disposition changed after it was signed.
        public let intact: Bool
        public let packageSha256: String
    }

    public struct UnitDisposition: Codable, Sendable, Equatable {
        public let unit: String
        public let state: String
        public let holder: String?
    }

    public static func decode(json: String) throws -> RejectionRecord {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(RejectionRecord.self, from: Data(json.utf8))
    }
}
