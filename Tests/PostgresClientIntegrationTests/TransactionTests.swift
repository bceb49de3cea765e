import Foundation
import Testing
import PostgresClient
import TestSupport

@Suite("Transactions: all or nothing, with bounded retry")
struct TransactionTests {
    struct Boom: Error {}

    @Test("a returning body commits; a throwing body rolls back everything")
    func commitAndRollback() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try connection.execute("CREATE TABLE t (n int)")
            _ = try connection.transaction { try $0.execute("INSERT INTO t VALUES (1)") }
            #expect(throws: Boom.self) {
                try connection.transaction { db in
                    try db.execute("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            #expect(throws: PostgresError.self) {
                try connection.transaction { db in
                    try db.execute("INSERT INTO t VALUES (3)")
                    try db.execute("SELECT 1/0")
                }
            }
            let values = try connection.query("SELECT n FROM t ORDER BY n").map { try $0.decode("n", as: Int.self) }
            #expect(values == [1])
        }
    }

    @Test("transactions do not nest")
    func noNesting() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            #expect {
                try connection.transaction { db in try db.transaction { _ in } }
            } throws: { ($0 as? ClientError)?.kind == .misuse }
        }
    }

    @Test("a serialization failure re-runs the body and then succeeds")
    func retriesThenSucceeds() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            var attempts = 0
            let result: Int = try connection.transaction(retry: RetryPolicy(maxAttempts: 3, backoffMilliseconds: 1)) { db in
                attempts += 1
                if attempts == 1 {
                    try db.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$")
                }
                return try db.query("SELECT 42 AS v")[0].decode("v")
            }
            #expect(result == 42)
            #expect(attempts == 2)
        }
    }

    @Test("retries are bounded: after the limit the error says so")
    func retryExhausted() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            var attempts = 0
            #expect {
                try connection.transaction(retry: RetryPolicy(maxAttempts: 3, backoffMilliseconds: 1)) { db in
                    attempts += 1
                    try db.execute("DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = 'deadlock_detected'; END $$")
                }
            } throws: { ($0 as? TransactionRetryExhausted)?.attempts == 3 }
            #expect(attempts == 3)
        }
    }

    @Test("two sessions incrementing one counter under SERIALIZABLE lose no update")
    func realConflict() throws {
        try TestServer.withDatabase { database in
            let setup = try TestServer.connect(database)
            try setup.execute("CREATE TABLE counter (n int)")
            try setup.execute("INSERT INTO counter VALUES (0)")
            let perWorker = 20
            let failures = Locked(0)
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                do {
                    let connection = try TestServer.connect(database)
                    for _ in 0..<perWorker {
                        try connection.transaction(retry: RetryPolicy(maxAttempts: 50, backoffMilliseconds: 2)) { db in
                            let n: Int = try db.query("SELECT n FROM counter")[0].decode("n")
                            try db.execute("UPDATE counter SET n = \(n + 1)")
                        }
                    }
                } catch {
                    failures.mutate { $0 += 1 }
                }
            }
            #expect(failures.value == 0)
            let total: Int = try TestServer.connect(database).query("SELECT n FROM counter")[0].decode("n")
            #expect(total == 2 * perWorker)
        }
    }
}
