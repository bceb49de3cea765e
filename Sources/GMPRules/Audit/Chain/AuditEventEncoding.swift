/// Audit encodings v1 and v2: the exact bytes whose SHA-256 is an audit event's hash.
///
/// Normative, and mirrored byte for byte by the PostgreSQL function that writes the chain
/// (and by `audit_chain_reference.py`):
///
///     field(x) = 4-byte unsigned big-endian byte length of x, then x's bytes;
///                a NULL field is FF FF FF FF and nothing else
///     hash_n   = SHA-256( field("gmp-audit-v1") || field(seq) || field(occurred_at)
///                || field(transaction_id) || field(actor) || field(action)
///                || field(table_name) || field(record_key) || field(old_values)
///                || field(new_values) || field(reason) || field(previous_hash) )
///
/// seq and transaction_id are signed decimal ASCII; occurred_at is `CanonicalTimestamp`;
/// texts are UTF-8 as stored (jsonb as PostgreSQL prints it, never re-serialised);
/// previous_hash is hash_{n-1}'s 32 raw bytes, or 32 zero bytes for seq 1. Framing every
/// field with its length keeps the encoding unambiguous: no choice of values for two
/// adjacent fields can produce the bytes of another choice.
///
/// v2 (issue 19: events are staged, then chained in commit order) is v1 with the tag
/// `gmp-audit-v2` and `field(write_order)` right after `field(seq)`. An event has a
/// write order exactly when it was written as v2; the first v2 event chains from the
/// last v1 hash, so one verifier walks both.
struct AuditEventEncoder {
    /// The encoding of the most recent event; reused, so that after the first event
    /// encoding allocates nothing.
    private(set) var bytes: [UInt8] = []

    /// The version tag, the first field: a future v2 can never collide with v1.
    static let versionTag: StaticString = "gmp-audit-v1"
    static let versionTagV2: StaticString = "gmp-audit-v2"
    static let nullField: UInt32 = 0xFFFF_FFFF

    init() {
        bytes.reserveCapacity(512)
    }

    /// Replaces `bytes` with the encoding of one event. The field order lives here only.
    mutating func encode<Text: AuditFieldText>(
        seq: Int64, writeOrder: Int64?, occurredAtMicroseconds: Int64, transactionID: Int64,
        actor: Text, action: Text, tableName: Text,
        recordKey: Text?, oldValues: Text?, newValues: Text?, reason: Text?,
        previousHash: AuditHash
    ) {
        bytes.removeAll(keepingCapacity: true)
        let tag = writeOrder == nil ? Self.versionTag : Self.versionTagV2
        appendField(UnsafeRawBufferPointer(start: tag.utf8Start, count: tag.utf8CodeUnitCount))
        appendMeasuredField { DecimalText.append(seq, to: &$0) }
        if let writeOrder {
            appendMeasuredField { DecimalText.append(writeOrder, to: &$0) }
        }
        appendMeasuredField { CanonicalTimestamp.append(microsecondsSince1970: occurredAtMicroseconds, to: &$0) }
        appendMeasuredField { DecimalText.append(transactionID, to: &$0) }
        appendField(actor)
        appendField(action)
        appendField(tableName)
        appendField(recordKey)
        appendField(oldValues)
        appendField(newValues)
        appendField(reason)
        previousHash.withUnsafeBytes { appendField($0) }
    }

    private mutating func appendField<Text: AuditFieldText>(_ text: Text?) {
        guard let text else {
            appendLength(Self.nullField)
            return
        }
        text.withFieldBytes { field in
            // 0xFFFFFFFF means NULL; PostgreSQL values stop at 1 GB, far below it.
            precondition(field.count < Int(Self.nullField), "an audit field is too long to encode")
            appendLength(UInt32(field.count))
            bytes.append(contentsOf: field)
        }
    }

    /// Appends a field whose length is known only once `write` has written it: a
    /// placeholder length first, filled in afterwards.
    private mutating func appendMeasuredField(_ write: (inout [UInt8]) -> Void) {
        let lengthIndex = bytes.count
        appendLength(0)
        write(&bytes)
        let length = UInt32(bytes.count - lengthIndex - 4)
        for shift in 0..<4 {
            bytes[lengthIndex + shift] = UInt8(truncatingIfNeeded: length >> (24 - 8 * shift))
        }
    }

    private mutating func appendLength(_ length: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
    }
}

/// A text field's bytes, lent for the time it takes to frame them: a `String`'s UTF-8 (the
/// readable path) or bytes borrowed from a COPY row (the fast path), encoded by one function.
protocol AuditFieldText {
    func withFieldBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result
}

extension UnsafeRawBufferPointer: AuditFieldText {
    func withFieldBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        body(self)
    }
}

extension String: AuditFieldText {
    func withFieldBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var text = self  // withUTF8 is mutating: it may first make a bridged string native
        return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}
