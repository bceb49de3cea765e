/// The two forms of a number gmp's command line and CSV output recognise, matched by hand,
/// byte by byte (every accepted character is one ASCII byte), not by regex literals, so
/// that gmp's own code needs no `_StringProcessing` (issue 18; Package.swift says why, and
/// why its records stay while FoundationEssentials links it).
enum NumberText {
    /// `-?[0-9]+(\.[0-9]+)?`: a plain decimal number.
    static func isPlainNumber(_ text: String) -> Bool {
        var rest = Array(text.utf8)[...]
        if rest.first == UInt8(ascii: "-") { rest = rest.dropFirst() }
        let whole = digits(&rest)
        guard whole > 0 else { return false }
        guard rest.first == UInt8(ascii: ".") else { return rest.isEmpty }
        rest = rest.dropFirst()
        return digits(&rest) > 0 && rest.isEmpty
    }

    /// `-[0-9]+(\.[0-9]*)?|-\.[0-9]+`: a negative number as typed (`-3`, `-3.`, `-0.5`, `-.5`).
    static func isNegativeNumber(_ text: String) -> Bool {
        var rest = Array(text.utf8)[...]
        guard rest.popFirst() == UInt8(ascii: "-") else { return false }
        let whole = digits(&rest)
        guard rest.first == UInt8(ascii: ".") else { return whole > 0 && rest.isEmpty }
        rest = rest.dropFirst()
        let fraction = digits(&rest)
        return rest.isEmpty && (whole > 0 || fraction > 0)
    }

    /// Drops the leading ASCII digits of `bytes`; how many there were.
    private static func digits(_ bytes: inout ArraySlice<UInt8>) -> Int {
        let count = bytes.prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }.count
        bytes = bytes.dropFirst(count)
        return count
    }
}
