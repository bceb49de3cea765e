@testable import GMPRules
import Testing

@Suite("Audit encoding v1")
struct EncodingTests {
    /// A tiny event whose encoding is spelled out field by field below.
    static let tiny = AuditEvent(
        seq: 7, occurredAtMicroseconds: 0, transactionID: -1,
        actor: "a", action: "b", tableName: "c",
        recordKey: nil, oldValues: nil, newValues: "{}", reason: "",
        hash: []
    )

    @Test("a small event's exact bytes: length-prefixed fields, NULL as ffffffff, empty as 00000000")
    func exactBytes() {
        let expected = [
            "0000000c" + "676d702d61756469742d7631",  // "gmp-audit-v1"
            "00000001" + "37",  // seq "7"
            "0000001b" + "313937302d30312d30315430303a30303a30302e3030303030305a",  // "1970-01-01T00:00:00.000000Z"
            "00000002" + "2d31",  // transaction_id "-1"
            "00000001" + "61",  // actor "a"
            "00000001" + "62",  // action "b"
            "00000001" + "63",  // table_name "c"
            "ffffffff",  // record_key NULL
            "ffffffff",  // old_values NULL
            "00000002" + "7b7d",  // new_values "{}"
            "00000000",  // reason "", which is not NULL
            "00000020" + String(repeating: "00", count: 32),  // previous_hash: 32 zero bytes
        ].joined()
        #expect(Self.tiny.canonicalEncoding(previousHash: .zero).hex == expected)
    }

    @Test("a NULL field is ffffffff and nothing else, unlike an empty text")
    func nullField() {
        var empty = Self.tiny
        empty.recordKey = ""
        let withNull = Self.tiny.canonicalEncoding(previousHash: .zero)
        let withEmpty = empty.canonicalEncoding(previousHash: .zero)
        // Both are 4 bytes; only the marker differs.
        #expect(withNull.count == withEmpty.count)
        let recordKeyOffset = 16 + 5 + 31 + 6 + 5 + 5 + 5
        #expect(Array(withNull[recordKeyOffset..<recordKeyOffset + 4]) == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Array(withEmpty[recordKeyOffset..<recordKeyOffset + 4]) == [0, 0, 0, 0])
        #expect(Self.tiny.computedHash(previousHash: .zero) != empty.computedHash(previousHash: .zero))
    }

    @Test("integers are plain signed decimal", arguments: [
        (Int64(0), "0"), (1, "1"), (741, "741"), (-42, "-42"),
        (Int64.max, "9223372036854775807"), (Int64.min, "-9223372036854775808"),
    ])
    func decimal(value: Int64, text: String) {
        var event = Self.tiny
        event.seq = value
        let bytes = event.canonicalEncoding(previousHash: .zero)
        let length = Int(bytes[16]) << 24 | Int(bytes[17]) << 16 | Int(bytes[18]) << 8 | Int(bytes[19])
        #expect(String(decoding: bytes[20..<20 + length], as: UTF8.self) == text)
    }

    @Test("moving bytes between adjacent fields changes the hash (length framing)")
    func framingIsUnambiguous() {
        var left = Self.tiny
        left.actor = "ab"
        left.action = "c"
        var right = Self.tiny
        right.actor = "a"
        right.action = "bc"
        #expect(left.computedHash(previousHash: .zero) != right.computedHash(previousHash: .zero))
    }

    @Test("the previous hash is part of the hash")
    func chaining() throws {
        let other = try #require(AuditHash(bytes: [UInt8](repeating: 1, count: 32)))
        #expect(Self.tiny.computedHash(previousHash: .zero) != Self.tiny.computedHash(previousHash: other))
    }

    @Test("non-ASCII text is hashed as its UTF-8 bytes")
    func utf8() {
        var event = Self.tiny
        event.newValues = "5 µg/mL, Zoë"
        let bytes = event.canonicalEncoding(previousHash: .zero)
        #expect(bytes.hex.contains("0000000e" + "3520c2b5672f6d4c2c205a6fc3ab"))
    }

    @Test("a hasher reused across events gives what a fresh one gives")
    func hasherReuse() {
        var hasher = AuditEventHasher()
        let long = Fixtures.event(seq: 1)
        _ = hasher.hash(long, previousHash: .zero)
        #expect(hasher.hash(Self.tiny, previousHash: .zero) == Self.tiny.computedHash(previousHash: .zero))
    }
}

@Suite("AuditHash")
struct AuditHashTests {
    @Test("hex round trip, upper or lower case in, lower case out")
    func hex() throws {
        let text = "22cdc21370c76b039182a32fcbe5bfcf717c2d09a5d357368820ecb61f5cd4fd"
        let hash = try #require(AuditHash(hex: text.uppercased()))
        #expect(hash.hex == text)
        #expect(hash.bytes == [UInt8](hex: text))
        #expect(AuditHash(bytes: hash.bytes) == hash)
    }

    @Test("anything but 32 bytes is no hash", arguments: [0, 31, 33])
    func wrongLength(count: Int) {
        #expect(AuditHash(bytes: [UInt8](repeating: 0, count: count)) == nil)
    }

    @Test("malformed hex is refused", arguments: ["", "zz" + String(repeating: "0", count: 62), String(repeating: "0", count: 63)])
    func badHex(text: String) {
        #expect(AuditHash(hex: text) == nil)
    }

    @Test("matches compares with stored bytes of any length")
    func matches() {
        let bytes = [UInt8](repeating: 0, count: 33)
        #expect(bytes.withUnsafeBytes { AuditHash.zero.matches(UnsafeRawBufferPointer(rebasing: $0[0..<32])) })
        #expect(!bytes.withUnsafeBytes { AuditHash.zero.matches($0) })
    }
}
