import PostgresClient

/// A master batch record as parsed from `config/processes/*.yaml`
/// (docs/master-batch-records.md): the approved process a lot is made under.
///
/// A controlled document with the life of a specification: imported as a draft, its
/// version assigned by the database, approved by QA with a signature, never edited.
public struct MasterRecord: Sendable, Equatable {
    /// The process code, `[A-Z0-9][A-Z0-9-]{1,31}` (e.g. `UC-MSC-MBR`).
    public let code: String
    /// The title printed on reports.
    public let title: String
    /// The kind of lot it makes.
    public let productKind: ProductKind
    /// The lineage stage it makes.
    public let stage: LotStage
    /// The steps, in the order of the step kinds (each kind at most once).
    public let steps: [MasterStep]

    public init(code: String, title: String, productKind: ProductKind, stage: LotStage, steps: [MasterStep]) {
        self.code = code
        self.title = title
        self.productKind = productKind
        self.stage = stage
        self.steps = steps
    }
}

/// One step of a master batch record: its kind, the procedure it follows, whether a
/// second person checks it, its parameters, and what it must consume and use.
public struct MasterStep: Sendable, Equatable {
    public let kind: ManufacturingStepKind
    /// The SOP code, `SOP-` then capital letters and digits in dash-separated groups.
    public let procedure: String
    /// Whether a second person checks the executed step (signed "verified").
    public let checkRequired: Bool
    public let parameters: [ProcessParameter]
    /// Material categories (`MaterialVocabulary.categories`) the step must consume.
    public let materials: [String]
    /// Equipment kinds (`EquipmentVocabulary.kinds`) the step must use.
    public let equipment: [String]

    public init(kind: ManufacturingStepKind, procedure: String, checkRequired: Bool, parameters: [ProcessParameter],
                materials: [String], equipment: [String]) {
        self.kind = kind
        self.procedure = procedure
        self.checkRequired = checkRequired
        self.parameters = parameters
        self.materials = materials
        self.equipment = equipment
    }
}

/// A process parameter: a name, its unit, and inclusive limits (at least one).
public struct ProcessParameter: Sendable, Equatable {
    /// `[a-z][a-z0-9_]{0,39}`, unique within its step.
    public let name: String
    public let unit: MeasurementUnit
    public let atLeast: ExactDecimal?
    public let atMost: ExactDecimal?

    public init(name: String, unit: MeasurementUnit, atLeast: ExactDecimal?, atMost: ExactDecimal?) {
        self.name = name
        self.unit = unit
        self.atLeast = atLeast
        self.atMost = atMost
    }

    /// Whether `value` lies within the limits (inclusive), compared exactly.
    public func admits(_ value: ExactDecimal) -> Bool {
        (atLeast.map { !(value < $0) } ?? true) && (atMost.map { !($0 < value) } ?? true)
    }
}
