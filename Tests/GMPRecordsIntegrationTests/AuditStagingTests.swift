import Foundation
import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// Issue 19: audited writes stage their events (gmp_audit.pending_event) instead of
/// holding the chain head for their whole transaction; a short step chains them in
/// commit order, in hash format v2. Checked as the people who write, through plain SQL.
@Suite("Audit staging: writers on different records do not conflict; pending events are protected and chained")
struct AuditStagingTests {
    /// Two people, each recording a screening result for a donor of their own.
    struct Writers {
        let database: String
        let admin: PostgresConnection
        let first: PostgresConnection
        let second: PostgresConnection
        let donors: [String]

        init(_ database: String) throws {
            self.database = database
            admin = try TestServer.connect(database)
            let registrar = try TestAccount.create(in: database, roles: ["operator"]).connect()
            donors = try (0..<2).map { _ in
                try registrar.query("""
                    SELECT gmp.register_donor('allogeneic', true, NULL, 'staging test', full_name => 'Olivia Example') AS code
                    """)[0].decode("code")
            }
            first = try TestAccount.create(in: database, roles: ["qc"]).connect()
            second = try TestAccount.create(in: database, roles: ["qc"]).connect()
        }

        func screen(_ session: PostgresConnection, _ donor: String) throws {
            try session.execute("""
                SELECT gmp.record_screening_result(\(donor), 'hbsag', 'nonreactive', 'Kit lot 42', current_date)
                """)
        }

        /// Events written but not yet chained.
        func pending() throws -> Int64 {
            try admin.query("SELECT count(*) AS n FROM gmp_audit.pending_event")[0].decode("n")
        }
    }

