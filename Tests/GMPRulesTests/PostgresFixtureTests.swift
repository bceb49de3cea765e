@testable import GMPRules

import PostgresClient
import Testing

/// The end-to-end check: binary COPY output captured from PostgreSQL 15 (the test-vector chain,
/// hashed by Reference/pg_reference.sql) decoded and verified by the Swift fast path.
@Suite("Audit chain from PostgreSQL's binary COPY")
struct PostgresFixtureTests {
    /// `COPY (SELECT seq, write_order, occurred_at, …, hash FROM audit_event ORDER BY seq) TO STDOUT (FORMAT binary)`
    /// (v1 events: write_order NULL, as for the events written before V0032)
    static let copy = bytes(hex: """
        5047434f50590aff0d0a000000000000000000000c000000080000000000000001ffffffff00000008000303d57cb246\
        000000000800000000000002e500000005616c69636500000006494e534552540000000b676d702e6163636f756e7400\
        000003626f62ffffffff00000025017b226964223a2022626f62222c202266756c6c5f6e616d65223a2022426f62204e\
        67227dffffffff0000002022cdc21370c76b039182a32fcbe5bfcf717c2d09a5d357368820ecb61f5cd4fd000c000000\
        080000000000000002ffffffff00000008000303d57cbfe4810000000800000000000002e600000005616c6963650000\
        00065550444154450000000b676d702e6163636f756e7400000003626f6200000025017b226964223a2022626f62222c\
        202266756c6c5f6e616d65223a2022426f62204e67227d0000003a017b226964223a2022626f62222c20226e6f746522\
        3a20223520c2b5672f6d4c222c202266756c6c5f6e616d65223a20225a6fc3ab204e67227d0000001d6e616d6520636f\
        727265637465643a207479706f20617420656e747279000000208851f49cb11ead44de8f75eead5b8db774f5d34cf1b4\
        387ed976d90218fa086a000c000000080000000000000003ffffffff00000008000303d57ec6b1000000000800000000\
        000002e7000000056361726f6c0000000644454c4554450000000b676d702e6578616d706c650000000234320000000b\
        017b226964223a2034327dffffffff0000001b656e7465726564206f6e207468652077726f6e67207265636f72640000\
        0020471a2acfa6f9fda3330cdae1dd2fb9d42a1774018687e76e541b14d799534a76ffff
        """)

    static let hashes = [
        "22cdc21370c76b039182a32fcbe5bfcf717c2d09a5d357368820ecb61f5cd4fd",
        "8851f49cb11ead44de8f75eead5b8db774f5d34cf1b4387ed976d90218fa086a",
        "471a2acfa6f9fda3330cdae1dd2fb9d42a1774018687e76e541b14d799534a76",
    ]

    /// Decodes and verifies `chunks` of the COPY output.
    private func verify(_ chunks: [ArraySlice<UInt8>], head: AuditChainVerifier.Checkpoint?) throws -> AuditChainVerifier.Verdict {
        var decoder = CopyBinaryDecoder(expectedFieldCount: AuditEventBytes.copyColumns.count)
        var verifier = AuditChainVerifier()
        for chunk in chunks {
            try chunk.withUnsafeBytes { buffer in
                try decoder.feed(buffer) { row in try verifier.consume(row) }
            }
        }
        try decoder.finish()
        return verifier.finish(head: head)
    }

    static let head: AuditChainVerifier.Checkpoint = (seq: 3, hash: bytes(hex: hashes[2]))

    @Test("PostgreSQL's chain verifies, and ends on the vectors' last hash")
    func intact() throws {
        let verdict = try verify([Self.copy[...]], head: Self.head)
        guard case .intact(let summary) = verdict else {
            Issue.record("expected an intact chain, got \(verdict)")
            return
        }
        #expect(summary.eventCount == 3)
        #expect(summary.lastHashHex == Self.hashes[2])
    }

    @Test("split at every byte boundary, it still verifies")
    func everySplit() throws {
        for split in 0...Self.copy.count {
            let verdict = try verify([Self.copy[..<split], Self.copy[split...]], head: Self.head)
            guard case .intact = verdict else {
                Issue.record("split at \(split): \(verdict)")
                return
            }
        }
    }

    @Test("the decoded fields are the vectors' inputs")
    func fields() throws {
        var decoder = CopyBinaryDecoder()
        var events: [(seq: Int64, occurredAt: Int64, actor: String, newValues: String?, storedHash: String)] = []
        try Self.copy.withUnsafeBytes { buffer in
            try decoder.feed(buffer) { row in
                let event = try AuditEventBytes(row)
                events.append((
                    event.seq, event.occurredAtMicroseconds, String(decoding: event.actor, as: UTF8.self),
                    event.newValues.map { String(decoding: $0, as: UTF8.self) },
                    AuditHash(bytes: event.storedHash)!.hex
                ))
            }
        }
        #expect(events.map(\.seq) == [1, 2, 3])
        #expect(events.map(\.occurredAt) == [1_795_325_185_107_456, 1_795_325_186_000_001, 1_795_325_220_000_000])
        #expect(events.map(\.actor) == ["alice", "alice", "carol"])
        #expect(events[1].newValues == #"{"id": "bob", "note": "5 µg/mL", "full_name": "Zoë Ng"}"#)
        #expect(events[2].newValues == nil)
        #expect(events.map(\.storedHash) == Self.hashes)
    }

    @Test("a tampered byte in a stored value breaks the chain at that event")
    func tampered() throws {
        var copy = Self.copy
        let alice = Array("alice".utf8)
        // The second "alice" is event 2's actor.
        let positions = copy.indices.filter { copy[$0...].starts(with: alice) }
        copy[positions[1]] = UInt8(ascii: "A")
        #expect(try verify([copy[...]], head: Self.head) == .broken(ChainBreak(.hashMismatch(seq: 2))))
    }

    @Test("a row that is not an audit event is refused with a clear error")
    func notAnAuditRow() throws {
        var decoder = CopyBinaryDecoder()
        // seq NULL: a header, one row of 12 NULL fields, the trailer.
        let nulls = Array(Self.copy[0..<19]) + [0, 12] + Array(repeating: 0xFF, count: 48) + [0xFF, 0xFF]
        let error = #expect(throws: CopyBinaryError.self) {
            try nulls.withUnsafeBytes { buffer in
                try decoder.feed(buffer) { row in _ = try AuditEventBytes(row) }
            }
        }
        #expect(error?.kind == .unexpectedNull)
        #expect(error?.message == "binary COPY row 1, field 0: NULL where a value is required")
    }

    @Test("a row with the wrong number of columns is refused")
    func wrongColumnCount() throws {
        let oneColumn = Array(Self.copy[0..<19]) + [0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        var decoder = CopyBinaryDecoder()
        let error = #expect(throws: CopyBinaryError.self) {
            try oneColumn.withUnsafeBytes { buffer in
                try decoder.feed(buffer) { row in _ = try AuditEventBytes(row) }
            }
        }
        #expect(error?.kind == .fieldCountMismatch)
    }

    private static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }
}
