import GMPRules
import PostgresClient

/// The outcome of recomputing the audit chain in the client.
public struct AuditVerification: Sendable {
    /// Intact (with a summary) or broken at its first break.
    public let verdict: AuditChainVerifier.Verdict
    /// The chain head the database recorded when the snapshot was taken.
    public let recordedHead: AuditTrail.Head
    /// Anything that would let a change go unrecorded (from the database's own catalog).
    public let machineryProblems: [String]
    /// Bytes the COPY moved, for throughput figures.
    public let bytes: Int

    public var isIntact: Bool {
        if case .intact = verdict { return machineryProblems.isEmpty }
        return false
    }
}

extension AuditTrail {
    /// The columns the verifier reads, in `AuditEventBytes.copyColumns` order.
    static let copyStatement: SQLQuery = """
        COPY (SELECT seq, occurred_at, transaction_id, actor, action, table_name, record_key,
                     old_values, new_values, reason, hash
              FROM gmp_audit.event ORDER BY seq) TO STDOUT (FORMAT binary)
        """

    /// Recomputes every event's hash here, in the client, from one consistent snapshot:
    /// the database is not asked to check itself (an owner who rewrote it could make it
    /// agree). Streams a binary COPY, so memory stays constant for any length of trail.
    /// `progress` is called every 65,536 events with the count so far.
    public func verify(checkpoints: [AuditChainVerifier.Checkpoint] = [],
                       progress: (Int) -> Void = { _ in }) throws -> AuditVerification {
        try connection.transaction(.repeatableRead, readOnly: true) { db in
            let trail = AuditTrail(db)
            let head = try trail.head()
            let problems = try trail.machineryProblems()
            var verifier = AuditChainVerifier(checkpoints: checkpoints)
            var decoder = CopyBinaryDecoder(expectedFieldCount: AuditEventBytes.copyColumns.count)
            var intact = true
            let outcome = try db.copyOut(Self.copyStatement) { chunk in
                try decoder.feed(chunk) { row in
                    // After the first break, keep draining without hashing.
                    guard intact else { return }
                    intact = try verifier.consume(row)
                    if row.number & 0xFFFF == 0 { progress(row.number) }
                }
            }
            try decoder.finish()
            return AuditVerification(verdict: verifier.finish(head: (seq: head.seq, hash: head.hash)),
                                     recordedHead: head, machineryProblems: problems, bytes: outcome.bytes)
        }
    }
}