    @Test("two SERIALIZABLE writers on different donors, both open at once: neither waits for the other nor conflicts")
    func differentRecordsDoNotConflict() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            // Before staging, the second writer waited for the first's chain-head lock
            // (here: lock_timeout, 55P03), or failed with 40001 once the first committed.
            // Both chain after their commits, as gmp does (a SERIALIZABLE client that chains
            // at its COMMIT still conflicts there: docs/audit-trail.md).
            try writers.second.execute("SET lock_timeout = '2s'")
            for session in [writers.first, writers.second] {
                try session.execute("SET gmp.audit_chain = 'after_commit'")
            }
            try writers.first.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try writers.second.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try writers.screen(writers.first, writers.donors[0])
            try writers.screen(writers.second, writers.donors[1])
            try writers.first.execute("COMMIT")
            try writers.second.execute("COMMIT")
            #expect(try writers.pending() == 2)
            #expect(try AuditTrail(writers.second).chainPending(durably: false) == 2)
            #expect(try writers.pending() == 0)
            let chained = try writers.admin.query("""
                SELECT count(*) AS n FROM gmp_audit.event
                WHERE table_name = 'gmp.screening_result' AND write_order IS NOT NULL AND action <> 'DDL'
                """)[0].decode("n", as: Int64.self)
            // (DDL events name the table too: gmp db migrate's binding of the audit trigger, #19.)
            #expect(chained == 2)
            let verification = try AuditTrail(writers.admin).verify(reconcile: true)
            #expect(verification.isIntact, "\(verification.verdict)")
        }
    }

    @Test("a session that chains after its commit leaves its events pending until chain_pending; verify accounts for them")
    func chainAfterCommit() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            try writers.first.execute("SET gmp.audit_chain = 'after_commit'")
            let head = try AuditTrail(writers.admin).head()
            try writers.screen(writers.first, writers.donors[0])
            try writers.screen(writers.first, writers.donors[1])
            #expect(try writers.pending() == 2)
            #expect(try AuditTrail(writers.admin).head() == head, "nothing chained yet")

            // A verification in a snapshot that still holds them replays them for the
            // tables (no difference reported) and counts them.
            try writers.admin.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            #expect(try AuditTrail(writers.admin).pendingCount() == 2)
            try writers.admin.execute("COMMIT")

            // The step gmp runs after each commit: seq in write order, v2 hashes, head once.
            #expect(try AuditTrail(writers.first).chainPending(durably: false) == 2)
            #expect(try writers.pending() == 0)
            let rows = try writers.admin.query("""
                SELECT seq, write_order FROM gmp_audit.event WHERE seq > \(head.seq) ORDER BY seq
                """)
            #expect(rows.count == 2)
            let orders = try rows.map { try $0.decode("write_order", as: Int64.self) }
            #expect(orders == orders.sorted())
            #expect(try AuditTrail(writers.admin).head().seq == head.seq + 2)
            let verification = try AuditTrail(writers.admin).verify(reconcile: true)
            #expect(verification.isIntact, "\(verification.verdict)")
            #expect(verification.pendingEvents == 0)
        }
    }

    @Test("events pending in verify's snapshot are replayed: the tables reconcile, and the count is reported")
    func verifyReplaysPending() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            try writers.first.execute("SET gmp.audit_chain = 'after_commit'")
            try writers.screen(writers.first, writers.donors[0])
            // Someone holds the head, so verify's own chaining gives up (lock_timeout) and
            // the event is still pending in its snapshot.
            let holder = try TestServer.connect(database)
            try holder.execute("BEGIN")
            try holder.execute("SELECT FROM gmp_audit.chain_head FOR UPDATE")
            let reader = try TestServer.connect(database)
            try reader.execute("SET lock_timeout = '200ms'")
            let verification = try AuditTrail(reader).verify(reconcile: true)
            try holder.execute("ROLLBACK")
            #expect(verification.pendingEvents == 1)
            #expect(verification.isIntact, "replayed, the pending screening matches its row: \(String(describing: verification.reconciliation?.outcome.findings))")
        }
    }

    @Test("a pending event cannot be changed or deleted, by anyone, and no gmp role may write it")
    func pendingEventsAreProtected() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            // Sessions first: creating an account is an audited write that chains at its commit.
            let roles = ["operator", "qc", "qa", "admin", "director", "auditor"]
            let sessions = try roles.map { try TestAccount.create(in: database, roles: [$0]).connect() }
            try writers.first.execute("SET gmp.audit_chain = 'after_commit'")
            try writers.screen(writers.first, writers.donors[0])
            #expect(try writers.pending() == 1)
            // The owner (the test's superuser) too: the guard fires always.
            for statement in ["UPDATE gmp_audit.pending_event SET reason = 'rewritten'",
                              "DELETE FROM gmp_audit.pending_event",
                              "TRUNCATE gmp_audit.pending_event"] {
                DonorAndLotRulesTests.expectSQLState("42501", "superuser: \(statement)") {
                    try writers.admin.execute(script: SQLScript(shippedWithBinary: statement))
                }
            }
            DonorAndLotRulesTests.expectSQLState("42501", "superuser under session_replication_role = replica") {
                try writers.admin.execute(script: SQLScript(shippedWithBinary: """
                    BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM gmp_audit.pending_event; COMMIT;
                    """))
            }
            try? writers.admin.execute("ROLLBACK")
            for (role, session) in zip(roles, sessions) {
                for statement in ["INSERT INTO gmp_audit.pending_event (write_order, occurred_at, transaction_id, actor, action, table_name) VALUES (999999, now(), 1, 'mallory', 'INSERT', 'gmp.donor')",
                                  "UPDATE gmp_audit.pending_event SET reason = 'x'",
                                  "DELETE FROM gmp_audit.pending_event",
                                  "SELECT gmp_audit.append('INSERT', 'gmp.donor', 'x', NULL, '{}', NULL)"] {
                    DonorAndLotRulesTests.expectSQLState("42501", "\(role): \(statement)") {
                        try session.execute(script: SQLScript(shippedWithBinary: statement))
                    }
                }
            }
            #expect(try writers.pending() == 1, "still there, unchanged")
            // Chaining is the one way out, and leaves it in the chain, intact.
            try writers.admin.execute("SELECT gmp_audit.chain_pending()")
            #expect(try writers.pending() == 0)
            #expect(try AuditTrail(writers.admin).verify(reconcile: true).isIntact)
        }
    }

    /// One writer stages `events` events (one a donor, lazily chained); a superuser copies
    /// the first into the chain (`reason`: the copy's reason column) and deletes every
    /// pending event in the same transaction: the guard refuses the DELETE whole, nothing
    /// leaves the staging table, and the chaining itself still passes the guard and the
    /// trail verifies.
    private static func expectCopyThenDeleteRefused(events: Int, reason: String, _ because: String) throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            try writers.first.execute("SET gmp.audit_chain = 'after_commit'")
            for donor in writers.donors.prefix(events) {
                try writers.screen(writers.first, donor)
            }
            #expect(try writers.pending() == Int64(events))
            DonorAndLotRulesTests.expectSQLState("42501", because) {
                try writers.admin.execute(script: SQLScript(shippedWithBinary: """
                    BEGIN;
                    INSERT INTO gmp_audit.event (seq, write_order, occurred_at, transaction_id, actor, action, table_name,
                                                 record_key, old_values, new_values, reason, hash)
                    SELECT (SELECT max(seq) + 1 FROM gmp_audit.event), write_order, occurred_at, transaction_id, actor,
                           action, table_name, record_key, old_values, new_values, \(reason), sha256('forged')
                    FROM gmp_audit.pending_event ORDER BY write_order LIMIT 1;
                    DELETE FROM gmp_audit.pending_event;
                    COMMIT;
                    """))
            }
            try? writers.admin.execute("ROLLBACK")
            #expect(try writers.pending() == Int64(events), "none was deleted")
            #expect(try AuditTrail(writers.admin).chainPending() == events)
            #expect(try AuditTrail(writers.admin).verify(reconcile: true).isIntact)
        }
    }

    @Test("a DELETE of pending events is refused whole when any one of them is not in the chain, though the others are")
    func deleteGuardChecksEveryRowOfTheStatement() throws {
        // The guard checks a DELETE statement once, over all its rows (issue 19): the
        // first event is copied into the chain as it stands, so only the second is not there.
        try Self.expectCopyThenDeleteRefused(events: 2, reason: "reason", "superuser deletes both, one of them chained")
    }

    @Test("a DELETE of a pending event is refused when the chain holds its write order with other content")
    func deleteGuardComparesTheContent() throws {
        // The guard looks each row's event up by its write order (one index probe a row,
        // issue 18): an event with that write order but another reason is no copy of it.
        try Self.expectCopyThenDeleteRefused(events: 1, reason: "'another reason'",
                                             "superuser deletes a pending event whose copy differs")
    }

    @Test("the trail's time index (a BRIN since V0042) finds the same events for a time window as a scan of the whole trail")
    func timeIndexFindsWhatAScanFinds() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            try writers.screen(writers.first, writers.donors[0])
            try writers.screen(writers.second, writers.donors[1])
            _ = try AuditTrail(writers.admin).chainPending()
            #expect(try writers.admin.query("""
                SELECT a.amname FROM pg_class i JOIN pg_am a ON a.oid = i.relam WHERE i.oid = 'gmp_audit.event_time'::regclass
                """)[0].decode("amname", as: String.self) == "brin")
            // Summarized ranges and the unsummarized tail alike: each window's events, read
            // through the index only (the bitmap scan) and by a plain scan.
            try writers.admin.execute("SELECT brin_summarize_new_values('gmp_audit.event_time')")
            try writers.screen(writers.first, writers.donors[1])
            _ = try AuditTrail(writers.admin).chainPending()
            // Every window that starts at one of the last 20 events' time: the events it holds.
            let windows: SQLQuery = """
                SELECT string_agg(w.seq || ':' || e.seq, ',' ORDER BY w.seq, e.seq) AS seqs
                FROM (SELECT seq, occurred_at FROM gmp_audit.event ORDER BY seq DESC LIMIT 20) w
                JOIN gmp_audit.event e ON e.occurred_at >= w.occurred_at
                """
            func seqs(_ settings: String) throws -> String {
                try writers.admin.execute("BEGIN")
                defer { try? writers.admin.execute("ROLLBACK") }
                try writers.admin.execute(script: SQLScript(shippedWithBinary: settings))
                return try writers.admin.query(windows)[0].decode("seqs")
            }
            // Through the BRIN alone (event_actor, whose second column is the time, dropped
            // for the transaction), then with no index.
            let throughIndex = try seqs("""
                SELECT set_config('gmp.reason', 'the time index alone, rolled back', true);
                DROP INDEX gmp_audit.event_actor;
                SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off;
                SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;
                """)
            let byScan = try seqs("SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexscan = off;")
            #expect(!throughIndex.isEmpty)
            #expect(throughIndex == byScan)
        }
    }

    @Test("a pending event edited by a superuser with the guard switched off is chained as edited: the tables show it")
    func editedPendingEventShowsInReconciliation() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            try writers.first.execute("SET gmp.audit_chain = 'after_commit'")
            try writers.screen(writers.first, writers.donors[0])
            try writers.admin.execute(script: SQLScript(shippedWithBinary: """
                BEGIN;
                ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
                ALTER TABLE gmp_audit.pending_event DISABLE TRIGGER guard;
                UPDATE gmp_audit.pending_event SET new_values = jsonb_set(new_values, '{result}', '"reactive"');
                ALTER TABLE gmp_audit.pending_event ENABLE ALWAYS TRIGGER guard;
                ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
                COMMIT;
                """))
            try writers.admin.execute("SELECT gmp_audit.chain_pending()")
            let verification = try AuditTrail(writers.admin).verify(reconcile: true)
            #expect(!verification.isIntact)
            let findings = verification.reconciliation?.outcome.findings ?? []
            #expect(findings.contains { $0.table == "gmp.screening_result" }, "\(findings)")
        }
    }

    @Test("a pending event deleted by a superuser with the guard switched off is detected: its row is in no event")
    func deletedPendingEventShowsInReconciliation() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            // Left pending longer under lazy chaining: the window this attack needs.
            try writers.first.execute("SET gmp.audit_chain = 'after_commit'")
            try writers.screen(writers.first, writers.donors[0])
            try writers.admin.execute(script: SQLScript(shippedWithBinary: """
                BEGIN;
                ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
                ALTER TABLE gmp_audit.pending_event DISABLE TRIGGER guard_delete;
                DELETE FROM gmp_audit.pending_event WHERE table_name = 'gmp.screening_result';
                ALTER TABLE gmp_audit.pending_event ENABLE ALWAYS TRIGGER guard_delete;
                ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
                COMMIT;
                """))
            let verification = try AuditTrail(writers.admin).verify(reconcile: true)
            #expect(!verification.isIntact)
            let findings = verification.reconciliation?.outcome.findings ?? []
            #expect(findings.contains { $0.table == "gmp.screening_result" }, "\(findings)")
        }
    }

    @Test("QA's signed review of an event written before V0032 covers the row as it was then: intact, and verify reconciles it")
    func reviewOfAnEventFromBeforeTheUpgrade() throws {
        try DonorAndLotRulesTests.Site.with { site in
            // Events the migrations wrote before V0032 have no write order: a review signed
            // then hashed the row without the column, and must still read intact after.
            let seq: Int64 = try site.superuser.query(
                "SELECT max(seq) AS seq FROM gmp_audit.event WHERE write_order IS NULL")[0].decode("seq")
            let asSignedThen: Bool = try site.superuser.query("""
                SELECT gmp_rules.content_hash('gmp_audit.event', e.seq::text)
                       = gmp_rules.content_hash('gmp_audit.event', e.seq::text, jsonb_build_array(to_jsonb(e.*) - 'write_order' - 'prev_seq')) AS same
                FROM gmp_audit.event e WHERE e.seq = \(seq)
                """)[0].decode("same")
            #expect(asSignedThen, "the content of event \(seq) is the row without the write order it never had")
            let later: Bool = try site.superuser.query("""
                SELECT gmp_rules.record_content('gmp_audit.event', max(seq)::text)->0 ? 'write_order' AS has
                FROM gmp_audit.event WHERE write_order IS NOT NULL
                """)[0].decode("has")
            #expect(later, "an event written since V0032 is signed with its write order")
            // prev_seq (V0040) came after every review signed before it, and is a hint outside
            // the event's hash: the content of an event that has one is the row without it.
            let linked = try site.superuser.query("""
                SELECT count(*) AS n,
                       coalesce(bool_and(gmp_rules.content_hash('gmp_audit.event', e.seq::text)
                           = gmp_rules.content_hash('gmp_audit.event', e.seq::text,
                                                    jsonb_build_array(to_jsonb(e.*) - 'prev_seq'))), false) AS same
                FROM gmp_audit.event e WHERE e.prev_seq IS NOT NULL
                """)[0]
            #expect(try linked.decode("n", as: Int64.self) > 0, "the site's updates have linked events")
            #expect(try linked.decode("same", as: Bool.self), "an event's signed content leaves its prev_seq out")
            let signature = try SignatureCeremony(site.qaSession).sign(password: site.qa.password) { db, challenge in
                try db.query("SELECT gmp.sign_audit_review(\(challenge)::uuid, \(seq), 'periodic review') AS id")[0]
                    .decode("id", as: Int64.self)
            }
            let intact: Bool = try site.superuser.query(
                "SELECT intact FROM gmp.signature_status WHERE id = \(signature)")[0].decode("intact")
            #expect(intact)
            let verification = try AuditTrail(site.superuser).verify(reconcile: true)
            #expect(verification.isIntact, "\(String(describing: verification.reconciliation?.outcome.findings))")
        }
    }

    /// The seqs' write orders of the events chained after `head`, in chain order.
    static func chainedWriteOrders(_ admin: PostgresConnection, after head: Int64) throws -> [Int64] {
        try admin.query("SELECT write_order FROM gmp_audit.event WHERE seq > \(head) ORDER BY seq")
            .map { try $0.decode("write_order", as: Int64.self) }
    }

    @Test("lazy chaining: after a commit chain_if_due chains nothing below both thresholds, and everything, in write order, once either is reached")
    func lazyChainingThresholds() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            try writers.admin.execute("SELECT gmp_audit.chain_pending()")
            let head = try AuditTrail(writers.admin).head()
            let trail = AuditTrail(writers.first)
            try writers.first.execute("SET gmp.audit_chain = 'after_commit'")
            try writers.first.execute("SET gmp.audit_chain_events = 1000000")
            try writers.first.execute("SET gmp.audit_chain_wait_ms = 3600000")
            try writers.screen(writers.first, writers.donors[0])
            try writers.screen(writers.first, writers.donors[1])
            let written = try writers.pending()
            #expect(written >= 2)
            #expect(try trail.chainIfDue() == 0, "neither threshold reached")
            #expect(try writers.pending() == written)
            #expect(try AuditTrail(writers.admin).head() == head)

            // The count: reached once as many events are pending as the setting says.
            try writers.first.execute("SELECT set_config('gmp.audit_chain_events', \(String(written + 1)), false)")
            #expect(try trail.chainIfDue() == 0, "one event short of the count")
            try writers.first.execute("SELECT set_config('gmp.audit_chain_events', \(String(written)), false)")
            #expect(try trail.chainIfDue() == Int(written))
            #expect(try writers.pending() == 0)
            let orders = try Self.chainedWriteOrders(writers.admin, after: head.seq)
            #expect(orders.count == Int(written) && orders == orders.sorted(), "\(orders)")

            // The age: the oldest pending event has waited long enough.
            try writers.first.execute("SET gmp.audit_chain_events = 1000000")
            try writers.screen(writers.first, writers.donors[0])
            #expect(try trail.chainIfDue() == 0)
            try writers.first.execute("SET gmp.audit_chain_wait_ms = 50")
            usleep(200_000)
            #expect(try trail.chainIfDue() > 0)
            #expect(try writers.pending() == 0)

            // A setting that is not a whole number reads as its default: never a failed commit.
            try writers.first.execute("SET gmp.audit_chain_events = 'many'")
            try writers.first.execute("SET gmp.audit_chain_wait_ms = '-1'")
            try writers.screen(writers.first, writers.donors[1])
            #expect(try trail.chainIfDue() == 0, "defaults: 1,000 events, 2 s")
            #expect(try AuditTrail(writers.admin).verify(reconcile: true).isIntact)
        }
    }

    @Test("a writer's commit does not wait for a session holding the chain head: it commits, its events stay pending, the next reader chains them")
    func commitDoesNotWaitForTheHead() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            try writers.admin.execute("SELECT gmp_audit.chain_pending()")
            let head = try AuditTrail(writers.admin).head()
            let holder = try TestServer.connect(database)
            try holder.execute("BEGIN")
            try holder.execute("SELECT FROM gmp_audit.chain_head FOR UPDATE")
            // A client that chains at its COMMIT (psql's way) and one in lazy mode with
            // chaining due at once, both READ COMMITTED: before, the first waited for the head
            // (here until lock_timeout: 55P03, nothing committed).
            try writers.first.execute("SET lock_timeout = '2s'")
            try writers.second.execute("SET lock_timeout = '2s'")
            try writers.second.execute("SET gmp.audit_chain = 'lazy'")
            try writers.second.execute("SET gmp.audit_chain_events = 1")
            try writers.screen(writers.first, writers.donors[0])
            try writers.screen(writers.second, writers.donors[1])
            // gmp's way after a commit does not wait either.
            try writers.second.execute("SET gmp.audit_chain = 'after_commit'")
            try writers.screen(writers.second, writers.donors[1])
            #expect(try AuditTrail(writers.second).chainIfDue() == 0)
            let written = try writers.pending()
            #expect(written >= 3, "all three committed, their events pending")

            // A reader waits for the head, bounded by its lock_timeout; verify then replays
            // what is still pending, and the tables reconcile.
            let reader = try TestServer.connect(database)
            try reader.execute("SET lock_timeout = '200ms'")
            #expect(throws: PostgresError.self) { try AuditTrail(reader).chainPending() }
            let meanwhile = try AuditTrail(reader).verify(reconcile: true)
            #expect(meanwhile.pendingEvents == Int(written))
            #expect(meanwhile.isIntact, "\(String(describing: meanwhile.reconciliation?.outcome.findings))")

            try holder.execute("ROLLBACK")
            #expect(try AuditTrail(reader).chainPending() == Int(written))
            let orders = try Self.chainedWriteOrders(writers.admin, after: head.seq)
            #expect(orders.count == Int(written) && orders == orders.sorted(), "\(orders)")
            let verification = try AuditTrail(reader).verify(reconcile: true)
            #expect(verification.isIntact && verification.pendingEvents == 0)
        }
    }

    @Test("lazy mode at COMMIT: chains when due under READ COMMITTED, leaves its events pending when not due or under REPEATABLE READ")
    func lazyModeAtCommit() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try Writers(database)
            try writers.admin.execute("SELECT gmp_audit.chain_pending()")
            try writers.first.execute("SET gmp.audit_chain = 'lazy'")
            try writers.first.execute("SET gmp.audit_chain_events = 1000000")
            try writers.first.execute("SET gmp.audit_chain_wait_ms = 3600000")
            try writers.screen(writers.first, writers.donors[0])
            let notDue = try writers.pending()
            #expect(notDue >= 1, "not due: left pending")
            try writers.first.execute("SET gmp.audit_chain_events = 1")
            try writers.first.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            try writers.screen(writers.first, writers.donors[1])
            try writers.first.execute("COMMIT")
            #expect(try writers.pending() > notDue, "due, but a REPEATABLE READ snapshot does not chain")
            try writers.screen(writers.first, writers.donors[0])
            #expect(try writers.pending() == 0, "due under READ COMMITTED: everything chained at its commit")
            #expect(try AuditTrail(writers.admin).verify(reconcile: true).isIntact)
        }
    }
}
