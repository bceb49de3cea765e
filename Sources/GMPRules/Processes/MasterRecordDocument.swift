/// The import document `gmp.import_master_record(document jsonb, …)` takes
/// (docs/master-batch-records.md): the file's content with fixed keys, numbers as strings
/// exactly as typed, steps and parameters in file order. Written with the specification
/// document's JSON writers so that the bytes never vary.
public enum MasterRecordDocument {
    /// The document as compact JSON text.
    public static func json(for record: MasterRecord) -> String {
        let s = SpecificationDocument.string
        return "{" + [
            s("code") + ":" + s(record.code),
            s("title") + ":" + s(record.title),
            s("product_kind") + ":" + s(record.productKind.rawValue),
            s("stage") + ":" + s(record.stage.rawValue),
            s("steps") + ":[" + record.steps.map(step).joined(separator: ",") + "]",
        ].joined(separator: ",") + "}"
    }

    private static func step(_ step: MasterStep) -> String {
        let s = SpecificationDocument.string
        let parameters = step.parameters.map { p in
            "{" + [s("name") + ":" + s(p.name), s("unit") + ":" + s(p.unit.rawValue),
                   s("at_least") + ":" + (p.atLeast.map { s($0.description) } ?? "null"),
                   s("at_most") + ":" + (p.atMost.map { s($0.description) } ?? "null")].joined(separator: ",") + "}"
        }
        return "{" + [
            s("kind") + ":" + s(step.kind.rawValue),
            s("procedure") + ":" + s(step.procedure),
            s("check") + ":" + (step.checkRequired ? "true" : "false"),
            s("parameters") + ":[" + parameters.joined(separator: ",") + "]",
            s("materials") + ":[" + step.materials.map(s).joined(separator: ",") + "]",
            s("equipment") + ":[" + step.equipment.map(s).joined(separator: ",") + "]",
        ].joined(separator: ",") + "}"
    }
}
