/// Why a specification file was refused: where (the key path, and the line when known),
/// what is wrong, and what would fix it.
///
/// Paths use the file's keys and zero-based list indexes, as JSONPath and yq do:
/// `criteria[3].at_least` is the `at_least` of the fourth criterion. The description is
/// one line: `criteria[3].at_least: "9O.5" is not a decimal (line 27); fix: …`.
public struct SpecificationFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key path of the problem; empty for the file as a whole.
    public let path: String
    /// The 1-based line of the offending node, when the YAML parser reported it.
    public let line: Int?
    /// What is wrong.
    public let problem: String
    /// What would fix it.
    public let fix: String

    public init(path: String, line: Int?, problem: String, fix: String) {
        self.path = path
        self.line = line
        self.problem = problem
        self.fix = fix
    }

    public var description: String {
        let place = line.map { " (line \($0))" } ?? ""
        return (path.isEmpty ? "" : "\(path): ") + problem + place + "; fix: " + fix
    }
}
