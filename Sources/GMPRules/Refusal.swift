/// A change the rules refuse: what was refused, each reason, and what would fix it.
///
/// Business-rule refusals are expected outcomes, not failures of the software: the CLI
/// reports them with exit code 65 and names every unmet condition, never only the first.
public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was attempted, e.g. "release of lot W1234 26 000123".
    public let action: String
    /// Every reason the rules refuse it, in the order they were checked.
    public let reasons: [String]
    /// What the user can do about it.
    public let fix: String

    public init(action: String, reasons: [String], fix: String) {
        self.action = action
        self.reasons = reasons
        self.fix = fix
    }

    public var description: String {
        "\(action) refused: \(reasons.joined(separator: "; ")); fix: \(fix)"
    }
}
