#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The executed batch record of a lot, as `gmp.batch_record` (sql/code/24_batch_record.sql)
/// returns it: the lot, every step with what it consumed and used and who performed it,
/// deviations and excursions, the QC summary, the units and their custody, every signature
/// on those records; then what QA's review does not cover (status, dispositions, reviews,
/// the audit-chain position). `contentSha256` is what a review signs.
public struct BatchRecord: Codable, Sendable, Equatable {
    public let lot: Lot
    public let specification: Specification?
    public let steps: [Step]
    public let deviations: [Deviation]
    public let excursions: [Excursion]
    public let qc: [Criterion]
    public let units: [Unit]
    public let custody: [CustodyEvent]
    public let signatures: [Signature]
    public let contentSha256: String
    public let status: String
    public let masterRecord: MasterRecord?
    public let dispositions: [Disposition]
    public let reviews: [Review]
    /// The newest audit event of the records shown; nil when none is chained yet.
    public let audit: CertificateOfAnalysis.AuditPosition?
    public let issuedAt: String

    public struct Lot: Codable, Sendable, Equatable {
        public let din: String
        public let keyedId: String
        public let eyeReadable: String
        public let stage: String
        public let productKind: String
        public let intendedUse: String
        public let donorCode: String
        public let collectionId: String
        public let parentDin: String?
        public let expiresOn: String
        public let createdAt: String
        public let createdBy: String
    }

    public struct Specification: Codable, Sendable, Equatable {
        public let id: String
        public let code: String
        public let version: Int
        public let title: String
        public let approvedAt: String?
        public let approvedBy: String?
    }

    public struct Step: Codable, Sendable, Equatable {
        public let id: Int64
        public let kind: String
        public let performedAt: String
        public let recordedAt: String
        public let performedBy: String
        public let performerName: String
        public let passageNumber: Int?
        public let cellCount: String?
        public let viabilityPercent: String?
        public let populationDoublings: String?
        public let cumulativeDoublings: String?
        public let units: Int?
        public let unitVolumeMl: String?
        public let note: String?
        public let materials: [Material]
        public let equipment: [Equipment]
        /// The procedure the step followed and its version in force at the step's time.
        public let procedure: String?
        public let procedureVersion: Int?
        /// On a lot made under a master batch record: the master step's procedure and
        /// whether it requires a second person's check.
        public let masterProcedure: String?
        public let checkRequired: Bool?
        public let parameters: [Parameter]?
        public let check: Check?

        /// The step's lines about procedure, parameters and check, as printed; `time`
        /// formats a timestamp as the page prints times.
        public func executionLines(time: (String) -> String) -> [String] {
            var lines: [String] = []
            if let procedure {
                lines.append("procedure \(procedure)" + (procedureVersion.map { " version \($0)" } ?? "")
                             + (masterProcedure.map { $0 == procedure ? "" : " (master names \($0))" } ?? ""))
            } else if let masterProcedure {
                lines.append("procedure \(masterProcedure) (named by the master; not registered)")
            }
            lines += (parameters ?? []).map { $0.line }
            if let check {
                lines.append("checked by \(BatchRecord.person(check.checkedBy, check.checkerName)) at \(time(check.checkedAt)), signed \"verified\"")
            } else if checkRequired == true {
                lines.append("CHECK REQUIRED: not yet checked by a second person")
            }
            return lines
        }
    }

    /// A parameter value an executed step recorded, with the master's limits.
    public struct Parameter: Codable, Sendable, Equatable {
        public let name: String
        public let value: String
        public let unit: String
        public let atLeast: String?
        public let atMost: String?
        public let withinLimits: Bool
        public let deviationId: String?

        public var line: String {
            let limits = switch (atLeast, atMost) {
            case let (low?, high?): "\(low)–\(high)"
            case let (low?, nil): "≥ \(low)"
            case let (nil, high?): "≤ \(high)"
            case (nil, nil): "no limit"
            }
            return "parameter \(name) = \(value) \(unit) (limits \(limits))"
                + (withinLimits ? "" : " OUT OF RANGE" + (deviationId.map { ": deviation \($0)" } ?? ""))
        }
    }

