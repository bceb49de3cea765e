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
    indirect enum Value {
        case object([(key: String, value: Value)])
        case array([Value])
        case string(String)
        /// The number's text as written: no precision lost.
        case number(String)
        case bool(Bool)
        case null
    }

    struct Malformed: Error, CustomStringConvertible {
        let offset: Int
        var description: String { "malformed JSON at byte \(offset)" }
    }

    let root: Value

    init(parsing text: String) throws {
        var parser = Parser(bytes: Array(text.utf8))
        root = try parser.document()
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

    /// RFC 8259, strictly: one value, whitespace around it, nothing else.
    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        mutating func document() throws -> Value {
            let value = try self.value()
            skipSpace()
            guard at == bytes.count else { throw Malformed(offset: at) }
            return value
        }

        mutating func skipSpace() {
            while at < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[at]) { at += 1 }
        }

        mutating func expect(_ literal: String) throws {
            for byte in literal.utf8 {
                guard at < bytes.count, bytes[at] == byte else { throw Malformed(offset: at) }
                at += 1
            }
        }

        mutating func value() throws -> Value {
            skipSpace()
            guard at < bytes.count else { throw Malformed(offset: at) }
            switch bytes[at] {
            case UInt8(ascii: "{"):
                at += 1
                var members: [(key: String, value: Value)] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
                while true {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(":")
                    members.append((key, try value()))
                    skipSpace()
                    guard at < bytes.count else { throw Malformed(offset: at) }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    try expect("}")
                    return .object(members)
                }
            case UInt8(ascii: "["):
                at += 1
                var elements: [Value] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(elements) }
                while true {
                    elements.append(try value())
                    skipSpace()
                    guard at < bytes.count else { throw Malformed(offset: at) }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    try expect("]")
                    return .array(elements)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try expect("true"); return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false"); return .bool(false)
            case UInt8(ascii: "n"):
                try expect("null"); return .null
            default:
                return .number(try number())
            }
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, read byte by byte: a regex
        /// literal is compiled each time it is evaluated, and cost every `--json` command
        /// milliseconds at start-up (issue 18).
        mutating func number() throws -> String {
            let start = at
            func digits() -> Int {
                let first = at
                while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
                return at - first
            }
            func skip(_ byte: UInt8) -> Bool {
                guard at < bytes.count, bytes[at] == byte else { return false }
                at += 1
                return true
            }
            _ = skip(UInt8(ascii: "-"))
            let leadingZero = at < bytes.count && bytes[at] == UInt8(ascii: "0")
            let integer = digits()
            guard integer > 0, !leadingZero || integer == 1 else { throw Malformed(offset: start) }
            if skip(UInt8(ascii: ".")) {
                guard digits() > 0 else { throw Malformed(offset: start) }
            }
            if skip(UInt8(ascii: "e")) || skip(UInt8(ascii: "E")) {
                _ = skip(UInt8(ascii: "+")) || skip(UInt8(ascii: "-"))
                guard digits() > 0 else { throw Malformed(offset: start) }
            }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }

        mutating func string() throws -> String {
            try expect("\"")
            var scalars = String.UnicodeScalarView()
            var run: [UInt8] = []
            func flush() {
                scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
                run.removeAll()
            }
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                if byte == UInt8(ascii: "\"") { flush(); return String(scalars) }
                guard byte == UInt8(ascii: "\\") else {
                    guard byte >= 0x20 else { throw Malformed(offset: at - 1) }
                    run.append(byte)
                    continue
                }
                flush()
                guard at < bytes.count else { break }
                let escape = bytes[at]
                at += 1
                if let character = JSONStringEscape.character(escape) {
                    scalars.append(character)
                    continue
                }
                guard escape == UInt8(ascii: "u") else { throw Malformed(offset: at - 1) }
                let code = try hex4()
                guard let scalar = try JSONStringEscape.scalar(code, low: { try expect("\\u"); return try hex4() }) else {
                    throw Malformed(offset: at)
                }
                scalars.append(scalar)
            }
            throw Malformed(offset: at)
        }

        mutating func hex4() throws -> UInt32 {
            guard at + 4 <= bytes.count,
                  let code = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16) else {
                throw Malformed(offset: at)
            }
            at += 4
            return code
        }
    }
}
