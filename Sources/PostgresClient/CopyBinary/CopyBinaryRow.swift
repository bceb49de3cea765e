/// One row of binary COPY output, borrowed: its bytes are valid only during the `onRow`
/// callback that receives it. Copy out (e.g. `string(at:)`, `Array(bytes(at:))`) what must
/// outlive it.
///
/// Every accessor returns nil for a NULL field; the typed ones throw when the field's bytes
/// are not a value of that type. `index` counts from 0 and must be less than `count`.
public struct CopyBinaryRow {
    /// Where a field's bytes lie in the row; a length of -1 is NULL.
    struct Field {
        var start: Int
        var length: Int
    }

    /// Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch for timestamps.
    static let postgresEpochOffsetMicroseconds: Int64 = 946_684_800_000_000

    let tuple: UnsafeRawBufferPointer
    let fields: UnsafeBufferPointer<Field>
    /// The row's position in the COPY output, from 1 (for messages).
    public let number: Int

    /// The number of fields.
    public var count: Int { fields.count }

    /// Whether field `index` is NULL.
    public func isNull(at index: Int) -> Bool {
        fields[index].length < 0
    }

    /// The field's raw bytes: UTF-8 for text, varchar and name; the bytes themselves for bytea.
    public func bytes(at index: Int) -> UnsafeRawBufferPointer? {
        let field = fields[index]
        guard field.length >= 0 else { return nil }
        return UnsafeRawBufferPointer(rebasing: tuple[field.start..<field.start + field.length])
    }

    /// A text field as a `String` (a copy; invalid UTF-8 is repaired with U+FFFD).
    public func string(at index: Int) -> String? {
        bytes(at: index).map { String(decoding: $0, as: UTF8.self) }
    }

    /// An `int8` / `bigint` field.
    public func int64(at index: Int) throws -> Int64? {
        try integer(at: index, typeName: "int8")
    }

    /// An `int4` / `integer` field.
    public func int32(at index: Int) throws -> Int32? {
        try integer(at: index, typeName: "int4")
    }

    /// A `timestamptz` (or `timestamp`) field, as microseconds since 1970-01-01T00:00:00Z.
    /// Throws for 'infinity' and '-infinity', which are no instant.
    public func timestampMicrosecondsSince1970(at index: Int) throws -> Int64? {
        // On the wire: microseconds since 2000-01-01, with Int64.max / .min for ±infinity.
        guard let sincePostgresEpoch: Int64 = try integer(at: index, typeName: "timestamptz") else { return nil }
        let (value, overflow) = sincePostgresEpoch.addingReportingOverflow(Self.postgresEpochOffsetMicroseconds)
        guard sincePostgresEpoch != .min, !overflow else {
            throw invalid(index, "an infinite timestamp is not an instant")
        }
        return value
    }

    /// A `jsonb` field's JSON text (UTF-8, as PostgreSQL prints jsonb), without the binary
    /// format's version byte. Throws for a version other than 1, the only one there is.
    public func jsonbText(at index: Int) throws -> UnsafeRawBufferPointer? {
        guard let raw = bytes(at: index) else { return nil }
        guard let version = raw.first else { throw invalid(index, "an empty jsonb value has no version byte") }
        guard version == 1 else { throw invalid(index, "jsonb binary format version \(version) is not supported (only 1)") }
        return UnsafeRawBufferPointer(rebasing: raw.dropFirst())
    }

    /// A big-endian integer field of exactly `T`'s size.
    private func integer<T: FixedWidthInteger>(at index: Int, typeName: String) throws -> T? {
        guard let raw = bytes(at: index) else { return nil }
        guard raw.count == MemoryLayout<T>.size else {
            throw invalid(index, "\(typeName) takes \(MemoryLayout<T>.size) bytes, not \(raw.count)")
        }
        return raw.loadBigEndian(T.self, at: 0)
    }

    private func invalid(_ index: Int, _ problem: String) -> CopyBinaryError {
        CopyBinaryError(.invalidValue, "binary COPY row \(number), field \(index): \(problem)")
    }
}

extension UnsafeRawBufferPointer {
    /// The big-endian integer at `offset` (binary COPY is big-endian throughout).
    func loadBigEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
