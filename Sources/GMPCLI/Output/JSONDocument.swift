import GMPRules
import PostgresClient

/// A JSON document re-written in gmp's one shape (docs/json-output.md): keys sorted,
/// two-space indentation, and every timestamp as RFC 3339 UTC with six fractional digits
/// and `Z` (`2026-12-04T20:33:56.123456Z`), whoever wrote it: Swift's encoder, or the
/// server's jsonb (`…+00:00`, or `… +01` in text). Numbers keep their exact text (a
/// decimal such as `1.50` is never turned into a binary double), strings their value.
/// A lot named by a `lot`, `lots` or `parent` field is written as a person types it back,
/// DIN and check character: several server documents name it by its bare DIN, which gmp
/// refuses as input (a DIN without its check character could be a slip of the finger).
struct JSONDocument {
    typealias Value = JSONValue
    typealias Malformed = JSONValue.Malformed

    let root: Value

    init(parsing text: String) throws {
        root = try JSONValue(parsing: text)
    }

    /// A document built in memory (`JSONEncodable`), written in the same shape.
    init(_ root: JSONValue) {
        self.root = root
    }

    /// The normalised text, without a final newline.
    var text: String {
        var out = ""
        Self.write(root, indent: 0, into: &out)
        return out
    }

    /// The canonical text of `value` when it is an instant in any of the shapes gmp's
    /// sources produce; nil for anything else (dates, codes, free text).
    static func timestamp(_ value: String) -> String? {
        guard value.utf8.count >= 20 else { return nil }
        let bytes = Array(value.utf8)
        // A cheap look first: YYYY-MM-DD, then T or a space, then HH:MM:SS.
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":") else { return nil }
        return (Timestamp(iso8601: value) ?? Timestamp(postgresText: value))?.iso8601
    }

    private static func write(_ value: Value, indent: Int, into out: inout String) {
        let inner = String(repeating: "  ", count: indent + 1)
        switch value {
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{\n"
            let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (index, member) in sorted.enumerated() {
                out += inner + quoted(member.key) + " : "
                write(lotKeys.contains(member.key) ? typedBack(member.value) : member.value, indent: indent + 1, into: &out)
                out += index == sorted.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: indent) + "}"
        case .array(let elements):
            guard !elements.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (index, element) in elements.enumerated() {
                out += inner
                write(element, indent: indent + 1, into: &out)
                out += index == elements.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: indent) + "]"
        case .string(let string):
            out += quoted(timestamp(string) ?? string)
        case .number(let text):
            out += text
        case .bool(let flag):
            out += flag ? "true" : "false"
        case .null:
            out += "null"
        }
    }

    static let lotKeys: Set<String> = ["lot", "lots", "parent"]

    /// A bare DIN (13 characters, as stored) with its check character; anything else as it is.
    static func typedBack(_ value: Value) -> Value {
        switch value {
        case .string(let text) where text.utf8.count == 13:
            return (try? DonationIdentificationNumber(stored: text)).map { .string($0.keyed) } ?? value
        case .array(let elements):
            return .array(elements.map(typedBack))
        default:
            return value
        }
    }

    private static func quoted(_ string: String) -> String { JSONStringEscape.quoted(string) }
}
