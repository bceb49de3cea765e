@testable import GMPRules
import Testing

/// The cross-language check: the vectors in Reference/test-vectors.md, produced by
/// Reference/audit_chain_reference.py and reproduced by PostgreSQL (Reference/pg_reference.sql).
/// If Swift disagrees with these, Swift is wrong.
@Suite("Audit encoding v1 test vectors")
struct TestVectorTests {
    static let events = [
        AuditEvent(
            seq: 1, occurredAtMicroseconds: 1_795_325_185_107_456, transactionID: 741,
            actor: "alice", action: "INSERT", tableName: "gmp.account", recordKey: "bob",
            oldValues: nil, newValues: #"{"id": "bob", "full_name": "Bob Ng"}"#, reason: nil,
            hash: [UInt8](hex: "22cdc21370c76b039182a32fcbe5bfcf717c2d09a5d357368820ecb61f5cd4fd")
        ),
        AuditEvent(
            seq: 2, occurredAtMicroseconds: 1_795_325_186_000_001, transactionID: 742,
            actor: "alice", action: "UPDATE", tableName: "gmp.account", recordKey: "bob",
            oldValues: #"{"id": "bob", "full_name": "Bob Ng"}"#,
            // jsonb's own key order (by length, then bytewise): this is the text PostgreSQL hashes.
            newValues: #"{"id": "bob", "note": "5 µg/mL", "full_name": "Zoë Ng"}"#,
            reason: "name corrected: typo at entry",
            hash: [UInt8](hex: "8851f49cb11ead44de8f75eead5b8db774f5d34cf1b4387ed976d90218fa086a")
        ),
        AuditEvent(
            seq: 3, occurredAtMicroseconds: 1_795_325_220_000_000, transactionID: 743,
            actor: "carol", action: "DELETE", tableName: "gmp.example", recordKey: "42",
            oldValues: #"{"id": 42}"#, newValues: nil, reason: "entered on the wrong record",
            hash: [UInt8](hex: "471a2acfa6f9fda3330cdae1dd2fb9d42a1774018687e76e541b14d799534a76")
        ),
    ]

    /// Events 4 and 5, format v2 (issue 19): a write order, the tag gmp-audit-v2, and the
    /// first chains from event 3's v1 hash.
    static let v2Events = [
        AuditEvent(
            seq: 4, occurredAtMicroseconds: 1_795_325_280_250_000, transactionID: 745,
            actor: "dave", action: "INSERT", tableName: "gmp.example", recordKey: "43",
            oldValues: nil, newValues: #"{"id": 43}"#, reason: nil,
            hash: [UInt8](hex: "bb52107b35a00a5c597809aacce790a3b7af348684193fb15f9f5984480ca71c"), writeOrder: 9
        ),
        AuditEvent(
            seq: 5, occurredAtMicroseconds: 1_795_325_279_999_999, transactionID: 744,
            actor: "erin", action: "UPDATE", tableName: "gmp.example", recordKey: "7",
            oldValues: #"{"id": 7}"#, newValues: #"{"id": 7, "ok": true}"#, reason: "checked",
            hash: [UInt8](hex: "ec6026b1dd2b40dad60b9bf591ab4da8590c889c16aaa144970029a1ef0cf66d"), writeOrder: 8
        ),
    ]

    static let event4Encoding = """
        0000000c676d702d61756469742d7632000000013400000001390000001b323032362d31312d32325430353a32383a30\
        302e3235303030305a00000003373435000000046461766500000006494e534552540000000b676d702e6578616d706c\
        65000000023433ffffffff0000000a7b226964223a2034337dffffffff00000020471a2acfa6f9fda3330cdae1dd2fb9\
        d42a1774018687e76e541b14d799534a76
        """

    static let event1Encoding = """
        0000000c676d702d61756469742d763100000001310000001b323032362d31312d32325430353a32363a32352e313037\
        3435365a0000000337343100000005616c69636500000006494e534552540000000b676d702e6163636f756e74000000\
        03626f62ffffffff000000247b226964223a2022626f62222c202266756c6c5f6e616d65223a2022426f62204e67227d\
        ffffffff000000200000000000000000000000000000000000000000000000000000000000000000
        """

    @Test("event 1 encodes to exactly the reference bytes")
    func event1Bytes() {
        #expect(Self.events[0].canonicalEncoding(previousHash: .zero).hex == Self.event1Encoding)
    }

    @Test("v2 event 4 encodes to exactly the reference bytes, chaining from v1 event 3")
    func event4Bytes() {
        let previous = AuditHash(bytes: Self.events[2].hash)!
        #expect(Self.v2Events[0].canonicalEncoding(previousHash: previous).hex == Self.event4Encoding)
    }

    @Test("v2 events hash to the reference hashes, readable path and fast path alike; without their write order they would not")
    func v2Hashes() {
        var hasher = AuditEventHasher()
        var previous = AuditHash(bytes: Self.events[2].hash)!
        for event in Self.v2Events {
            let readable = event.computedHash(previousHash: previous)
            let fast = Fixtures.withBytes(of: event) { hasher.hash($0, previousHash: previous) }
            #expect(readable.bytes == event.hash, "event \(event.seq)")
            #expect(fast == readable, "event \(event.seq)")
            var asV1 = event
            asV1.writeOrder = nil
            #expect(asV1.computedHash(previousHash: previous) != readable, "event \(event.seq)")
            previous = readable
        }
    }

    @Test("a v1 chain continued by v2 events verifies as one chain; a changed write order breaks it")
    func mixedChain() {
        let all = Self.events + Self.v2Events
        guard case .intact(let summary) = Fixtures.verify(all, head: Fixtures.head(of: all)) else {
            Issue.record("expected an intact chain")
            return
        }
        #expect(summary.lastSeq == 5)
        var swapped = all
        swapped[3].writeOrder = 8
        #expect(Fixtures.verify(swapped, head: Fixtures.head(of: all)) == .broken(ChainBreak(.hashMismatch(seq: 4))))
    }

    @Test("the occurred_at texts are the reference texts")
    func timestampTexts() {
        #expect(Self.events.map { CanonicalTimestamp.text(microsecondsSince1970: $0.occurredAtMicroseconds) } == [
            "2026-11-22T05:26:25.107456Z", "2026-11-22T05:26:26.000001Z", "2026-11-22T05:27:00.000000Z",
        ])
    }

    @Test("each event hashes to the reference hash, readable path and fast path alike")
    func hashes() {
        var hasher = AuditEventHasher()
        var previous = AuditHash.zero
        for event in Self.events {
            let readable = event.computedHash(previousHash: previous)
            let fast = Fixtures.withBytes(of: event) { hasher.hash($0, previousHash: previous) }
            #expect(readable.bytes == event.hash, "event \(event.seq)")
            #expect(fast == readable, "event \(event.seq)")
            previous = readable
        }
    }

    @Test("the three vectors verify as an intact chain")
    func chain() {
        let verdict = Fixtures.verify(Self.events, head: Fixtures.head(of: Self.events))
        guard case .intact(let summary) = verdict else {
            Issue.record("expected an intact chain, got \(verdict)")
            return
        }
        #expect(summary.eventCount == 3)
        #expect(summary.lastSeq == 3)
        #expect(summary.lastHashHex == "471a2acfa6f9fda3330cdae1dd2fb9d42a1774018687e76e541b14d799534a76")
    }
}
