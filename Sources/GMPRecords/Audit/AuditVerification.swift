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
    /// The tables checked against the trail; nil when not asked for.
    public let reconciliation: AuditReconciliation?
    /// Events committed but not yet chained in the snapshot (written between the chaining
    /// that precedes the snapshot and the snapshot): not hashed, but replayed after the
    /// chain for the reconciliation, as they will be chained.
    public let pendingEvents: Int
    /// This snapshot as a v3 checkpoint records it, when asked for and allowed
    /// (``AuditTrail/verify(checkpoints:reconcile:since:recordSnapshot:tablesDigestAt:tablesDigestAtEnd:tablesDigestInKeyOrder:replayInMemoryUpTo:openSecondConnection:progress:)``).
    public var snapshot: AuditCheckpoint.Snapshot?

    /// The chain is intact, auditing whole, and (when reconciled) the tables agree with it.
    public var isIntact: Bool {
        guard case .intact = verdict, machineryProblems.isEmpty else { return false }
        return reconciliation?.outcome.isConsistent ?? true
    }
}

/// The outcome of checking the tables against the trail, in the client.
public struct AuditReconciliation: Sendable {
    public internal(set) var outcome: AuditReconciler.Outcome
    /// Audited tables not compared, with why (the verifier may not read them, or their
    /// events do not hold whole rows).
    public let skippedTables: [SkippedTable]
    /// How long the comparison of the tables took (after the chain), in seconds.
    public internal(set) var seconds: Double
    /// The record tables as the trail replays them, at each event asked for.
    public let tablesDigests: [Int64: AuditCheckpoint.TablesDigest]
    /// Whether the digest pass ran on a second connection alongside the chain pass (issue 18).
    public internal(set) var concurrentDigestPass = false
    /// Compared tables settled by the link check (``RecordLinks``), without the key-ordered merge.
    public internal(set) var linkedTables = 0
    /// Reconciled from the checkpoint at this event (issue 18): only the keys touched
    /// since were replayed and read, the others counted; nil for a full reconciliation.
    public internal(set) var incrementalFrom: Int64?
    /// Whether, from a checkpoint, the scan for the rows written since ran on a second
    /// connection alongside the chain pass (issue 18).
    public internal(set) var concurrentWrittenSinceScan = false
    /// Why a reconciliation asked to start from a checkpoint was done in full instead.
    public internal(set) var fullBecause: String?

    public struct SkippedTable: Sendable, Hashable {
        public let table: String
        public let reason: String
    }
}

/// Where a verification is, for a progress line.
public enum VerificationProgress: Sendable {
    /// Events hashed (and replayed) so far.
    case events(Int)
    /// Rows of the tables compared so far, and the table being read.
    case rows(Int, table: String)
}

extension AuditTrail {
    /// The columns the verifier reads, in `AuditEventBytes.copyColumns` order.
    /// After them, `prev_seq` (V0040, issue 18: the links of ``RecordLinks``, not hashed).
    static let copyStatement: SQLQuery = """
        COPY (SELECT seq, write_order, occurred_at, transaction_id, actor, action, table_name, record_key,
                     old_values, new_values, reason, hash, prev_seq
              FROM gmp_audit.event ORDER BY seq) TO STDOUT (FORMAT binary)
        """
    /// Fields of ``copyStatement``'s rows after `AuditEventBytes.copyColumns`.
    static let copyExtraFields = 1

    /// The largest trail (events, pending ones included) whose reconciliation replays every
    /// row in memory rather than merging in key order. 0: since the digest pass runs on a
    /// second session alongside the chain pass (issue 18), the merge costs no more than the
    /// replay in memory at any size (docs/benchmarks.md), so every trail takes it; only a
    /// v2 checkpoint's record-tables digest still replays in memory.
    public static let inMemoryReplayLimit: Int64 = 0

