import Foundation
import Testing
import PostgresClient
import TestSupport

/// A cold command's round trips to the server (issue 18): the login watch travels with
/// the command's first statement, and `db status` reads both ledgers in the same round
/// trip. Counted in libpq's protocol trace (GMP_PROTOCOL_TRACE), after the login.
@Suite("Start-up round trips of a command (issue 18)")
struct StartupRoundTripTests {
    private static func traced(_ database: String, as person: TestAccount, _ arguments: [String]) throws -> (GMPRun, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-trace-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try GMPBinary.run(arguments + ["--database", database, "--user", person.id],
                                    environment: ["PGPASSWORD": person.password, "GMP_PROTOCOL_TRACE": path])
        return (run, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    @Test("db status: the login watch and both ledgers in one round trip, and the same document")
    func dbStatusOneRoundTrip() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let (run, trace) = try Self.traced(database, as: person, ["db", "status", "--json"])
            #expect(run.status == 0, "\(run)")
            #expect(try run.json()["schema"] as? [String: Any] != nil, "\(run)")
            #expect(trace.contains("record_failed_logins") && trace.contains("schema_migrations") && trace.contains("code_applied"),
                    "the watch and both ledgers are in the trace:\n\(trace)")
            #expect(PostgresConnection.roundTrips(inTrace: trace.split(separator: "\n")) == 1, "\(trace)")
        }
    }

    /// What the server is asked, not only how often: `lot show` asks for the lot and its
    /// steps, which it prints, not for the whole trace; `db status` asks the activity
    /// function, not the view that joins two more catalogs for names (docs/benchmarks.md,
    /// "Fewer catalogs for a cold command").
    @Test("lot show asks gmp.lot_show, not the whole trace; db status asks pg_stat_get_activity, not the view")
    func coldCommandsAskWhatTheyPrint() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let (status, statusTrace) = try Self.traced(database, as: person, ["db", "status", "--json"])
            #expect(status.status == 0, "\(status)")
            #expect(statusTrace.contains("pg_stat_get_activity") && !statusTrace.contains("pg_stat_activity"), "\(statusTrace)")
            // A lot that does not exist: refused by the same check as the trace's (GM001, exit 65).
            let (show, showTrace) = try Self.traced(database, as: person, ["lot", "show", "G123499999999Q", "--json"])
            expectOneLineError(show, exit: 65, mentioning: ["no lot G123499999999"])
            #expect(showTrace.contains("gmp.lot_show") && !showTrace.contains("trace_lot"), "\(showTrace)")
        }
    }

    @Test("a wrong password is recorded by the very next command, whose watch travels with its first statement")
    func failedLoginSeenByNextCommand() throws {
        try TestServer.withMigratedDatabase { database in
            let qa = try TestAccount.create(in: database, roles: ["qa"])
            let victim = try TestAccount.create(in: database, roles: ["operator"])
            let guesser = TestAccount(id: victim.id, password: "a guessed password", database: database)
            // A first command starts this database's reading of the log (nothing before it counts).
            #expect(try Self.traced(database, as: qa, ["db", "status"]).0.status == 0)
            expectOneLineError(try GMPBinary.run(["db", "status", "--database", database, "--user", guesser.id],
                                                 environment: ["PGPASSWORD": guesser.password]), exit: 77)
            // The server's collector writes the line a moment later: wait for it, reading
            // the log as the superuser (no gmp command, so no watch, runs meanwhile).
            let admin = try TestServer.connect(database)
            let deadline = Date().addingTimeInterval(10)
            while try admin.query("""
                SELECT count(*) AS n FROM regexp_split_to_table(pg_read_file(pg_current_logfile('jsonlog')), '\\n') l
                WHERE strpos(l, '"state_code":"28P01"') > 0 AND strpos(l, \("\"user\":\"" + victim.id + "\"")) > 0
                """)[0].decode("n", as: Int64.self) == 0, Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            func failures() throws -> Int64 {
                try admin.query("""
                    SELECT count(*) AS n FROM gmp_audit.security_event WHERE account_id = \(victim.id) AND kind = 'login_failed'
                    """)[0].decode("n", as: Int64.self)
            }
            #expect(try failures() == 0)
            let (run, trace) = try Self.traced(database, as: qa, ["db", "status", "--json"])
            #expect(run.status == 0, "\(run)")
            #expect(try failures() == 1, "recorded by the one command that followed")
            #expect(PostgresConnection.roundTrips(inTrace: trace.split(separator: "\n")) == 1, "\(trace)")
        }
    }
}
