import Foundation
import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// Issue 18: reconciling from a v3 checkpoint re-reads only the records touched since
/// (docs/audit-trail.md, "Incremental reconciliation from a checkpoint"). Its verdict must
/// be the full reconciliation's: every tampering after the checkpoint is still caught,
/// and an honest trail (updates, deletes, moved keys, several rows under one key,
/// signatures) still agrees.
@Suite("Incremental reconciliation from a checkpoint: only the touched records read, the full verdict kept")
struct IncrementalReconciliationTests {
    /// A v3 checkpoint's content, taken now: the head and the reconciled snapshot.
    static func checkpoint(_ database: String) throws -> AuditTrail.IncrementalBase {
        let verification = try AuditTrail(try TestServer.connect(database)).verify(reconcile: true, recordSnapshot: true)
        #expect(verification.isIntact, "\(ReconciliationTests.findings(verification))")
        guard case .intact(let summary) = verification.verdict else { throw CheckpointMissing() }
        return AuditTrail.IncrementalBase(seq: summary.lastSeq, snapshot: try #require(verification.snapshot))
    }

    struct CheckpointMissing: Error {}

    /// Waits until no transaction older than the set-up is still running anywhere in the
    /// cluster. A checkpoint's xmin is the cluster's: another test's open transaction would
    /// hold it back, and the set-up's rows would read as written since the checkpoint
    /// (sound, but the tests' counts of rows read, and which finding names a silent delete,
    /// would then depend on what else runs).
    static func awaitHorizonPastSetUp(_ database: String) throws {
        let db = try TestServer.connect(database)
        let setUp: String = try db.query("SELECT pg_catalog.pg_current_xact_id()::text AS x")[0].decode("x")
        for _ in 0..<1_200 {
            let past: Bool = try db.query(
                "SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()) > \(setUp)::xid8 AS past")[0].decode("past")
            if past { return }
            usleep(100_000)
        }
        Issue.record("a transaction older than the set-up ran for 2 minutes: the checkpoint's xmin is held back")
    }

    /// One session, or with a second one for the scan of the rows written since.
    static func incremental(_ database: String, _ base: AuditTrail.IncrementalBase,
                            secondSession: Bool = false) throws -> AuditVerification {
        try AuditTrail(try TestServer.connect(database)).verify(
            reconcile: true, since: base, openSecondConnection: secondSession ? { try TestServer.connect(database) } : nil)
    }

    /// The incremental verdict is the full one; returns the incremental verification.
    @discardableResult
    static func expectSameVerdict(_ database: String, _ base: AuditTrail.IncrementalBase, incremental expected: Bool = true,
                                  _ comment: Comment) throws -> AuditVerification {
        try Self.compare(database, base, incremental: expected, comment).incremental
    }

    static func compare(_ database: String, _ base: AuditTrail.IncrementalBase, incremental expected: Bool = true,
                        _ comment: Comment) throws -> (incremental: AuditVerification, full: AuditVerification) {
        let full = try ReconciliationTests.verify(database)
        let incremental = try Self.incremental(database, base)
        // The scan alongside the chain pass, on a second session: the very same verdict.
        let alongside = try Self.incremental(database, base, secondSession: true)
        #expect(alongside.isIntact == incremental.isIntact && "\(alongside.verdict)" == "\(incremental.verdict)", comment)
        #expect("\(ReconciliationTests.findings(alongside))" == "\(ReconciliationTests.findings(incremental))", comment)
        // The same reason, but for counts that moved between the two (a snapshot's age).
        #expect(alongside.reconciliation?.fullBecause?.filter { !$0.isNumber } == incremental.reconciliation?.fullBecause?.filter { !$0.isNumber },
                comment)
        #expect(alongside.reconciliation?.incrementalFrom == incremental.reconciliation?.incrementalFrom, comment)
        #expect(alongside.reconciliation?.outcome.rowsChecked == incremental.reconciliation?.outcome.rowsChecked, comment)
        if expected {
            #expect(alongside.reconciliation?.concurrentWrittenSinceScan == true, "\(comment): the scan ran alongside")
        }
        #expect(incremental.reconciliation?.concurrentWrittenSinceScan == false, comment)
        #expect(incremental.isIntact == full.isIntact, "\(comment): full \(ReconciliationTests.findings(full)), incremental \(ReconciliationTests.findings(incremental))")
        #expect(ReconciliationTests.findings(incremental).isEmpty == ReconciliationTests.findings(full).isEmpty, comment)
        #expect((incremental.reconciliation?.incrementalFrom != nil) == expected,
                "\(comment): \(incremental.reconciliation?.fullBecause ?? "incremental")")
        #expect(full.reconciliation?.incrementalFrom == nil)
        return (incremental, full)
    }

    /// Lots, and an audited table whose key column holds several rows and moves.
    static func withTrail(_ body: (QCReleaseSite, String, String, AuditTrail.IncrementalBase) throws -> Void) throws {
        try withTrail { site, released, rejected, _, base in try body(site, released, rejected, base) }
    }

    /// The same with a lot left in quarantine before the checkpoint.
    static func withTrail(_ body: (QCReleaseSite, String, String, String, AuditTrail.IncrementalBase) throws -> Void) throws {
        try ReconciliationTests.withLots { site, released, rejected in
            let database = site.site.database
            let quarantined = try site.lot()
            try TestServer.connect(database).execute(script: SQLScript(shippedWithBinary: """
                SELECT set_config('gmp.reason', 'test: incremental reconciliation', false);
                CREATE TABLE gmp.incremental_rows (id bigint PRIMARY KEY, k text, note text NOT NULL);
                SELECT gmp_audit.audit_table('gmp.incremental_rows', 'k');
                INSERT INTO gmp.incremental_rows SELECT n, 'key ' || (n % 7), 'row ' || n FROM generate_series(1, 40) n;
                UPDATE gmp.incremental_rows SET note = note || ' again' WHERE id <= 5;
                DELETE FROM gmp.incremental_rows WHERE id = 40;
                SELECT gmp_audit.chain_pending();
                """))
            try Self.awaitHorizonPastSetUp(database)
            try body(site, released, rejected, quarantined, try Self.checkpoint(database))
        }
    }

    @Test("honest changes since the checkpoint (updates, deletes, moved keys, lots released, signatures) agree, reading only them")
    func honestChanges() throws {
        try Self.withTrail { site, _, _, base in
            let database = site.site.database
            let (untouched, everything) = try Self.compare(database, base, "nothing since")
            // Only rows written while the checkpoint's snapshot was taken, if any, are read.
            let read = untouched.reconciliation?.outcome.rowsChecked ?? -1
            #expect(untouched.isIntact && read < (everything.reconciliation?.outcome.rowsChecked ?? 0) / 10, "\(read) rows read")
            let lot = try site.lot()
            try site.passAll(lot)
            try site.release(lot)
            try TestServer.connect(database).execute(script: SQLScript(shippedWithBinary: """
                SELECT set_config('gmp.reason', 'test: honest changes', false);
                UPDATE gmp.incremental_rows SET note = 'changed' WHERE id IN (6, 7);
                UPDATE gmp.incremental_rows SET k = 'moved' WHERE id = 8;
                UPDATE gmp.incremental_rows SET k = NULL WHERE id = 9;
                DELETE FROM gmp.incremental_rows WHERE id = 10;
                INSERT INTO gmp.incremental_rows VALUES (41, 'key 1', 'new'), (42, 'new key', 'new');
                """))
            let (changed, full) = try Self.compare(database, base, "honest changes")
            #expect(changed.isIntact, "\(ReconciliationTests.findings(changed))")
            let outcome = try #require(changed.reconciliation?.outcome)
            let all = full.reconciliation?.outcome.rowsChecked ?? 0
            #expect(outcome.rowsChecked > 5 && outcome.rowsChecked < all / 2, "\(outcome.rowsChecked) rows read of \(all)")
            #expect(outcome.signaturesChecked > 0, "the new lot's signatures were checked")
        }
    }

    @Test("tampering after the checkpoint is caught: a row changed, added, deleted, or deleted and re-inserted, a change overwritten")
    func tamperedRows() throws {
        let cases: [(tables: [String], sql: (String, String) -> String, caught: Bool)] = [
            (["gmp.lot"], { _, rejected in "UPDATE gmp.lot SET status = 'released' WHERE din = '\(rejected)'" }, true),
            (["gmp.deviation"], { _, _ in """
                INSERT INTO gmp.deviation (id, title, description, kind, opened_by)
                SELECT 'DEV99-99999', title, description, kind, opened_by FROM gmp.deviation LIMIT 1
                """ }, true),
            (["gmp.qc_verification"], { released, _ in
                "DELETE FROM gmp.qc_verification WHERE result_id = (SELECT min(id) FROM gmp.qc_result WHERE din = '\(released)')"
            }, true),
            (["gmp.incremental_rows"], { _, _ in "DELETE FROM gmp.incremental_rows WHERE id = 11" }, true),
            (["gmp.incremental_rows"], { _, _ in "UPDATE gmp.incremental_rows SET k = 'elsewhere' WHERE id = 12" }, true),
            // The same row back, identical: nothing differs, for the full reconciliation either.
            (["gmp.incremental_rows"], { _, _ in """
                CREATE TEMP TABLE keep AS SELECT * FROM gmp.incremental_rows WHERE id = 13;
                DELETE FROM gmp.incremental_rows WHERE id = 13;
                INSERT INTO gmp.incremental_rows SELECT * FROM keep
                """ }, false),
            // Deleted, and a copy with another id inserted under the same key.
            (["gmp.incremental_rows"], { _, _ in """
                INSERT INTO gmp.incremental_rows SELECT 99, k, note FROM gmp.incremental_rows WHERE id = 14;
                DELETE FROM gmp.incremental_rows WHERE id = 14
                """ }, true),
        ]
        for (index, tamper) in cases.enumerated() {
            try Self.withTrail { site, released, rejected, base in
                let database = site.site.database
                try Tampering.silently(database, tables: tamper.tables, tamper.sql(released, rejected))
                let verification = try Self.expectSameVerdict(database, base, "case \(index)")
                ReconciliationTests.expectChainWhole(verification)
                #expect(verification.isIntact == !tamper.caught, "case \(index): \(ReconciliationTests.findings(verification))")
            }
        }
    }

    @Test("a row changed silently and then honestly, and a row deleted under a key nothing else touched, are found")
    func overwrittenAndCounted() throws {
        try Self.withTrail { site, _, _, quarantined, base in
            let database = site.site.database
            try Tampering.silently(database, tables: ["gmp.lot", "gmp.incremental_rows"], """
                UPDATE gmp.lot SET created_by = 'someone else' WHERE din = '\(quarantined)';
                DELETE FROM gmp.incremental_rows WHERE id = 15
                """)
            let changed = try Self.expectSameVerdict(database, base, "silent change")
            // Counted (row_count_differs) when its key is untouched, which is the usual case;
            // named (row_missing) when the key reads as touched: the checkpoint's xmin is the
            // cluster's, which another test's open transaction can hold back, so that rows the
            // set-up wrote under the same key read as written since. Found either way.
            #expect(ReconciliationTests.findings(changed).contains {
                ["row_count_differs", "row_missing"].contains($0.problem) && $0.table == "gmp.incremental_rows"
            }, "\(ReconciliationTests.findings(changed))")
            try site.site.qaSession.transaction { db in
                _ = try db.execute("SELECT gmp.hold_lot(\(quarantined), 'awaiting a result')")
            }
            let overwritten = try Self.expectSameVerdict(database, base, "silent change overwritten")
            #expect(ReconciliationTests.findings(overwritten).contains {
                $0.table == "gmp.lot" && $0.key == quarantined && $0.kind.isEventDoesNotFollow
            }, "\(ReconciliationTests.findings(overwritten))")
        }
    }

    @Test("the scan of the rows written since, alongside the chain pass on a second session, gives the one-session verdicts")
    func scanAlongside() throws {
        try Self.withTrail { site, _, rejected, base in
            let database = site.site.database
            // Honest: the events' keys are every key; the chain pass's routing stands.
            try TestServer.connect(database).execute(script: SQLScript(shippedWithBinary: """
                SELECT set_config('gmp.reason', 'test: honest change', false);
                UPDATE gmp.incremental_rows SET note = 'changed' WHERE id = 16;
                """))
            let honest = try Self.expectSameVerdict(database, base, "honest")
            #expect(honest.isIntact, "\(ReconciliationTests.findings(honest))")
            // Silent changes under keys no event touched since: only the scan lists them,
            // after the chain pass routed without them; routed again, they are caught.
            try Tampering.silently(database, tables: ["gmp.lot", "gmp.incremental_rows"], """
                UPDATE gmp.lot SET status = 'released' WHERE din = '\(rejected)';
                UPDATE gmp.incremental_rows SET note = 'silently' WHERE id = 17
                """)
            try Self.expectSameVerdict(database, base, "tampered")
            let tampered = try Self.incremental(database, base, secondSession: true)
            #expect(!tampered.isIntact && tampered.reconciliation?.concurrentWrittenSinceScan == true)
            let tables = Set(ReconciliationTests.findings(tampered).map(\.table))
            #expect(tables == ["gmp.lot", "gmp.incremental_rows"], "\(ReconciliationTests.findings(tampered))")
        }
    }

    @Test("an edited or deleted event breaks the chain; a forged prev_seq changes nothing")
    func events() throws {
        try Self.withTrail { site, released, _, base in
            let database = site.site.database
            let last = try RecordLinksVerifyTests.lastLotUpdate(site, released)
            try Tampering.asSuperuser(database, "UPDATE gmp_audit.event SET prev_seq = 1 WHERE seq = \(last.seq)")
            let forged = try Self.expectSameVerdict(database, base, "prev_seq forged")
            #expect(forged.isIntact)
            try Tampering.asSuperuser(database, "UPDATE gmp_audit.event SET reason = 'nothing to see' WHERE seq = \(base.seq - 2)")
            let edited = try Self.incremental(database, base)
            guard case .broken = edited.verdict else { Issue.record("an edited event must break the chain"); return }
            try Tampering.asSuperuser(database, "DELETE FROM gmp_audit.event WHERE seq = \(base.seq - 1)")
            guard case .broken = try Self.incremental(database, base).verdict else {
                Issue.record("a deleted event must break the chain"); return
            }
        }
    }

    @Test("another cluster, a snapshot past the wraparound guard, too many changed records, or a changed rendering of the rows reconcile in full")
    func guards() throws {
        try Self.withTrail { site, _, rejected, base in
            let database = site.site.database
            try Tampering.silently(database, tables: ["gmp.lot"], "UPDATE gmp.lot SET status = 'released' WHERE din = '\(rejected)'")
            let other = AuditTrail.IncrementalBase(
                seq: base.seq, snapshot: AuditCheckpoint.Snapshot(cluster: base.snapshot.cluster &+ 1, xmin: base.snapshot.xmin,
                                                                  schema: base.snapshot.schema))
            let old = AuditTrail.IncrementalBase(seq: base.seq, snapshot: base.snapshot, maximumXidAge: 0)
            // The silent update above touches one key: more than none is too many here.
            let crowded = AuditTrail.IncrementalBase(seq: base.seq, snapshot: base.snapshot, maximumTouchedKeys: 0)
            for (name, guarded) in [("another cluster", other), ("too old", old), ("too many changes", crowded)] {
                let verification = try Self.expectSameVerdict(database, guarded, incremental: false, "\(name)")
                #expect(!verification.isIntact && verification.reconciliation?.fullBecause != nil, "\(name)")
            }
        }
        // A column renamed with the DDL recorder off: every row's text changes, no tuple does.
        try Self.withTrail { site, _, _, base in
            let database = site.site.database
            try Tampering.silently(database, tables: ["gmp.incremental_rows"],
                                   "ALTER TABLE gmp.incremental_rows RENAME COLUMN note TO remark")
            let verification = try Self.expectSameVerdict(database, base, incremental: false, "a column renamed")
            #expect(!verification.isIntact)
            #expect(verification.reconciliation?.fullBecause?.contains("columns or types") == true)
        }
    }
}
