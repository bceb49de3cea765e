/// An ISBT 128 donation identification number (DIN): the facility's FIN, a 2-digit
/// year and a 6-digit sequence number, 13 characters that identify one donation for
/// life (21 CFR 1271.290(c) distinct identification code).
///
/// Stored as those 13 characters. Where a person types one from a label, the ISO 7064
/// MOD 37-2 check character printed after it is required, so that a mistyped id is
/// refused instead of naming another donation.
public struct DonationIdentificationNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let facility: FacilityIdentificationNumber
    /// The last two digits of the year, 0...99.
    public let year: Int
    /// 1...999999.
    public let sequence: Int
    /// The 13 characters, e.g. "G123426000001".
    public let value: String
    /// The MOD 37-2 check character of `value`: 0–9, A–Z or `*`.
    public let checkCharacter: Character

    public init(facility: FacilityIdentificationNumber, year: Int, sequence: Int) throws(IdentifierError) {
        guard (0...99).contains(year) else { throw .yearOutOfRange(year) }
        guard (1...999_999).contains(sequence) else { throw .sequenceOutOfRange(sequence) }
        self.facility = facility
        self.year = year
        self.sequence = sequence
        value = facility.value + Self.zeroPadded(year, width: 2) + Self.zeroPadded(sequence, width: 6)
        guard let check = ISO7064Mod37_2.checkCharacter(for: value) else {
            preconditionFailure("a FIN and digits are always in the MOD 37-2 alphabet: \(value)")
        }
        checkCharacter = check
    }

    /// The 13 characters as stored: exact, with no trimming, case folding or check character.
    public init(stored text: String) throws(IdentifierError) {
        // Nearly always 13 ASCII bytes: the parts cut from the text itself, not from an
        // array of `Character`s (three Strings built character by character were ~15 k
        // instructions a DIN, and a material trace prints some 200: issue 14).
        let utf8 = text.utf8
        if utf8.count == 13, !utf8.contains(where: { $0 >= 0x80 || $0 == UInt8(ascii: "\r") }) {
            let year = utf8.index(utf8.startIndex, offsetBy: 5), sequence = utf8.index(year, offsetBy: 2)
            try self.init(facility: String(text[..<year]), year: String(text[year..<sequence]),
                          sequence: String(text[sequence...]))
            return
        }
        let characters = Array(text)
        guard characters.count == 13 else { throw .wrongStoredLength(given: characters.count) }
        try self.init(body: characters)
    }

    /// What a person types from a label: the 13 characters and the check character,
    /// either run together ("G123426000001 4" without the space) or with single spaces
    /// between the printed groups ("G1234 26 000001 4"). Surrounding whitespace is
    /// ignored; lowercase letters are read as uppercase, since a label is read
    /// case-insensitively and the check character still catches any other slip.
    public init(keyed text: String) throws(IdentifierError) {
        let characters = try Self.compactKeyedForm(text)
        guard characters.count == 13 || characters.count == 14 else {
            throw .wrongLength(given: characters.count)
        }
        try self.init(body: Array(characters.prefix(13)))
        guard characters.count == 14 else { throw .missingCheckCharacter(din: value) }
        let given = characters[13]
        guard given == checkCharacter else { throw .checkCharacterMismatch(given: given, din: value) }
    }

    /// As printed under the bar code: "G1234 26 000001 4", check character last.
    public var eyeReadable: String {
        // `value`'s three parts (the facility, the year and the sequence as padded), cut
        // from its bytes: interpolating freshly padded Strings was ~3,300 instructions a
        // DIN, some 200 of them in a material trace's page (issue 14).
        // Through the String's contiguous UTF-8: enumerating its `utf8` view was ~65
        // instructions a byte (issue 14).
        var text: [UInt8] = []
        text.reserveCapacity(20)
        var value = value
        value.withUTF8 { bytes in
            for index in bytes.indices {
                if index == 5 || index == 7 { text.append(UInt8(ascii: " ")) }
                text.append(bytes[index])
            }
        }
        text.append(UInt8(ascii: " "))
        text.append(contentsOf: checkCharacter.utf8)
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { eyeReadable }

    /// The keyed form without spaces, DIN and check character: "G1234260000014".
    public var keyed: String { value + String(checkCharacter) }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.facility.value, lhs.year, lhs.sequence) < (rhs.facility.value, rhs.year, rhs.sequence)
    }

    /// Parses the 13 characters: facility, then year, then sequence, refusing the first
    /// part that is wrong.
    private init(body: [Character]) throws(IdentifierError) {
        try self.init(facility: String(body[0..<5]), year: String(body[5..<7]), sequence: String(body[7..<13]))
    }

    /// The three parts of the 13 characters, as text.
    private init(facility facilityText: String, year yearText: String, sequence sequenceText: String) throws(IdentifierError) {
        let facility = try FacilityIdentificationNumber(facilityText)
        guard let year = Self.digits(yearText) else { throw .nonDigitYear(yearText) }
        guard let sequence = Self.digits(sequenceText) else { throw .nonDigitSequence(sequenceText) }
        try self.init(facility: facility, year: year, sequence: sequence)
    }

    /// Where a space may fall in the keyed form: after the facility, the year and the
    /// sequence number.
    private static let groupBoundaries: Set<Int> = [5, 7, 13]

    /// The keyed text trimmed, uppercased (ASCII only, so the length cannot change) and
    /// with the spaces between groups removed; a space anywhere else is refused.
    private static func compactKeyedForm(_ text: String) throws(IdentifierError) -> [Character] {
        let trimmed = text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
        let uppercased = trimmed.map { character -> Character in
            guard let ascii = character.asciiValue, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(ascii) else {
                return character
            }
            return Character(Unicode.Scalar(ascii - 32))
        }
        let groups = uppercased.split(separator: " ", omittingEmptySubsequences: false)
        var end = 0
        for group in groups.dropLast() {
            end += group.count
            guard !group.isEmpty, groupBoundaries.contains(end) else {
                throw .misgrouped(groupLengths: groups.map(\.count))
            }
        }
        return groups.flatMap { $0 }
    }

    /// The value of a string of ASCII digits, or nil if any character is not 0–9.
    private static func digits(_ text: String) -> Int? {
        var result = 0
        for byte in text.utf8 {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            result = result * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return result
    }

    private static func zeroPadded(_ number: Int, width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
