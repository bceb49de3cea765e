@testable import GMPRules
import Testing

/// The error `body` throws, or nil (recording an issue) if it throws none.
private func refusal<T>(_ body: () throws(IdentifierError) -> T) -> IdentifierError? {
    do {
        let value = try body()
        Issue.record("expected a refusal, got \(value)")
        return nil
    } catch {
        return error
    }
}

@Suite("Donation identification number")
struct DonationIdentificationNumberTests {
    typealias DIN = DonationIdentificationNumber

    /// G1234 26 000001: its check character, computed independently, is 4.
    static let body = "G123426000001"

    // MARK: Published vectors and parts

    @Test("the published vectors key in and keep their parts", arguments: [
        ("G123417654321A", "G1234", 17, 654_321, Character("A")),
        ("G123498654321H", "G1234", 98, 654_321, "H"),
        ("A999914123458J", "A9999", 14, 123_458, "J"),
    ])
    func publishedVectors(keyed: String, facility: String, year: Int, sequence: Int, check: Character) throws {
        let din = try DIN(keyed: keyed)
        #expect(din.facility.value == facility)
        #expect(din.year == year)
        #expect(din.sequence == sequence)
        #expect(din.checkCharacter == check)
        #expect(din.value == String(keyed.prefix(13)))
    }

    @Test("built from parts, zero-padded")
    func fromParts() throws {
        let din = try DIN(facility: FacilityIdentificationNumber("G1234"), year: 6, sequence: 42)
        #expect(din.value == "G123406000042")
        #expect(din.checkCharacter == ISO7064Mod37_2.checkCharacter(for: "G123406000042"))
    }

    // MARK: Eye-readable form

    @Test("eye-readable: groups separated by single spaces, check character last")
    func eyeReadable() throws {
        let din = try DIN(stored: Self.body)
        #expect(din.eyeReadable == "G1234 26 000001 4")
        #expect(din.description == din.eyeReadable)
    }

    @Test("eye-readable from the stored bytes: facility, padded year and sequence, check character, for FINs of letters and digits")
    func eyeReadableParts() throws {
        for fin in ["G1234", "A9999", "1ZZZZ", "W0000", "NP0Q9"] {
            for (year, sequence) in [(0, 1), (6, 42), (26, 999_999), (99, 100_000), (9, 7_654)] {
                let din = try DIN(facility: FacilityIdentificationNumber(fin), year: year, sequence: sequence)
                let padded = (year < 10 ? "0" : "") + String(year) + " " + String(repeating: "0", count: 6 - String(sequence).count)
                    + String(sequence)
                #expect(din.eyeReadable == fin + " " + padded + " " + String(din.checkCharacter))
                #expect(try DIN(stored: din.value).eyeReadable == din.eyeReadable)
            }
        }
    }

    @Test("a FIN's five characters checked on its bytes as character by character: every refusal still named")
    func facilityBytes() {
        for fin in ["G1234", "A0000", "1ZZZZ", "Z9A8B", "N1P2Q"] { #expect(FacilityIdentificationNumber.problem(in: fin) == nil, "\(fin)") }
        for text in ["G123", "G12345", "", "O1234", "G12O4", "0G123", "g1234", "G123a", "G12-4", "G12 4", "É1234", "G123\r",
                     "G12\r\n", "G1\u{301}23", "Ｇ1234"] {
            #expect(FacilityIdentificationNumber.problem(in: text) != nil, "\(text)")
            #expect(throws: IdentifierError.self) { try FacilityIdentificationNumber(text) }
        }
        #expect(FacilityIdentificationNumber.problem(in: "G12O4") == "the letter O is never used in a FIN (it reads as zero)")
        #expect(FacilityIdentificationNumber.problem(in: "0G123") == "the first character cannot be 0")
    }

    @Test("eye-readable and stored forms round-trip", arguments: [
        "G123417654321", "G123498654321", "A999914123458", "W000000999999", "1ZZZZ99000100",
    ])
    func roundTrip(stored: String) throws {
        let din = try DIN(stored: stored)
        #expect(try DIN(keyed: din.eyeReadable) == din)
        #expect(try DIN(keyed: din.value + String(din.checkCharacter)) == din)
        #expect(try DIN(stored: din.value) == din)
    }

    @Test("a * check character keys in")
    func starCheck() throws {
        let stored = try #require((100_000...100_999).map { "G123417" + String($0) }
            .first { ISO7064Mod37_2.checkCharacter(for: $0) == "*" })
        let din = try DIN(keyed: stored + "*")
        #expect(din.eyeReadable.hasSuffix(" *"))
        #expect(try DIN(keyed: din.eyeReadable) == din)
    }

