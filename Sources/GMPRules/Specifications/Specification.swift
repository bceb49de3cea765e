import PostgresClient

/// A product specification as parsed from `config/specs/*.yaml` (docs/qc-and-release.md).
///
/// A controlled document: it is imported as a draft, the database assigns its version,
/// and it judges lots only once QA has approved it. The value here is the file's content;
/// the version and approval live in the database.
public struct Specification: Sendable, Equatable {
    /// The specification code, `[A-Z0-9][A-Z0-9-]{1,31}` (e.g. `UC-MSC-DP`).
    public let code: String
    /// The title printed on reports.
    public let title: String
    /// The kind of lot the specification applies to.
    public let productKind: ProductKind
    /// The lineage stage it applies to.
    public let stage: LotStage
    /// The acceptance criteria in the file's order (reports and the import keep it).
    public let criteria: [Criterion]

    public init(code: String, title: String, productKind: ProductKind, stage: LotStage, criteria: [Criterion]) {
        self.code = code
        self.title = title
        self.productKind = productKind
        self.stage = stage
        self.criteria = criteria
    }
}

/// One acceptance criterion: a test, how it is done, and the rule its result must meet.
///
/// The import stores ``rule`` as one `gmp.criterion` row, and the database judges results
/// and prints the limit from that row (`gmp_rules.criterion_verdict`,
/// `gmp_rules.limit_text`), so what is printed is what was evaluated.
public struct Criterion: Sendable, Equatable {
    /// The test code, `[a-z0-9_]{1,40}`, unique within its specification.
    public let test: String
    /// The test's name as printed on reports.
    public let name: String
    /// The method (compendial chapter or procedure).
    public let method: String
    /// The unit of the limits; nil exactly when the rule is qualitative.
    public let unit: MeasurementUnit?
    /// What a result must meet.
    public let rule: CriterionRule
    /// How many retests are allowed after the first result (0…3).
    public let maxRetests: Int

    public init(test: String, name: String, method: String, unit: MeasurementUnit?, rule: CriterionRule, maxRetests: Int) {
        self.test = test
        self.name = name
        self.method = method
        self.unit = unit
        self.rule = rule
        self.maxRetests = maxRetests
    }
}

/// The kinds of criterion, exactly one per criterion (the contract's table).
public enum CriterionRule: Sendable, Equatable {
    /// `at_least` (≥) or `more_than` (>).
    case lower(Bound)
    /// `at_most` (≤) or `less_than` (<).
    case upper(Bound)
    /// One lower and one upper word; never empty (checked when parsed).
    case window(lower: Bound, upper: Bound)
    /// Every outcome must be in `accept`; with `parts`, one outcome per part, in the
    /// order of `parts`.
    case qualitative(accept: [QualitativeOutcome], parts: [String]?)
    /// The result must be `<LOD` with LOD ≤ `limit`.
    case notDetected(limit: ExactDecimal)
    /// value × M ≤ K, M the lot's maximum dose in mL/kg/h; `kIntrathecal` is K for the
    /// intrathecal route (nil: the specification does not cover that route); `maxDose` is
    /// the range of M a lot may be given (a smaller M would loosen the limit).
    case endotoxinDose(k: ExactDecimal, kIntrathecal: ExactDecimal?, maxDose: DoseRange)

    /// The kind's name in the import document.
    public var kind: String {
        switch self {
        case .lower: "lower"
        case .upper: "upper"
        case .window: "window"
        case .qualitative: "qualitative"
        case .notDetected: "not_detected"
        case .endotoxinDose: "endotoxin_dose"
        }
    }
}

/// One end of a numeric limit. The inclusivity is spelled by the bound word in the file
/// (`at_least`/`at_most` inclusive, `more_than`/`less_than` exclusive), never defaulted.
public struct Bound: Sendable, Equatable {
    /// The limit, exactly as written.
    public let value: ExactDecimal
    /// Whether a result equal to ``value`` meets the bound.
    public let inclusive: Bool

    public init(value: ExactDecimal, inclusive: Bool) {
        self.value = value
        self.inclusive = inclusive
    }
}

/// The permitted range of a lot's maximum dose M for a K/M endotoxin limit, from the
/// specification file's `max_dose: {unit: mL/kg/h, min: …, max: …}`. The database refuses
/// a lot's M outside it.
public struct DoseRange: Sendable, Equatable {
    /// The only unit M is given in: the limit K/M is then in EU/mL.
    public static let unit = "mL/kg/h"
    /// The smallest M, above 0.
    public let min: ExactDecimal
    /// The largest M, at least ``min``.
    public let max: ExactDecimal

    public init(min: ExactDecimal, max: ExactDecimal) {
        self.min = min
        self.max = max
    }
}
