/// A reader of a JSON text straight from its bytes into typed values, member by member,
/// with no `JSONValue` tree in between: for a large document read often, the material
/// trace (~113 kB for the median lot), whose tree, typed reading and freeing cost ~11 M
/// instructions of the text form (issue 14). It reads only what it is sure of: an escaped
/// key, a key read twice, a required field absent or null, a value of another kind, or
/// malformed text stop it (`JSONByteScanner.Stop`), and the caller reads the text the tree's
/// way (`JSONDecodable`), which gives the same values or throws the tree's error.
struct JSONPullReader {
    var scan: JSONByteScanner
    /// Where a material trace's units go as they are read, as their parts' bytes, instead
    /// of kept as `Whereabouts` (`MaterialDocument.Trace(documentBytes:units:restart:)`).
    var units: ((TraceDocument.WhereaboutsParts) -> Void)?

    init(bytes: UnsafeBufferPointer<UInt8>) {
        scan = JSONByteScanner(bytes: bytes)
    }

    /// An object's key, as its bytes (no String made to compare it).
    struct Key {
        let bytes: UnsafeBufferPointer<UInt8>

        static func ~= (pattern: StaticString, key: Key) -> Bool {
            JSONByteScanner.equal(key.bytes, pattern)
        }
    }

    /// The whole text as one `T`, nothing after it but whitespace.
    static func read<T: JSONPullDecodable>(_ text: String, as type: T.Type = T.self) throws(JSONByteScanner.Stop) -> T {
        var text = text
        // `withUTF8` rethrows untyped errors: the outcome is carried out as a Result.
        let result: Result<T, JSONByteScanner.Stop> = text.withUTF8 { bytes in
            Result { () throws(JSONByteScanner.Stop) in try read(bytes: bytes, as: type) }
        }
        return try result.get()
    }

    /// The whole text, as its UTF-8 bytes, as one `T`, nothing after it but whitespace.
    static func read<T: JSONPullDecodable>(bytes: UnsafeBufferPointer<UInt8>, as type: T.Type = T.self) throws(JSONByteScanner.Stop) -> T {
        var reader = JSONPullReader(bytes: bytes)
        return try read(&reader, as: type)
    }

    /// The whole text `reader` is at the start of, as one `T`.
    static func read<T: JSONPullDecodable>(_ reader: inout JSONPullReader, as type: T.Type = T.self) throws(JSONByteScanner.Stop) -> T {
        let value = try T(reading: &reader)
        reader.scan.skipSpace()
        guard reader.scan.at == reader.scan.bytes.count else { throw JSONByteScanner.Stop() }
        return value
    }

    /// Each member of an object in turn: `read` reads the value of a key it knows and
    /// gives that field's number (0–63), or nil for a key it does not know, whose value is
    /// then skipped (read as strictly as the tree reads it). A field twice stops: which of
    /// the two counts is the tree's lookup's choice.
    mutating func members(_ read: (inout JSONPullReader, Key) throws(JSONByteScanner.Stop) -> Int?) throws(JSONByteScanner.Stop) {
        guard try openObject() else { return }
        var seen: UInt64 = 0
        repeat {
            let key = try key()
            if let field = try read(&self, key) {
                let bit: UInt64 = 1 << UInt64(field)
                guard seen & bit == 0 else { throw JSONByteScanner.Stop() }
                seen |= bit
            } else {
                try scan.skipValue()
            }
        } while try more(closing: UInt8(ascii: "}"))
    }

    /// Past an object's `{`: false (and past its `}`) when it is empty.
    mutating func openObject() throws(JSONByteScanner.Stop) -> Bool {
        guard try scan.peek() == UInt8(ascii: "{") else { throw JSONByteScanner.Stop() }
        scan.at += 1
        if try scan.peek() == UInt8(ascii: "}") {
            scan.at += 1
            return false
        }
        return true
    }

    /// The next member's key, past its `:`; its value is next.
    mutating func key() throws(JSONByteScanner.Stop) -> Key {
        guard try scan.peek() == UInt8(ascii: "\""), let end = try scan.plainStringEnd() else { throw JSONByteScanner.Stop() }
        let key = Key(bytes: UnsafeBufferPointer(rebasing: scan.bytes[(scan.at + 1)..<end]))
        scan.at = end + 1
        scan.skipSpace()
        try scan.expect(UInt8(ascii: ":"))
        return key
    }

    /// After a member or an element: true past a comma, false past the closing byte.
    mutating func more(closing: UInt8) throws(JSONByteScanner.Stop) -> Bool {
        if try scan.peek() == UInt8(ascii: ",") {
            scan.at += 1
            return true
        }
        try scan.expect(closing)
        return false
    }

