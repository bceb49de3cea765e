import Foundation
import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// Issue 18: the link check in `gmp audit verify`. The chaining records each update's and
/// delete's previous event on its record (`prev_seq`, V0040); the verifier settles a table
/// from the chain pass's links and the rows' digests, without reading the trail again,
/// and leaves every other table to the key-ordered merge. Whatever a superuser does to
/// the rows or to `prev_seq`, the findings are those of the replay in memory.
@Suite("Record links in verify: prev_seq at chaining, tables settled without a second read, no hint trusted")
struct RecordLinksVerifyTests {
    static func verifyConcurrently(_ database: String) throws -> AuditVerification {
        try DigestReconciliationTests.verifyConcurrently(database)
    }

    static func inMemory(_ database: String) throws -> AuditVerification {
        try AuditTrail(try TestServer.connect(database)).verify(reconcile: true, tablesDigestAtEnd: true)
    }

    /// The link path finds what the replay in memory finds, with the same figures.
    static func expectAgrees(_ database: String, _ comment: Comment) throws -> AuditVerification {
        let linked = try verifyConcurrently(database)
        let replayed = try inMemory(database)
        #expect(ReconciliationTests.findings(linked) == ReconciliationTests.findings(replayed), comment)
        let (a, b) = (try #require(linked.reconciliation?.outcome), try #require(replayed.reconciliation?.outcome))
        #expect((a.tables, a.rowsChecked, a.eventsReplayed, a.signaturesChecked)
                    == (b.tables, b.rowsChecked, b.eventsReplayed, b.signaturesChecked), comment)
        return linked
    }

    static func lastLotUpdate(_ site: QCReleaseSite, _ din: String) throws -> (seq: Int64, prev: Int64?) {
        let row = try site.site.superuser.query("""
            SELECT seq, prev_seq FROM gmp_audit.event WHERE table_name = 'gmp.lot' AND record_key = \(din) AND action = 'UPDATE'
            ORDER BY seq DESC LIMIT 1
            """)[0]
        return (try row.decode("seq"), try row.decode("prev_seq", as: Int64?.self))
    }

    @Test("the chaining records each update's and delete's previous event on its record, and nothing for an insert")
    func prevSeqAtChaining() throws {
        try ReconciliationTests.withLots { site, released, _ in
            let row = try site.site.superuser.query("""
                SELECT count(*) FILTER (WHERE e.prev_seq IS NOT NULL) AS linked,
                       count(*) FILTER (WHERE e.prev_seq IS NOT NULL AND e.prev_seq IS DISTINCT FROM
                           (SELECT max(p.seq) FROM gmp_audit.event p
                            WHERE p.table_name = e.table_name AND p.record_key = e.record_key AND p.seq < e.seq)) AS wrong,
                       count(*) FILTER (WHERE e.action IN ('INSERT', 'DDL') AND e.prev_seq IS NOT NULL) AS not_row_changes,
                       count(*) FILTER (WHERE e.table_name = 'gmp.lot' AND e.record_key = \(released)
                                          AND e.action = 'UPDATE' AND e.prev_seq IS NULL) AS lot_unlinked
                FROM gmp_audit.event e
                """)[0]
            #expect(try row.decode("linked", as: Int64.self) > 10)
            #expect(try row.decode("wrong", as: Int64.self) == 0)
            #expect(try row.decode("not_row_changes", as: Int64.self) == 0)
            #expect(try row.decode("lot_unlinked", as: Int64.self) == 0)
        }
    }

    @Test("untouched: tables settle by their links alongside the chain pass, with the replay's figures")
    func untouchedSettles() throws {
        try ReconciliationTests.withLots { site, _, _ in
            let verification = try Self.expectAgrees(site.site.database, "untouched")
            #expect(verification.isIntact, "\(ReconciliationTests.findings(verification))")
            #expect(verification.reconciliation?.concurrentDigestPass == true)
            let linked = verification.reconciliation?.linkedTables ?? 0
            let compared = verification.reconciliation?.outcome.tables ?? 0
            #expect(linked > 10 && linked < compared + 60, "\(linked) of the compared tables settled by links")
            // The same on one connection.
            let alone = try AuditTrail(try TestServer.connect(site.site.database)).verify(reconcile: true, replayInMemoryUpTo: 0)
            #expect(alone.isIntact && alone.reconciliation?.linkedTables == linked)
        }
    }

