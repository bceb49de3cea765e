/// The byte-level scanning of a JSON text (RFC 8259, as strictly as `JSONValue`'s parser)
/// shared by the readers that work straight from a document's bytes, without a
/// `JSONValue` tree: the CLI's re-writer of server documents (`JSONRewriter`, `--json`)
/// and the pull reader of the material trace (`JSONPullReader`, its text and CSV forms).
/// Inlinable: it runs once a byte of a document of 100 kB or more (issue 14).
public struct JSONByteScanner {
    /// Anything the scanning stops at (malformed text, or what a reader leaves to the
    /// tree's way: the caller then goes that way, which throws the tree's error).
    public struct Stop: Error {
        @inlinable public init() {}
    }

    public let bytes: UnsafeBufferPointer<UInt8>
    /// The next byte to read.
    public var at = 0

    @inlinable public init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Past the whitespace JSON allows between tokens.
    @inlinable public mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x0A, 0x0D, 0x09: at += 1
            default: return
            }
        }
    }

    /// Past `byte`, which must be next.
    @inlinable public mutating func expect(_ byte: UInt8) throws(Stop) {
        guard at < bytes.count, bytes[at] == byte else { throw Stop() }
        at += 1
    }

    /// The next byte, whitespace skipped; stops at the text's end.
    @inlinable public mutating func peek() throws(Stop) -> UInt8 {
        skipSpace()
        guard at < bytes.count else { throw Stop() }
        return bytes[at]
    }

    /// Past `word` (`true`, `false`, `null`), which must be next.
    @inlinable public mutating func literal(_ word: StaticString) throws(Stop) {
        let count = word.utf8CodeUnitCount
        guard at + count <= bytes.count else { throw Stop() }
        for index in 0..<count where bytes[at + index] != word.utf8Start[index] { throw Stop() }
        at += count
    }

    /// Past `text` when it is next (true); not moved when it is not. Eight bytes at a
    /// time, the last eight overlapping those before (`{"unit":"`, `","state":"`: byte by
    /// byte was ~5 instructions a byte of each of a trace's 2,450 units, issue 14).
    @inlinable public mutating func skip(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard at + count <= bytes.count, let base = bytes.baseAddress else { return false }
        let here = UnsafeRawPointer(base + at)
        let word = UnsafeRawPointer(text.utf8Start)
        if count >= 8 {
            var offset = 0
            while offset + 8 < count {
                guard here.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    == word.loadUnaligned(fromByteOffset: offset, as: UInt64.self) else { return false }
                offset += 8
            }
            guard here.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
                == word.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) else { return false }
        } else {
            for index in 0..<count where here.load(fromByteOffset: index, as: UInt8.self) != text.utf8Start[index] { return false }
        }
        at += count
        return true
    }

    /// The string whose opening quote is here, borrowed, and past it, when it has no
    /// escape and no control character (`plainStringEnd`); nil, not moved, otherwise.
    @inlinable public mutating func plainString() -> UnsafeBufferPointer<UInt8>? {
        guard at < bytes.count, bytes[at] == UInt8(ascii: "\""), let end = try? plainStringEnd() else { return nil }
        defer { at = end + 1 }
        return UnsafeBufferPointer(rebasing: bytes[(at + 1)..<end])
    }

    /// The end of the number that starts here (`JSONValue.numberEnd`'s grammar).
    @inlinable public func numberEnd() throws(Stop) -> Int {
        guard let end = JSONValue.numberEnd(in: bytes, from: at) else { throw Stop() }
        return end
    }

    /// The end of the string whose opening quote is at `at` (its closing quote), when it
    /// has no escape; nil when it has one. Stops at a control character or the text's end.
    @inlinable public func plainStringEnd() throws(Stop) -> Int? {
        var end = at + 1
        // Eight bytes at a time while none of them can end the string or stop the scan
        // (a byte at a time was ~11 instructions a byte of the median material trace's
        // strings, issue 14); the bytes from the first word that may, one by one.
        if let start = bytes.baseAddress {
            let raw = UnsafeRawPointer(start)
            while end + 8 <= bytes.count {
                let found = Self.stringStops(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: end, as: UInt64.self)))
                if found != 0 {
                    // The lowest byte flagged is the first that stops (the test's false
                    // flags are only above a true one): the loop below reads it.
                    end += found.trailingZeroBitCount >> 3
                    break
                }
                end += 8
            }
        }
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") { return end }
            if byte == UInt8(ascii: "\\") { return nil }
            guard byte >= 0x20 else { throw Stop() }
            end += 1
        }
        throw Stop()
    }

    /// The high bit of each of the eight bytes of `word` (the first in memory lowest) that
    /// may be a quote, a backslash or a control character (below 0x20); zero when none is.
    /// The classic "has a zero byte" test (`(x - 0x01…) & ~x & 0x80…`) on the word xor-ed
    /// with each byte sought, and its "has a byte less than n" form (n ≤ 128) for the
    /// control characters: each flags no byte when there is none, and its lowest flag is
    /// always a true one (a false flag only follows a true one, by the borrow).
    @inlinable static func stringStops(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let found = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
        return found & highs
    }

    /// The first eight bytes of the key at `start..<end` as one number, the first byte
    /// highest and zeros after a shorter key's end: two keys whose numbers differ are in
    /// the order of their numbers (`order`'s: a key's bytes are never zero, a raw control
    /// character stops the scan, so a zero past a key's end sorts it before a longer one).
    @inlinable public func keyPrefix(_ start: Int, _ end: Int) -> UInt64 {
        let count = min(end - start, 8)
        var word: UInt64 = 0
        if start + 8 <= bytes.count, let base = bytes.baseAddress {
            word = UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(fromByteOffset: start, as: UInt64.self))
            if count < 8 { word &= (1 << UInt64(8 * count)) &- 1 }
        } else {
            for index in 0..<count { word |= UInt64(bytes[start + index]) << UInt64(8 * index) }
        }
        return word.byteSwapped
    }

    /// The string with an escape whose opening quote is at `at`, decoded by `JSONValue`'s
    /// parser from its literal (the one decoder of escapes); `at` then past its closing quote.
    public mutating func escapedString() throws(Stop) -> String {
        let start = at
        at += 1
        while at < bytes.count, bytes[at] != UInt8(ascii: "\"") {
            at += bytes[at] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard at < bytes.count else { throw Stop() }
        at += 1
        guard case .string(let text)? = try? JSONValue(parsing: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]),
                                                                         as: UTF8.self))
        else { throw Stop() }
        return text
    }

    /// Two keys' bytes in order: negative, zero or positive, byte by byte and then the
    /// shorter first (the UTF-8 byte order gmp writes keys in). Not the generic
    /// `lexicographicallyPrecedes` / `elementsEqual`: ~150 instructions a comparison,
    /// ~13,000 of them in the median material trace (issue 14).
    @inlinable public static func order(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let count = min(a.count, b.count)
        var index = 0
        while index < count {
            if a[index] != b[index] { return a[index] < b[index] ? -1 : 1 }
            index += 1
        }
        return a.count - b.count
    }

    /// Whether `bytes` are `word`'s.
    /// Byte by byte in place, out at the first that differs (most keys a reader's switch
    /// tries differ in their first): not through `order`, a call a comparison (~0.25 M
    /// instructions of the median material trace's text form, issue 14).
    @inlinable @inline(__always) public static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count == count else { return false }
        let start = word.utf8Start
        var index = 0
        while index < count {
            if bytes[index] != start[index] { return false }
            index += 1
        }
        return true
    }

    /// Past one whole value of any kind, read as strictly as the tree reads it.
    public mutating func skipValue() throws(Stop) {
        switch try peek() {
        case UInt8(ascii: "{"):
            at += 1
            if try peek() == UInt8(ascii: "}") { at += 1; return }
            while true {
                guard try peek() == UInt8(ascii: "\"") else { throw Stop() }
                try skipString()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                try skipValue()
                if try peek() == UInt8(ascii: ",") { at += 1; continue }
                try expect(UInt8(ascii: "}"))
                return
            }
        case UInt8(ascii: "["):
            at += 1
            if try peek() == UInt8(ascii: "]") { at += 1; return }
            while true {
                try skipValue()
                if try peek() == UInt8(ascii: ",") { at += 1; continue }
                try expect(UInt8(ascii: "]"))
                return
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: at = try numberEnd()
        }
    }

    private mutating func skipString() throws(Stop) {
        if let end = try plainStringEnd() {
            at = end + 1
        } else {
            _ = try escapedString()
        }
    }
}
