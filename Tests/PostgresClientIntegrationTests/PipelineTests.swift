import Foundation
import Testing
import PostgresClient
import TestSupport

/// Statements in one round trip (issue 18): gmp's login watch travels with a command's
/// first statement, and `db status` reads both ledgers at once. Each statement must still
/// behave as if sent alone: its own implicit transaction, its own error.
@Suite("Statements in one round trip (issue 18)")
struct PipelineTests {
    /// A connection whose protocol messages are traced to a fresh file, and that file.
    private static func traced(_ database: String) throws -> (PostgresConnection, String) {
        let connection = try PostgresConnection(ConnectionConfiguration(connectionString: database))
        try connection.execute("CREATE TABLE IF NOT EXISTS pipeline_seen (n integer CHECK (n > 0))")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-trace-\(UUID().uuidString)").path
        try connection.traceProtocol(to: path)
        return (connection, path)
    }

    private static func roundTrips(_ path: String) throws -> Int {
        PostgresConnection.roundTrips(inTrace: try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n"))
    }

    @Test("a deferred statement travels with the next one: one round trip, run before it, its result to its handler")
    func deferredWithNext() throws {
        try TestServer.withDatabase { database in
            let (connection, trace) = try Self.traced(database)
            defer { try? FileManager.default.removeItem(atPath: trace) }
            var handled: [Int64] = []
            connection.sendWithNextStatement("INSERT INTO pipeline_seen VALUES (1) RETURNING n") { result in
                handled.append((try? result.get()[0].decode("n", as: Int64.self)) ?? -1)
            }
            #expect(handled.isEmpty, "nothing is sent before the next statement")
            let seen = try connection.query("SELECT count(*) AS n FROM pipeline_seen")[0].decode("n", as: Int64.self)
            #expect(seen == 1, "the deferred statement ran first and committed")
            #expect(handled == [1])
            #expect(try Self.roundTrips(trace) == 1)
            _ = try connection.query("SELECT 1")
            #expect(try Self.roundTrips(trace) == 2, "sent once only")
        }
    }

    @Test("each statement is its own transaction: a failing deferred one stops nothing, a failing next one undoes nothing")
    func ownTransactions() throws {
        try TestServer.withDatabase { database in
            let (connection, trace) = try Self.traced(database)
            defer { try? FileManager.default.removeItem(atPath: trace) }
            var failure: PostgresError?
            connection.sendWithNextStatement("INSERT INTO pipeline_seen VALUES (0)") { result in
                if case .failure(let error) = result { failure = error as? PostgresError }
            }
            #expect(try connection.execute("INSERT INTO pipeline_seen VALUES (2)") == 1)
            #expect(failure?.sqlState == "23514", "the deferred statement's own error, to its handler")

            var inserted = false
            connection.sendWithNextStatement("INSERT INTO pipeline_seen VALUES (3)") { inserted = (try? $0.get()) != nil }
            #expect(throws: PostgresError.self) { try connection.execute("INSERT INTO pipeline_seen VALUES (-1)") }
            #expect(inserted)
            let rows = try connection.query("SELECT array_agg(n ORDER BY n)::text AS n FROM pipeline_seen")[0].decode("n", as: String.self)
            #expect(rows == "{2,3}")
            #expect(try Self.roundTrips(trace) == 3)
        }
    }

    @Test("pipeline: results in order, an error only its own, one round trip")
    func pipelineResults() throws {
        try TestServer.withDatabase { database in
            let (connection, trace) = try Self.traced(database)
            defer { try? FileManager.default.removeItem(atPath: trace) }
            let results = connection.pipeline(["SELECT 1 AS n", "SELECT * FROM no_such_table", "SELECT 3 AS n"])
            #expect(try results[0].get()[0].decode("n", as: Int64.self) == 1)
            #expect(throws: PostgresError.self) { try results[1].get() }
            #expect(try results[2].get()[0].decode("n", as: Int64.self) == 3)
            #expect(try Self.roundTrips(trace) == 1)
            // Inside a transaction block the sync points end nothing: as one after another.
            try connection.transaction(.readCommitted) { db in
                let inside = db.pipeline(["INSERT INTO pipeline_seen VALUES (4)", "SELECT count(*) AS n FROM pipeline_seen"])
                let count = try inside[1].get()[0].decode("n", as: Int64.self)
                #expect(count == 1)
            }
            #expect(try connection.query("SELECT count(*) AS n FROM pipeline_seen")[0].decode("n", as: Int64.self) == 1)
        }
    }

    @Test("with no next statement, or one that cannot share a round trip (a script, a COPY), the deferred one is sent first")
    func sentAlone() throws {
        try TestServer.withDatabase { database in
            let (connection, trace) = try Self.traced(database)
            defer { try? FileManager.default.removeItem(atPath: trace) }
            var sent = 0
            connection.sendWithNextStatement("INSERT INTO pipeline_seen VALUES (5)") { _ in sent += 1 }
            connection.sendDeferredStatements()
            #expect(sent == 1)
            connection.sendWithNextStatement("INSERT INTO pipeline_seen VALUES (6)") { _ in sent += 1 }
            try connection.execute(script: SQLScript(shippedWithBinary: "INSERT INTO pipeline_seen VALUES (7); INSERT INTO pipeline_seen VALUES (8);"))
            #expect(sent == 2)
            connection.sendWithNextStatement("INSERT INTO pipeline_seen VALUES (9)") { _ in sent += 1 }
            var copied = 0
            _ = try connection.copyOut("COPY (SELECT n FROM pipeline_seen ORDER BY n) TO STDOUT") { copied += $0.count }
            #expect(sent == 3)
            #expect(copied == "5\n6\n7\n8\n9\n".utf8.count, "the COPY saw what the deferred statement wrote")
            connection.sendDeferredStatements()
            #expect(sent == 3, "nothing left to send")
        }
    }

    /// `db status` copies the ledgers with its other statements (docs/benchmarks.md, "The
    /// ledgers copied"): one simple query, one transaction, the first error ends it.
    @Test("a COPY round trip: COPY output and rows in order, one round trip; an error ends it; a waiting statement or a parameter refused")
    func copyRoundTrip() throws {
        try TestServer.withDatabase { database in
            let (connection, trace) = try Self.traced(database)
            defer { try? FileManager.default.removeItem(atPath: trace) }
            try connection.execute("INSERT INTO pipeline_seen VALUES (7), (8)")
            let answers = try connection.copyRoundTrip([
                "COPY pipeline_seen (n) TO STDOUT", "SELECT 41 + 1 AS n", "COPY (SELECT 'a\tb' AS t) TO STDOUT",
            ])
            #expect(try Self.roundTrips(trace) == 2, "the INSERT, then one for the three")
            #expect(answers.count == 3)
            if case .copied(let bytes) = answers[0] { #expect(String(decoding: bytes, as: UTF8.self) == "7\n8\n") }
            else { Issue.record("the first answer is the COPY's output") }
            if case .rows(let rows) = answers[1] { #expect(try rows[0].decode("n", as: Int.self) == 42) }
            else { Issue.record("the second answer is rows") }
            if case .copied(let bytes) = answers[2] { #expect(String(decoding: bytes, as: UTF8.self) == "a\\tb\n") }
            else { Issue.record("the third answer is the COPY's output") }
            #expect { try connection.copyRoundTrip(["COPY no_such_table TO STDOUT", "SELECT 1"]) } throws: {
                ($0 as? PostgresError)?.sqlState == "42P01"
            }
            #expect { try connection.copyRoundTrip(["SELECT 1", "COPY no_such_table TO STDOUT"]) } throws: {
                ($0 as? PostgresError)?.sqlState == "42P01"
            }
            #expect(try connection.query("SELECT 5 AS n")[0].decode("n", as: Int.self) == 5, "the connection is usable after")
            #expect { try connection.copyRoundTrip(["SELECT \(1) AS n"]) } throws: { ($0 as? ClientError)?.kind == .misuse }
            connection.sendWithNextStatement("SELECT 1") { _ in }
            #expect(connection.hasStatementsWaiting)
            #expect { try connection.copyRoundTrip(["SELECT 1"]) } throws: { ($0 as? ClientError)?.kind == .misuse }
            connection.sendDeferredStatements()
            #expect(!connection.hasStatementsWaiting)
        }
    }
}