    /// A value that may be null (nil then).
    mutating func optional<T: JSONPullDecodable>(_ type: T.Type = T.self) throws(JSONByteScanner.Stop) -> T? {
        if try scan.peek() == UInt8(ascii: "n") {
            try scan.literal("null")
            return nil
        }
        return try T(reading: &self)
    }

    /// A value that must be there, not null.
    mutating func required<T: JSONPullDecodable>(_ type: T.Type = T.self) throws(JSONByteScanner.Stop) -> T {
        try T(reading: &self)
    }

    /// A string's text or a number's, as `String(reading:)` reads them, borrowed in place
    /// (valid while the bytes are); nil for null. A string with an escape stops: its
    /// decoded text is not in the bytes.
    mutating func borrowedText() throws(JSONByteScanner.Stop) -> UnsafeBufferPointer<UInt8>? {
        switch try scan.peek() {
        case UInt8(ascii: "\""):
            guard let end = try scan.plainStringEnd() else { throw JSONByteScanner.Stop() }
            defer { scan.at = end + 1 }
            return UnsafeBufferPointer(rebasing: scan.bytes[(scan.at + 1)..<end])
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let end = try scan.numberEnd()
            defer { scan.at = end }
            return UnsafeBufferPointer(rebasing: scan.bytes[scan.at..<end])
        case UInt8(ascii: "n"):
            try scan.literal("null")
            return nil
        default:
            throw JSONByteScanner.Stop()
        }
    }

    /// Each element of an array in turn (`read` reads one whole).
    mutating func elements(_ read: (inout JSONPullReader) throws(JSONByteScanner.Stop) -> Void) throws(JSONByteScanner.Stop) {
        guard try scan.peek() == UInt8(ascii: "[") else { throw JSONByteScanner.Stop() }
        scan.at += 1
        if try scan.peek() == UInt8(ascii: "]") {
            scan.at += 1
            return
        }
        repeat {
            try read(&self)
        } while try more(closing: UInt8(ascii: "]"))
    }

    /// The exact text of a number.
    mutating func numberText() throws(JSONByteScanner.Stop) -> String {
        let end = try scan.numberEnd()
        defer { scan.at = end }
        return String(decoding: UnsafeBufferPointer(rebasing: scan.bytes[scan.at..<end]), as: UTF8.self)
    }
}

/// A type read straight from a JSON text's bytes (`JSONPullReader`), giving what its
/// `JSONDecodable` reading gives for the same text, or stopping.
protocol JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop)
}

/// Every field read, at most once, or a stop: the value a required field must have.
func present<T>(_ value: T?) throws(JSONByteScanner.Stop) -> T {
    guard let value else { throw JSONByteScanner.Stop() }
    return value
}

extension String: JSONPullDecodable {
    /// A string, or a number as its exact text (as `String(json:)`).
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        switch try reader.scan.peek() {
        case UInt8(ascii: "\""):
            if let end = try reader.scan.plainStringEnd() {
                self = String(decoding: UnsafeBufferPointer(rebasing: reader.scan.bytes[(reader.scan.at + 1)..<end]), as: UTF8.self)
                reader.scan.at = end + 1
            } else {
                self = try reader.scan.escapedString()
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            self = try reader.numberText()
        default:
            throw JSONByteScanner.Stop()
        }
    }
}

extension Bool: JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        switch try reader.scan.peek() {
        case UInt8(ascii: "t"): try reader.scan.literal("true"); self = true
        case UInt8(ascii: "f"): try reader.scan.literal("false"); self = false
        default: throw JSONByteScanner.Stop()
        }
    }
}

extension Int: JSONPullDecodable {
    /// A whole number that fits, as `Int(json:)` reads it.
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        guard case UInt8(ascii: "-")...UInt8(ascii: "9") = try reader.scan.peek(), let value = Int(try reader.numberText()) else {
            throw JSONByteScanner.Stop()
        }
        self = value
    }
}

extension Int64: JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        guard case UInt8(ascii: "-")...UInt8(ascii: "9") = try reader.scan.peek(), let value = Int64(try reader.numberText()) else {
            throw JSONByteScanner.Stop()
        }
        self = value
    }
}

extension Array: JSONPullDecodable where Element: JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        var elements: [Element] = []
        try reader.elements { reader throws(JSONByteScanner.Stop) in elements.append(try Element(reading: &reader)) }
        self = elements
    }
}
