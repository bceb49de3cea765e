import SystemCrypto

/// Computes audit events' hashes (audit encoding v1, SHA-256), reusing one buffer.
///
/// Keep one per verification: after the first event it allocates no encoding buffer, so
/// the cost per event is the encoding plus one SHA-256 call. Not shareable between threads
/// (it is a value; give each thread its own).
public struct AuditEventHasher {
    private var encoder = AuditEventEncoder()

    public init() {}

    /// The hash `event` should have when chained after `previousHash`.
    public mutating func hash(_ event: AuditEventBytes, previousHash: AuditHash) -> AuditHash {
        encoder.encode(event, previousHash: previousHash)
        return digest()
    }

    /// The hash `event` should have when chained after `previousHash`.
    public mutating func hash(_ event: AuditEvent, previousHash: AuditHash) -> AuditHash {
        encoder.encode(event, previousHash: previousHash)
        return digest()
    }

    private func digest() -> AuditHash {
        // SHA256.hash(data:) wants Foundation's DataProtocol; update(bufferPointer:) does not.
        var sha256 = SHA256()
        encoder.bytes.withUnsafeBytes { sha256.update(bufferPointer: $0) }
        return AuditHash(sha256.finalize())
    }
}
