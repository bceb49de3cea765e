import PostgresClient

/// Parses a specification file (`config/specs/*.yaml`, format in docs/qc-and-release.md).
///
/// Every key is checked: an unknown key, a missing key or a value of the wrong kind is
/// refused with its path. Rules that would make a criterion meaningless are refused too:
/// two lower or two upper words, mixed kinds, an empty window, a bound that excludes no
/// possible value, an accept list holding both outcomes of a pair.
public enum SpecificationFile {
    static let header = ControlledDocumentHeader.Kind(
        topKeys: ["specification", "title", "applies_to", "max_retests", "criteria"], codeKey: "specification",
        codeDescription: "the specification code, such as UC-MSC-DP", codeNoun: "specification code",
        helpTopic: "qc-and-release", example: "gmp docs --spec uc-msc")
    static let retestRange = 0...3

    /// The specification in `text`, or the first problem found.
    public static func parse(_ text: String) throws -> Specification {
        let header = try ControlledDocumentHeader(text, Self.header)
        let defaultRetests = try header.top.integer("max_retests", in: retestRange)
        let criteria = try parseCriteria(header.top, defaultRetests: defaultRetests)
        return Specification(code: header.code, title: header.title, productKind: header.productKind, stage: header.stage,
                             criteria: criteria)
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
