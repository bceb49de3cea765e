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

    @Test("a connection lost during COMMIT is an unknown outcome naming the transaction, never 'nothing committed'")
    func connectionLostDuringCommit() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            // A deferred trigger keeps COMMIT busy long enough to cut the connection in it.
            try connection.execute(script: SQLScript(shippedWithBinary: """
                CREATE TABLE t (n int);
                CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$;
                CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED
                    FOR EACH ROW EXECUTE FUNCTION slow_commit();
                """))
            let pid: Int = try connection.query("SELECT pg_backend_pid() AS pid")[0].decode("pid")
            let killer = Thread {
                Thread.sleep(forTimeInterval: 1)
                _ = try? TestServer.connect(database).execute("SELECT pg_terminate_backend(\(pid))")
            }
            var written: Int64?
            killer.start()
            #expect {
                try connection.transaction(.readCommitted, retry: .never) { db in
                    try db.execute("INSERT INTO t VALUES (1)")
                    written = try db.query("SELECT txid_current() AS id")[0].decode("id")
                }
            } throws: { error in
                guard let unknown = error as? CommitOutcomeUnknown else { return false }
                return unknown.transactionID == written && unknown.transaction.requestID == nil
                    && unknown.description.contains("unknown")
            }
            // Asked afterwards, the server knows: this one was cut before its commit record.
            let status: String = try TestServer.connect(database)
                .query("SELECT txid_status(\(try #require(written))::bigint) AS s")[0].decode("s")
            #expect(status == "aborted")
        }
    }

    @Test("a transaction begun on a connection already lost is a connection loss, not a misuse (issue 18: exit 70 when the server stopped)")
    func transactionOnLostConnection() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let pid: Int = try connection.query("SELECT pg_backend_pid() AS pid")[0].decode("pid")
            try TestServer.connect(database).execute("SELECT pg_terminate_backend(\(pid))")
            Thread.sleep(forTimeInterval: 0.2)
            // As gmp's failed-login look does before a command's transaction: the failure
            // is logged and dropped, and libpq now knows the connection is gone.
            _ = try? connection.query("SELECT 1 AS one")
            #expect {
                try connection.transaction { db in try db.execute("SELECT 1") }
            } throws: { ($0 as? PostgresError)?.kind == .connectionLost }
        }
    }

    @Test("a lost connection before COMMIT, or in a transaction that wrote nothing, stays a plain connection loss")
    func connectionLostWithoutWrites() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let pid: Int = try connection.query("SELECT pg_backend_pid() AS pid")[0].decode("pid")
            #expect {
                try connection.transaction(.readCommitted, retry: .never) { db in
                    try TestServer.connect(database).execute("SELECT pg_terminate_backend(\(pid))")
                    Thread.sleep(forTimeInterval: 0.2)
                    try db.execute("SELECT 1")
                }
            } throws: { ($0 as? PostgresError)?.kind == .connectionLost }
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
