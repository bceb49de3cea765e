import GMPRules
import PostgresClient
import Testing

/// Small builders for the specification tests.
enum SpecFixtures {
    /// A decimal literal from the test source.
    static func d(_ text: String) -> ExactDecimal {
        guard let value = ExactDecimal(text) else { fatalError("bad decimal literal \(text)") }
        return value
    }

    /// A whole file with one criterion `t`, whose rule lines are `body` (YAML, one key a line).
    static func file(criterion body: String, top: String = "max_retests: 1") -> String {
        """
        specification: T-1
        title: Test specification
        applies_to:
          product_kind: cells
          stage: drug_product
        \(top)
        criteria:
          - test: t
            name: Test
            method: Method
        \(body.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    /// The one criterion of `file(criterion:)`.
    static func criterion(_ body: String) throws -> Criterion {
        try #require(try SpecificationFile.parse(file(criterion: body)).criteria.first)
    }

    /// The repository's config/specs directory, found from this file's path.
    static var shippedDirectory: String { RepositoryFiles.path("config/specs") }
}
