import GMPRules
import Testing

@Suite("ISO/IEC 7064 MOD 37-2 check character")
struct ISO7064Mod37_2Tests {
    /// The 37 characters a check position can hold; body positions use the first 36.
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*")

    /// DIN + check characters spread over the alphabet, including the published vectors.
    static let valid = ["G123417654321A", "G123498654321H", "A999914123458J"]
        + ["G123426000001", "W000099999999", "Z9ZZZ00000001", "1A2B326123456", "NPQRS45010203"]
        .map { $0 + String(ISO7064Mod37_2.checkCharacter(for: $0)!) }

    /// Whether the last of 14 characters is the check character of the first 13.
    static func passes(_ characters: [Character]) -> Bool {
        ISO7064Mod37_2.checkCharacter(for: String(characters.prefix(13))) == characters[13]
    }

    @Test("the published ISBT 128 vectors", arguments: [
        ("G123417654321", Character("A")), ("G123498654321", "H"), ("A999914123458", "J"),
    ])
    func publishedVectors(text: String, check: Character) {
        #expect(ISO7064Mod37_2.checkCharacter(for: text) == check)
    }

    @Test("a substring computes like a string")
    func substring() {
        let text = "xxG123417654321yy"
        #expect(ISO7064Mod37_2.checkCharacter(for: text.dropFirst(2).dropLast(2)) == "A")
    }

    @Test("check value 36 is written *")
    func star() {
        // About one text in 37 has check value 36; vary the sequence until one does.
        let star = (100_000...100_999).map { "G123417" + String($0) }
            .first { ISO7064Mod37_2.checkCharacter(for: $0) == "*" }
        #expect(star != nil)
    }

    @Test("anything but 0–9 and uppercase A–Z has no check character",
          arguments: ["G123417654321a", "G1234 17654321", "G1234-17654321", "*", "Á", "A\u{301}", "é"])
    func outsideAlphabet(text: String) {
        #expect(ISO7064Mod37_2.checkCharacter(for: text) == nil)
    }

    @Test("every single-character substitution is detected", arguments: valid)
    func substitutions(din: String) {
        let original = Array(din)
        #expect(Self.passes(original))
        var tried = 0
        for position in 0..<14 {
            for replacement in Self.alphabet where replacement != original[position] {
                var changed = original
                changed[position] = replacement
                #expect(!Self.passes(changed), "\(String(changed)) passes")
                tried += 1
            }
        }
        #expect(tried == 14 * 36)
    }

    @Test("every transposition of adjacent distinct characters is detected", arguments: valid)
    func transpositions(din: String) {
        let original = Array(din)
        for position in 0..<13 where original[position] != original[position + 1] {
            var changed = original
            changed.swapAt(position, position + 1)
            #expect(!Self.passes(changed), "\(String(changed)) passes")
        }
    }
}
