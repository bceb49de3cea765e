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
    /// Bytes to reserve for the output: twice the parsed text (the indentation), so that
    /// a large document is not copied as its buffer grows.
    private let expectedBytes: Int

    init(parsing text: String) throws {
        root = try JSONValue(parsing: text)
        expectedBytes = 2 * text.utf8.count
    }

    /// A document built in memory (`JSONEncodable`), written in the same shape.
    init(_ root: JSONValue) {
        self.root = root
        expectedBytes = 0
    }

    /// The normalised text, without a final newline.
    var text: String {
        String(decoding: bytes(), as: UTF8.self)
    }

    /// The normalised text as UTF-8, with `end` (a newline) after it: built as bytes,
    /// not by appending to a String, whose every append re-checks its storage (three
    /// quarters of re-writing a material trace's 190 kB, issue 14), and written out as
    /// they are.
    func bytes(end: UInt8? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(expectedBytes)
        var keyed: [String: String] = [:]
        Self.write(root, indent: 0, into: &out, keyed: &keyed)
        if let end { out.append(end) }
        return out
    }

    /// The canonical text of `value` when it is an instant in any of the shapes gmp's
    /// sources produce; nil for anything else (dates, codes, free text).
    static func timestamp(_ value: String) -> String? {
        guard value.utf8.count >= 20 else { return nil }
        // A cheap look first: YYYY-MM-DD, then T or a space, then HH:MM:SS (on the bytes
        // in place: every string of a document comes here).
        var text = value
        let looksLikeOne = text.withUTF8 { bytes in
            bytes[4] == UInt8(ascii: "-") && bytes[7] == UInt8(ascii: "-")
                && (bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "))
                && bytes[13] == UInt8(ascii: ":") && bytes[16] == UInt8(ascii: ":")
        }
        guard looksLikeOne else { return nil }
        return (Timestamp(iso8601: value) ?? Timestamp(postgresText: value))?.iso8601
    }

    /// Appends to `out` directly, without strings of its own for indentation or quoted
    /// keys: `release check --json` re-writes a 39 kB document (start-up, issue 18).
    private static func write(_ value: Value, indent: Int, into out: inout [UInt8], keyed: inout [String: String]) {
        switch value {
        case .object(let members):
            guard !members.isEmpty else { out.append(contentsOf: "{}".utf8); return }
            out.append(contentsOf: "{\n".utf8)
            let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (index, member) in sorted.enumerated() {
                indentation(indent + 1, into: &out)
                JSONStringEscape.append(member.key, to: &out)
                out.append(contentsOf: " : ".utf8)
                let value = isLotKey(member.key) ? typedBack(member.value, keyed: &keyed) : member.value
                write(value, indent: indent + 1, into: &out, keyed: &keyed)
                out.append(contentsOf: (index == sorted.count - 1 ? "\n" : ",\n").utf8)
            }
            indentation(indent, into: &out)
            out.append(UInt8(ascii: "}"))
        case .array(let elements):
            guard !elements.isEmpty else { out.append(contentsOf: "[]".utf8); return }
            out.append(contentsOf: "[\n".utf8)
            for (index, element) in elements.enumerated() {
                indentation(indent + 1, into: &out)
                write(element, indent: indent + 1, into: &out, keyed: &keyed)
                out.append(contentsOf: (index == elements.count - 1 ? "\n" : ",\n").utf8)
            }
            indentation(indent, into: &out)
            out.append(UInt8(ascii: "]"))
        case .string(let string):
            JSONStringEscape.append(timestamp(string) ?? string, to: &out)
        case .number(let text):
            out.append(contentsOf: text.utf8)
        case .bool(let flag):
            out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .null:
            out.append(contentsOf: "null".utf8)
        }
    }

    /// Two spaces a level.
    private static func indentation(_ level: Int, into out: inout [UInt8]) {
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * level))
    }

    /// The fields that name lots (`lot`, `lots`, `parent`); a switch, not a `Set`, so that
    /// no key is hashed.
    static func isLotKey(_ key: String) -> Bool {
        switch key {
        case "lot", "lots", "parent": true
        default: false
        }
    }

    /// A bare DIN (13 characters, as stored) with its check character; anything else as it is.
    /// `keyed` remembers each text's answer: a release check's document names the same
    /// few lots some 80 times, and reading a DIN costs ~25 k instructions (issue 18).
    static func typedBack(_ value: Value, keyed: inout [String: String]) -> Value {
        switch value {
        case .string(let text) where text.utf8.count == 13:
            if let known = keyed[text] { return .string(known) }
            let typed = (try? DonationIdentificationNumber(stored: text))?.keyed ?? text
            keyed[text] = typed
            return .string(typed)
        case .array(let elements):
            return .array(elements.map { typedBack($0, keyed: &keyed) })
        default:
            return value
        }
    }
}
