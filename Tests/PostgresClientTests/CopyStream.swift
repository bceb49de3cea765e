import PostgresClient
import Testing

/// Builds binary COPY data the way PostgreSQL writes it, for tests.
struct CopyStream {
    static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]

    var bytes: [UInt8]

    init(flags: UInt32 = 0, headerExtension: [UInt8] = []) {
        bytes = Self.signature + Self.bigEndian(flags) + Self.bigEndian(UInt32(headerExtension.count)) + headerExtension
    }

    /// Appends a tuple; nil fields are NULL.
    mutating func row(_ fields: [[UInt8]?]) {
        bytes += Self.bigEndian(UInt16(fields.count))
        for field in fields {
            if let field {
                bytes += Self.bigEndian(UInt32(field.count)) + field
            } else {
                bytes += Self.bigEndian(UInt32.max)  // -1
            }
        }
    }

    /// Appends the end-of-data trailer.
    mutating func end() {
        bytes += Self.bigEndian(UInt16.max)  // -1
    }

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    static func text(_ value: String) -> [UInt8] { Array(value.utf8) }
}

/// Decodes `chunks` in order and returns each row's fields as arrays (nil for NULL).
func decodeRows(_ chunks: [ArraySlice<UInt8>], expectedFieldCount: Int? = nil) throws -> [[[UInt8]?]] {
    var decoder = CopyBinaryDecoder(expectedFieldCount: expectedFieldCount)
    var rows: [[[UInt8]?]] = []
    for chunk in chunks {
        try chunk.withUnsafeBytes { buffer in
            try decoder.feed(buffer) { row in
                rows.append((0..<row.count).map { row.bytes(at: $0).map { Array($0) } })
            }
        }
    }
    try decoder.finish()
    #expect(decoder.rowCount == rows.count)
    return rows
}

/// Calls `body` with the one row of a stream holding just `fields`.
func withSingleRow(_ fields: [[UInt8]?], _ body: (CopyBinaryRow) throws -> Void) throws {
    var stream = CopyStream()
    stream.row(fields)
    stream.end()
    var decoder = CopyBinaryDecoder()
    try stream.bytes.withUnsafeBytes { try decoder.feed($0, onRow: body) }
    try decoder.finish()
    #expect(decoder.rowCount == 1)
}
