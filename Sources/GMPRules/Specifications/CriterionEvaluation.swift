import PostgresClient

/// How a numeric result was reported.
public enum ResultQualifier: String, Sendable, CaseIterable, Codable {
    /// A plain value: the true value is the value.
    case exact
    /// `<v`: below the limit of detection; the true value is below v.
    case below
    /// `>v`: above the range; the true value is above v.
    case above
}

/// A result as entered, before it is judged.
public enum MeasuredValue: Sendable, Equatable {
    /// A number with its qualifier and unit.
    case number(qualifier: ResultQualifier, value: ExactDecimal, unit: MeasurementUnit)
    /// Qualitative outcomes: one for a plain qualitative test, or one per part, in the
    /// order of the criterion's `parts`.
    case outcomes([QualitativeOutcome])
}

/// The lot's dose, which the dose-based endotoxin limit K/M depends on.
public struct EndotoxinDose: Sendable, Equatable {
    /// M: the maximum dose in mL per kg per hour; must be positive.
    public let maxDoseMlPerKgPerHour: ExactDecimal
    /// Whether the route is intrathecal (K is then `endotoxin_k_intrathecal`).
    public let intrathecal: Bool

    public init(maxDoseMlPerKgPerHour: ExactDecimal, intrathecal: Bool) {
        self.maxDoseMlPerKgPerHour = maxDoseMlPerKgPerHour
        self.intrathecal = intrathecal
    }
}

/// Whether a result meets its criterion.
public enum CriterionVerdict: String, Sendable, Equatable {
    case pass, fail
}

/// Why a result could not be judged at all. Unlike a failing result (a verdict), these
/// are input errors: the result or the lot's dose must be corrected before anything is
/// recorded, so they are thrown rather than folded into `fail`.
public enum CriterionEvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The result's unit has no declared exact conversion to the criterion's unit.
    case unitNotConvertible(test: String, from: MeasurementUnit, to: MeasurementUnit)
    /// A negative value, or a `%` over 100: no unit allows it.
    case valueOutOfRange(test: String, value: ExactDecimal, unit: MeasurementUnit)
    /// A dose-based endotoxin criterion judged without the lot's dose.
    case doseMissing(test: String)
    /// A maximum dose that is not positive.
    case doseNotPositive(test: String, dose: ExactDecimal)
    /// An intrathecal lot judged by a specification without `endotoxin_k_intrathecal`.
    case intrathecalLimitMissing(test: String)

    public var description: String {
        switch self {
        case .unitNotConvertible(let test, let from, let to):
            "\(test): a result in \(from.rawValue) cannot be compared with a limit in \(to.rawValue); "
                + "fix: enter the result in \(to.rawValue)"
        case .valueOutOfRange(let test, let value, let unit):
            "\(test): \(value) \(unit.rawValue) is not a possible value (\(unit == .percent ? "0–100" : "never negative")); "
                + "fix: correct the result"
        case .doseMissing(let test):
            "\(test): the endotoxin limit is K/M and the lot has no maximum dose; fix: record the lot's maximum dose (mL/kg/h)"
        case .doseNotPositive(let test, let dose):
            "\(test): a maximum dose of \(dose) mL/kg/h gives no limit; fix: record the lot's maximum dose, above 0"
        case .intrathecalLimitMissing(let test):
            "\(test): the lot is intrathecal and the specification has no endotoxin_k_intrathecal; "
                + "fix: judge the lot against a specification version that covers the intrathecal route"
        }
    }
}

extension Criterion {
    /// Judges `value` against this criterion, exactly, as the contract's table says.
    ///
    /// A result of the wrong kind (a number for a qualitative criterion, or outcomes for
    /// a numeric one) fails. A number in another unit is converted exactly when a
    /// conversion is declared; otherwise the result cannot be judged and this throws.
    /// `dose` is used only by a dose-based endotoxin criterion.
    public func verdict(for value: MeasuredValue, dose: EndotoxinDose?) throws -> CriterionVerdict {
        switch (rule, value) {
        case (.qualitative(let accept, let parts), .outcomes(let outcomes)):
            // Exactly one outcome per part (one in all without parts): an empty or short
            // list must never count as "all accepted".
            guard outcomes.count == (parts?.count ?? 1) else { return .fail }
            return outcomes.allSatisfy(accept.contains) ? .pass : .fail
        case (.qualitative, .number), (_, .outcomes):
            return .fail
        case (_, .number(let qualifier, let number, let resultUnit)):
            guard let unit else { return .fail }
            let converted = try convert(number, from: resultUnit, to: unit)
            return try judge(qualifier: qualifier, value: converted, dose: dose) ? .pass : .fail
        }
    }

    /// The value in the criterion's unit, exactly, after checking it is possible at all.
    private func convert(_ value: ExactDecimal, from: MeasurementUnit, to: MeasurementUnit) throws -> ExactDecimal {
        if value.isNegative || (from == .percent && value > ExactDecimal(100)) {
            throw CriterionEvaluationError.valueOutOfRange(test: test, value: value, unit: from)
        }
        guard let factor = from.exactFactor(to: to) else {
            throw CriterionEvaluationError.unitNotConvertible(test: test, from: from, to: to)
        }
        return value.multiplied(by: factor)
    }

    private func judge(qualifier: ResultQualifier, value: ExactDecimal, dose: EndotoxinDose?) throws -> Bool {
        switch rule {
        case .lower(let bound):
            return Self.meets(lower: bound, qualifier, value)
        case .upper(let bound):
            return Self.meets(upper: bound, qualifier, value)
        case .window(let lower, let upper):
            return Self.meets(lower: lower, qualifier, value) && Self.meets(upper: upper, qualifier, value)
        case .notDetected(let limit):
            return qualifier == .below && value <= limit
        case .endotoxinDose(let k, let kIntrathecal):
            let dose = try checked(dose)
            guard let limitK = dose.intrathecal ? kIntrathecal : k else {
                throw CriterionEvaluationError.intrathecalLimitMissing(test: test)
            }
            // value ≤ K / M, without dividing: value × M ≤ K. `<v` is an upper-bound pass
            // when v qualifies; `>v` fails, as for any upper bound.
            return qualifier != .above && value.multiplied(by: dose.maxDoseMlPerKgPerHour) <= limitK
        case .qualitative:
            return false
        }
    }

    private func checked(_ dose: EndotoxinDose?) throws -> EndotoxinDose {
        guard let dose else { throw CriterionEvaluationError.doseMissing(test: test) }
        guard !dose.maxDoseMlPerKgPerHour.isNegative, !dose.maxDoseMlPerKgPerHour.isZero else {
            throw CriterionEvaluationError.doseNotPositive(test: test, dose: dose.maxDoseMlPerKgPerHour)
        }
        return dose
    }

    /// `<v` never proves a lower bound; `>v` proves it when v ≥ L (the true value is
    /// above v, so above L too, whether L is inclusive or not).
    private static func meets(lower bound: Bound, _ qualifier: ResultQualifier, _ value: ExactDecimal) -> Bool {
        switch qualifier {
        case .exact: bound.inclusive ? value >= bound.value : value > bound.value
        case .below: false
        case .above: value >= bound.value
        }
    }

    /// `>v` never proves an upper bound; `<v` proves it when v ≤ U.
    private static func meets(upper bound: Bound, _ qualifier: ResultQualifier, _ value: ExactDecimal) -> Bool {
        switch qualifier {
        case .exact: bound.inclusive ? value <= bound.value : value < bound.value
        case .below: value <= bound.value
        case .above: false
        }
    }
}
