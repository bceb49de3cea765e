import GMPRules

/// Whether `gmp audit verify` may reconcile from a v3 checkpoint (issue 18), and if not
/// why (`full_because`): the checkpoint's checks against this verification's snapshot.
/// docs/audit-trail.md, "Incremental reconciliation from a checkpoint", "When it is full instead".
struct IncrementalGuard {
    /// The checkpoint's event and snapshot.
    let base: AuditTrail.IncrementalBase
    /// This snapshot's identity and next transaction id; nil when the verifier may not
    /// read the cluster's identity.
    let state: (snapshot: AuditCheckpoint.Snapshot, xmax: UInt64)?
    /// The tables' rendering digest is taken on the second session, alongside the chain
    /// pass (``state``'s schema is then empty): checked after the chain pass.
    let schemaDeferred: Bool
    /// A v2 checkpoint's record-tables digest is asked for: every row replayed.
    let tablesDigestAsked: Bool

    /// Why not, before the chain pass; nil when the shortcut may be taken (the rendering
    /// still to be checked when ``schemaDeferred``).
    func refusalBeforeChainPass() -> String? {
        if tablesDigestAsked { return "the record tables' digest of a v2 checkpoint needs every row replayed" }
        guard let state else { return "the cluster's identity cannot be read (pg_control_system)" }
        return refusal(schema: schemaDeferred ? base.snapshot.schema : state.snapshot.schema)
    }

    /// Why not, with the tables' rendering digest `schema`; nil when the shortcut may be taken.
    func refusal(schema: [UInt8]) -> String? {
        guard let state else { return "the cluster's identity cannot be read (pg_control_system)" }
        return IncrementalReconciliation.refusal(of: base.snapshot, cluster: state.snapshot.cluster, xmax: state.xmax,
                                                 schema: schema, maximumXidAge: base.maximumXidAge)
    }

    /// More keys touched than the shortcut takes.
    var tooManyTouched: String {
        "more than \(base.maximumTouchedKeys) records changed since the checkpoint: reconciled in full, in bounded memory"
    }
}
