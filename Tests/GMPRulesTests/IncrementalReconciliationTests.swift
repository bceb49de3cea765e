import GMPRules
import Testing

/// Issue 18: the routing of an incremental reconciliation from a v3 checkpoint, and its
/// guard (docs/audit-trail.md, "Incremental reconciliation from a checkpoint").
@Suite("Incremental reconciliation: touched images replayed, the others counted, the guard")
struct IncrementalReconciliationRulesTests {
    static let snapshot = AuditCheckpoint.Snapshot(cluster: 42, xmin: 1_000, schema: Array(repeating: 1, count: 32))

    @Test("touched keys are counted once each, over all tables (the cap on the shortcut's memory)")
    func touchedCount() {
        var plan = IncrementalReconciliation(checkpointSeq: 100)
        plan.touch(table: "gmp.lot", key: "A")
        plan.touch(table: "gmp.lot", key: "A")
        plan.touch(table: "gmp.lot", key: nil)
        plan.touch(table: "gmp.unit", key: "A")
        #expect(plan.touchedCount == 3)
        #expect(IncrementalReconciliation.maximumTouchedKeys > 0)
    }

    @Test("images under touched keys are replayed, the others counted up to the checkpoint and refused after it")
    func routing() {
        var plan = IncrementalReconciliation(checkpointSeq: 100)
        plan.touch(table: "gmp.lot", key: "B")
        // An insert, an update and a delete under an untouched key up to the checkpoint: counted.
        #expect(plan.route(seq: 1, table: "gmp.lot", recordKey: "A", oldKey: nil, hasOld: false, hasNew: true) == (false, false))
        #expect(plan.route(seq: 2, table: "gmp.lot", recordKey: "A", oldKey: "A", hasOld: true, hasNew: true) == (false, false))
        #expect(plan.route(seq: 3, table: "gmp.lot", recordKey: "C", oldKey: nil, hasOld: false, hasNew: true) == (false, false))
        #expect(plan.route(seq: 4, table: "gmp.lot", recordKey: "C", oldKey: "C", hasOld: true, hasNew: false) == (false, false))
        #expect(plan.untouchedRows["gmp.lot"] == 1)
        // A row moved from untouched A to touched B: its old half counted (−1), its new half replayed.
        #expect(plan.route(seq: 5, table: "gmp.lot", recordKey: "B", oldKey: "A", hasOld: true, hasNew: true) == (false, true))
        #expect(plan.untouchedRows["gmp.lot"] == 0)
        // From touched B to untouched D: the old half replayed, the new one counted.
        #expect(plan.route(seq: 6, table: "gmp.lot", recordKey: "D", oldKey: "B", hasOld: true, hasNew: true) == (true, false))
        #expect(plan.untouchedRows["gmp.lot"] == 1)
        #expect(plan.unlisted.isEmpty)
        // After the checkpoint, an image under an untouched key means the listing missed it.
        #expect(plan.route(seq: 101, table: "gmp.lot", recordKey: "D", oldKey: "D", hasOld: true, hasNew: true) == (false, false))
        #expect(plan.unlisted == [101] && plan.untouchedRows["gmp.lot"] == 1)

        #expect(plan.countFindings(unchangedRows: ["gmp.lot": 1]).isEmpty)
        let short = plan.countFindings(unchangedRows: ["gmp.lot": 0, "gmp.deviation": 2])
        #expect(short.map(\.problem) == ["row_count_differs", "row_count_differs"])
        #expect(short.map(\.table) == ["gmp.deviation", "gmp.lot"])
    }

    @Test("the guard: the same cluster, an xmin behind this snapshot by less than 2^31, the same rendering")
    func guardRefusals() {
        let schema = Self.snapshot.schema
        #expect(IncrementalReconciliation.refusal(of: Self.snapshot, cluster: 42, xmax: 5_000, schema: schema) == nil)
        #expect(IncrementalReconciliation.refusal(of: Self.snapshot, cluster: 43, xmax: 5_000, schema: schema) != nil)
        #expect(IncrementalReconciliation.refusal(of: Self.snapshot, cluster: 42, xmax: 999, schema: schema) != nil)
        #expect(IncrementalReconciliation.refusal(of: Self.snapshot, cluster: 42, xmax: 1_000 + (1 << 31) - 1, schema: schema) == nil)
        #expect(IncrementalReconciliation.refusal(of: Self.snapshot, cluster: 42, xmax: 1_000 + (1 << 31), schema: schema) != nil)
        #expect(IncrementalReconciliation.refusal(of: Self.snapshot, cluster: 42, xmax: 5_000,
                                                  schema: Array(repeating: 2, count: 32)) != nil)
    }
}
