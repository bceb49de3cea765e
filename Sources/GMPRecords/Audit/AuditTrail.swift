#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// The audit trail as a whole: its head, its health, and signed reviews.
/// Verification is ``AuditTrail/verify(checkpoints:progress:)``.
public struct AuditTrail {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// The last event's seq and hash as the database records them (seq 0 and 32 zero
    /// bytes for an empty trail).
    public struct Head: Sendable, Equatable {
        public let seq: Int64
        public let hash: [UInt8]
    }

    public func head() throws -> Head {
        let row = try connection.query("SELECT seq, hash FROM gmp_audit.chain_head")[0]
        return Head(seq: try row.decode("seq"), hash: try row.decode("hash", as: ByteString.self).bytes)
    }

    /// The session setting with which gmp tells the database that it chains its own
    /// events after its commits (``chainIfDue()``), so that no commit waits for the chain
    /// head (docs/audit-trail.md); any other client chains at its commit.
    public static let chainAfterCommitSetting = (name: "gmp.audit_chain", value: "after_commit")

    /// Events chained per transaction: the head is held for one batch at a time.
    static let chainBatch: Int32 = 10_000

    /// Chains every committed pending event (issue 19), in short READ COMMITTED
    /// transactions of at most ``chainBatch`` events each (one statement each: the
    /// session's default isolation, READ COMMITTED for gmp's sessions). Not `durably`, a chaining
    /// commit does not wait for its WAL flush: losing one in a crash loses nothing, as the
    /// events are still pending then and chain again, to the same seq and hash, unless a
    /// write committed in between (nothing durable can have referred to the lost seqs:
    /// a later commit flushes the earlier ones first). Returns how many events it chained.
    /// Must run with no transaction open.
    /// On a hot standby nothing is chained (it takes no writes): the primary chains, and
    /// what is pending in the standby's snapshot is replayed by verification as pending.
    @discardableResult
    public func chainPending(durably: Bool = true) throws -> Int {
        if connection.isHotStandby { return 0 }
        var chained = 0
        while true {
            // One statement, its own READ COMMITTED transaction: the head is held for the
            // chaining only, never across a round trip to this client.
            let count: Int32 = try connection.query(
                "SELECT gmp_audit.chain_pending(\(Self.chainBatch), \(!durably)) AS n")[0].decode("n")
            chained += Int(count)
            if count < Self.chainBatch { return chained }
        }
    }

    /// Lazy chaining (issue 19), what gmp runs after a writing transaction commits when its
    /// receipt statement found chaining due (``CommitReceipts/gmp``; most writes send
    /// nothing after their commit): chains only when enough events may be pending or the
    /// last chaining was long enough ago (`gmp_audit.chain_due`, settings
    /// `gmp.audit_chain_events` and `gmp.audit_chain_wait_ms`), never waiting for a session
    /// already chaining, in short transactions whose commits need not wait for the disk (as
    /// ``chainPending(durably:)`` with `durably` false). Readers of the trail chain first
    /// (``chainPending(durably:)``). Returns how many events it chained.
    @discardableResult
    public func chainIfDue() throws -> Int {
        if connection.isHotStandby { return 0 }
        var chained = 0
        while true {
            let count: Int32 = try connection.query(
                "SELECT gmp_audit.chain_if_due(\(Self.chainBatch)) AS n")[0].decode("n")
            chained += Int(count)
            if count < Self.chainBatch { return chained }
        }
    }

    /// Events written and committed but not yet chained, as this transaction sees them.
    public func pendingCount() throws -> Int64 {
        try connection.query("SELECT count(*) AS n FROM gmp_audit.pending_event")[0].decode("n")
    }

    /// This installation's id: checkpoints name it, so one site's checkpoint is never
    /// checked against another's trail.
    public func installationID() throws -> UUID {
        try connection.query("SELECT id FROM gmp_meta.installation")[0].decode("id")
    }

    /// Anything that would let a change go unrecorded (a table without its audit
    /// trigger, a protective trigger disabled); empty when auditing is whole.
    public func machineryProblems() throws -> [String] {
        try connection.query("SELECT problem FROM gmp_audit.machinery_problems() AS problem")
            .map { try $0.decode("problem") }
    }

    /// Signs QA's review of the trail through `seq` (meaning "reviewed"). Call inside
    /// ``SignatureCeremony/sign(password:_:)``; returns the signature id.
    public static func signReview(on db: PostgresConnection, challenge: UUID, through seq: Int64,
                                  statement: String?) throws -> Int64 {
        try db.query("SELECT gmp.sign_audit_review(\(challenge), \(seq), \(statement)) AS id")[0].decode("id")
    }

    /// Notes in the database that a checkpoint was exported (the signed file is the proof).
    public func recordCheckpoint(seq: Int64, hash: [UInt8], keyFingerprint: String) throws {
        try connection.execute("SELECT gmp.record_checkpoint(\(seq), \(ByteString(hash)), \(keyFingerprint))")
    }
}
