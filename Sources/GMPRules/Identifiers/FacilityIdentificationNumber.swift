/// An ISBT 128 facility identification number (FIN): the 5 characters ICCBBA assigns
/// to a facility, and the first 5 characters of every DIN it issues.
///
/// The first character is A–N, P–Z or 1–9; the other four are A–N, P–Z or 0–9. The
/// letter O is never used (it reads as zero) and letters are uppercase only.
public struct FacilityIdentificationNumber: Sendable, Hashable, CustomStringConvertible {
    /// The 5 characters, e.g. "G1234".
    public let value: String

    /// Accepts exactly the 5 characters: no trimming, no case folding.
    public init(_ text: String) throws(IdentifierError) {
        guard Self.problem(in: text) == nil else { throw .invalidFacility(text) }
        value = text
    }

    public var description: String { value }

    /// Why `text` is not a FIN, or nil if it is one. Kept apart from the error so that
    /// the error's description can name the exact problem.
    static func problem(in text: String) -> String? {
        // Five bytes each a FIN's character: a FIN, without an array of Characters (~4,500
        // instructions a DIN, some 200 DINs in a material trace's page, issue 14). Anything
        // else is looked at character by character, for the message.
        if Self.isPlainFIN(text.utf8) { return nil }
        let characters = Array(text)
        guard characters.count == 5 else {
            return "it has \(characters.count) characters, not 5"
        }
        for (index, character) in characters.enumerated() {
            // asciiValue, not Character ranges: "Á" sorts between "A" and "Z".
            guard let ascii = character.asciiValue, character.unicodeScalars.count == 1 else {
                return "\"\(character)\" is not a letter A–Z or a digit"
            }
            switch ascii {
            case UInt8(ascii: "O"), UInt8(ascii: "o"):
                return "the letter O is never used in a FIN (it reads as zero)"
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                return "lowercase \"\(character)\" is not used (type \(character.uppercased()))"
            case UInt8(ascii: "0") where index == 0:
                return "the first character cannot be 0"
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            default:
                return "\"\(character)\" is not a letter A–Z or a digit"
            }
        }
        return nil
    }

    /// Whether the bytes are five of A–N, P–Z and 0–9, the first not 0 (each one Character).
    private static func isPlainFIN(_ utf8: String.UTF8View) -> Bool {
        guard utf8.count == 5 else { return false }
        var first = true
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "O"): return false
            case UInt8(ascii: "0") where first: return false
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): first = false
            default: return false
            }
        }
        return true
    }
}
