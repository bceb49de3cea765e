#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PostgresClient

/// What a lot is made from: a received tissue collection, or a parent cell bank.
public enum LotOrigin: Sendable, Equatable {
    case collection(String)
    case parent(DonationIdentificationNumber)
}

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

/// Lots: creation, manufacturing steps and status changes (sql/V0009). The state
/// machine and the step order are the database's; refusals come back as its errors.
public struct Lots {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Creates a lot in quarantine; returns its DIN.
    public func create(from origin: LotOrigin, stage: LotStage, kind: ProductKind, use: IntendedUse,
                       expiresOn: CalendarDate) throws -> DonationIdentificationNumber {
        let collection: String?, parent: String?
        switch origin {
        case .collection(let id): (collection, parent) = (id, nil)
        case .parent(let din): (collection, parent) = (nil, din.value)
        }
        let din: String = try connection.query("""
            SELECT gmp.create_lot(\(collection), \(parent), \(stage.rawValue), \(kind.rawValue), \(use.rawValue),
                                  \(expiresOn)) AS din
            """)[0].decode("din")
        return try DonationIdentificationNumber(stored: din)
    }

    /// Records a step; returns the passage number it was given (passages and isolation).
    public func record(_ step: StepRecord, on lot: DonationIdentificationNumber) throws -> Int? {
        try connection.query("""
            SELECT gmp.record_step(\(lot.value), \(step.kind.rawValue), \(step.performedAt), \(step.cellCount),
                                   \(step.viabilityPercent), \(step.populationDoublings), \(step.units.map(Int64.init)),
                                   \(step.unitVolumeML), \(step.note)) AS passage
            """)[0].decode("passage")
    }

    public func hold(_ lot: DonationIdentificationNumber, reason: String) throws {
        try connection.execute("SELECT gmp.hold_lot(\(lot.value), \(reason))")
    }

    public func unhold(_ lot: DonationIdentificationNumber, reason: String) throws {
        try connection.execute("SELECT gmp.unhold_lot(\(lot.value), \(reason))")
    }
}