    /// The pending events, in the same columns, in the order they will be chained in: seq
    /// is where they would follow the head, the hash empty (they have none yet).
    static let pendingCopyStatement: SQLQuery = """
        COPY (SELECT h.seq + row_number() OVER (ORDER BY p.write_order) AS seq, p.write_order, p.occurred_at,
                     p.transaction_id, p.actor, p.action, p.table_name, p.record_key,
                     p.old_values, p.new_values, p.reason, ''::bytea AS hash
              FROM gmp_audit.pending_event p CROSS JOIN gmp_audit.chain_head h
              ORDER BY p.write_order) TO STDOUT (FORMAT binary)
        """

    /// Recomputes every event's hash here, in the client, from one consistent snapshot:
    /// the database is not asked to check itself (an owner who rewrote it could make it
    /// agree). Streams a binary COPY, so memory stays constant for any length of trail.
    /// `progress` is called every 65,536 events and rows with the count so far.
    ///
    /// With `reconcile`, every row of every audited table is then compared with the replay
    /// of its events, in the same snapshot: the chain proves the trail, this proves the
    /// tables. The trail and the tables are merged in key order, as digests of the row
    /// images (``KeyOrderedDigestReplay``, bounded memory), and the keys that do not agree
    /// read again with their texts (``KeyOrderedReconciler``); a keyed digest proves the
    /// second read held the events this pass hashed. With `openSecondConnection` the digest
    /// pass runs on that connection, in this snapshot (`pg_export_snapshot`), while this
    /// pass runs (issue 18); without one, or when the snapshot cannot be shared (a server
    /// that refuses it), it runs after this pass on this connection. To hash the record
    /// tables as replayed after each event in `tablesDigestAt` (v2 checkpoints) and, with
    /// `tablesDigestAtEnd`, after the last one, the same pass replays every row event in
    /// memory instead (``AuditReconciler``). With `tablesDigestInKeyOrder` instead, a full
    /// reconciliation in key order also hashes the record tables as of the last event, in
    /// bounded memory (``ReconciliationTally``; `gmp audit checkpoint`, issue 18): the rows
    /// read again sorted by the server and proved against this pass's images.
    ///
    /// A trail of at most `replayInMemoryUpTo` events (``inMemoryReplayLimit``, 0: none
    /// but the empty one) is replayed in memory all the same.
    ///
    /// With `since` (a v3 checkpoint, issue 18), only the record keys touched since its
    /// snapshot are replayed, in memory, and read; the other rows are counted
    /// (``IncrementalReconciliation``). When its guard refuses (another cluster, a snapshot
    /// too old, the tables' rendering changed), the reconciliation is full, saying why.
    /// With `recordSnapshot`, the result carries this snapshot for a v3 checkpoint.
    public func verify(checkpoints: [AuditChainVerifier.Checkpoint] = [], reconcile: Bool = false,
                       since: IncrementalBase? = nil, recordSnapshot: Bool = false,
                       tablesDigestAt: Set<Int64> = [], tablesDigestAtEnd: Bool = false,
                       tablesDigestInKeyOrder: Bool = false,
                       replayInMemoryUpTo: Int64 = AuditTrail.inMemoryReplayLimit,
                       openSecondConnection: (() throws -> PostgresConnection)? = nil,
                       progress: (VerificationProgress) -> Void = { _ in }) throws -> AuditVerification {
        // The second session's backend starts meanwhile, when a second pass will want it (issue 18).
        var early: EarlyConnection?
        if reconcile, tablesDigestAt.isEmpty, !tablesDigestAtEnd, let open = openSecondConnection {
            early = EarlyConnection(opening: open)
        }
        defer { early?.finish() }
        let openSecondConnection: (() throws -> PostgresConnection)? = early.map { early in { try early.take() } }
            ?? openSecondConnection
        // Chain what is pending first (issue 19), so that the snapshot holds as little as
        // possible outside the chain; whatever is still pending there is accounted for below.
        // Someone who may read the trail but not chain it verifies all the same.
        do { try chainPending() } catch { connection.logger.debug("could not chain pending events: \(error)") }
        return try connection.transaction(.repeatableRead, readOnly: true) { db in
            let trail = AuditTrail(db)
            let head = try trail.head()
            let problems = try trail.machineryProblems()
            var verifier = AuditChainVerifier(checkpoints: checkpoints)
            // The record tables' digest needs every row as replayed at once (the replay in
            // memory); otherwise the trail is merged with the tables in key order, in
            // bounded memory, alongside this pass (issue 18).
            let pending = try trail.pendingCount()
            let tablesDigestAsked = !tablesDigestAt.isEmpty || tablesDigestAtEnd
            var inMemory = tablesDigestAsked || head.seq + pending <= replayInMemoryUpTo
            var replay = try reconcile && (inMemory || since != nil || recordSnapshot)
                ? trail.startReconciliation(digestAt: tablesDigestAt) : nil
            if replay != nil && tablesDigestAsked {
                // Hashing the replayed tables (a v2 or v3 checkpoint's digest) keeps this
                // client busy between statements for minutes at 10,000,000 rows: the
                // session's idle timeout (gmp sets one) must not end the transaction meanwhile.
                try db.execute("SELECT set_config('idle_in_transaction_session_timeout', '0', true)")
            }
            var snapshot: AuditCheckpoint.Snapshot?
            var incremental: IncrementalVerifyPlan?
            if let run = replay, since != nil || recordSnapshot {
                // From a checkpoint with a second session, the guard's rendering digest (a
                // catalog query, ≈ 0.3 s in a fresh backend) is taken there, alongside the
                // chain pass; its refusal then means the full reconciliation from a second read.
                let schemaDeferred = since != nil && !recordSnapshot && openSecondConnection != nil && !tablesDigestAsked
                let state = try trail.snapshotState(tables: run.tables, renderingDigest: !schemaDeferred)
                snapshot = recordSnapshot ? state?.snapshot : nil
                if let since {
                    var plan = IncrementalVerifyPlan(checks: IncrementalGuard(
                        base: since, state: state, schemaDeferred: schemaDeferred, tablesDigestAsked: tablesDigestAsked))
                    if let routing = try plan.start(on: trail, tables: run.tables, opening: openSecondConnection) {
                        replay!.route(by: routing)
                        inMemory = true
                    }
                    incremental = plan
                }
            }
            if !inMemory { replay = nil }
            var tally = try reconcile && !inMemory ? trail.startTally(hashingTables: tablesDigestInKeyOrder) : nil
            let secondPass = tally.flatMap { trail.startSecondPass($0, opening: openSecondConnection) }
            var decoder = CopyBinaryDecoder(expectedFieldCount: AuditEventBytes.copyColumns.count + Self.copyExtraFields)
            var intact = true
            let outcome = try db.copyOut(Self.copyStatement) { chunk in
                try decoder.feed(chunk) { row in
                    if row.number & 0xFFFF == 0 { progress(.events(row.number)) }
                    let event = try AuditEventBytes(row, extraFields: Self.copyExtraFields)
                    // The replay goes on past a break: what the tables hold is evidence too.
                    replay?.consume(event)
                    if tally != nil { tally!.consume(event, prevSeq: try row.int64(at: AuditEventBytes.copyColumns.count)) }
                    // After the first break, keep draining without hashing.
                    guard intact else { return }
                    intact = verifier.consume(event)
                }
            }
            try decoder.finish()
            if tablesDigestAtEnd { replay?.digestNow(at: head.seq) }
            if pending > 0, replay != nil || tally != nil {
                try trail.streamPendingEvents { event in
                    replay?.consume(event)
                    tally?.consume(event, prevSeq: nil, pending: true)
                }
            }
            try incremental?.settle(on: trail, replay: &replay, tally: &tally, pending: pending)
            var reconciliation = try replay.map {
                try trail.finishIncrementalReconciliation($0, olderRows: incremental?.olderRows ?? [:],
                                                          touchedRows: incremental?.touchedRows, progress: progress)
            }
            if let tally {
                let clock = ContinuousClock()
                let start = clock.now
                let rows = try secondPass?.wait()
                var links = tally.links
                links.add(try rows ?? trail.linkRows(tables: tally.tables, digestKey: tally.digestKey))
                reconciliation = try trail.settleReconciliation(tally, links: links, seconds: (clock.now - start).seconds,
                                                                progress: progress)
                reconciliation?.concurrentDigestPass = rows != nil
            }
            reconciliation?.fullBecause = incremental?.fullBecause
            reconciliation?.concurrentWrittenSinceScan = incremental?.scannedAlongside ?? false
            return AuditVerification(verdict: verifier.finish(head: (seq: head.seq, hash: head.hash)),
                                     recordedHead: head, machineryProblems: problems, bytes: outcome.bytes,
                                     reconciliation: reconciliation, pendingEvents: Int(pending), snapshot: snapshot)
        }
    }

