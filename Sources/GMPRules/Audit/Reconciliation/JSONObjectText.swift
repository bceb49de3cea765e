/// The top-level fields of a JSON object as PostgreSQL prints a jsonb value, each value
/// kept as the exact text it was printed as.
///
/// The reconciliation compares rows as printed text: jsonb prints one canonical form
/// (docs/audit-trail.md), so equal rows always print the same and a field's text is
/// enough to tell whether it changed. Nothing is re-serialised, so nothing is lost:
/// `95.0` stays `95.0`. Parsing is only deep enough to find where each value ends.
public struct JSONObjectText: Sendable, Equatable {
    /// Field name (decoded) and its value's raw JSON text, in printed order.
    public let fields: [(name: String, value: String)]

    public static func == (lhs: JSONObjectText, rhs: JSONObjectText) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// The fields of `text`, or nil when it is not a JSON object.
    public init?(_ text: String) {
        var scanner = JSONScanner(Array(text.utf8))
        guard let fields = scanner.objectFields(), scanner.atEnd else { return nil }
        self.fields = fields
    }

    /// The raw text of field `name`, if present.
    public func raw(_ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    /// Field `name` as PostgreSQL's `->>` gives it: a string decoded, `null` as nil, any
    /// other value as its JSON text.
    public func text(_ name: String) -> String? {
        guard let raw = raw(name) else { return nil }
        return Self.scalarText(raw)
    }

    /// A raw JSON value as `->>` prints it.
    public static func scalarText(_ raw: String) -> String? {
        if raw == "null" { return nil }
        guard raw.hasPrefix("\"") else { return raw }
        var scanner = JSONScanner(Array(raw.utf8))
        return scanner.string()
    }
}

/// Just enough of a JSON reader to split an object into its fields' raw texts.
struct JSONScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool {
        var copy = self
        copy.skipSpace()
        return copy.index == copy.bytes.count
    }

    mutating func objectFields() -> [(name: String, value: String)]? {
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        var fields: [(name: String, value: String)] = []
        skipSpace()
        if take(UInt8(ascii: "}")) { return fields }
        while true {
            skipSpace()
            guard let name = string() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            let start = index
            guard skipValue() else { return nil }
            fields.append((name, String(decoding: bytes[start..<index], as: UTF8.self)))
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "}")) else { return nil }
            return fields
        }
    }

    /// A JSON string, decoded.
    mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        var scalars = String.UnicodeScalarView()
        var run = index
        func flush(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars) }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                flush(index)
                index += 1
                return String(scalars)
            }
            guard byte == UInt8(ascii: "\\") else { index += 1; continue }
            flush(index)
            index += 1
            guard index < bytes.count else { return nil }
            let escape = bytes[index]
            index += 1
            if let character = JSONStringEscape.character(escape) {
                scalars.append(character)
            } else {
                guard escape == UInt8(ascii: "u"), let code = hex4(),
                      let scalar = JSONStringEscape.scalar(code, low: {
                          take(UInt8(ascii: "\\")) && take(UInt8(ascii: "u")) ? hex4() : nil
                      }) else { return nil }
                scalars.append(scalar)
            }
            run = index
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            guard let digit = Hex.value(of: byte) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    /// Moves past one JSON value of any kind.
    private mutating func skipValue() -> Bool {
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard string() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { index += 1; return true }
                default: break
                }
                index += 1
            }
            return false
        default:
            // A number, true, false or null: up to the next delimiter.
            let start = index
            while index < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"),
                                         UInt8(ascii: " ")].contains(bytes[index]) { index += 1 }
            return index > start
        }
    }

    private mutating func skipSpace() {
        while index < bytes.count, [UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"),
                                    UInt8(ascii: "\r")].contains(bytes[index]) { index += 1 }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }
}
