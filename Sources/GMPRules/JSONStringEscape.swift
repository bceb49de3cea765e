/// The escapes of a JSON string (RFC 8259, section 7), read and written, for every place
/// gmp handles JSON text itself: the reconciler's field splitter (`JSONObjectText`), the
/// specification and master batch record documents, the CLI's document shaper. One
/// table, so that they all read and write a string alike.
public enum JSONStringEscape {
    /// `text` as a JSON string literal: quote, backslash and control characters escaped,
    /// everything else as UTF-8.
    public static func quoted(_ text: String) -> String {
        var out = ""
        append(text, to: &out)
        return out
    }

    /// `quoted(text)` appended to `out`, without a string of its own (a document writer
    /// quotes every key and string: start-up, issue 18).
    public static func append(_ text: String, to out: inout String) {
        // Most text needs no escape: written whole rather than scalar by scalar.
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) {
            out += "\""
            out += text
            out += "\""
            return
        }
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// `quoted(text)` appended to UTF-8 bytes (the CLI's document writer builds its output
    /// as bytes, not by appending to a String: issue 14). The text's bytes are copied
    /// whole and looked over once in place; only text that needs an escape goes through
    /// `quoted`, the one home of the escapes.
    public static func append(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let start = out.count
        out.append(contentsOf: text.utf8)
        for index in start..<out.count where out[index] == UInt8(ascii: "\"") || out[index] == UInt8(ascii: "\\") || out[index] < 0x20 {
            out.removeSubrange((start - 1)...)
            out.append(contentsOf: quoted(text).utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The character a one-letter escape (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`)
    /// stands for; nil for `u` (see `scalar`) and for anything that is no escape.
    public static func character(_ letter: UInt8) -> Unicode.Scalar? {
        switch letter {
        case UInt8(ascii: "\""): "\""
        case UInt8(ascii: "\\"): "\\"
        case UInt8(ascii: "/"): "/"
        case UInt8(ascii: "b"): "\u{08}"
        case UInt8(ascii: "f"): "\u{0C}"
        case UInt8(ascii: "n"): "\n"
        case UInt8(ascii: "r"): "\r"
        case UInt8(ascii: "t"): "\t"
        default: nil
        }
    }

    /// The scalar of `\uXXXX` whose code is `code`: a high surrogate takes the code of the
    /// `\uXXXX` that must follow from `low` (called only then), and nil is returned when
    /// that is no low surrogate or the code is no scalar (a lone low surrogate).
    public static func scalar(_ code: UInt32, low: () throws -> UInt32?) rethrows -> Unicode.Scalar? {
        guard (0xD800..<0xDC00).contains(code) else { return Unicode.Scalar(code) }
        guard let low = try low(), (0xDC00..<0xE000).contains(low) else { return nil }
        return Unicode.Scalar(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
    }
}