    /// Starts the rows' side of the link check (``linkRows(tables:digestKey:)``) on a second
    /// connection in this transaction's snapshot; nil when there is no second connection or
    /// the snapshot cannot be shared, and it then runs on this connection after the chain pass. This transaction waits for the
    /// pass however long it takes, so it must not be ended as idle meanwhile.
    func startSecondPass(_ tally: ReconciliationTally,
                         opening: (() throws -> PostgresConnection)?) -> SecondPass<RecordLinks>? {
        let (tables, digestKey) = (tally.tables, tally.digestKey)
        return startSecondPass(opening: opening) { try $0.linkRows(tables: tables, digestKey: digestKey) }
    }

    /// Runs `body` on a second connection in this transaction's snapshot, on a thread of
    /// its own; nil when there is no second connection or the snapshot cannot be shared.
    func startSecondPass<Output>(opening: (() throws -> PostgresConnection)?,
                                 body: @escaping (AuditTrail) throws -> Output) -> SecondPass<Output>? {
        guard let opening else { return nil }
        do {
            let exported: String = try connection.query(
                "SELECT pg_catalog.pg_export_snapshot() AS id, set_config('idle_in_transaction_session_timeout', '0', true)"
            )[0].decode("id")
            guard let snapshot = SQLSnapshotID(exported) else { return nil }
            let pass = SecondPass(connection: try opening(), snapshot: snapshot, body: body)
            pass.start()
            return pass
        } catch {
            connection.logger.debug("the rows are read after the chain pass: \(error)")
            return nil
        }
    }
}

