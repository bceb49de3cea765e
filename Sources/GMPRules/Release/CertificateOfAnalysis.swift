#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The Certificate of Analysis of a released lot (ICH Q7 §11.4), as
/// `gmp.certificate_of_analysis(din)` returns it (docs/qc-and-release.md).
///
/// Decimals and times stay the server's text: a certificate shows what was recorded,
/// never a rounding of it. Keys are snake_case in JSON; decode with
/// `CertificateOfAnalysis.decode(json:)` or any decoder using `.convertFromSnakeCase`.
public struct CertificateOfAnalysis: Codable, Sendable, Equatable {
    public let lot: Lot
    public let specification: Specification
    public let dose: Dose
    /// In the specification's order.
    public let tests: [TestResult]
    public let eligibility: Eligibility
    /// Closed deviations linked to the lot; empty for most lots (an open one blocks release).
    public let deviations: [Deviation]
    public let release: Release
    public let audit: AuditPosition
    /// When the server built this document (ISO 8601 UTC).
    public let issuedAt: String

    public struct Lot: Codable, Sendable, Equatable {
        /// The 13 stored characters, e.g. "G123426000003".
        public let din: String
        /// The DIN with its check character, as typed from a label.
        public let keyedId: String
        /// As printed under the bar code: "G1234 26 000003 K".
        public let eyeReadable: String
        public let productKind: String
        public let stage: String
        public let intendedUse: String
        public let donorCode: String
        public let collectionId: String
        /// Dates (YYYY-MM-DD). Nil when the lot has no manufacturing step recorded.
        public let manufacturedOn: String?
        public let expiresOn: String
        public let units: Int?
        /// Exact decimal as recorded, e.g. "5.0".
        public let unitVolumeMl: String?
    }

    public struct Specification: Codable, Sendable, Equatable {
        /// Code and version, e.g. "UC-MSC-DP@1".
        public let id: String
        public let code: String
        public let version: Int
        public let title: String
        public let approvedAt: String
        public let approvedBy: String
    }

    /// What the endotoxin limit was computed from (limit = K / M), and who set it.
    public typealias Dose = ReleaseCheck.Dose

    /// One criterion with its accepted result.
    public struct TestResult: Codable, Sendable, Equatable {
        /// The criterion's key, e.g. "cd105".
        public let test: String
        /// As printed on reports, e.g. "CD105 positive cells".
        public let name: String
        public let method: String
        /// The limit as text with its comparison, e.g. "≥ 95" or "no_growth".
        public let limit: String
        /// The criterion's unit; nil for qualitative tests.
        public let unit: String?
        /// As typed, qualifier kept: "98.2", "<0.05", or one outcome per part.
        public let result: String
        /// The unit the result was recorded in, which may differ from the criterion's
        /// (an exact conversion, e.g. cells for 10^6 cells); nil for outcomes.
        public let resultUnit: String?
        /// "pass" or "fail": shown as recorded, never inferred.
        public let verdict: String
        public let analyst: String
        public let performedAt: String
        public let verifiedBy: String?
        public let verifiedAt: String?
        public let resultId: Int64
        /// 1 for the first test, higher for a retest.
        public let attempt: Int
    }

    public struct Eligibility: Codable, Sendable, Equatable {
        public let outcome: String
        public let determinationId: Int64
        public let signedBy: String?
        public let signedAt: String?
    }

    public struct Deviation: Codable, Sendable, Equatable {
        /// E.g. "DEV26-0001".
        public let id: String
        public let kind: String
        public let title: String
        public let outcome: String
        public let closedAt: String
        public let closedBy: String
    }

    /// The release signature and what 21 CFR 11.50 requires it to show.
    public struct Release: Codable, Sendable, Equatable {
        public let decision: String
        /// The disposition the signature is on; the certificate's document number names it.
        public let dispositionId: Int64?
        /// The signer's account id.
        public let signer: String
        public let printedName: String
        public let signedAt: String
        public let meaning: String
        public let signatureId: Int64
        /// False when the signed content changed after signing (21 CFR 11.70).
        public let intact: Bool
        /// SHA-256 (hex) of exactly what was signed.
        public let packageSha256: String
    }

    /// The audit-trail event that recorded the release signature.
    public struct AuditPosition: Codable, Sendable, Equatable {
        public let seq: Int64
        public let hash: String
    }

    /// Decodes the server's document (snake_case keys).
    public static func decode(json: String) throws -> CertificateOfAnalysis {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(CertificateOfAnalysis.self, from: Data(json.utf8))
    }
}
