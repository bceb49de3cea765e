import Foundation
import Testing
import PostgresClient
import TestSupport

@Suite("db transaction: whether a transaction committed, after a connection lost during COMMIT")
struct DbTransactionCommandTests {
    /// Commits a transaction that stored its receipt, as gmp's writes do; returns its id.
    static func commitWithReceipt(_ connection: PostgresConnection, request: UUID) throws -> Int64 {
        try connection.execute("BEGIN")
        let id: Int64 = try connection.query("SELECT txid_current() AS id")[0].decode("id")
        _ = try connection.query("SELECT gmp_meta.write_commit_receipt(\(request)) AS id")
        try connection.execute("COMMIT")
        return id
    }

    static func ask(_ token: String, _ database: String, json: Bool = true) throws -> GMPRun {
        try GMPBinary.run(["db", "transaction", token, "--database", database] + (json ? ["--json"] : []))
    }

    @Test("a token whose receipt is there: committed, exactly, in text and --json")
    func receiptCommitted() throws {
        try TestServer.withMigratedDatabase { database in
            let connection = try TestServer.connect(database)
            let request = UUID()
            let id = try Self.commitWithReceipt(connection, request: request)
            let token = "\(id):\(request.uuidString.lowercased())"
            let text = try Self.ask(token, database, json: false)
            #expect(text.status == 0, "\(text)")
            #expect(text.stdout == "transaction \(token) committed: its record is kept; do not run the command again\n")
            #expect(!text.stderr.contains("warning"), "\(text)")
            let document = try Self.ask(token, database).json()
            #expect(document["status"] as? String == "committed" && document["exact"] as? Bool == true)
            #expect(document["request"] as? String == request.uuidString.lowercased())
            #expect((document["transaction"] as? NSNumber)?.int64Value == id)
        }
    }

    @Test("no receipt for the token while txid_status says committed (the id given again after a crash): not recorded, never committed")
    func reusedIdIsNotCommitted() throws {
        try TestServer.withMigratedDatabase { database in
            let connection = try TestServer.connect(database)
            // Another transaction committed with this id; the token's own work left no
            // receipt: exactly what a server crash that lost the token's commit leaves.
            let other = try Self.commitWithReceipt(connection, request: UUID())
            let token = "\(other):\(UUID().uuidString.lowercased())"
            let run = try Self.ask(token, database, json: false)
            #expect(run.status == 0, "\(run)")
            #expect(run.stdout == "transaction \(token) was not recorded: nothing of it was kept; run the command again\n")
            let document = try Self.ask(token, database).json()
            #expect(document["status"] as? String == "aborted" && document["exact"] as? Bool == true, "\(document)")
            // Asked by the bare id, txid_status answers for the other transaction: said, with the caveat.
            let bare = try Self.ask(String(other), database, json: false)
            #expect(bare.stdout == "transaction \(other) committed: its record is kept; do not run the command again\n")
            #expect(bare.stderr.contains("warning:") && bare.stderr.contains("after a server crash"), "\(bare)")
            #expect(try Self.ask(String(other), database).json()["exact"] as? Bool == false)
        }
    }

    @Test("a transaction still running: in progress; once it ends without the receipt: not recorded; an id not handed out yet: not recorded")
    func inProgressThenFinished() throws {
        try TestServer.withMigratedDatabase { database in
            let running = try TestServer.connect(database)
            try running.execute("BEGIN")
            let id: Int64 = try running.query("SELECT txid_current() AS id")[0].decode("id")
            let token = "\(id):\(UUID().uuidString.lowercased())"
            #expect(try Self.ask(token, database).json()["status"] as? String == "in progress")
            try running.execute("COMMIT")
            #expect(try Self.ask(token, database).json()["status"] as? String == "aborted")
            // After a crash the server's counter may be behind the id the error named.
            let future = "\(id + 1_000_000):\(UUID().uuidString.lowercased())"
            let ahead = try Self.ask(future, database)
            #expect(ahead.status == 0, "\(ahead)")
            #expect(try ahead.json()["status"] as? String == "aborted")
        }
    }

    @Test("a bare id: committed and aborted told apart by txid_status, with the caveat; a malformed token is a usage error")
    func bareIds() throws {
        try TestServer.withMigratedDatabase { database in
            let connection = try TestServer.connect(database)
            let committed: Int64 = try connection.transaction(.readCommitted) { db in
                try db.execute("CREATE TEMP TABLE scratch (n int)")
                return try db.query("SELECT txid_current() AS id")[0].decode("id")
            }
            try connection.execute("BEGIN")
            let aborted: Int64 = try connection.query("SELECT txid_current() AS id")[0].decode("id")
            try connection.execute("ROLLBACK")

            let yes = try Self.ask(String(committed), database, json: false)
            #expect(yes.status == 0, "\(yes)")
            #expect(yes.stdout == "transaction \(committed) committed: its record is kept; do not run the command again\n")
            let no = try Self.ask(String(aborted), database)
            #expect(no.status == 0, "\(no)")
            let document = try no.json()
            #expect(document["status"] as? String == "aborted" && document["exact"] as? Bool == false)
            #expect(document["request"] is NSNull)
            #expect((document["transaction"] as? NSNumber)?.int64Value == aborted)
            for bad in ["last-one", "\(committed):not-a-uuid", "-4"] {
                let run = try Self.ask(bad, database)
                #expect(run.status == 64, "\(run)")
            }
        }
    }
}
