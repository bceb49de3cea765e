import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// Issue 18: the reconciliation's digest pass. On a second connection in the chain
/// pass's exported snapshot, at the same time, it must find what the in-memory replay
/// finds; and a server that shows the second pass another image than the chain pass
/// hashed is caught, even when that image makes a tampered row agree.
@Suite("Digest reconciliation: a second connection, one snapshot, no digest taken on trust")
struct DigestReconciliationTests {
    static func verifyConcurrently(_ database: String) throws -> AuditVerification {
        try AuditTrail(try TestServer.connect(database)).verify(
            reconcile: true, replayInMemoryUpTo: 0, openSecondConnection: { try TestServer.connect(database) })
    }

    @Test("on a second connection alongside the chain pass: the in-memory replay's findings and figures, signed records included")
    func concurrentAgrees() throws {
        try ReconciliationTests.withLots { site, released, rejected in
            let clean = try Self.verifyConcurrently(site.site.database)
            #expect(clean.isIntact, "\(ReconciliationTests.findings(clean))")
            #expect(clean.reconciliation?.concurrentDigestPass == true, "the digest pass ran on the second connection")
            let result: Int64 = try site.site.superuser.query("""
                SELECT id FROM gmp.qc_result WHERE din = \(rejected) AND test = 'endotoxin'
                """)[0].decode("id")
            try Tampering.silently(site.site.database, tables: ["gmp.qc_verification", "gmp.lot", "gmp.qc_result", "gmp.signature"], """
                DELETE FROM gmp.qc_verification WHERE result_id = (SELECT min(id) FROM gmp.qc_result WHERE din = '\(released)');
                UPDATE gmp.lot SET status = 'released' WHERE din = '\(rejected)';
                UPDATE gmp.qc_result SET value = 12.5 WHERE id = \(result);
                UPDATE gmp.signature SET content_hash = gmp_rules.content_hash('gmp.qc_result', '\(result)')
                WHERE record_table = 'gmp.qc_result' AND record_key = '\(result)'
                """)
            let merged = try Self.verifyConcurrently(site.site.database)
            let inMemory = try AuditTrail(try TestServer.connect(site.site.database)).verify(reconcile: true, tablesDigestAtEnd: true)
            let findings = ReconciliationTests.findings(merged)
            #expect(Set(findings.map(\.problem)) == ["row_missing", "row_differs", "signature_content"], "\(findings)")
            #expect(findings == ReconciliationTests.findings(inMemory))
            let (a, b) = (try #require(merged.reconciliation?.outcome), try #require(inMemory.reconciliation?.outcome))
            #expect((a.tables, a.rowsChecked, a.eventsReplayed, a.signaturesChecked)
                        == (b.tables, b.rowsChecked, b.eventsReplayed, b.signaturesChecked))
            #expect(merged.reconciliation?.concurrentDigestPass == true)
        }
    }

    /// The two merge statements read the whole trail and every audited row in ~80 union
    /// branches: with JIT on, compiling them cost more server CPU than the work itself at a
    /// million events (docs/benchmarks.md). A view in the trail's place shows the true rows
    /// but refuses any statement that reads them for a merge (it names the compared tables'
    /// setting) while `jit` is on: the verification, the text merge of signed records
    /// included, must run them with `jit` off, and only for their own transaction.
    @Test("both merges run with jit off for their own transaction only: a trail that refuses JIT still verifies, findings none")
    func mergesRunWithoutJIT() throws {
        try ReconciliationTests.withLots { site, _, _ in
            let database = site.site.database
            try Tampering.refuseJITInMerges(database)
            for verification in [try ReconciliationTests.verify(database), try Self.verifyConcurrently(database)] {
                #expect(ReconciliationTests.findings(verification).isEmpty, "\(ReconciliationTests.findings(verification))")
                #expect((verification.reconciliation?.outcome.signaturesChecked ?? 0) > 0, "the text merge ran too")
            }
            let connection = try TestServer.connect(database)
            _ = try AuditTrail(connection).verify(reconcile: true, replayInMemoryUpTo: 0)
            let after: String = try connection.query("SELECT pg_catalog.current_setting('jit') AS jit")[0].decode("jit")
            #expect(after == "on", "the setting ends with the verification's transaction")
        }
    }

    /// A superuser releases a rejected lot with its triggers off, then puts a view in the
    /// trail's place that shows every statement but the chain pass's the released image in
    /// the lot's last event. The chain pass reads the true trail (intact); a second pass
    /// that trusted the server's images would find the lot agreeing with its trail.
    @Test("a server that shows the second pass another image than the chain pass hashed is caught, not believed")
    func lyingServer() throws {
        try ReconciliationTests.withLots { site, _, rejected in
            let database = site.site.database
            try Tampering.silently(database, tables: ["gmp.lot"], "UPDATE gmp.lot SET status = 'released' WHERE din = '\(rejected)'")
            let last: Int64 = try site.site.superuser.query("""
                SELECT max(seq) AS seq FROM gmp_audit.event WHERE table_name = 'gmp.lot' AND record_key = \(rejected)
                """)[0].decode("seq")
            try site.site.superuser.execute(script: SQLScript(shippedWithBinary: """
                BEGIN;
                ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
                ALTER TABLE gmp_audit.event RENAME TO event_true;
                CREATE VIEW gmp_audit.event AS
                SELECT seq, write_order, occurred_at, transaction_id, actor, action, table_name, record_key, old_values,
                       CASE WHEN seq = \(last) AND pg_catalog.current_query() NOT LIKE '%ORDER BY seq) TO STDOUT%'
                            THEN new_values || '{"status": "released"}' ELSE new_values END AS new_values,
                       reason, hash, prev_seq
                FROM gmp_audit.event_true;
                ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
                COMMIT;
                """))
            for verify in [{ try ReconciliationTests.verify(database) }, { try Self.verifyConcurrently(database) }] {
                do {
                    let verification = try verify()
                    Issue.record("the lie went unnoticed: \(ReconciliationTests.findings(verification)), \(verification.verdict)")
                } catch let error as KeyOrderedReconciler.OrderError {
                    #expect(error.description.contains("is not the trail the chain pass hashed"), "\(error)")
                }
            }
        }
    }
}
