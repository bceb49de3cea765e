import PostgresClient  // trimmingWhitespace

/// The id of one unit (vial or bag) of a lot: the lot's DIN, a dash and a three-digit
/// division, e.g. W123426000001-001, as sql/migrations/V0016__storage_and_custody.sql stores it.
///
/// A person may type it as stored (13 DIN characters) or copy the keyed DIN from a label
/// with its check character (W123426000001X-001); the check character, when given, must
/// match, so a mistyped id is refused instead of naming another unit.
public struct UnitIdentifier: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let din: DonationIdentificationNumber
    /// 1...999.
    public let division: Int

    public init(din: DonationIdentificationNumber, division: Int) throws(StorageInputError) {
        guard (1...999).contains(division) else { throw .divisionOutOfRange(String(division)) }
        self.din = din
        self.division = division
    }

    /// Parses a typed unit id; surrounding whitespace is ignored and letters are read as
    /// uppercase, as with a keyed DIN.
    public init(_ text: String) throws(StorageInputError) {
        let trimmed = text.trimmingWhitespace
        guard let dash = trimmed.lastIndex(of: "-") else { throw .malformedUnit(text) }
        let lot = trimmed[..<dash].uppercased(), divisionText = trimmed[trimmed.index(after: dash)...]
        guard divisionText.count == 3, divisionText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let division = Int(divisionText) else { throw .malformedUnit(text) }
        guard division > 0 else { throw .divisionOutOfRange(String(divisionText)) }
        guard lot.count == 13 || lot.count == 14 else { throw .malformedUnit(text) }
        let din: DonationIdentificationNumber
        do {
            // 13 characters as stored; 14 keyed from a label, whose check character must match.
            din = lot.count == 13 ? try DonationIdentificationNumber(stored: lot) : try DonationIdentificationNumber(keyed: lot)
        } catch {
            throw .unitDonation(error)
        }
        try self.init(din: din, division: division)
    }

    /// Whether `text` looks like a unit id rather than a lot id (it ends in a dash and
    /// three digits): how `gmp storage find` and `gmp custody history` tell them apart.
    public static func looksLikeUnit(_ text: String) -> Bool {
        // `.*-[0-9]{3}` by hand (no Regex in gmp, issue 18): one line ending in a dash and three digits.
        let characters = Array(text.trimmingWhitespace)
        guard characters.count >= 4, !characters.contains(where: \.isNewline) else { return false }
        return characters[characters.count - 4] == "-"
            && characters.suffix(3).allSatisfy { $0.isASCII && $0.isWholeNumber }
    }

    /// As stored: "W123426000001-001".
    public var value: String { din.value + "-" + Self.threeDigits(division) }

    /// With the DIN's check character, as a person copies it: "W123426000001X-001".
    public var keyed: String { din.keyed + "-" + Self.threeDigits(division) }

    /// As printed under a label's bar code: "W1234 26 000001 X-001".
    public var eyeReadable: String { din.eyeReadable + "-" + Self.threeDigits(division) }

    public var description: String { value }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.din, lhs.division) < (rhs.din, rhs.division) }

    /// A division as labels and box grids print it: three digits, zero-padded ("001").
    public static func threeDigits(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}
