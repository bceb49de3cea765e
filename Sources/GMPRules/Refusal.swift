/// The GMP domain of gmp: the rules a cell-therapy facility lives under, as code.
///
/// This module holds the vocabulary and the decisions — donor eligibility, lot
/// disposition (release, reject, hold, exceptional release), specifications and their
/// criteria, custody transfers, excursions, signature meanings — as pure rules and
/// state machines, with I/O kept to the database operations that enforce them.
/// The command-line interface calls into it; it never calls the interface.
///
/// Features arrive issue by issue; the first is the shape every refusal takes.
public enum GMPDomain {}

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
