import PostgresClient
import Testing

@Suite("Binary COPY decoding: field values")
struct CopyBinaryRowTests {
    @Test("int8 and int4 are big-endian")
    func integers() throws {
        try withSingleRow([[0, 0, 0, 0, 0, 0, 0x02, 0xE5], [0xFF, 0xFF, 0xFF, 0xFE], nil]) { row in
            try #expect(row.int64(at: 0) == 741)
            try #expect(row.int32(at: 1) == -2)
            try #expect(row.int64(at: 2) == nil)
            #expect(row.isNull(at: 2))
            #expect(!row.isNull(at: 0))
        }
    }

    @Test("an integer of the wrong width is refused")
    func wrongWidth() throws {
        try withSingleRow([[0, 0, 0, 1]]) { row in
            #expect(throws: CopyBinaryError.self) { try row.int64(at: 0) }
            try #expect(row.int32(at: 0) == 1)
        }
    }

    @Test("timestamptz counts microseconds from 2000-01-01; it is shifted to 1970", arguments: [
        (Int64(0), Int64(946_684_800_000_000)),
        (-946_684_800_000_000, 0),
        // 2026-11-22T05:26:25.107456Z, as PostgreSQL sends it.
        (848_640_385_107_456, 1_795_325_185_107_456),
    ])
    func timestamp(wire: Int64, since1970: Int64) throws {
        try withSingleRow([CopyStream.bigEndian(wire)]) { row in
            try #expect(row.timestampMicrosecondsSince1970(at: 0) == since1970)
        }
    }

    @Test("'infinity' and '-infinity' are no instant", arguments: [Int64.max, Int64.min])
    func infinity(wire: Int64) throws {
        try withSingleRow([CopyStream.bigEndian(wire)]) { row in
            let error = #expect(throws: CopyBinaryError.self) { try row.timestampMicrosecondsSince1970(at: 0) }
            #expect(error?.kind == .invalidValue)
        }
    }

    @Test("jsonb: version byte 1, then the text")
    func jsonb() throws {
        try withSingleRow([[1] + CopyStream.text(#"{"id": 42}"#), nil]) { row in
            try #expect(row.jsonbText(at: 0).map { Array($0) } == CopyStream.text(#"{"id": 42}"#))
            try #expect(row.jsonbText(at: 1) == nil)
        }
    }

    @Test("jsonb of another version, or without a version byte, is refused", arguments: [[UInt8]([2, 0x7B, 0x7D]), []])
    func jsonbVersion(bytes: [UInt8]) throws {
        try withSingleRow([bytes]) { row in
            let error = #expect(throws: CopyBinaryError.self) { try row.jsonbText(at: 0) }
            #expect(error?.kind == .invalidValue)
        }
    }

    @Test("text and bytea are the raw bytes; string(at:) copies text")
    func textAndBytes() throws {
        try withSingleRow([CopyStream.text("Zoë"), [0, 0xFF], []]) { row in
            #expect(row.string(at: 0) == "Zoë")
            #expect(row.bytes(at: 1).map { Array($0) } == [0, 0xFF])
            #expect(row.bytes(at: 2)?.count == 0)
            #expect(row.count == 3)
            #expect(row.number == 1)
        }
    }
}
