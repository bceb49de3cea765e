import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp audit verify`: recompute the audit chain in the client.
struct AuditVerify: GMPCommand {
    static let path = "audit verify"
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the whole audit chain here, and check it against signed checkpoints.",
        discussion: """
            Reads every event in one snapshot and recomputes its SHA-256 chain hash in \
            gmp itself: the database is never asked to vouch for itself. Any edited, \
            deleted, inserted or reordered event, or a truncated tail, is named by its \
            first broken sequence number. A history rewritten with recomputed hashes \
            (possible for the database owner) is caught by a checkpoint signed earlier \
            with QA's key: --checkpoint FILE (repeatable) with --public-key.

            Then, in the same snapshot, the tables are checked against the trail: every \
            row of every audited table must be what its audit events replay to, every row \
            the trail holds must still be there, and every signature must hash the content \
            the trail shows it signed. A row changed while its audit trigger was switched \
            off (a superuser can) is named by table, key and the fields that differ. \
            --no-reconcile checks the chain alone.

            With a v3 checkpoint (gmp audit checkpoint since issue 18), only the records \
            changed since its event are replayed and their rows read; every other row is \
            counted, as the checkpoint's snapshot held it (gmp help audit-trail, \
            "Incremental reconciliation"). --full reconciles every row all the same, and \
            checks the record tables' digest the checkpoint signed.

            Exit 0 when intact; 65 when broken, when a row or signature differs from the \
            trail, or when auditing is weakened (a trigger disabled, a table not audited).

            Examples:
              gmp audit verify
              gmp audit verify --checkpoint checkpoints/2026-12-04.json --public-key ~/qa.key.pub --json
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("checkpoint"), help: ArgumentHelp("A checkpoint file (repeatable).", valueName: "file"))
    var checkpointFiles: [String] = []
    @Option(help: ArgumentHelp("QA's public key (from gmp audit keygen), to check the checkpoints' signatures.",
                               valueName: "file"))
    var publicKey: String?
    @Flag(name: .customLong("no-reconcile"), help: "Check the chain only, not the tables against it.")
    var noReconcile = false
    @Flag(help: "Reconcile every row, even from a v3 checkpoint (which otherwise reads only the records changed since).")
    var full = false

    func validate() throws {
        if !checkpointFiles.isEmpty && publicKey == nil {
            throw ValidationError("--checkpoint needs --public-key: an unsigned or unchecked checkpoint proves nothing")
        }
    }

    struct Document: Encodable {
        struct Break: Encodable {
            let seq: Int64
            let problem: String
        }
        let intact: Bool
        let events: Int
        let lastSeq: Int64
        let lastHash: String?
        let checkpointsMatched: Int
        let checkpoints: Int
        let firstBreak: Break?
        let machineryProblems: [String]
        /// Events committed but not yet chained when the snapshot was taken (replayed, not hashed).
        let pendingEvents: Int
        let seconds: Double
        let eventsPerSecond: Int
        /// Null with --no-reconcile.
        let reconciliation: Nullable<ReconciliationDocument>
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let checkpoints = try loadCheckpoints(on: connection)
        let progress = Progress(output: context.output)
        // The second session never asks for a password again: without one it is not opened,
        // and the reconciliation's digest pass runs after the chain pass instead.
        var secondSession = context
        secondSession.promptsForPassword = false
        let clock = ContinuousClock()
        let start = clock.now
        // From the latest v3 checkpoint, unless --full or a v2 checkpoint's digest needs every row.
        let incremental = noReconcile || full || checkpoints.contains { $0.statement.tables != nil && $0.statement.snapshot == nil }
            ? nil : checkpoints.filter { $0.statement.snapshot != nil }.max { $0.seq < $1.seq }
        let verification = try AuditTrail(connection).verify(
            checkpoints: checkpoints.map { (seq: $0.seq, hash: $0.hash) }, reconcile: !noReconcile,
            since: incremental.flatMap { checkpoint in
                checkpoint.statement.snapshot.map { AuditTrail.IncrementalBase(seq: checkpoint.seq, snapshot: $0) }
            },
            tablesDigestAt: noReconcile || incremental != nil
                ? [] : Set(checkpoints.filter { $0.statement.tables != nil }.map(\.seq)),
            // The reconciliation's digest pass runs on a second session, alongside the chain's (issue 18).
            openSecondConnection: { try secondSession.connect(startingEmbedded: false, recordingFailedLogins: false) }
        ) { progress.update($0) }
        progress.finish()
        let seconds = (clock.now - start).seconds
        try report(verification, checkpointCount: checkpoints.count, seconds: seconds, context: context)
        try checkTables(of: checkpoints, against: verification)
    }

    /// A v2 checkpoint also signed the record tables as the trail replayed them at its
    /// event: the trail must still replay to exactly that.
    private func checkTables(of checkpoints: [AuditCheckpoint], against verification: AuditVerification) throws {
        guard let digests = verification.reconciliation?.tablesDigests else { return }
        for (file, checkpoint) in zip(checkpointFiles, checkpoints) {
            guard let signed = checkpoint.statement.tables, let replayed = digests[checkpoint.seq] else { continue }
            if replayed != signed {
                throw Failure(exitCode: .refused,
                              problem: "checkpoint \(file): the record tables as the trail replays them at event \(checkpoint.seq) "
                                  + "(\(replayed.rows) rows, digest \(replayed.hex)) are not what it signed (\(signed.rows) rows, digest \(signed.hex))",
                              fix: "preserve this database as evidence and inform QA; compare with backups and checkpoints")
            }
        }
    }

    /// The checkpoints given, each checked: signed by `publicKey`, for this installation.
    private func loadCheckpoints(on connection: PostgresConnection) throws -> [AuditCheckpoint] {
        guard let publicKey else { return [] }
        let key = try CheckpointPublicKey.read(from: publicKey)
        let installation = try AuditTrail(connection).installationID().uuidString.lowercased()
        return try checkpointFiles.map { file in
            let checkpoint = try AuditCheckpoint.read(from: file)
            try checkpoint.verify(with: key)
            guard checkpoint.installation == installation else {
                throw Failure(exitCode: .refused, problem: "checkpoint \(file) is for installation \(checkpoint.installation), not this one (\(installation))",
                              fix: "verify each installation against its own checkpoints")
            }
            return checkpoint
        }
    }

    private func report(_ verification: AuditVerification, checkpointCount: Int, seconds: Double,
                        context: CommandContext) throws {
        let summary: AuditChainVerifier.Summary?
        let chainBreak: ChainBreak?
        switch verification.verdict {
        case .intact(let value): (summary, chainBreak) = (value, nil)
        case .broken(let value): (summary, chainBreak) = (nil, value)
        }
        let events = summary?.eventCount ?? 0
        try context.output.document(Document(
            intact: verification.isIntact, events: events, lastSeq: summary?.lastSeq ?? verification.recordedHead.seq,
            lastHash: summary?.lastHashHex, checkpointsMatched: summary?.checkpointsMatched ?? 0, checkpoints: checkpointCount,
            firstBreak: chainBreak.map { .init(seq: $0.seq, problem: $0.description) },
            machineryProblems: verification.machineryProblems, pendingEvents: verification.pendingEvents, seconds: seconds,
            eventsPerSecond: seconds > 0 ? Int(Double(events) / seconds) : 0,
            reconciliation: Nullable(verification.reconciliation.map(ReconciliationDocument.init))))
        if let summary {
            context.output.data("audit trail intact: \(summary.eventCount) events, last seq \(summary.lastSeq), "
                                + "head \(summary.lastHashHex); checkpoints reproduced: \(summary.checkpointsMatched) of \(checkpointCount)")
        }
        if verification.pendingEvents > 0 {
            context.output.data("\(verification.pendingEvents) events committed just before the snapshot are not chained yet: "
                                + "replayed for the tables, not hashed")
        }
        if let reconciliation = verification.reconciliation {
            reportText(reconciliation, context: context)
        }
        for problem in verification.machineryProblems {
            context.output.data(context.output.stdoutStyle.red("auditing weakened: \(problem)"))
        }
        if let chainBreak {
            throw Failure(exitCode: .refused, problem: chainBreak.description,
                          fix: "preserve this database as evidence and inform QA; compare with backups and checkpoints")
        }
        if let findings = verification.reconciliation?.outcome.findings, let first = findings.first {
            throw Failure(exitCode: .refused,
                          problem: "\(findings.count) \(findings.count == 1 ? "difference" : "differences") between the tables and the audit trail, first: \(first)",
                          fix: "preserve this database as evidence and inform QA: a record was changed without its audit event; compare with backups and checkpoints")
        }
        if !verification.machineryProblems.isEmpty {
            throw Failure(exitCode: .refused, problem: "auditing is weakened: \(verification.machineryProblems.joined(separator: "; "))",
                          fix: "restore the trigger with a superuser (ALTER TABLE … ENABLE ALWAYS TRIGGER …) and investigate who changed it")
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension AuditVerify: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([
        .globalOptions,
        .options("--checkpoint") { $0.checkpointFiles = $1 },
        .option("--public-key") { $0.publicKey = $1 },
        .flag("--no-reconcile") { $0.noReconcile = $1 },
        .flag("--full") { $0.full = $1 },
    ])
}