extension AuditTrail {
    /// The pending events, as ``pendingCopyStatement`` reads them.
    func streamPendingEvents(_ body: (AuditEventBytes) -> Void) throws {
        var decoder = CopyBinaryDecoder(expectedFieldCount: AuditEventBytes.copyColumns.count)
        _ = try connection.copyOut(Self.pendingCopyStatement) { chunk in
            try decoder.feed(chunk) { row in body(try AuditEventBytes(row)) }
        }
        try decoder.finish()
    }

    /// The trail read again in this snapshot, without hashing (the chain pass has), then
    /// the pending events (flagged): for a replay whose routing was learnt after it.
    func streamTrailAgain(pending: Int64, _ body: (AuditEventBytes, Int64?, Bool) -> Void) throws {
        var decoder = CopyBinaryDecoder(expectedFieldCount: AuditEventBytes.copyColumns.count + Self.copyExtraFields)
        _ = try connection.copyOut(Self.copyStatement) { chunk in
            try decoder.feed(chunk) { row in
                body(try AuditEventBytes(row, extraFields: Self.copyExtraFields),
                     try row.int64(at: AuditEventBytes.copyColumns.count), false)
            }
        }
        try decoder.finish()
        if pending > 0 { try streamPendingEvents { body($0, nil, true) } }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
