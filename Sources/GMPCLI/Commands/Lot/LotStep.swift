import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp lot step LOT KIND`: one manufacturing step, as it happens.
struct LotStep: GMPCommand {
    static let path = "lot step"
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Record a manufacturing step on a lot (operators).",
        discussion: """
            isolation; passage --cell-count N --viability PCT --doublings PD; harvest; \
            formulation; fill --units N --unit-volume ML; cryopreservation. Out-of-order \
            steps, and passages beyond the facility's limits, are refused. --material names \
            each material lot the step consumed, with quantity and unit (repeatable); the \
            step is refused whole when one of them may not be used. --equipment names each \
            piece of equipment it used (repeatable); equipment out of service, or whose \
            calibration or maintenance was overdue at the step's time, is refused. A step \
            whose kind a procedure in force covers names it (--procedure checks it) and is refused \
            when you are not qualified on it (gmp training matrix).

            On a lot made under a master batch record (gmp help master-batch-records), only \
            the master's steps are recorded, each with every parameter the master names \
            (--param NAME=VALUE[UNIT], repeatable; the unit defaults to the master's) and the \
            material categories and equipment kinds it requires. A value outside the \
            master's limits is recorded and opens a deviation, which blocks release until QA \
            closes it. A second person checks the step: gmp lot check STEP.

            Examples:
              gmp lot step G1234260000014 isolation \\
                  --material "MAT26-00001:50 mL" --material "MAT26-00002:5 mL" \\
                  --equipment BSC-01 --equipment CEN-01
              gmp lot step G1234260000014 harvest --equipment BSC-01 --equipment CEN-01 \
                  --param centrifugation_force=400 --param "centrifugation_time=5 min"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Argument(help: ArgumentHelp("isolation, passage, harvest, formulation, fill or cryopreservation.", valueName: "step"))
    var kind: ManufacturingStepKind
    @Option(help: ArgumentHelp("When it was done (default: now, by the server's clock).", valueName: "time")) var at: TimeArgument?
    @Option(help: ArgumentHelp("Viable cells counted (passage), in digits: 24000000.", valueName: "number"))
    var cellCount: ExactDecimal?
    @Option(help: ArgumentHelp("Viability in percent, 0–100 (passage).", valueName: "percent")) var viability: ExactDecimal?
    @Option(help: ArgumentHelp("Population doublings in this passage.", valueName: "number")) var doublings: ExactDecimal?
    @Option(help: ArgumentHelp("Number of units filled (fill).", valueName: "count")) var units: Int?
    @Option(help: ArgumentHelp("Volume per unit in mL (fill).", valueName: "mL")) var unitVolume: ExactDecimal?
    @Option(help: ArgumentHelp("A note.", valueName: "text")) var note: String?
    @OptionGroup var material: MaterialOptions
    @OptionGroup var equipment: EquipmentOptions
    @OptionGroup var procedure: ProcedureOption
    @Option(name: .customLong("param"),
            help: ArgumentHelp("A parameter of the master batch record, NAME=VALUE[UNIT] (repeatable).", valueName: "name=value"))
    var parameters: [String] = []

    struct Document: Encodable {
        let lot: String
        let step: String
        /// The step's id, which gmp lot check names.
        let stepId: Int64?
        let passage: Int?
        let materials: [String]
        let equipment: [String]
        /// The master batch record the lot is made under, CODE@VERSION.
        let master: String?
        let parameters: [String]
        /// Deviations opened by values outside the master's limits.
        let deviations: [String]
    }

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let record = StepRecord(kind: kind, performedAt: at?.timestamp, cellCount: cellCount, viabilityPercent: viability,
                                populationDoublings: doublings, units: units, unitVolumeML: unitVolume, note: note)
        guard record.missingMeasurements.isEmpty else {
            throw Failure(exitCode: .usage, problem: "a \(kind.rawValue) needs \(record.missingMeasurements.joined(separator: ", "))",
                          fix: "give the measurements with the step")
        }
        let uses = try material.uses()
        let used = try equipment.ids()
        let values = try parameters.map { argument in
            guard let value = MasterRecordRegistry.ParameterValue(argument: argument) else {
                throw Failure(exitCode: .usage, problem: "--param \(argument) is not NAME=VALUE[UNIT]",
                              fix: "write e.g. --param seeding_density=4000 or --param \"incubation_time=96 h\"")
            }
            return value
        }
        let connection = try context.connect(startingEmbedded: false)
        let (passage, stepID, master, deviations) = try connection.transaction(WriteIsolation.lockedRows) { db in
            try Procedures(db).name(procedure.procedure)
            let passage = try Lots(db).record(record, on: din)
            try Materials(db).consume(uses, by: .latestStep(din))
            try EquipmentRegister(db).use(used, by: .latestStep(din))
            let masters = MasterRecordRegistry(db)
            _ = try masters.record(values, on: din)
            return (passage, try masters.latestStep(of: din), try masters.master(of: din), try masters.deviationsOfLatestStep(din))
        }
        try context.output.document(Document(lot: din.eyeReadable, step: kind.rawValue, stepId: stepID, passage: passage, materials: uses.map(\.materialLot),
                                              equipment: used, master: master, parameters: values.map(\.name),
                                              deviations: deviations))
        context.output.data("\(din.eyeReadable): \(kind.rawValue) recorded" + (kind == .passage ? " (P\(passage ?? 0))" : "")
                            + (master.map { " under \($0), step \(stepID ?? 0)" } ?? "")
                            + (deviations.isEmpty ? "" : "; out of range: deviation \(deviations.joined(separator: ", ")) opened"))
    }
}