    @Test("a forged prev_seq, or none (an event chained before V0040), makes no finding and hides none")
    func forgedPrevSeq() throws {
        try ReconciliationTests.withLots { site, released, _ in
            let database = site.site.database
            let before = try #require(try Self.verifyConcurrently(database).reconciliation?.linkedTables)
            let update = try Self.lastLotUpdate(site, released)
            for forged in ["NULL", "1", "\(try #require(update.prev) - 1)"] {
                try Tampering.asSuperuser(database, "UPDATE gmp_audit.event SET prev_seq = \(forged) WHERE seq = \(update.seq)")
                let verification = try Self.expectAgrees(database, "prev_seq \(forged)")
                #expect(verification.isIntact, "prev_seq \(forged): \(ReconciliationTests.findings(verification))")
                #expect((verification.reconciliation?.linkedTables ?? 0) <= before)
            }

            // A row changed silently, then changed by gmp: the event does not follow. No
            // prev_seq, true or forged, makes it agree.
            let quarantined = try site.lot()
            try Tampering.silently(database, tables: ["gmp.lot"],
                                   "UPDATE gmp.lot SET created_by = 'someone else' WHERE din = '\(quarantined)'")
            try site.site.qaSession.transaction { db in
                _ = try db.execute("SELECT gmp.hold_lot(\(quarantined), 'awaiting a result')")
            }
            let hold = try Self.lastLotUpdate(site, quarantined)
            for forged in ["\(try #require(hold.prev))", "NULL", "\(try #require(hold.prev) - 1)", "1"] {
                try Tampering.asSuperuser(database, "UPDATE gmp_audit.event SET prev_seq = \(forged) WHERE seq = \(hold.seq)")
                let verification = try Self.expectAgrees(database, "prev_seq \(forged) after a silent change")
                #expect(ReconciliationTests.findings(verification).contains {
                    $0.table == "gmp.lot" && $0.key == quarantined && $0.kind.isEventDoesNotFollow
                }, "prev_seq \(forged): \(ReconciliationTests.findings(verification))")
            }
        }
    }

    @Test("a live row altered, deleted or added (a key with no events), and a dropped middle event, are found as in memory")
    func tamperedRowsAndDroppedEvent() throws {
        try ReconciliationTests.withLots { site, released, rejected in
            let database = site.site.database
            try Tampering.silently(database, tables: ["gmp.qc_verification", "gmp.deviation", "gmp.lot"], """
                DELETE FROM gmp.qc_verification WHERE result_id = (SELECT min(id) FROM gmp.qc_result WHERE din = '\(released)');
                INSERT INTO gmp.deviation (id, title, description, kind, opened_by)
                SELECT 'DEV99-99999', title, description, kind, opened_by FROM gmp.deviation LIMIT 1;
                UPDATE gmp.lot SET status = 'released' WHERE din = '\(rejected)'
                """)
            let tampered = try Self.expectAgrees(database, "rows tampered")
            let problems = Set(ReconciliationTests.findings(tampered).map(\.problem))
            #expect(problems == ["row_missing", "row_not_in_trail", "row_differs"], "\(problems)")

            // An event dropped from the middle of a lot's history: the chain breaks, and the
            // replay goes on; the links of the events after it find no image.
            let middle = try Self.lastLotUpdate(site, released)
            try Tampering.asSuperuser(database, "DELETE FROM gmp_audit.event WHERE seq = \(try #require(middle.prev))")
            let dropped = try Self.expectAgrees(database, "a middle event dropped")
            guard case .broken = dropped.verdict else {
                Issue.record("the chain should break: \(dropped.verdict)"); return
            }
            #expect(ReconciliationTests.findings(dropped).count > ReconciliationTests.findings(tampered).count,
                    "\(ReconciliationTests.findings(dropped))")
        }
    }

    /// Index scans of `event_record_seq` in this database so far, once every backend but
    /// the ones open before (`keep`) has exited and so reported its statistics.
    static func recordIndexScans(_ connection: PostgresConnection, keeping keep: Set<Int32>) throws -> Int64 {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while clock.now < deadline {
            let pids: [Int32] = try connection.query("""
                SELECT pid FROM pg_catalog.pg_stat_activity WHERE datname = pg_catalog.current_database()
                """).map { try $0.decode("pid") }
            if Set(pids).isSubset(of: keep) { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        _ = try connection.execute("SELECT pg_catalog.pg_stat_clear_snapshot()")
        return try connection.query("""
            SELECT coalesce(sum(idx_scan), 0)::int8 AS n FROM pg_catalog.pg_stat_user_indexes
            WHERE schemaname = 'gmp_audit' AND indexrelname = 'event_record_seq'
            """)[0].decode("n")
    }

    /// The rows' side once probed `event_record_seq` once per row, a correlated subplan
    /// whose per-row start-up was two thirds of the read at a million rows; it now reads
    /// each key's last seq in one ordered pass and joins it to the rows (docs/benchmarks.md).
    @Test("the rows' read takes each key's last seq from one read of the trail, not one index probe per row")
    func noProbePerRow() throws {
        try ReconciliationTests.withLots { site, _, _ in
            let database = site.site.database
            let admin = try TestServer.connect(database)
            _ = try admin.query("SELECT gmp_audit.chain_pending()")
            let keep = Set(try admin.query("""
                SELECT pid FROM pg_catalog.pg_stat_activity WHERE datname = pg_catalog.current_database()
                """).map { try $0.decode("pid", as: Int32.self) })
            let before = try Self.recordIndexScans(admin, keeping: keep)
            let verification = try Self.verifyConcurrently(database)
            let after = try Self.recordIndexScans(admin, keeping: keep)
            #expect(verification.isIntact, "\(ReconciliationTests.findings(verification))")
            let rows = verification.reconciliation?.outcome.rowsChecked ?? 0
            #expect(rows > 100, "\(rows) rows checked")
            // Probes would be one per row at least; the other reads (the merge's by table
            // name, the machinery's) are a few dozen whatever the rows.
            #expect(after - before < rows / 3, "\(after - before) index scans of event_record_seq for \(rows) rows")
        }
    }

    /// A table the links settle must not be read again by the merge of the others: the
    /// merge reads the trail by table name (`event_record_seq`), not the whole trail
    /// filtered afterwards. A view in the trail's place shows the true rows but refuses
    /// any merge statement (they all build `items`) that reads an event of such a table.
    @Test("the merge of the unsettled tables reads only their events, never those of a table its links settled")
    func mergeReadsOnlyUnsettledTables() throws {
        try ReconciliationTests.withLots { site, _, _ in
            let database = site.site.database
            let admin = try TestServer.connect(database)
            try admin.execute(script: SQLScript(shippedWithBinary: """
                SELECT set_config('gmp.reason', 'test: a table its links settle', false);
                CREATE TABLE gmp.links_settled (id bigint PRIMARY KEY, note text NOT NULL);
                SELECT gmp_audit.audit_table('gmp.links_settled', 'id');
                INSERT INTO gmp.links_settled SELECT n, 'row ' || n FROM generate_series(1, 20) n;
                UPDATE gmp.links_settled SET note = note || ' again' WHERE id <= 5;
                DELETE FROM gmp.links_settled WHERE id = 20;
                SELECT gmp_audit.chain_pending();
                BEGIN;
                ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
                CREATE FUNCTION gmp_audit.refuse_settled_read(t text) RETURNS boolean LANGUAGE plpgsql STABLE COST 1000000 AS $$
                BEGIN
                    IF t = 'gmp.links_settled' AND pg_catalog.current_query() LIKE '%items AS%' THEN
                        RAISE EXCEPTION 'a merge read the events of a table its links settled';
                    END IF;
                    RETURN true;
                END $$;
                ALTER TABLE gmp_audit.event RENAME TO event_true;
                CREATE VIEW gmp_audit.event AS SELECT * FROM gmp_audit.event_true e WHERE gmp_audit.refuse_settled_read(e.table_name);
                GRANT SELECT ON gmp_audit.event TO PUBLIC;
                ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
                COMMIT;
                """))
            for verification in [try ReconciliationTests.verify(database), try Self.verifyConcurrently(database)] {
                #expect(ReconciliationTests.findings(verification).isEmpty, "\(ReconciliationTests.findings(verification))")
                let outcome = try #require(verification.reconciliation?.outcome)
                #expect(outcome.signaturesChecked > 0, "the merge ran, for the signed records")
                #expect((verification.reconciliation?.linkedTables ?? 0) > 10, "the links settled gmp.links_settled and others")
                #expect(outcome.rowsChecked > 19, "\(outcome.rowsChecked) rows")
            }
        }
    }
}
