
import PostgresClient

extension AuditEventBytes {
    /// The columns a binary COPY must produce, in this order, for `init(_:)` to read its rows:
    ///
    ///     COPY (SELECT seq, write_order, occurred_at, transaction_id, actor, action, table_name, record_key,
    ///                  old_values, new_values, reason, hash
    ///           FROM … ORDER BY seq) TO STDOUT (FORMAT binary)
    ///
    /// Types: int8, int8 (NULL for a v1 event), timestamptz, int8, text ×4, jsonb ×2, text, bytea.
    public static let copyColumns = [
        "seq", "write_order", "occurred_at", "transaction_id", "actor", "action", "table_name",
        "record_key", "old_values", "new_values", "reason", "hash",
    ]

    /// An event borrowing the fields of a binary COPY row in `copyColumns` order; valid only
    /// while `row` is (during the decoder's `onRow` callback). Allocates nothing.
    /// `extraFields`: columns the row has after those, which the caller reads itself.
    public init(_ row: CopyBinaryRow, extraFields: Int = 0) throws {
        func required<Value>(_ value: Value?, _ field: Int) throws -> Value {
            guard let value else { throw CopyBinaryError.unexpectedNull(row: row.number, field: field) }
            return value
        }
        guard row.count == Self.copyColumns.count + extraFields else {
            throw CopyBinaryError(
                .fieldCountMismatch, "binary COPY row \(row.number) has \(row.count) fields, not the audit table's \(Self.copyColumns.count)"
            )
        }
        self.init(
            seq: try required(row.int64(at: 0), 0),
            occurredAtMicroseconds: try required(row.timestampMicrosecondsSince1970(at: 2), 2),
            transactionID: try required(row.int64(at: 3), 3),
            actor: try required(row.bytes(at: 4), 4),
            action: try required(row.bytes(at: 5), 5),
            tableName: try required(row.bytes(at: 6), 6),
            recordKey: row.bytes(at: 7),
            oldValues: try row.jsonbText(at: 8),
            newValues: try row.jsonbText(at: 9),
            reason: row.bytes(at: 10),
            storedHash: try required(row.bytes(at: 11), 11),
            writeOrder: try row.int64(at: 1)
        )
    }
}

extension AuditChainVerifier {
    /// Checks the event in a binary COPY row (`AuditEventBytes.copyColumns` order). Returns
    /// whether the chain is still intact; throws if the row is not an audit event.
    @discardableResult
    public mutating func consume(_ row: CopyBinaryRow) throws -> Bool {
        consume(try AuditEventBytes(row))
    }
}
