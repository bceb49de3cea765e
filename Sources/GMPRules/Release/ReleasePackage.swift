/// The release package as the database builds it (`gmp_rules.release_package`, sql/code/10_release.sql):
/// what a disposition decides on and what its signature covers. `gmp release check`
/// adds the lot's status and whether it is releasable now.
public struct ReleaseCheck: Codable, Sendable {
    public let lot: Lot
    public let specification: SpecificationVersion?
    public let dose: Dose?
    public let evaluation: [Evaluation]
    public let deviations: [Deviation]
    public let eligibility: Eligibility?
    public let blockers: [Blocker]
    public let status: String
    public let statusProblem: String?
    public let releasable: Bool
    /// SHA-256 of the package's canonical text: a release is refused unless the
    /// package is still this one when it is signed.
    public let packageSha256: String

    public struct Lot: Codable, Sendable {
        public let din: String
        public let keyedId: String
        public let stage: String
        public let productKind: String
        public let intendedUse: String
        public let donorCode: String
        public let collectionId: String
        public let parentDin: String?
        public let expiresOn: String
        public let manufacturedOn: String?
        public let units: Int?
        public let unitVolumeMl: String?
    }

    public struct SpecificationVersion: Codable, Sendable {
        public let id: String
        public let code: String
        public let version: Int
        public let title: String
        public let approvedAt: String?
        public let approvedBy: String?
        public let criteriaSha256: String?
    }

    /// The lot's maximum dose M (limit = K / M) and, when it was set with an e-signature
    /// (issue 20, item 7), who set it and the range its specification permits. Doses set
    /// before doses were signed carry neither.
    public struct Dose: Codable, Sendable, Equatable {
        public let maxDoseMlPerKgH: String?
        public let intrathecal: Bool
        public let unit: String?
        public let setBy: String?
        public let setAt: String?
        public let signedBy: String?
        public let signedAt: String?
        public let signatureId: Int64?
        public let permitted: [PermittedDose]?

        /// The range of M one K/M criterion permits.
        public struct PermittedDose: Codable, Sendable, Equatable {
            public let test: String
            public let min: String
            public let max: String
        }

        /// "0.4 mL/kg/h, intrathecal; set by casey (Casey Chen), signed 2026-…; permitted 0.1–4".
        public var summary: String {
            var text = maxDoseMlPerKgH.map { "\($0) mL/kg/h, " } ?? ""
            text += intrathecal ? "intrathecal" : "not intrathecal"
            if let setBy {
                text += "; set by \(setBy)" + (signedBy.map { " (\($0))" } ?? "")
                if let signatureId { text += ", signature \(signatureId)" }
            } else if maxDoseMlPerKgH != nil {
                text += "; set before doses were signed"
            }
            if let permitted, !permitted.isEmpty {
                text += "; permitted " + permitted.map { "\($0.min)–\($0.max)" }.joined(separator: ", ") + " mL/kg/h"
            }
            return text
        }
    }

    /// One criterion: the limit as printed, the verdict (pass, fail, missing, unconfirmed,
    /// unverified, invalidated, retest pending) and every result behind it.
    public struct Evaluation: Codable, Sendable {
        public let ordinal: Int
        public let test: String
        public let name: String
        public let method: String
        public let limitText: String
        public let unit: String?
        /// The parts of a multi-value criterion, in the order of each result's outcomes.
        public let parts: [String]?
        public let verdict: String
        public let results: [Result]

        /// A result as printed, its outcomes named by part: `osteogenic: positive; …`.
        public func display(_ result: Result) -> String {
            guard let parts, let outcomes = result.outcomes, parts.count == outcomes.count else { return result.display }
            return zip(parts, outcomes).map { "\($0): \($1)" }.joined(separator: "; ")
        }
    }

    public struct Result: Codable, Sendable {
        public let id: Int64
        public let attempt: Int
        public let corrects: Int64?
        public let correctionReason: String?
        public let qualifier: String?
        public let value: String?
        public let unit: String?
        public let outcomes: [String]?
        public let method: String
        public let instrument: String?
        public let analyst: String
        public let performedAt: String
        public let recordedBy: String
        public let verdict: String
        public let deviationId: String?
        public let superseded: Bool
        /// Whether this result counts: not corrected since, not invalidated.
        public let counted: Bool
        public let verifiedBy: String?
        public let verifiedAt: String?
        public let invalidatedBy: String?
        public let assignableCause: String?

        /// As a report prints it: `<0.05 ng/mL`, `98.2 %`, `positive, positive`.
        public var display: String {
            if let value {
                return (qualifier == "=" ? "" : qualifier ?? "") + value + (unit.map { " " + $0 } ?? "")
            }
            return (outcomes ?? []).joined(separator: ", ")
        }
    }

    public struct Deviation: Codable, Sendable {
        public let id: String
        public let kind: String
        public let title: String
        public let status: String
        public let outcome: String?
        public let closedAt: String?
        public let closedBy: String?
    }

    public struct Eligibility: Codable, Sendable {
        public let determinationId: Int64
        public let outcome: String
        public let signedBy: String?
        public let signedAt: String?
    }

    public struct Blocker: Codable, Sendable, Equatable {
        public let kind: String
        public let item: String
        public let problem: String
    }

    /// What to do about ``problems``: nothing can be done once a disposition is final.
    public var fix: String {
        ["released", "rejected", "exceptionally_released"].contains(status)
            ? "none: a final disposition is never changed"
            : "resolve each blocker, then check again (gmp release check)"
    }

    /// Every reason the lot cannot be released now, status first.
    public var problems: [String] {
        (statusProblem.map { [$0] } ?? []) + blockers.map(\.problem)
    }
}
