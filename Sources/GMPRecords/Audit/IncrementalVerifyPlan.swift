import GMPRules
import PostgresClient

/// How `gmp audit verify` reconciles from a v3 checkpoint (issue 18): before the chain
/// pass (``start(on:tables:opening:)``) the keys it routes the replay by, and after it
/// (``settle(on:replay:tally:pending:)``) what the second session found meanwhile, which
/// may mean routing again, or the full reconciliation, from a second read of the trail.
/// docs/audit-trail.md, "Incremental reconciliation from a checkpoint".
struct IncrementalVerifyPlan {
    let checks: IncrementalGuard
    /// Why the reconciliation is full instead; nil while the shortcut stands.
    private(set) var fullBecause: String?
    /// Per compared table, its rows older than the checkpoint's snapshot.
    private(set) var olderRows: [String: Int64] = [:]
    /// The touched keys' rows, when the second session read them ahead.
    private(set) var touchedRows: [AuditTrail.TouchedRow]?
    /// Whether the scan for the rows written since ran on the second session.
    private(set) var scannedAlongside = false
    /// The keys the chain pass routed by (the events' alone) while the second session scans.
    private var routedBy: IncrementalReconciliation?
    private var scan: SecondPass<WrittenSinceScan.Output>?
    private var tables: [AuditTrail.AuditedTable] = []

    init(checks: IncrementalGuard) {
        self.checks = checks
    }

    /// Before the chain pass: the checkpoint's checks, then the keys to route the replay
    /// by; nil when the reconciliation is full (``fullBecause``). The events' keys are read
    /// here; the scan for the rows written since runs on a second session alongside the
    /// chain pass when one opens, else here, before it.
    mutating func start(on trail: AuditTrail, tables: [AuditTrail.AuditedTable],
                        opening: (() throws -> PostgresConnection)?) throws -> IncrementalReconciliation? {
        self.tables = tables
        if let refused = checks.refusalBeforeChainPass() { return refuse(refused) }
        guard let early = try trail.keysOfEventsSince(checks.base, tables: tables) else { return refuse(checks.tooManyTouched) }
        // That session then reads the touched keys' rows ahead too.
        scan = trail.startSecondPass(opening: opening, body: WrittenSinceScan.body(early, base: checks.base, tables: tables))
        if scan != nil {
            routedBy = early
            try trail.setIncrementalXmin(checks.base)
            return early
        }
        // One session: the rendering (when left for the second session) and the whole
        // set before the chain pass, as routing needs.
        if checks.schemaDeferred, let refused = checks.refusal(schema: try trail.renderingDigest(tables)) {
            return refuse(refused)
        }
        guard let touched = try trail.touchRowsWrittenSince(early, base: checks.base, tables: tables) else {
            return refuse(checks.tooManyTouched)
        }
        olderRows = touched.olderRows
        return touched.plan
    }

    /// After the chain pass, which routed by the events' keys alone: rows written since
    /// under other keys (only events up to the checkpoint's, counted) mean routing again
    /// with every key; too many, or a changed rendering, the full reconciliation; both
    /// from a second read of the trail in this snapshot, without hashing it again.
    mutating func settle(on trail: AuditTrail, replay: inout ReconciliationRun?, tally: inout ReconciliationTally?,
                         pending: Int64) throws {
        guard let scan, let early = routedBy else { return }
        let alongside = try scan.wait()
        scannedAlongside = alongside != nil
        fullBecause = checks.refusal(schema: try alongside?.schema ?? trail.renderingDigest(tables))
        let found = fullBecause != nil ? nil : try alongside.map { $0.found.map { ($0.plan, $0.olderRows) } }
            ?? trail.touchRowsWrittenSince(early, base: checks.base, tables: tables)
        if let found {
            olderRows = found.olderRows
            touchedRows = alongside?.found?.rows
            if found.plan.touchedCount != early.touchedCount {
                var again = try trail.startReconciliation(digestAt: [])
                again.route(by: found.plan)
                try trail.streamTrailAgain(pending: pending) { event, _, _ in again.consume(event) }
                replay = again
            }
        } else {
            fullBecause = fullBecause ?? checks.tooManyTouched
            replay = nil
            var full = try trail.startTally()
            try trail.streamTrailAgain(pending: pending) { event, prevSeq, isPending in
                full.consume(event, prevSeq: prevSeq, pending: isPending)
            }
            tally = full
        }
    }

    private mutating func refuse(_ reason: String) -> IncrementalReconciliation? {
        fullBecause = reason
        return nil
    }
}

/// The second session's work from a checkpoint (issue 18), in the chain pass's snapshot:
/// the tables' rendering digest, then, when it is the checkpoint's, the scan for the rows
/// written since and the touched keys' rows.
enum WrittenSinceScan {
    typealias Output = (schema: [UInt8], found: (plan: IncrementalReconciliation, olderRows: [String: Int64],
                                                 rows: [AuditTrail.TouchedRow])?)

    static func body(_ early: IncrementalReconciliation, base: AuditTrail.IncrementalBase,
                     tables: [AuditTrail.AuditedTable]) -> (AuditTrail) throws -> Output {
        { second in
            let schema = try second.renderingDigest(tables)
            guard schema == base.snapshot.schema else { return (schema, nil) }
            try second.pinRowText()
            guard let found = try second.touchRowsWrittenSince(early, base: base, tables: tables) else {
                return (schema, nil)
            }
            var rows: [AuditTrail.TouchedRow] = []
            try second.readTouchedRows(found.plan, tables: tables) { rows.append($0) }
            return (schema, (found.plan, found.olderRows, rows))
        }
    }
}
