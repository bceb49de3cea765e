import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 19, background chaining: what the gmp_chainer worker runs each pass,
/// `gmp_audit.chain_in_background` (sql/code/01_audit.sql), at the database level. It
/// chains whatever is pending whether or not chaining is due, and when nothing is pending
/// it still marks the time, so that the first write after an idle spell does not find
/// chaining due and sends nothing after its commit. No gmp role may call it.
@Suite("Chain in background: the worker's pass, at the database level")
struct ChainInBackgroundTests {
    @Test("it chains pending events though chaining is not due, and an idle pass keeps the first write after it from finding chaining due")
    func chainsAndKeepsWritersFromChaining() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try AuditStagingTests.Writers(database)
            let writer = writers.first
            try writer.execute("SET gmp.audit_chain = 'after_commit'")
            try writer.execute("SET gmp.audit_chain_events = 1000000")
            try writer.execute("SET gmp.audit_chain_wait_ms = 2000")
            let due: () throws -> Bool = { try writer.query("SELECT gmp_audit.chain_due() AS due")[0].decode("due") }
            let pass: () throws -> Int32 = {
                try writers.admin.query("SELECT gmp_audit.chain_in_background(10000) AS n")[0].decode("n")
            }
            try writers.admin.execute("SELECT gmp_audit.chain_pending()")
            try writers.screen(writer, writers.donors[0])
            #expect(try writers.pending() >= 1)
            #expect(try due() == false, "the last chaining was just now")
            #expect(try pass() >= 1, "chained though not due")
            #expect(try writers.pending() == 0)

            // An idle hour since the last chaining: the first write would find it due.
            let anHourAgo: SQLQuery = "SELECT setval('gmp_audit.chained_at_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint - 3600000)"
            try writers.admin.execute(anHourAgo)
            try writers.screen(writer, writers.donors[1])
            #expect(try due() == true, "without the worker: due after the idle spell")
            #expect(try pass() >= 1)
            // The worker passing over an idle trail keeps the mark recent: not due.
            try writers.admin.execute(anHourAgo)
            #expect(try pass() == 0, "nothing pending")
            try writers.screen(writer, writers.donors[0])
            #expect(try writers.pending() >= 1)
            #expect(try due() == false, "the idle pass marked the time: the write sends nothing after its commit")
        }
    }

    @Test("a session holding the chain head makes the pass chain nothing at once, without waiting, and leaves the mark to that session")
    func skipsAHeldHead() throws {
        try TestServer.withMigratedDatabase { database in
            let writers = try AuditStagingTests.Writers(database)
            try writers.first.execute("SET gmp.audit_chain = 'after_commit'")
            try writers.admin.execute("SELECT gmp_audit.chain_pending()")
            try writers.screen(writers.first, writers.donors[0])
            let holder = try TestServer.connect(database)
            try holder.execute("BEGIN")
            try holder.execute("SELECT FROM gmp_audit.chain_head FOR UPDATE")
            try writers.admin.execute("SET lock_timeout = '2s'")
            let chained: Int32 = try writers.admin.query("SELECT gmp_audit.chain_in_background(10000) AS n")[0].decode("n")
            #expect(chained == 0)
            #expect(try writers.pending() >= 1, "left to the next pass")
            try holder.execute("ROLLBACK")
            let later: Int32 = try writers.admin.query("SELECT gmp_audit.chain_in_background(10000) AS n")[0].decode("n")
            #expect(later >= 1)
        }
    }

    @Test("no gmp role may run the worker's pass", arguments: RoleAccessTests.roles)
    func refusedToEveryRole(role: String) throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: [role])
            RoleAccessTests.expectDenied(try person.connect(), "SELECT gmp_audit.chain_in_background(10000)", role: role)
        }
    }
}
