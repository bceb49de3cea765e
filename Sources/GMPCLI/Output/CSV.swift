/// CSV as gmp writes it: RFC 4180 (CRLF line ends, a field quoted when it holds a comma,
/// a quote or a line break, quotes doubled), with values that a spreadsheet would run as
/// a formula neutralised as the OWASP CSV-injection guidance asks: a value beginning with
/// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`. A plain number
/// (`-196`, `-0.5`) is left as it is: it is no formula, and a temperature must stay one.
enum CSV {
    /// The UTF-8 byte order mark, for spreadsheets that otherwise guess a legacy encoding.
    static let byteOrderMark = "\u{FEFF}"

    static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ value: String) -> String {
        let text = neutralised(value)
        // Unicode scalars, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
            return text
        }
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }

    static func neutralised(_ value: String) -> String {
        guard let first = value.unicodeScalars.first, formulaStarts.contains(first), !NumberText.isPlainNumber(value) else {
            return value
        }
        return "'" + value
    }

    private static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

}
