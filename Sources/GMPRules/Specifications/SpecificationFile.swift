import PostgresClient
import Yams

/// Parses a specification file (`config/specs/*.yaml`, format in docs/qc-and-release.md).
///
/// Every key is checked: an unknown key, a missing key or a value of the wrong kind is
/// refused with its path. Rules that would make a criterion meaningless are refused too:
/// two lower or two upper words, mixed kinds, an empty window, a bound that excludes no
/// possible value, an accept list holding both outcomes of a pair.
public enum SpecificationFile {
    static let topKeys = ["specification", "title", "applies_to", "max_retests", "criteria"]
    static let appliesToKeys = ["product_kind", "stage"]
    static let retestRange = 0...3

    /// The specification in `text`, or the first problem found.
    public static func parse(_ text: String) throws -> Specification {
        let root: Node?
        do {
            // The basic resolver leaves every scalar a string with its original text
            // (and skips compiling the default resolver's regular expressions).
            root = try Yams.compose(yaml: text, .basic)
        } catch {
            let reason = String(describing: error).split(separator: "\n").first.map(String.init) ?? "unreadable"
            throw SpecificationFileError(path: "", line: nil, problem: "not valid YAML (\(reason))",
                                         fix: "correct the YAML; gmp help qc-and-release shows the format")
        }
        guard let root else {
            throw SpecificationFileError(path: "", line: nil, problem: "the file is empty",
                                         fix: "start from a shipped example: gmp docs --spec uc-msc")
        }
        let top = try SpecificationMapping(root, path: "", allowed: topKeys)
        let code = try top.text("specification", "the specification code, such as UC-MSC-DP")
        guard SpecificationSyntax.isSpecificationCode(code) else {
            throw top.error("specification", "\"\(code)\" is not a specification code",
                            fix: "use 2–32 capital letters, digits and hyphens, not starting with a hyphen")
        }
        let title = try top.text("title", "the title printed on reports")
        let appliesTo = try SpecificationMapping(try top.required("applies_to", "product_kind and stage"),
                                                 path: "applies_to", allowed: appliesToKeys)
        let productKind = try appliesTo.choice("product_kind", ProductKind.self)
        let stage = try appliesTo.choice("stage", LotStage.self)
        let defaultRetests = try top.integer("max_retests", in: retestRange)
        let criteria = try parseCriteria(top, defaultRetests: defaultRetests)
        return Specification(code: code, title: title, productKind: productKind, stage: stage, criteria: criteria)
    }

    private static func parseCriteria(_ top: SpecificationMapping, defaultRetests: Int) throws -> [Criterion] {
        let node = try top.required("criteria", "a list of criteria")
        guard let items = node.sequence, !items.isEmpty else {
            throw top.error("criteria", "expected a non-empty list of criteria", fix: "add at least one `- test: …` item")
        }
        var criteria: [Criterion] = []
        var firstIndex: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let fields = try SpecificationMapping(item, path: "criteria[\(index)]", allowed: CriterionParser.keys)
            let criterion = try CriterionParser(fields: fields, defaultRetests: defaultRetests).parse()
            if let first = firstIndex[criterion.test] {
                throw fields.error("test", "\"\(criterion.test)\" is already the test of criteria[\(first)]",
                                   fix: "give each criterion its own test code")
            }
            firstIndex[criterion.test] = index
            criteria.append(criterion)
        }
        return criteria
    }
}
