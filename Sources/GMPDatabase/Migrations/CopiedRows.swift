import PostgresClient

/// The rows of a binary `COPY … TO STDOUT` held whole: the ledgers, a few dozen rows each,
/// copied rather than selected by a cold `gmp db status` (``Migrator/status(on:alongWith:)``).
enum CopiedRows {
    /// Calls `body` with each row of `bytes`, which must hold `fields` fields a row.
    static func each(in bytes: [UInt8], fields: Int, _ body: (CopyBinaryRow) throws -> Void) throws {
        var decoder = CopyBinaryDecoder(expectedFieldCount: fields)
        try bytes.withUnsafeBytes { try decoder.feed($0, onRow: body) }
        try decoder.finish()
    }

    /// A field's value, where the table's NOT NULL guarantees one.
    static func required<T>(_ value: T?, _ row: CopyBinaryRow, _ field: Int) throws -> T {
        guard let value else {
            throw ClientError(.decoding, "copied row \(row.number), field \(field) is NULL where a value was required")
        }
        return value
    }
}
