import Foundation
import Testing
import PostgresClient
import TestSupport

@Suite("db transaction: whether a transaction committed, after a connection lost during COMMIT")
struct DbTransactionCommandTests {
    @Test("a committed and an aborted transaction are told apart, in text and --json; a malformed id is a usage error")
    func committedAndAborted() throws {
        try TestServer.withMigratedDatabase { database in
            let connection = try TestServer.connect(database)
            let committed: Int64 = try connection.transaction(.readCommitted) { db in
                try db.execute("CREATE TEMP TABLE scratch (n int)")
                return try db.query("SELECT txid_current() AS id")[0].decode("id")
            }
            try connection.execute("BEGIN")
            let aborted: Int64 = try connection.query("SELECT txid_current() AS id")[0].decode("id")
            try connection.execute("ROLLBACK")

            let yes = try GMPBinary.run(["db", "transaction", String(committed), "--database", database])
            #expect(yes.status == 0, "\(yes)")
            #expect(yes.stdout == "transaction \(committed) committed: its record is kept; do not run the command again\n")
            let no = try GMPBinary.run(["db", "transaction", String(aborted), "--json", "--database", database])
            #expect(no.status == 0, "\(no)")
            let document = try no.json()
            #expect(document["status"] as? String == "aborted")
            #expect((document["transaction"] as? NSNumber)?.int64Value == aborted)
            let bad = try GMPBinary.run(["db", "transaction", "last-one", "--database", database])
            #expect(bad.status == 64, "\(bad)")
        }
    }
}
