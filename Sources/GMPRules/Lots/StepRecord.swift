import PostgresClient  // ExactDecimal, Timestamp

/// The measurements a manufacturing step carries; which are required depends on the
/// kind (a passage: count, viability, doublings; a fill: units and volume).
public struct StepRecord: Sendable, Equatable {
    public var kind: ManufacturingStepKind
    /// nil: now, by the server's clock.
    public var performedAt: Timestamp?
    public var cellCount: ExactDecimal?
    public var viabilityPercent: ExactDecimal?
    public var populationDoublings: ExactDecimal?
    public var units: Int?
    public var unitVolumeML: ExactDecimal?
    public var note: String?

    public init(kind: ManufacturingStepKind, performedAt: Timestamp? = nil, cellCount: ExactDecimal? = nil,
                viabilityPercent: ExactDecimal? = nil, populationDoublings: ExactDecimal? = nil, units: Int? = nil,
                unitVolumeML: ExactDecimal? = nil, note: String? = nil) {
        self.kind = kind
        self.performedAt = performedAt
        self.cellCount = cellCount
        self.viabilityPercent = viabilityPercent
        self.populationDoublings = populationDoublings
        self.units = units
        self.unitVolumeML = unitVolumeML
        self.note = note
    }

    /// What the kind needs and is missing, as option names; empty when complete.
    public var missingMeasurements: [String] {
        switch kind {
        case .passage:
            return [cellCount == nil ? "--cell-count" : nil, viabilityPercent == nil ? "--viability" : nil,
                    populationDoublings == nil ? "--doublings" : nil].compactMap { $0 }
        case .fill:
            return [units == nil ? "--units" : nil, unitVolumeML == nil ? "--unit-volume" : nil].compactMap { $0 }
        default:
            return []
        }
    }
}
