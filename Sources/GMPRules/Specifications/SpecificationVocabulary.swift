import PostgresClient

/// The closed list of result units (`gmp_meta.unit`). None allows a negative value; `%`
/// is 0–100.
public enum MeasurementUnit: String, Sendable, CaseIterable, Codable {
    case percent = "%"
    case cells
    case millionCells = "10^6 cells"
    case millionCellsPerKilogram = "10^6 cells/kg"
    case endotoxinUnitsPerMillilitre = "EU/mL"
    case internationalUnitsPerMillilitre = "IU/mL"
    case nanogramsPerMillilitre = "ng/mL"
    case picogramsPerMillilitre = "pg/mL"
    case nanometres = "nm"
    case particlesPerMillilitre = "particles/mL"
    case billionParticlesPerMillilitre = "10^9 particles/mL"
    case colonyFormingUnitsPerMillilitre = "CFU/mL"

    /// The exact factor f such that a value in `self` is value × f in `target`: 1 for the
    /// same unit, and the conversions declared in `gmp_meta.unit_conversion` (cells ↔
    /// 10^6 cells, EU/mL ↔ IU/mL, ng/mL ↔ pg/mL, particles/mL ↔ 10^9 particles/mL).
    /// nil for anything else: `%` of a count, say, has no meaning, so it is refused.
    public func exactFactor(to target: MeasurementUnit) -> ExactDecimal? {
        if self == target { return ExactDecimal(1) }
        for (small, large, factor) in Self.conversions {
            if self == small, target == large { return .literal(factor) }
            if self == large, target == small { return .literal(Self.multiplier(factor)) }
        }
        return nil
    }

    /// (smaller unit, larger unit, factor from the smaller to the larger) as exact text.
    private static let conversions: [(MeasurementUnit, MeasurementUnit, String)] = [
        (.cells, .millionCells, "0.000001"),
        // Ph. Eur. 2.6.14: one International Unit of endotoxin equals one Endotoxin Unit.
        (.endotoxinUnitsPerMillilitre, .internationalUnitsPerMillilitre, "1"),
        (.picogramsPerMillilitre, .nanogramsPerMillilitre, "0.001"),
        (.particlesPerMillilitre, .billionParticlesPerMillilitre, "0.000000001"),
    ]

    /// The reciprocal of a factor written as 1 or 0.0…01: "0.001" → "1000".
    private static func multiplier(_ factor: String) -> String {
        guard let point = factor.firstIndex(of: ".") else { return factor }
        return "1" + String(repeating: "0", count: factor.distance(from: point, to: factor.endIndex) - 1)
    }
}

extension ExactDecimal {
    /// A decimal written in gmp's own source code, which is known to be valid.
    static func literal(_ text: String) -> ExactDecimal {
        guard let value = ExactDecimal(text) else { preconditionFailure("not a decimal literal: \(text)") }
        return value
    }
}

/// The closed qualitative vocabulary (`gmp_meta.qualitative_outcome`). The outcomes come
/// in opposite pairs (``opposite``); a criterion may not accept both of a pair.
public enum QualitativeOutcome: String, Sendable, CaseIterable, Codable {
    case negative, positive
    case notDetected = "not_detected"
    case detected
    case noGrowth = "no_growth"
    case growth
    case normalKaryotype = "normal_karyotype"
    case abnormalKaryotype = "abnormal_karyotype"
    case singleOrigin = "single_origin"
    case mixedOrigin = "mixed_origin"
    case conforms
    case doesNotConform = "does_not_conform"

    /// The other outcome of the same test: accepting both would accept every result.
    public var opposite: QualitativeOutcome {
        switch self {
        case .negative: .positive
        case .positive: .negative
        case .notDetected: .detected
        case .detected: .notDetected
        case .noGrowth: .growth
        case .growth: .noGrowth
        case .normalKaryotype: .abnormalKaryotype
        case .abnormalKaryotype: .normalKaryotype
        case .singleOrigin: .mixedOrigin
        case .mixedOrigin: .singleOrigin
        case .conforms: .doesNotConform
        case .doesNotConform: .conforms
        }
    }
}
