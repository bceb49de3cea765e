import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Issue 19: whether chaining is due is decided once per writing transaction, in the
/// statement that writes its commit receipt before COMMIT (`gmp_audit.chain_due`), from two
/// marks kept in sequences (V0039). Asked inside a SERIALIZABLE writer, the question must
/// read no table other writers write and wait for no lock a chainer or administrator holds.
@Suite("Chain due: decided in the receipt statement, from marks read without a lock")
struct ChainDueTests {
    /// The receipt statement gmp sends before each write's COMMIT; its `after_commit` answer.
    static func receipt(_ session: PostgresConnection) throws -> Bool {
        try session.query(CommitReceipts.gmp.statement(UUID()))[0].decode(CommitReceipts.afterCommitColumn)
    }

    @Test("the receipt statement answers while the chain is locked ACCESS EXCLUSIVE, and leaves no predicate lock on the trail")
    func decidedWithoutLocks() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try AuditStagingTests.Writers(database)
            let writer = writers.first
            try writer.execute("SET lock_timeout = '1s'")
            try writer.execute("SET gmp.audit_chain = 'after_commit'")
            try writer.execute("SET gmp.audit_chain_events = 1000000")
            try writer.execute("SET gmp.audit_chain_wait_ms = 3600000")
            try writers.admin.execute("SELECT gmp_audit.chain_pending()")
            try writer.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try writers.screen(writer, writers.donors[0])
            // An administrator (or CrashTests) holding the chain; before, the due check read
            // the newest chained event and the staging table, so the write waited (55P03 here)
            // and its SERIALIZABLE transaction held predicate locks on both.
            let holder = try TestServer.connect(database)
            try holder.execute("BEGIN")
            try holder.execute("LOCK TABLE gmp_audit.event, gmp_audit.chain_head IN ACCESS EXCLUSIVE MODE")
            #expect(try Self.receipt(writer) == false, "one event pending, the last chaining just now: not due")
            let predicateLocks: Int64 = try writer.query("""
                SELECT count(*) AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                WHERE l.pid = pg_backend_pid() AND l.mode = 'SIReadLock'
                  AND c.relnamespace = 'gmp_audit'::regnamespace
                """)[0].decode("n")
            #expect(predicateLocks == 0)
            try writer.execute("COMMIT")
            try holder.execute("ROLLBACK")
            #expect(try writers.pending() >= 1)

            // Due by the count once as many events may be pending as the setting says.
            try writer.execute("SET gmp.audit_chain_events = 1")
            try writer.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try writers.screen(writer, writers.donors[1])
            #expect(try Self.receipt(writer) == true)
            try writer.execute("COMMIT")
        }
    }

    @Test("a chaining moves the marks; one undone leaves them too optimistic, which delays chaining until gmp.audit_chain_wait_ms after it")
    func undoneChainingDelaysByTheWaitAtMost() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try AuditStagingTests.Writers(database)
            let writer = writers.first
            let trail = AuditTrail(writer)
            try writer.execute("SET gmp.audit_chain = 'after_commit'")
            try writer.execute("SET gmp.audit_chain_events = 1")
            try writer.execute("SET gmp.audit_chain_wait_ms = 3600000")
            try writers.admin.execute("SELECT gmp_audit.chain_pending()")
            let due: () throws -> Bool = { try writer.query("SELECT gmp_audit.chain_due() AS due")[0].decode("due") }
            #expect(try due() == false, "nothing written since the last chaining")
            try writers.screen(writer, writers.donors[0])
            #expect(try due() == true)
            let mark: () throws -> Int64 = {
                try writers.admin.query("SELECT last_value AS v FROM gmp_audit.chained_through")[0].decode("v")
            }
            let before = try mark()

            // Undone: the marks (setval) stay moved, the events stay pending.
            try writers.admin.execute("BEGIN")
            #expect(try writers.admin.query("SELECT gmp_audit.chain_pending() AS n")[0].decode("n", as: Int32.self) >= 1)
            try writers.admin.execute("ROLLBACK")
            let pending = try writers.pending()
            #expect(pending >= 1)
            #expect(try mark() > before)
            #expect(try due() == false, "too optimistic: nothing counted as pending")

            // Bounded by the age: the first write at least the wait after the undone chaining
            // finds chaining due, and its chaining takes the stranded events too.
            try writer.execute("SET gmp.audit_chain_events = 1000000")
            try writer.execute("SET gmp.audit_chain_wait_ms = 100")
            usleep(300_000)
            #expect(try due() == false, "no write since: nothing may be pending")
            try writers.screen(writer, writers.donors[1])
            let stranded = try writers.pending()
            #expect(stranded > pending)
            #expect(try due() == true)
            #expect(try trail.chainIfDue() == Int(stranded))
            #expect(try writers.pending() == 0)
            #expect(try due() == false, "chained just now")
            #expect(try AuditTrail(writers.admin).verify(reconcile: true).isIntact)
        }
    }
}
