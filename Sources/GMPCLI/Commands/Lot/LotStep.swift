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

            Example:
              gmp lot step G1234260000014 isolation \\
                  --material "MAT26-00001:50 mL" --material "MAT26-00002:5 mL" \\
                  --equipment BSC-01 --equipment CEN-01
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var lot: LotArgument
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

    struct Document: Encodable {
        let lot: String
        let step: String
        let passage: Int?
        let materials: [String]
        let equipment: [String]
    }

    func execute(in context: CommandContext) throws {
        let din = try lot.din()
        let record = StepRecord(kind: kind, performedAt: at?.timestamp, cellCount: cellCount, viabilityPercent: viability,
                                populationDoublings: doublings, units: units, unitVolumeML: unitVolume, note: note)
        guard record.missingMeasurements.isEmpty else {
            throw Failure(exitCode: .usage, problem: "a \(kind.rawValue) needs \(record.missingMeasurements.joined(separator: ", "))",
                          fix: "give the measurements with the step")
        }
        let uses = try material.uses()
        let used = try equipment.ids()
        let connection = try context.connect(startingEmbedded: false)
        let passage = try connection.transaction(WriteIsolation.lockedRows) { db in
            try Procedures(db).name(procedure.procedure)
            let passage = try Lots(db).record(record, on: din)
            try Materials(db).consume(uses, by: .latestStep(din))
            try EquipmentRegister(db).use(used, by: .latestStep(din))
            return passage
        }
        try context.output.document(Document(lot: din.eyeReadable, step: kind.rawValue, passage: passage, materials: uses.map(\.materialLot),
                                              equipment: used))
        context.output.data("\(din.eyeReadable): \(kind.rawValue) recorded" + (kind == .passage ? " (P\(passage ?? 0))" : ""))
    }
}
