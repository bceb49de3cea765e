/// Why a typed unit id, storage position or storage option was refused, with what
/// would fix it. The description is one line, "<problem>; fix: <fix>", like
/// ``IdentifierError``'s.
public enum StorageInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not of the form DIN-division: "W123426000001-001" or, keyed, "W123426000001X-001".
    case malformedUnit(String)
    /// The division after the dash is not 001–999.
    case divisionOutOfRange(String)
    /// The DIN part of a unit id was refused.
    case unitDonation(IdentifierError)
    /// Not a row letter A–Z followed by a column number 1–99.
    case malformedPosition(String)
    /// A product kind `--holds` does not know.
    case unknownProductKind(String)

    public var description: String {
        switch self {
        case .malformedUnit(let text):
            "\"\(text)\" is not a unit id: a unit is its lot's DIN, a dash and a three-digit division "
                + "(W123426000001-001, or with the DIN's check character W123426000001X-001); "
                + "fix: type it as printed on the vial or bag label"
        case .divisionOutOfRange(let text):
            "the division \"\(text)\" is not 001–999; fix: type the three digits after the dash on the label"
        case .unitDonation(let error):
            "the lot part of the unit id was refused: \(error.description)"
        case .malformedPosition(let text):
            "\"\(text)\" is not a box position: a position is a row letter A–Z and a column number 1–99, such as C7; "
                + "fix: give the row letter first, then the column (gmp storage layout BOX shows the positions)"
        case .unknownProductKind(let text):
            "\"\(text)\" is not a product kind; fix: use \(ProductKind.allCases.map(\.rawValue).joined(separator: ", "))"
        }
    }
}
