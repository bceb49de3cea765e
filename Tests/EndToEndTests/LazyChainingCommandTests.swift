import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 19, lazy chaining: a gmp write's commit does not chain its audit events every
/// time (only when enough are pending or the oldest has waited long enough), and every
/// command that reads the trail chains first, so that it shows every event, in the order
/// the events were written.
@Suite("lazy chaining of the audit trail, end to end")
struct LazyChainingCommandTests {
    /// Events written but not yet chained, and the chain head's seq, as the superuser sees them.
    static func state(_ database: String) throws -> (pending: Int64, head: Int64) {
        let row = try TestServer.connect(database).query("""
            SELECT (SELECT count(*) FROM gmp_audit.pending_event) AS pending, (SELECT seq FROM gmp_audit.chain_head) AS head
            """)[0]
        return (try row.decode("pending"), try row.decode("head"))
    }

    @Test("a write's commit below the thresholds leaves its events pending; audit report and verify chain first and show them in write order")
    func readersChainFirst() throws {
        try DonorLotCommandTests.withSite { site in
            // Only the count threshold here (the oldest never waits long enough on a slow
            // machine), set for the database as a site would; then chain whatever the set-up
            // left, so that what follows starts from nothing pending.
            let superuser = try TestServer.connect(site.database)
            try superuser.execute("""
                DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET gmp.audit_chain_wait_ms = 3600000', current_database()); END $$
                """)
            try superuser.execute("SELECT gmp_audit.chain_pending()")
            let start = try Self.state(site.database)
            #expect(start.pending == 0)

            for name in ["Lazy Example One", "Lazy Example Two"] {
                try site.expectSuccess {
                    try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", name, "--json"])
                }
            }
            // Before lazy chaining each command chained its events right after its commit.
            let written = try Self.state(site.database)
            #expect(written.pending >= 2, "two registrations, their events still pending: \(written)")
            #expect(written.head == start.head, "nothing chained by the writes: \(written)")

            // The report chains first: it shows both registrations, with their seq, in the
            // order they were written, and nothing is left pending.
            let report = try site.expectSuccess {
                try site.gmp(site.qa, ["audit", "report", "--table", "gmp.donor", "--json"])
            }
            let events = try #require(try report.json()["events"] as? [[String: Any]], "\(report)")
            let inserts = events.filter { ($0["action"] as? String) == "INSERT" }
            #expect(inserts.count >= 2, "\(report)")
            let seqs = inserts.compactMap { $0["seq"] as? Int }
            #expect(seqs.count == inserts.count && seqs.allSatisfy { Int64($0) > start.head }, "\(seqs) after \(start.head)")
            #expect(try Self.state(site.database).pending == 0)
            let order = try superuser.query("""
                SELECT write_order FROM gmp_audit.event WHERE seq > \(start.head) ORDER BY seq
                """).map { try $0.decode("write_order", as: Int64.self) }
            #expect(order.count >= Int(written.pending))
            #expect(order == order.sorted(), "the chain follows the write order: \(order)")

            // Written again, then verified: verify chains first and the chain is whole.
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", "Lazy Example Three"])
            }
            #expect(try Self.state(site.database).pending > 0)
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
            let document = try verify.json()
            #expect(document["intact"] as? Bool == true, "\(verify)")
            #expect(document["pending_events"] as? Int == 0, "\(verify)")
            #expect(try Self.state(site.database).pending == 0)
        }
    }

    @Test("a gmp write commits while another session holds the chain head, and its events are chained by the next reader")
    func writerDoesNotWaitForTheHead() throws {
        try DonorLotCommandTests.withSite { site in
            let holder = try TestServer.connect(site.database)
            try holder.execute("BEGIN")
            try holder.execute("SELECT FROM gmp_audit.chain_head FOR UPDATE")
            // Chaining due at once (gmp.audit_chain_events = 1), so that the write tries to chain.
            let run = try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic",
                                                           "--name", "Blocked Head Example", "--json"],
                                   environment: ["PGOPTIONS": "-c gmp.audit_chain=after_commit -c gmp.audit_chain_events=1 -c lock_timeout=3000"])
            #expect(run.status == 0, "the write committed without waiting for the head: \(run)")
            #expect(try Self.state(site.database).pending > 0)
            try holder.execute("ROLLBACK")
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
            #expect(try verify.json()["pending_events"] as? Int == 0, "\(verify)")
        }
    }

    /// Calls of a PL/pgSQL function in this database, as flushed by the sessions that ended
    /// (track_functions, set for the database below).
    static func calls(_ superuser: PostgresConnection, _ function: String) throws -> Int64 {
        try superuser.execute("SELECT pg_stat_clear_snapshot()")
        return try superuser.query("""
            SELECT coalesce(sum(calls), 0)::bigint AS n FROM pg_stat_user_functions
            WHERE schemaname = 'gmp_audit' AND funcname = \(function)
            """)[0].decode("n")
    }

    /// Polls until the statistics of the sessions that ended show `condition` (a session
    /// flushes them as it exits, just after its client); false after 10 s.
    static func eventually(_ condition: () throws -> Bool) throws -> Bool {
        for _ in 0..<100 {
            if try condition() { return true }
            usleep(100_000)
        }
        return false
    }

    @Test("a write that is not due asks in its receipt statement and sends no chaining after its commit; one that is due chains")
    func chainingSentOnlyWhenDue() throws {
        try DonorLotCommandTests.withSite { site in
            // Function calls counted for every session that starts from here on (gmp's only).
            let superuser = try TestServer.connect(site.database)
            try superuser.execute("""
                DO $$ BEGIN
                    EXECUTE format('ALTER DATABASE %I SET track_functions = ''pl''', current_database());
                    EXECUTE format('ALTER DATABASE %I SET gmp.audit_chain_wait_ms = 3600000', current_database());
                END $$
                """)
            try superuser.execute("SELECT gmp_audit.chain_pending()")
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", "Quiet Example"])
            }
            // Its receipt statement asked (chain_due, once) and it was not due: the
            // chain_if_due gmp sent after every write before is what is missing now.
            #expect(try Self.eventually { try Self.calls(superuser, "chain_due") >= 1 }, "the write asked")
            #expect(try Self.calls(superuser, "chain_if_due") == 0, "no chaining statement after a write that is not due")
            #expect(try Self.state(site.database).pending > 0)

            try superuser.execute("""
                DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET gmp.audit_chain_events = 1', current_database()); END $$
                """)
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", "Due Example"])
            }
            #expect(try Self.eventually { try Self.calls(superuser, "chain_if_due") >= 1 }, "due: chained after the commit")
            #expect(try Self.state(site.database).pending == 0)
        }
    }
}
