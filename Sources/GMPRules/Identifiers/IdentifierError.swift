/// Why a typed or stored identifier was refused, with what would fix it.
///
/// The description is one line, "<problem>; fix: <fix>". A wrong check character never
/// names the expected one: showing it would let a mistyped id be "corrected" to
/// whatever was typed, defeating the check.
public enum IdentifierError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The facility part is not an ISBT 128 FIN.
    case invalidFacility(String)
    /// A keyed DIN with neither 13 nor 14 characters (spaces between groups not counted).
    case wrongLength(given: Int)
    /// A keyed DIN with spaces inside a group, or more than one space between groups;
    /// carries the length of each space-separated group as typed.
    case misgrouped(groupLengths: [Int])
    /// The 2 year characters are not digits.
    case nonDigitYear(String)
    /// The 6 sequence characters are not digits.
    case nonDigitSequence(String)
    /// A year outside 0...99.
    case yearOutOfRange(Int)
    /// A sequence number outside 1...999999 (ISBT 128 never assigns 000000).
    case sequenceOutOfRange(Int)
    /// A keyed DIN of 13 characters: the check character was left off.
    case missingCheckCharacter(din: String)
    /// A keyed DIN whose check character does not match its 13 characters.
    case checkCharacterMismatch(given: Character, din: String)
    /// A stored DIN that is not exactly 13 characters.
    case wrongStoredLength(given: Int)

    public var description: String {
        "\(problem); fix: \(fix)"
    }

    private var problem: String {
        switch self {
        case .invalidFacility(let text):
            let reason = FacilityIdentificationNumber.problem(in: text) ?? "it was refused"
            return "\"\(text)\" is not an ISBT 128 facility identification number: \(reason)"
        case .wrongLength(let given):
            return "\(given) \(given == 1 ? "character was" : "characters were") given, but a keyed DIN "
                + "is 13 characters plus 1 check character (14 in all)"
        case .misgrouped(let lengths):
            return "the groups typed have \(lengths.map(String.init).joined(separator: ", ")) characters, "
                + "but a DIN is printed in groups of 5, 2, 6 and 1 (facility, year, sequence, check character)"
        case .nonDigitYear(let text):
            return "the year \"\(text)\" (characters 6–7) is not two digits"
        case .nonDigitSequence(let text):
            return "the sequence number \"\(text)\" (characters 8–13) is not six digits"
        case .yearOutOfRange(let year):
            return "year \(year) is outside 0–99"
        case .sequenceOutOfRange(let sequence):
            return "sequence number \(sequence) is outside 000001–999999"
        case .missingCheckCharacter(let din):
            return "the check character is missing from \(din)"
        case .checkCharacterMismatch(let given, let din):
            return "the check character \(given) does not match \(din): the id was mistyped"
        case .wrongStoredLength(let given):
            return "a stored DIN is exactly 13 characters with no check character, but \(given) were found"
        }
    }

    private var fix: String {
        switch self {
        case .invalidFacility:
            "type the 5-character FIN as printed: first A–N, P–Z or 1–9, then four of A–N, P–Z or 0–9"
        case .wrongLength, .misgrouped, .nonDigitYear, .nonDigitSequence:
            "re-enter the DIN and its check character from the label, "
                + "with no spaces or single spaces between the printed groups"
        case .yearOutOfRange:
            "give the last two digits of the year"
        case .sequenceOutOfRange:
            "give the sequence number printed on the label; 000000 is never assigned"
        case .missingCheckCharacter:
            "type the 14th character printed after the DIN on the label"
        case .checkCharacterMismatch:
            "re-enter it from the label"
        case .wrongStoredLength:
            "store the 13-character DIN without its check character"
        }
    }
}
