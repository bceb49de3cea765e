/// Reconciling the tables from a v3 checkpoint (issue 18): only the record keys touched
/// since are replayed and read; the rest are counted. The argument is in
/// docs/audit-trail.md, "Incremental reconciliation from a checkpoint".
///
/// A key is *touched* when an event after the checkpoint's event (or a pending one) files
/// a row image under it (an update that moved a row touches both keys; a signature
/// touches its signed record), or when the table holds a row under it whose `xmin` does
/// not precede the checkpoint snapshot's `xmin`. Every event of a touched key, from the
/// first, is replayed and compared with every row under that key now, as a full
/// reconciliation does. Every other key has no event since the checkpoint and only rows
/// that the checkpoint's snapshot held unchanged, so it agrees with the trail exactly when
/// it holds as many rows as the events up to the checkpoint leave there; summed per
/// table (``untouchedRows``), since no key can hold more than that.
///
/// A pure state machine fed by the caller: ``touch(table:key:)`` before the trail,
/// ``route(seq:table:recordKey:oldKey:hasOld:hasNew:)`` for each row event in seq order.
public struct IncrementalReconciliation: Sendable {
    /// The checkpoint's event: events up to it were reconciled when it was signed.
    public let checkpointSeq: Int64
    /// table → keys touched since the checkpoint (nil: a row whose key column is null).
    public private(set) var touched: [String: Set<String?>] = [:]
    /// table → rows under untouched keys as the events up to the checkpoint leave them.
    public private(set) var untouchedRows: [String: Int64] = [:]
    /// Events after the checkpoint on a key nobody said was touched: the server's list of
    /// changes was incomplete; the verification must not pass on it.
    public private(set) var unlisted: [Int64] = []

    /// How many keys are touched, over all tables.
    public private(set) var touchedCount = 0

    public init(checkpointSeq: Int64) {
        self.checkpointSeq = checkpointSeq
    }

    /// The most touched keys reconciled this way. Their events and rows are replayed in
    /// memory (~0.6 KiB a row at 10,000,000 events); beyond this many the full
    /// reconciliation, in bounded memory, is both smaller and, with so much changed, not
    /// much slower (issue 18: verify's peak RSS < 64 MiB).
    public static let maximumTouchedKeys = 40_000

    /// Transaction ids within 2^31 of each other compare by their low 32 bits only
    /// (`TransactionIdPrecedes`); a checkpoint's snapshot further back is refused.
    public static let maximumXidAge: UInt64 = 1 << 31

    /// Why the shortcut may not be taken from `checkpoint` in a snapshot of `cluster` whose
    /// next transaction id is `xmax`, with the tables' rendering `schema`; nil when it may.
    /// Another cluster (a restore, an upgrade: tuples written anew, or by another history
    /// of ids), an xmin ahead of this snapshot's, one ``maximumXidAge`` or more behind (a
    /// tuple's 32-bit xmin would compare ambiguously), or another rendering of the rows
    /// (a renamed column, a new enum label, a cast to json: every row's text changes,
    /// no tuple does) each mean a full reconciliation.
    public static func refusal(of checkpoint: AuditCheckpoint.Snapshot, cluster: UInt64, xmax: UInt64,
                               schema: [UInt8], maximumXidAge: UInt64 = maximumXidAge) -> String? {
        if checkpoint.cluster != cluster {
            return "the checkpoint was taken on another database cluster (system identifier \(checkpoint.cluster), this one \(cluster))"
        }
        if checkpoint.xmin > xmax { return "the checkpoint's snapshot (xmin \(checkpoint.xmin)) is ahead of this one (\(xmax))" }
        if xmax - checkpoint.xmin >= maximumXidAge {
            return "the checkpoint's snapshot is \(xmax - checkpoint.xmin) transactions old, too old to tell rows written since by their xmin"
        }
        if checkpoint.schema != schema { return "the tables' columns or types changed since the checkpoint" }
        return nil
    }

    /// Marks `key` of `table` touched.
    public mutating func touch(table: String, key: String?) {
        if touched[table, default: []].insert(key).inserted { touchedCount += 1 }
    }

    public func isTouched(table: String, key: String?) -> Bool {
        touched[table]?.contains(key) ?? false
    }

    /// Routes one row event of a compared table: which of its images to replay (those
    /// under touched keys). An image under an untouched key is counted when the event is
    /// the checkpoint's or earlier (+1 for a new image, −1 for an old one), and recorded
    /// in ``unlisted`` when it is later.
    public mutating func route(seq: Int64, table: String, recordKey: String?, oldKey: String?,
                               hasOld: Bool, hasNew: Bool) -> (old: Bool, new: Bool) {
        let old = hasOld && isTouched(table: table, key: oldKey)
        let new = hasNew && isTouched(table: table, key: recordKey)
        let counted = (hasOld && !old ? -1 : 0) + (hasNew && !new ? 1 : 0)
        if hasOld && !old || hasNew && !new {
            if seq <= checkpointSeq {
                untouchedRows[table, default: 0] += Int64(counted)
            } else {
                unlisted.append(seq)
            }
        }
        return (old, new)
    }

    /// Counts `images` (new images minus old ones) under untouched keys of `table`, of
    /// events up to the checkpoint's: what ``route(seq:table:recordKey:oldKey:hasOld:hasNew:)``
    /// counts, for a caller that tells untouched keys itself (the chain pass, by bytes).
    public mutating func countUntouched(table: String, images: Int64) {
        untouchedRows[table, default: 0] += images
    }

    /// The findings of the count: per table, the rows under untouched keys that are
    /// older than the checkpoint's snapshot (`unchangedRows`: all of them but the
    /// touched keys' old rows) against what the trail leaves there.
    public func countFindings(unchangedRows: [String: Int64]) -> [ReconciliationFinding] {
        Set(unchangedRows.keys).union(untouchedRows.keys).sorted().compactMap { table in
            let found = unchangedRows[table] ?? 0
            let expected = untouchedRows[table] ?? 0
            return found == expected ? nil : ReconciliationFinding(
                table: table, key: nil,
                kind: .untouchedRowCount(trail: expected, table: found, checkpointSeq: checkpointSeq))
        }
    }
}