    /// The second person's check of a step.
    public struct Check: Codable, Sendable, Equatable {
        public let checkedBy: String
        public let checkerName: String?
        public let checkedAt: String
    }

    public struct Material: Codable, Sendable, Equatable {
        public let materialLot: String
        public let type: String
        public let supplier: String?
        public let supplierLot: String?
        public let expiresOn: String?
        public let quantity: String
        public let unit: String
        public let usedAt: String
        public let recordedBy: String
    }

    public struct Equipment: Codable, Sendable, Equatable {
        public let equipment: String
        public let kind: String
        public let name: String
        public let usedAt: String
        public let recordedBy: String
    }

    public struct Deviation: Codable, Sendable, Equatable {
        public let id: String
        public let kind: String
        public let title: String
        public let status: String
        public let outcome: String?
        public let openedAt: String
        public let openedBy: String
        public let closedAt: String?
        public let closedBy: String?
    }

    public struct Excursion: Codable, Sendable, Equatable {
        public let id: String
        public let device: String
        public let startedAt: String
        public let endedAt: String?
        public let peakCelsius: String
        public let limitCelsius: String
        public let status: String
        public let assessment: String?
        public let assessedBy: String?
        public let assessedAt: String?
        public let units: [String]
    }

    public struct Criterion: Codable, Sendable, Equatable {
        public let test: String
        public let name: String
        public let method: String
        public let limit: String
        public let unit: String?
        public let verdict: String
        public let results: [Result]
    }

    public struct Result: Codable, Sendable, Equatable {
        public let id: Int64
        public let attempt: Int
        public let result: String?
        public let resultUnit: String?
        public let counted: Bool
        public let analyst: String
        public let analystName: String?
        public let performedAt: String?
        public let recordedBy: String?
        public let verifiedBy: String?
        public let verifierName: String?
        public let verifiedAt: String?
        public let invalidatedBy: String?
        public let deviationId: String?
    }

    public struct Unit: Codable, Sendable, Equatable {
        public let unit: String
        public let container: String
        public let volumeMl: String
        public let state: String
        public let holder: String?
        public let shipment: String?
    }

    public struct CustodyEvent: Codable, Sendable, Equatable {
        public let id: Int64
        public let unit: String
        public let at: String
        public let action: String
        public let state: String
        public let holder: String?
        public let transferId: Int64?
        public let shipment: String?
        public let reason: String?
        public let recordedBy: String
    }

    public struct Signature: Codable, Sendable, Equatable {
        public let id: Int64
        public let recordTable: String
        public let recordKey: String
        public let signer: String
        public let printedName: String
        public let signedAt: String
        public let meaning: String
        public let statement: String?
    }

    public struct MasterRecord: Codable, Sendable, Equatable {
        public let code: String
        public let version: Int
    }

    public struct Disposition: Codable, Sendable, Equatable {
        public let id: Int64
        public let decision: String
        public let reason: String?
        public let decidedBy: String
        public let decidedAt: String
        public let printedName: String?
        public let signedAt: String?
        public let meaning: String?
        public let signatureId: Int64?
    }

    public struct Review: Codable, Sendable, Equatable {
        public let id: Int64
        public let reviewedBy: String
        public let reviewedAt: String
        public let statement: String?
        public let documentSha256: String
        /// True while the batch record is still the one reviewed.
        public let current: Bool
        public let signatureId: Int64?
        public let printedName: String?
        public let signedAt: String?
        public let meaning: String?
    }

    /// "Printed Name (id)", or the id alone when the name is not known.
    public static func person(_ id: String, _ name: String?) -> String { name.map { "\($0) (\(id))" } ?? id }

    /// The newest review, and whether it covers the record as it is now.
    public var latestReview: Review? { reviews.last }

    public static func decode(json: String) throws -> BatchRecord {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(BatchRecord.self, from: Data(json.utf8))
    }
}
