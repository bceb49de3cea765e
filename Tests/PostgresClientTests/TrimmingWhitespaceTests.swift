import PostgresClient
import Testing

/// `trimmingWhitespace` (issue 18 made it walk indices, inlinable, instead of the generic
/// `drop(while:).reversed()` chain): the same text as that chain for every kind of input.
@Suite("Trimming white space")
struct TrimmingWhitespaceTests {
    /// The definition it replaced, as the reference.
    private func reference<S: StringProtocol>(_ text: S) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    @Test("leading and trailing white space of every kind goes, inner white space stays", arguments: [
        "", " ", "\t\n \r\n", "a", " a ", "\ta b\t", "  two  words  ", "\r\nline\r\n",
        "\u{A0}nbsp\u{2028}", "e\u{301} ", " \u{301}x", "x\u{301} \u{301}", "😀 ", " 🇫🇷 🇩🇪 ",
    ])
    func sameAsReference(text: String) {
        #expect(text.trimmingWhitespace == reference(text))
        let padded = "[" + text + "]"
        let inner = padded.dropFirst().dropLast()
        #expect(inner.trimmingWhitespace == reference(inner))
    }

    @Test("examples")
    func examples() {
        #expect("  key  ".trimmingWhitespace == "key")
        #expect("\t a b \n".trimmingWhitespace == "a b")
        #expect("   ".trimmingWhitespace == "")
        #expect("x".dropFirst().trimmingWhitespace == "")
    }
}
