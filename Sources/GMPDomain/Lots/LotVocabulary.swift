/// A lot's status. The database keeps the state machine (sql/V0009,
/// gmp_meta.lot_transition); ``allowedTransitions`` is the same table, for help
/// and the README, and a test checks that the two agree.
public enum LotStatus: String, Sendable, CaseIterable, Codable {
    /// Every lot starts here and stays here until a disposition (1271.60).
    case quarantine
    /// Held by QA pending an investigation; no manufacturing step may be recorded.
    case onHold = "on_hold"
    /// Rejected by QA with a signature; final.
    case rejected

    /// From each status, the statuses a lot may move to. Release arrives with QC.
    public static let allowedTransitions: [LotStatus: [LotStatus]] = [
        .quarantine: [.onHold, .rejected],
        .onHold: [.quarantine, .rejected],
        .rejected: [],
    ]
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