    // MARK: Keyed forms accepted

    @Test("keyed forms accepted", arguments: [
        "G1234260000014", "G1234 26 000001 4", "G123426000001 4", "G1234 26000001 4",
        "G1234 26 0000014", "g1234 26 000001 4", "  G1234 26 000001 4\n", "\tG1234260000014 ",
    ])
    func keyedForms(text: String) throws {
        #expect(try DIN(keyed: text).value == Self.body)
    }

    @Test("a lowercase check letter is read as uppercase")
    func lowercaseCheck() throws {
        #expect(try DIN(keyed: "g123417654321a").checkCharacter == "A")
    }

    // MARK: Check character

    @Test("every single substitution in a keyed DIN is refused", arguments: [
        "G123417654321A", "G123498654321H", "A999914123458J", "G1234260000014",
    ])
    func substitutionsRefused(keyed: String) {
        let original = Array(keyed)
        for position in 0..<14 {
            for replacement in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*" where replacement != original[position] {
                var changed = original
                changed[position] = replacement
                #expect((try? DIN(keyed: String(changed))) == nil, "\(String(changed)) accepted")
            }
        }
    }

    @Test("every adjacent transposition in a keyed DIN is refused", arguments: [
        "G123417654321A", "G123498654321H", "A999914123458J", "G1234260000014",
    ])
    func transpositionsRefused(keyed: String) {
        let original = Array(keyed)
        for position in 0..<13 where original[position] != original[position + 1] {
            var changed = original
            changed.swapAt(position, position + 1)
            #expect((try? DIN(keyed: String(changed))) == nil, "\(String(changed)) accepted")
        }
    }

    @Test("a wrong check character is refused without revealing the right one")
    func wrongCheck() {
        for given in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*" where given != "4" {
            let error = refusal { () throws(IdentifierError) in try DIN(keyed: Self.body + String(given)) }
            #expect(error == .checkCharacterMismatch(given: given, din: Self.body))
            // The same words whatever was typed: nothing in them depends on the right one.
            #expect(error?.description == "the check character \(given) does not match G123426000001: "
                + "the id was mistyped; fix: re-enter it from the label")
        }
    }

    @Test("a missing check character is refused", arguments: ["G123426000001", "G1234 26 000001"])
    func missingCheck(text: String) {
        let error = refusal { () throws(IdentifierError) in try DIN(keyed: text) }
        #expect(error == .missingCheckCharacter(din: Self.body))
        #expect(error?.description == "the check character is missing from G123426000001; "
            + "fix: type the 14th character printed after the DIN on the label")
    }

    // MARK: Other refusals

    @Test("wrong lengths are refused with the count given", arguments: [
        ("", 0), ("G12342600000", 12), ("G12342600000144", 15), ("G1234 26 000001 44", 15),
    ])
    func wrongLength(text: String, given: Int) {
        let error = refusal { () throws(IdentifierError) in try DIN(keyed: text) }
        #expect(error == .wrongLength(given: given))
        #expect(error?.description.contains("\(given) characters were given") == true)
        #expect(error?.description.contains("13 characters plus 1 check character") == true)
    }

    @Test("spaces inside a group, or doubled, are refused", arguments: [
        ("G12 34 26 000001 4", [3, 2, 2, 6, 1]), ("G1234  26 000001 4", [5, 0, 2, 6, 1]),
        ("G1234 26 00001 4", [5, 2, 5, 1]), ("G1234 2 6000001 4", [5, 1, 7, 1]),
    ])
    func misgrouped(text: String, lengths: [Int]) {
        let error = refusal { () throws(IdentifierError) in try DIN(keyed: text) }
        #expect(error == .misgrouped(groupLengths: lengths))
        #expect(error?.description.contains("groups of 5, 2, 6 and 1") == true)
    }

    @Test("an invalid facility part is refused", arguments: [
        ("O123426000001X", "O1234"), ("0123426000001X", "01234"), ("G12-426000001X", "G12-4"),
    ])
    func invalidFacility(text: String, facility: String) {
        #expect(refusal { () throws(IdentifierError) in try DIN(keyed: text) } == .invalidFacility(facility))
    }

    @Test("a non-digit year is refused")
    func nonDigitYear() {
        let error = refusal { () throws(IdentifierError) in try DIN(keyed: "G1234Z6000001X") }
        #expect(error == .nonDigitYear("Z6"))
    }

    @Test("a non-digit sequence is refused", arguments: [
        ("G12342600000AX", "00000A"), ("G1234260000O1X", "0000O1"), ("G123426-000011", "-00001"),
    ])
    func nonDigitSequence(text: String, sequence: String) {
        #expect(refusal { () throws(IdentifierError) in try DIN(keyed: text) } == .nonDigitSequence(sequence))
    }

    @Test("sequence 000000 is refused even with its own check character")
    func zeroSequence() throws {
        let stored = "G123426000000"
        let check = try #require(ISO7064Mod37_2.checkCharacter(for: stored))
        #expect(refusal { () throws(IdentifierError) in try DIN(keyed: stored + String(check)) }
            == .sequenceOutOfRange(0))
        #expect(refusal { () throws(IdentifierError) in try DIN(stored: stored) } == .sequenceOutOfRange(0))
    }

    @Test("parts out of range are refused", arguments: [
        (-1, 1, IdentifierError.yearOutOfRange(-1)), (100, 1, .yearOutOfRange(100)),
        (26, 0, .sequenceOutOfRange(0)), (26, 1_000_000, .sequenceOutOfRange(1_000_000)),
        (26, -5, .sequenceOutOfRange(-5)),
    ])
    func outOfRange(year: Int, sequence: Int, expected: IdentifierError) throws {
        let facility = try FacilityIdentificationNumber("G1234")
        #expect(refusal { () throws(IdentifierError) in
            try DIN(facility: facility, year: year, sequence: sequence)
        } == expected)
    }

    @Test("the stored form is exact: 13 characters, uppercase, no check character", arguments: [
        ("G1234260000014", IdentifierError.wrongStoredLength(given: 14)),
        (" G123426000001", .wrongStoredLength(given: 14)),
        ("G1234 26 000001", .wrongStoredLength(given: 15)),
        ("g123426000001", .invalidFacility("g1234")),
    ])
    func storedExact(text: String, expected: IdentifierError) {
        #expect(refusal { () throws(IdentifierError) in try DIN(stored: text) } == expected)
    }

    @Test("every refusal reads as one line: problem; fix: …", arguments: [
        IdentifierError.invalidFacility("O1234"), .wrongLength(given: 1), .wrongLength(given: 12),
        .misgrouped(groupLengths: [3, 10]), .nonDigitYear("Z6"), .nonDigitSequence("00000A"),
        .yearOutOfRange(100), .sequenceOutOfRange(0), .missingCheckCharacter(din: body),
        .checkCharacterMismatch(given: "A", din: body), .wrongStoredLength(given: 14),
    ])
    func oneLine(error: IdentifierError) {
        #expect(error.description.split(separator: "; fix: ").count == 2)
        #expect(!error.description.contains("\n"))
    }

    // MARK: Equality and order

    @Test("DINs order by facility, year, then sequence, and hash by value")
    func order() throws {
        let stored = ["G123426000002", "A999926000001", "G123425999999", "G123426000001"]
        let dins = try stored.map { text throws(IdentifierError) in try DIN(stored: text) }
        #expect(dins.sorted().map(\.value) == ["A999926000001", "G123425999999", "G123426000001", "G123426000002"])
        #expect(Set(dins + dins).count == 4)
        #expect(try DIN(keyed: "G1234 26 000001 4") == DIN(stored: Self.body))
    }
}

@Suite("Facility identification number")
struct FacilityIdentificationNumberTests {
    @Test("valid FINs", arguments: ["G1234", "A9999", "Z0000", "1ABCD", "9NPQZ", "W0000"])
    func valid(text: String) throws {
        let fin = try FacilityIdentificationNumber(text)
        #expect(fin.value == text)
        #expect(fin.description == text)
    }

    @Test("invalid FINs are refused, naming the problem", arguments: [
        ("O1234", "letter O"), ("G12O4", "letter O"), ("G123o", "letter O"),
        ("01234", "first character cannot be 0"), ("g1234", "lowercase \"g\""),
        ("G123", "4 characters, not 5"), ("G12345", "6 characters, not 5"), ("", "0 characters"),
        ("G12-4", "\"-\" is not"), ("G12 4", "\" \" is not"), ("Á1234", "\"Á\" is not"),
        ("A\u{301}1234", "is not a letter"), ("G123*", "\"*\" is not"),
    ])
    func invalid(text: String, reason: String) {
        let error = refusal { () throws(IdentifierError) in try FacilityIdentificationNumber(text) }
        #expect(error == .invalidFacility(text))
        #expect(error?.description.contains(reason) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("fix: type the 5-character FIN") == true)
    }
}
