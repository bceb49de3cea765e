/// The closed list of result units (`gmp_meta.unit`). None allows a negative value; `%`
/// is 0–100. Which units convert into which, exactly, is the database's table
/// (`gmp_meta.unit_conversion`), applied when a result is recorded.
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
    // Process parameters of master batch records (V0034).
    case degreesCelsius = "°C"
    case hours = "h"
    case minutes = "min"
    case timesGravity = "x g"
    case cellsPerSquareCentimetre = "cells/cm²"
    case millilitres = "mL"
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
