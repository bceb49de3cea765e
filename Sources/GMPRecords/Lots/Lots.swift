#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// What a lot is made from: a received tissue collection, or a parent cell bank.
public enum LotOrigin: Sendable, Equatable {
    case collection(String)
    case parent(DonationIdentificationNumber)
}

/// Lots: creation, manufacturing steps and status changes (sql/code/06_lots.sql). The state
/// machine and the step order are the database's; refusals come back as its errors.
public struct Lots {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Creates a lot in quarantine; returns its DIN. `process` (CODE or CODE@VERSION)
    /// names the master batch record it is made under; nil takes the latest approved one
    /// written for its kind and stage, when there is one (sql/code/23_master_records.sql).
    public func create(from origin: LotOrigin, stage: LotStage, kind: ProductKind, use: IntendedUse,
                       expiresOn: CalendarDate, process: String? = nil) throws -> DonationIdentificationNumber {
        let collection: String?, parent: String?
        switch origin {
        case .collection(let id): (collection, parent) = (id, nil)
        case .parent(let din): (collection, parent) = (nil, din.value)
        }
        let din: String = try connection.query("""
            SELECT gmp.create_lot(\(collection), \(parent), \(stage.rawValue), \(kind.rawValue), \(use.rawValue),
                                  \(expiresOn), \(process)::text) AS din
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
