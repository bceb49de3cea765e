import PostgresClient

/// The import document `gmp.import_specification(document jsonb, …)` takes
/// (docs/qc-and-release.md): the file's content with fixed keys, every key always present
/// (null when it does not apply), numbers as strings exactly as typed, criteria in file
/// order.
///
/// Written by hand rather than with JSONEncoder so that the key order, and therefore the
/// bytes, are the contract's and never change between runs or platforms.
public enum SpecificationDocument {
    /// The document as compact JSON text.
    public static func json(for specification: Specification) -> String {
        var out = "{"
        out += member("code", string(specification.code)) + ","
        out += member("title", string(specification.title)) + ","
        out += member("product_kind", string(specification.productKind.rawValue)) + ","
        out += member("stage", string(specification.stage.rawValue)) + ","
        out += member("criteria", "[" + specification.criteria.map(criterion).joined(separator: ",") + "]")
        return out + "}"
    }

    private static func criterion(_ criterion: Criterion) -> String {
        var lower: Bound?, upper: Bound?
        var accept: [QualitativeOutcome]?, parts: [String]?
        var detectionLimit: ExactDecimal?, k: ExactDecimal?, kIntrathecal: ExactDecimal?, dose: DoseRange?
        switch criterion.rule {
        case .lower(let bound): lower = bound
        case .upper(let bound): upper = bound
        case .window(let l, let u): (lower, upper) = (l, u)
        case .qualitative(let a, let p): (accept, parts) = (a, p)
        case .notDetected(let limit): detectionLimit = limit
        case .endotoxinDose(let kValue, let kIntrathecalValue, let range): (k, kIntrathecal, dose) = (kValue, kIntrathecalValue, range)
        }
        let members = [
            member("test", string(criterion.test)),
            member("name", string(criterion.name)),
            member("method", string(criterion.method)),
            member("kind", string(criterion.rule.kind)),
            member("unit", criterion.unit.map { string($0.rawValue) } ?? "null"),
            member("lower", number(lower?.value)),
            member("lower_inclusive", boolean(lower?.inclusive)),
            member("upper", number(upper?.value)),
            member("upper_inclusive", boolean(upper?.inclusive)),
            member("accept", accept.map { array($0.map(\.rawValue)) } ?? "null"),
            member("parts", parts.map(array) ?? "null"),
            member("detection_limit", number(detectionLimit)),
            member("endotoxin_k", number(k)),
            member("endotoxin_k_intrathecal", number(kIntrathecal)),
            member("max_retests", String(criterion.maxRetests)),
            member("max_dose_min", number(dose?.min)),
            member("max_dose_max", number(dose?.max)),
            member("max_dose_unit", dose == nil ? "null" : string(DoseRange.unit)),
        ]
        return "{" + members.joined(separator: ",") + "}"
    }

    private static func member(_ key: String, _ value: String) -> String { string(key) + ":" + value }
    private static func number(_ value: ExactDecimal?) -> String { value.map { string($0.description) } ?? "null" }
    private static func boolean(_ value: Bool?) -> String { value.map { $0 ? "true" : "false" } ?? "null" }
    private static func array(_ items: [String]) -> String { "[" + items.map(string).joined(separator: ",") + "]" }

    /// A JSON string literal (RFC 8259).
    static func string(_ text: String) -> String { JSONStringEscape.quoted(text) }
}
