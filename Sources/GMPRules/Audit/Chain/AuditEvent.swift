/// One audit event as stored in the audit table: the readable form, with `String`s.
///
/// For reports, tests and single events. Verifying a whole chain goes through
/// `AuditEventBytes` instead, which borrows the bytes of a COPY row and allocates nothing.
public struct AuditEvent: Sendable, Hashable {
    /// Position in the chain, from 1, without gaps.
    public var seq: Int64
    /// The order the event was written in (hash format v2); nil for a v1 event, written
    /// before events were staged.
    public var writeOrder: Int64?
    /// When the change happened, in microseconds since 1970-01-01T00:00:00Z.
    public var occurredAtMicroseconds: Int64
    /// The PostgreSQL transaction that made the change.
    public var transactionID: Int64
    /// Who made the change.
    public var actor: String
    /// "INSERT", "UPDATE" or "DELETE".
    public var action: String
    /// The changed table, schema-qualified ("gmp.account").
    public var tableName: String
    /// The changed record's key, if it has one.
    public var recordKey: String?
    /// The record before the change (jsonb text as PostgreSQL prints it); nil for an insert.
    public var oldValues: String?
    /// The record after the change (jsonb text as PostgreSQL prints it); nil for a delete.
    public var newValues: String?
    /// Why the change was made, when a reason is required.
    public var reason: String?
    /// The hash stored with the event: 32 bytes if untampered, though a forged row may hold anything.
    public var hash: [UInt8]

    public init(
        seq: Int64, occurredAtMicroseconds: Int64, transactionID: Int64,
        actor: String, action: String, tableName: String,
        recordKey: String?, oldValues: String?, newValues: String?, reason: String?,
        hash: [UInt8], writeOrder: Int64? = nil
    ) {
        self.seq = seq
        self.writeOrder = writeOrder
        self.occurredAtMicroseconds = occurredAtMicroseconds
        self.transactionID = transactionID
        self.actor = actor
        self.action = action
        self.tableName = tableName
        self.recordKey = recordKey
        self.oldValues = oldValues
        self.newValues = newValues
        self.reason = reason
        self.hash = hash
    }

    /// The canonical encoding (v1, or v2 with a write order) of this event when chained after `previousHash`.
    public func canonicalEncoding(previousHash: AuditHash) -> [UInt8] {
        var encoder = AuditEventEncoder()
        encoder.encode(self, previousHash: previousHash)
        return encoder.bytes
    }

    /// The hash this event should have when chained after `previousHash`.
    public func computedHash(previousHash: AuditHash) -> AuditHash {
        var hasher = AuditEventHasher()
        return hasher.hash(self, previousHash: previousHash)
    }
}

/// One audit event whose texts are borrowed bytes, typically straight from a binary COPY
/// row: the fast path, with no `String` per field.
///
/// The buffers are only lent: valid while their owner (the COPY row callback) runs.
public struct AuditEventBytes {
    public var seq: Int64
    /// The write order of a v2 event; nil for v1.
    public var writeOrder: Int64?
    public var occurredAtMicroseconds: Int64
    public var transactionID: Int64
    /// UTF-8 text, never NULL.
    public var actor: UnsafeRawBufferPointer
    public var action: UnsafeRawBufferPointer
    public var tableName: UnsafeRawBufferPointer
    /// UTF-8 text (jsonb text for the values, without the binary version byte); nil for NULL.
    public var recordKey: UnsafeRawBufferPointer?
    public var oldValues: UnsafeRawBufferPointer?
    public var newValues: UnsafeRawBufferPointer?
    public var reason: UnsafeRawBufferPointer?
    /// The hash stored with the event, as stored (any length; 32 bytes if untampered).
    public var storedHash: UnsafeRawBufferPointer

    public init(
        seq: Int64, occurredAtMicroseconds: Int64, transactionID: Int64,
        actor: UnsafeRawBufferPointer, action: UnsafeRawBufferPointer, tableName: UnsafeRawBufferPointer,
        recordKey: UnsafeRawBufferPointer?, oldValues: UnsafeRawBufferPointer?,
        newValues: UnsafeRawBufferPointer?, reason: UnsafeRawBufferPointer?,
        storedHash: UnsafeRawBufferPointer, writeOrder: Int64? = nil
    ) {
        self.seq = seq
        self.writeOrder = writeOrder
        self.occurredAtMicroseconds = occurredAtMicroseconds
        self.transactionID = transactionID
        self.actor = actor
        self.action = action
        self.tableName = tableName
        self.recordKey = recordKey
        self.oldValues = oldValues
        self.newValues = newValues
        self.reason = reason
        self.storedHash = storedHash
    }
}

extension AuditEventEncoder {
    mutating func encode(_ event: AuditEvent, previousHash: AuditHash) {
        encode(
            seq: event.seq, writeOrder: event.writeOrder, occurredAtMicroseconds: event.occurredAtMicroseconds, transactionID: event.transactionID,
            actor: event.actor, action: event.action, tableName: event.tableName,
            recordKey: event.recordKey, oldValues: event.oldValues, newValues: event.newValues, reason: event.reason,
            previousHash: previousHash
        )
    }

    mutating func encode(_ event: AuditEventBytes, previousHash: AuditHash) {
        encode(
            seq: event.seq, writeOrder: event.writeOrder, occurredAtMicroseconds: event.occurredAtMicroseconds, transactionID: event.transactionID,
            actor: event.actor, action: event.action, tableName: event.tableName,
            recordKey: event.recordKey, oldValues: event.oldValues, newValues: event.newValues, reason: event.reason,
            previousHash: previousHash
        )
    }
}
