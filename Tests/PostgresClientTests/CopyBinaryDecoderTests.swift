import PostgresClient
import Testing

@Suite("Binary COPY decoding: framing")
struct CopyBinaryDecoderTests {
    static let rows: [[[UInt8]?]] = [
        [CopyStream.bigEndian(Int64(1)), CopyStream.text("alice"), nil, []],
        [CopyStream.bigEndian(Int64(-2)), CopyStream.text("Zoë, 5 µg/mL"), CopyStream.text("x"), nil],
        [CopyStream.bigEndian(Int64.max), [], [], []],
    ]

    static var stream: [UInt8] {
        var stream = CopyStream(headerExtension: [1, 2, 3])  // an extension must be skipped
        rows.forEach { stream.row($0) }
        stream.end()
        return stream.bytes
    }

    @Test("the whole stream in one chunk: several rows per chunk, NULL apart from empty")
    func oneChunk() throws {
        #expect(try decodeRows([Self.stream[...]]) == Self.rows)
    }

    @Test("split in two at every byte boundary")
    func everySplit() throws {
        let stream = Self.stream
        for split in 0...stream.count {
            #expect(try decodeRows([stream[..<split], stream[split...]]) == Self.rows, "split at \(split)")
        }
    }

    @Test("split in three at every pair of boundaries")
    func everyDoubleSplit() throws {
        let stream = Self.stream
        for first in 0...stream.count {
            for second in first...stream.count {
                let chunks = [stream[..<first], stream[first..<second], stream[second...]]
                #expect(try decodeRows(chunks) == Self.rows, "split at \(first) and \(second)")
            }
        }
    }

    @Test("one byte at a time")
    func byteByByte() throws {
        let stream = Self.stream
        #expect(try decodeRows(stream.indices.map { stream[$0...$0] }) == Self.rows)
    }

    @Test("as libpq delivers it: the header, then one chunk per row, then the trailer")
    func libpqChunks() throws {
        var stream = CopyStream()
        var chunks = [stream.bytes[...]]
        for row in Self.rows {
            let start = stream.bytes.count
            stream.row(row)
            chunks.append(stream.bytes[start...])
        }
        let start = stream.bytes.count
        stream.end()
        chunks.append(stream.bytes[start...])
        #expect(try decodeRows(chunks, expectedFieldCount: 4) == Self.rows)
    }

    @Test("a row inside one chunk is lent in place, not copied")
    func zeroCopy() throws {
        let stream = Self.stream
        var decoder = CopyBinaryDecoder()
        try stream.withUnsafeBytes { buffer in
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[...])
            try decoder.feed(chunk) { row in
                let field = try #require(row.bytes(at: 0))
                #expect(field.baseAddress! >= chunk.baseAddress! && field.baseAddress! < chunk.baseAddress! + chunk.count)
            }
        }
    }

    @Test("empty chunks change nothing")
    func emptyChunks() throws {
        let stream = Self.stream
        #expect(try decodeRows([[], stream[..<30], [], stream[30...], []]) == Self.rows)
    }

    @Test("a row with no fields, and a stream with no rows")
    func degenerate() throws {
        var empty = CopyStream()
        empty.end()
        #expect(try decodeRows([empty.bytes[...]]).isEmpty)
        var noFields = CopyStream()
        noFields.row([])
        noFields.end()
        #expect(try decodeRows([noFields.bytes[...]]) == [[]])
    }

    @Test("an error thrown by onRow comes back out")
    func rowErrorRethrown() {
        struct Stop: Error {}
        let stream = Self.stream
        var decoder = CopyBinaryDecoder()
        #expect(throws: Stop.self) {
            try stream.withUnsafeBytes { try decoder.feed($0) { _ in throw Stop() } }
        }
    }

    // MARK: Malformed data

    @Test("data without the signature is refused at once, even a few bytes of it")
    func badSignature() {
        for text in ["PGCOPZ", "COPY 1\n", "X"] {
            #expect(decodeError([CopyStream.text(text)[...]]) == .badSignature, "\(text)")
        }
        // A correct prefix is merely incomplete.
        #expect(decodeError([CopyStream.text("PGCO")[...]]) == .truncated)
        var textFormat = Array("1\talice\n".utf8)
        textFormat += Array(repeating: 0, count: 30)
        #expect(decodeError([textFormat[...]]) == .badSignature)
    }

    @Test("OIDs and unknown critical flags are refused; harmless flags are not", arguments: [
        (UInt32(1 << 16), true), (1 << 31, true), (1 << 3, false),
    ])
    func flags(flags: UInt32, refused: Bool) {
        var stream = CopyStream(flags: flags)
        stream.end()
        #expect(decodeError([stream.bytes[...]]) == (refused ? .unsupportedFormat : nil))
    }

    @Test("a negative header extension length is malformed")
    func negativeExtension() {
        let bytes = CopyStream.signature + CopyStream.bigEndian(UInt32(0)) + CopyStream.bigEndian(Int32(-5))
        #expect(decodeError([bytes[...]]) == .malformed)
    }

    @Test("a field length below -1 or a field count below -1 is malformed")
    func negativeLengths() {
        var badLength = CopyStream()
        badLength.bytes += CopyStream.bigEndian(Int16(1)) + CopyStream.bigEndian(Int32(-2))
        #expect(decodeError([badLength.bytes[...]]) == .malformed)
        var badCount = CopyStream()
        badCount.bytes += CopyStream.bigEndian(Int16(-3))
        #expect(decodeError([badCount.bytes[...]]) == .malformed)
    }

    @Test("a stream cut short is truncated at finish", arguments: [5, 19, 25, 40])
    func truncated(length: Int) {
        #expect(decodeError([Self.stream.prefix(length)]) == .truncated)
    }

    @Test("a stream without its trailer is truncated at finish")
    func noTrailer() {
        #expect(decodeError([Self.stream.dropLast(2)]) == .truncated)
    }

    @Test("bytes after the trailer are refused")
    func trailingData() {
        #expect(decodeError([(Self.stream + [0])[...]]) == .trailingData)
    }

    @Test("a row with another field count than expected, or than the first row, is refused")
    func fieldCounts() {
        #expect(decodeError([Self.stream[...]], expectedFieldCount: 5) == .fieldCountMismatch)
        var stream = CopyStream()
        stream.row([[1]])
        stream.row([[1], [2]])
        stream.end()
        #expect(decodeError([stream.bytes[...]]) == .fieldCountMismatch)
    }

    @Test("errors say where: the byte offset in the stream")
    func errorOffset() throws {
        var stream = CopyStream()
        stream.row([[1]])
        stream.bytes += CopyStream.bigEndian(Int16(1)) + CopyStream.bigEndian(Int32(-7))
        let error = try #require(throws: CopyBinaryError.self) { try decodeRows([stream.bytes[...]]) }
        #expect(error.message.contains("at byte 26"))
        #expect(error.message.contains("row 2"))
    }

    private func decodeError(_ chunks: [ArraySlice<UInt8>], expectedFieldCount: Int? = nil) -> CopyBinaryError.Kind? {
        do {
            _ = try decodeRows(chunks, expectedFieldCount: expectedFieldCount)
            return nil
        } catch let error as CopyBinaryError {
            return error.kind
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }
}
