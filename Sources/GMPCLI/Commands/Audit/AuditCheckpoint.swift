import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp audit checkpoint --key KEY --out FILE`: sign the current chain head.
struct AuditCheckpointCommand: GMPCommand {
    static let path = "audit checkpoint"
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Verify the chain, then sign its head with QA's key into a small file (QA).",
        discussion: """
            Keep the file anywhere outside the database (it is not secret). Later, \
            'gmp audit verify --checkpoint FILE --public-key KEY.pub' proves the trail \
            still extends it: a rewrite of history, even with recomputed hashes, fails. \
            The tables are reconciled with the trail first (a checkpoint is refused while \
            they differ), and the file (format v3) also signs a digest of the record \
            tables as the trail replays them at that event, and the snapshot they were \
            reconciled in, from which a later verify reads only what changed since (gmp \
            help audit-trail). Without the right to read the cluster's identity \
            (pg_control_system) the file is v2.

            Examples:
              gmp audit checkpoint --key ~/qa.key --out checkpoints/2026-12-04.json
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("QA's private key (gmp audit keygen).", valueName: "file")) var key: String
    @Option(help: ArgumentHelp("Where to write the checkpoint (never overwritten).", valueName: "file")) var out: String

    struct Document: Encodable {
        let file: String
        let installation: String
        let seq: Int64
        let hash: String
        /// The record tables as the trail replays them at `seq` (format v2).
        let tables: String
        let rows: Int64
        let keyFingerprint: String
    }

    func execute(in context: CommandContext) throws {
        let signingKey = try CheckpointKey.read(from: key)
        let connection = try context.connect(startingEmbedded: false)
        let trail = AuditTrail(connection)
        var secondSession = context
        secondSession.promptsForPassword = false
        // The tables too: QA's signature then also says they agreed with the trail.
        // And the snapshot it did so in (format v3): later verifications reconcile from there.
        // Reconciled and hashed in key order, in bounded memory (issue 18); replayed in
        // memory only when that cannot hash them (events pending, rows matched to their
        // replay through a field added since).
        var verification = try trail.verify(reconcile: true, recordSnapshot: true, tablesDigestInKeyOrder: true,
                                            openSecondConnection: {
            try secondSession.connect(startingEmbedded: false, recordingFailedLogins: false)
        })
        if case .intact(let summary) = verification.verdict, verification.isIntact,
           verification.reconciliation?.tablesDigests[summary.lastSeq] == nil {
            verification = try trail.verify(reconcile: true, recordSnapshot: true, tablesDigestAtEnd: true)
        }
        guard case .intact(let summary) = verification.verdict, verification.isIntact,
              let tables = verification.reconciliation?.tablesDigests[summary.lastSeq] else {
            throw Failure(exitCode: .refused,
                          problem: "the audit trail does not verify, or the tables differ from it, so it is not checkpointed",
                          fix: "run gmp audit verify to see what is wrong")
        }
        let checkpoint = try AuditCheckpoint.Statement(
            installation: try trail.installationID().uuidString.lowercased(), seq: summary.lastSeq,
            hash: summary.lastHash.bytes, createdAt: Timestamp.now().iso8601, signer: connection.userName,
            tables: tables, snapshot: verification.snapshot
        ).sign(with: signingKey)
        // Recorded and written together: a failure to write the file rolls back the record.
        try connection.transaction(retry: .never) { db in
            try AuditTrail(db).recordCheckpoint(seq: checkpoint.seq, hash: checkpoint.hash,
                                                keyFingerprint: checkpoint.keyFingerprint)
            try checkpoint.write(to: out)
        }
        try context.output.document(Document(file: out, installation: checkpoint.installation, seq: checkpoint.seq,
                                             hash: summary.lastHashHex, tables: tables.hex, rows: tables.rows,
                                             keyFingerprint: checkpoint.keyFingerprint))
        context.output.data("checkpoint \(out): event \(checkpoint.seq), hash \(summary.lastHashHex), key \(checkpoint.keyFingerprint); "
                            + "tables agree with the trail, \(tables.rows) record rows, digest \(tables.hex)")
    }
}
