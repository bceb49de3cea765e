import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Issue 19, defect 2: the receipt a writing transaction stores with its work
/// (gmp_meta.commit_receipt, V0038) is there exactly when the work committed, and nobody
/// can make it say otherwise afterwards.
@Suite("Commit receipts: written with the work, in its round trip, and never rewritten")
struct CommitReceiptTests {
    static func receipts(_ admin: PostgresConnection) throws -> Int64 {
        try admin.query("SELECT count(*) AS n FROM gmp_meta.commit_receipt")[0].decode("n")
    }

    @Test("a person's committed write leaves its receipt with its transaction id; a rolled-back one and one that wrote nothing leave none")
    func writtenWithTheWork() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestServer.connect(database)
            let person = try TestAccount.create(in: database, roles: ["operator"])
            let connection = try person.connect()
            connection.commitReceipts = .gmp

            // txid_current() gives the transaction an id, as any write does.
            let written: Int64 = try connection.transaction(.readCommitted) { db in
                try db.query("SELECT txid_current() AS id")[0].decode("id")
            }
            let token = try #require(connection.committedWriteTransactions.last)
            let request = try #require(token.requestID, "the token names the receipt")
            #expect(token.transactionID == written)
            let stored = try admin.query("""
                SELECT xid::text::bigint AS xid FROM gmp_meta.commit_receipt WHERE request_id = \(request)
                """)
            #expect(try stored.map { try $0.decode("xid", as: Int64.self) } == [written])

            // The client's transaction rolled back: no receipt.
            let before = try Self.receipts(admin)
            struct Stop: Error {}
            #expect(throws: Stop.self) {
                try connection.transaction(.readCommitted) { db in
                    _ = try db.query("SELECT txid_current() AS id")
                    throw Stop()
                }
            }
            // The same through plain SQL, as psql would: the receipt goes with the rollback.
            try connection.execute("BEGIN")
            _ = try connection.query("SELECT txid_current() AS id")
            let rolledBack = UUID()
            let id: Int64? = try connection.query("SELECT gmp_meta.write_commit_receipt(\(rolledBack)) AS id")[0].decode("id")
            #expect(id != nil)
            try connection.execute("ROLLBACK")
            #expect(try admin.query("SELECT count(*) AS n FROM gmp_meta.commit_receipt WHERE request_id = \(rolledBack)")[0]
                .decode("n", as: Int64.self) == 0)

            // A read-write transaction that wrote nothing, and a read-only one, even as a
            // read-only session: no id, no receipt, no error.
            try connection.transaction(.readCommitted) { db in _ = try db.query("SELECT 1 AS one") }
            try connection.execute("SET default_transaction_read_only = on")
            try connection.transaction(.readCommitted) { db in _ = try db.query("SELECT 1 AS one") }
            try connection.execute("SET default_transaction_read_only = off")
            #expect(try Self.receipts(admin) == before)
            #expect(connection.committedWriteTransactions.count == 1)
        }
    }

    @Test("no role, and no superuser, can update, delete or truncate a receipt", arguments: RoleAccessTests.roles)
    func neverRewritten(role: String) throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestServer.connect(database)
            let person = try TestAccount.create(in: database, roles: [role])
            let connection = try person.connect()
            connection.commitReceipts = .gmp
            _ = try connection.transaction(.readCommitted) { db in try db.query("SELECT txid_current() AS id") }
            let request = try #require(connection.committedWriteTransactions.last?.requestID)
            for statement: SQLQuery in [
                "UPDATE gmp_meta.commit_receipt SET xid = '1'::xid8 WHERE request_id = \(request)",
                "DELETE FROM gmp_meta.commit_receipt WHERE request_id = \(request)",
                "TRUNCATE gmp_meta.commit_receipt",
            ] {
                for (who, db) in [(role, connection), ("superuser", admin)] {
                    DonorAndLotRulesTests.expectSQLState("42501", "\(who): \(statement.sql)") { try db.execute(statement) }
                }
            }
            #expect(try admin.query("SELECT count(*) AS n FROM gmp_meta.commit_receipt WHERE request_id = \(request)")[0]
                .decode("n", as: Int64.self) == 1)
        }
    }

    @Test("a database without receipts (not migrated to V0038): the write runs again without one and commits once")
    func databaseWithoutReceipts() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            connection.commitReceipts = .gmp
            try connection.execute("CREATE TABLE t (n int)")
            var runs = 0
            try connection.transaction(.readCommitted) { db in
                runs += 1
                try db.execute("INSERT INTO t VALUES (1)")
            }
            #expect(runs == 2, "the attempt that met the missing receipt was rolled back and run again")
            #expect(try connection.query("SELECT count(*) AS n FROM t")[0].decode("n", as: Int64.self) == 1)
            let token = try #require(connection.committedWriteTransactions.last)
            #expect(token.requestID == nil && connection.commitReceipts == nil)
        }
    }
}
