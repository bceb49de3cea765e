/// A lot's status. The database keeps the state machine (sql/code/06_lots.sql,
/// gmp_meta.lot_transition); ``allowedTransitions`` is the same table, for help
/// and the README, and a test checks that the two agree.
public enum LotStatus: String, Sendable, CaseIterable, Codable {
    /// Every lot starts here and stays here until a disposition (1271.60).
    case quarantine
    /// Held by QA pending an investigation; no manufacturing step may be recorded.
    case onHold = "on_hold"
    /// Rejected by QA with a signature; final.
    case rejected
    /// Released by QA with a signature once every criterion is met (sql/code/10_release.sql); final.
    case released
    /// Released by the director for one patient although criteria failed, with the
    /// physician's request and acceptance; final, and never shown as a plain release.
    case exceptionallyReleased = "exceptionally_released"

    /// The statuses a lot in this status may move to; empty for a final status.
    ///
    /// A switch, not a dictionary: `gmp lot`'s help text lists these, and every command
    /// line that names a top-level command after `lot` builds that text to find its
    /// command; a dictionary keyed by `LotStatus` cost a scan of every conformance record
    /// in the binary there (start-up, issue 18).
    public var allowedNext: [LotStatus] {
        switch self {
        case .quarantine: [.onHold, .rejected, .released, .exceptionallyReleased]
        case .onHold: [.quarantine, .rejected]
        case .rejected, .released, .exceptionallyReleased: []
        }
    }

    /// From each status, the statuses a lot may move to (``allowedNext`` of each).
    public static var allowedTransitions: [LotStatus: [LotStatus]] {
        Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.allowedNext) })
    }
}

/// Where a lot sits in the lineage: master cell bank → working cell bank → drug product.
public enum LotStage: String, Sendable, CaseIterable, Codable {
    case masterCellBank = "master_cell_bank"
    case workingCellBank = "working_cell_bank"
    case drugProduct = "drug_product"
}

/// What the lot is.
public enum ProductKind: String, Sendable, CaseIterable, Codable {
    case cells
    case conditionedMedium = "conditioned_medium"
    case extracellularVesicles = "extracellular_vesicles"
}

/// Manufacturing steps, in the order the database enforces (passages may repeat).
public enum ManufacturingStepKind: String, Sendable, CaseIterable, Codable {
    case isolation, passage, harvest, formulation, fill, cryopreservation
}
