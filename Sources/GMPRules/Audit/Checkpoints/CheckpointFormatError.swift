/// A checkpoint that cannot be made or read: every problem found, each naming the field
/// (and, for a file, the line) and what is wrong with it.
public struct CheckpointFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every problem, in file order, e.g. "line 3 (seq): must be a positive whole number …".
    public let problems: [String]

    public var description: String {
        "not a valid gmp audit checkpoint: \(problems.joined(separator: "; "))"
    }
}
