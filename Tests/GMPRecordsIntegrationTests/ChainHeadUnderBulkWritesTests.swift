import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Issue 19, defect 4: "The chain-head row bloats under bulk writes (6.5 MB after 80k
/// appends, append rate halved until VACUUM). Appends within one transaction slow from 13k
/// rows/s at 1,000 rows to 1.35k at 50,000." Both came from every append updating the one
/// chain-head row inside the writer's transaction, where none of its dead versions can be
/// pruned. Appends now stage their events; the head is updated once per chaining batch.
@Suite("The chain head under bulk writes: untouched by appends, updated once per chaining batch")
struct ChainHeadUnderBulkWritesTests {
    static let rows = 30_000

    /// Row updates of `gmp_audit.chain_head` by the current transaction so far.
    static func headUpdates(_ session: PostgresConnection) throws -> Int64 {
        try session.query("""
            SELECT n_tup_upd AS n FROM pg_stat_xact_user_tables WHERE relid = 'gmp_audit.chain_head'::regclass
            """)[0].decode("n")
    }

    @Test("30,000 audited rows written in one transaction update the chain head 0 times; chaining them updates it once per batch of 10,000; its table stays one page")
    func bulkWriteLeavesTheHeadAlone() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestServer.connect(database)
            try admin.execute("SELECT set_config('gmp.reason', 'test: an audited table for a bulk write', false)")
            try admin.execute("CREATE TABLE gmp.bulk_write_row (id bigint PRIMARY KEY, note text NOT NULL)")
            try admin.execute("SELECT gmp_audit.audit_table('gmp.bulk_write_row', 'id')")
            _ = try AuditTrail(admin).chainPending(durably: false)
            let sizeBefore: Int64 = try admin.query("SELECT pg_relation_size('gmp_audit.chain_head') AS n")[0].decode("n")

            // gmp's way: the write's COMMIT leaves its events staged (chained after it).
            let writer = try TestServer.connect(database)
            try writer.execute("SET gmp.audit_chain = 'after_commit'")
            try writer.execute("BEGIN")
            try writer.execute("""
                INSERT INTO gmp.bulk_write_row (id, note) SELECT i, 'row ' || i FROM generate_series(1, \(Int64(Self.rows))) i
                """)
            #expect(try Self.headUpdates(writer) == 0, "an append updated the chain head")
            let staged: Int64 = try writer.query("""
                SELECT count(*) AS n FROM gmp_audit.pending_event WHERE table_name = 'gmp.bulk_write_row'
                """)[0].decode("n")
            #expect(staged == Int64(Self.rows))
            try writer.execute("COMMIT")

            // Chaining: one head update per batch of at most 10,000 events.
            try writer.execute("BEGIN")
            var chained = 0
            while true {
                let moved = Int(try writer.query("SELECT gmp_audit.chain_pending(10000) AS n")[0].decode("n", as: Int32.self))
                if moved == 0 { break }
                chained += moved
            }
            let updates = try Self.headUpdates(writer)
            try writer.execute("COMMIT")
            #expect(chained >= Self.rows)
            #expect(updates <= Int64(chained / 10_000 + 1), "\(updates) head updates for \(chained) events")
            // Before staging, 30,000 appends left 30,000 dead versions of the head row in its
            // table (about 1 MB); now a handful fit in its one page.
            let sizeAfter: Int64 = try admin.query("SELECT pg_relation_size('gmp_audit.chain_head') AS n")[0].decode("n")
            #expect(sizeAfter <= max(sizeBefore, 8192), "the head's table grew from \(sizeBefore) to \(sizeAfter) bytes")
            let verification = try AuditTrail(admin).verify(reconcile: true)
            #expect(verification.isIntact, "\(verification.verdict)")
        }
    }
}
