/// A JSON text parsed into a tree (RFC 8259, strictly), members in the order written and
/// numbers as their exact text. The one parser for the documents the server writes: the
/// CLI re-writes them in its one shape (`JSONDocument`) and the model types read
/// themselves from it (`JSONDecodable`), with no Foundation `JSONDecoder`: its generic
/// paths cost every cold command the Swift runtime's protocol-conformance scans (issue 18).
public enum JSONValue: Sendable, Equatable {
    case object([Member])
    case array([JSONValue])
    case string(String)
    /// The number's text as written: no precision lost (`1.50` stays `1.50`).
    case number(String)
    case bool(Bool)
    case null

    /// One member of an object, in the order it was written.
    public struct Member: Sendable, Equatable {
        public let key: String
        public let value: JSONValue

        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The text is not JSON; `offset` is the byte where reading stopped.
    public struct Malformed: Error, CustomStringConvertible, Equatable {
        public let offset: Int

        public init(offset: Int) {
            self.offset = offset
        }

        public var description: String { "malformed JSON at byte \(offset)" }
    }

    /// One value, whitespace around it, nothing else.
    public init(parsing text: String) throws {
        var parser = Parser(bytes: Array(text.utf8))
        self = try parser.document()
    }

    /// An object of the members whose value is not nil, in this order: how a synthesized
    /// `Encodable` writes an optional (it leaves the key out).
    public static func object(omittingNil members: [(String, JSONValue?)]) -> JSONValue {
        .object(members.compactMap { key, value in value.map { Member(key, $0) } })
    }

    /// The end of the number that starts at `start`,
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; nil when none does. Read byte by
    /// byte: a regex literal is compiled each time it is evaluated, and cost every `--json`
    /// command milliseconds at start-up (issue 18). The parser's and the CLI's re-writer's
    /// (`JSONDocument.rewritten`) one grammar of a number.
    public static func numberEnd(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var at = start
        func digits() -> Int {
            let first = at
            while at < bytes.count, bytes[at] &- UInt8(ascii: "0") < 10 { at += 1 }
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
        guard integer > 0, !leadingZero || integer == 1 else { return nil }
        if skip(UInt8(ascii: ".")), digits() == 0 { return nil }
        if skip(UInt8(ascii: "e")) || skip(UInt8(ascii: "E")) {
            _ = skip(UInt8(ascii: "+")) || skip(UInt8(ascii: "-"))
            guard digits() > 0 else { return nil }
        }
        return at
    }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        mutating func document() throws -> JSONValue {
            let value = try self.value()
            skipSpace()
            guard at == bytes.count else { throw Malformed(offset: at) }
            return value
        }

        mutating func skipSpace() {
            while at < bytes.count {
                switch bytes[at] {
                case 0x20, 0x0A, 0x0D, 0x09: at += 1
                default: return
                }
            }
        }

        mutating func expect(_ literal: String) throws {
            for byte in literal.utf8 {
                try expect(byte)
            }
        }

        /// One byte: the punctuation between members, read without a String (issue 14).
        mutating func expect(_ byte: UInt8) throws {
            guard at < bytes.count, bytes[at] == byte else { throw Malformed(offset: at) }
            at += 1
        }

        mutating func value() throws -> JSONValue {
            skipSpace()
            guard at < bytes.count else { throw Malformed(offset: at) }
            switch bytes[at] {
            case UInt8(ascii: "{"):
                at += 1
                var members: [Member] = []
                // Room for a usual object's members at once, not regrown 1, 2, 4, 8 (issue 14).
                members.reserveCapacity(8)
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
                while true {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    members.append(Member(key, try value()))
                    skipSpace()
                    guard at < bytes.count else { throw Malformed(offset: at) }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    try expect(UInt8(ascii: "}"))
                    return .object(members)
                }
            case UInt8(ascii: "["):
                at += 1
                var elements: [JSONValue] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(elements) }
                while true {
                    elements.append(try value())
                    skipSpace()
                    guard at < bytes.count else { throw Malformed(offset: at) }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    try expect(UInt8(ascii: "]"))
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

        mutating func number() throws -> String {
            let start = at
            guard let end = bytes.withUnsafeBufferPointer({ JSONValue.numberEnd(in: $0, from: start) }) else {
                throw Malformed(offset: start)
            }
            at = end
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }

        mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            // Most strings have no escape: taken whole from the bytes, not scalar by scalar
            // (which was most of the time `--json` spent re-writing a large document).
            var end = at
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 {
                end += 1
            }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                defer { at = end + 1 }
                return String(decoding: bytes[at..<end], as: UTF8.self)
            }
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
