import PostgresClient  // ExactDecimal

/// How a numeric result was reported.
public enum ResultQualifier: String, Sendable, CaseIterable, Codable {
    /// A plain value: the true value is the value.
    case exact
    /// `<v`: below the limit of detection; the true value is below v.
    case below
    /// `>v`: above the range; the true value is above v.
    case above
}

/// A QC result as typed, classified (``ResultEntry``): what is sent to the database,
/// which converts its unit and judges it against the lot's criterion
/// (`gmp_rules.criterion_verdict`, the one place a value meets a limit).
public enum MeasuredValue: Sendable, Equatable {
    /// A number with its qualifier and unit.
    case number(qualifier: ResultQualifier, value: ExactDecimal, unit: MeasurementUnit)
    /// Qualitative outcomes: one for a plain qualitative test, or one per part, in the
    /// order of the criterion's `parts`.
    case outcomes([QualitativeOutcome])
}
