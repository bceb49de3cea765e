import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 19, "retries that cannot exhaust on unrelated records": `spec assign` and
/// `deviation open` retried serialization failures on different lots under load (the load
/// benchmark: `spec assign` exhausted its 5 attempts at 16 clients). Both now run at READ
/// COMMITTED on the lot's row lock (docs/concurrency.md), where writers on other lots
/// never meet them: seen here as a command waiting for its lot and holding no predicate
/// (SIRead) lock, which SERIALIZABLE would.
extension SameRecordRaceCommandTests {
    @Test("gmp spec assign (signed) and gmp deviation open wait for a lot another session holds at READ COMMITTED: no predicate locks; both record once it is let go",
          arguments: ["spec assign", "deviation open"])
    func readCommittedOnTheLot(command: String) throws {
        try QCReleaseCommandTests.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.eligibleLot()
            let (person, arguments, stdin): (TestAccount, [String], String?) = command == "spec assign"
                ? (site.qc, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4", "--password-stdin"], site.qc.password + "\n")
                : (site.operatorAccount, ["deviation", "open", "--lot", lot.keyed, "--title", "Incubator alarm"], nil)
            let holder = try TestServer.connect(site.database)
            try holder.execute("BEGIN")
            _ = try holder.query("SELECT din FROM gmp.lot WHERE din = \(lot.din) FOR UPDATE")
            let watcher = try TestServer.connect(site.database)
            let result = Locked<GMPRun?>(nil)
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                result.mutate { $0 = try? site.gmp(person, arguments, stdin: stdin, killAfter: 120) }
                done.signal()
            }
            let deadline = Date().addingTimeInterval(90)
            var waiting: Int64 = 0
            while waiting < 1 && Date() < deadline {
                waiting = try watcher.query("""
                    SELECT count(*) AS n FROM pg_stat_activity WHERE usename = \(person.id) AND wait_event_type = 'Lock'
                    """)[0].decode("n")
                if waiting < 1 { Thread.sleep(forTimeInterval: 0.02) }
            }
            #expect(waiting == 1, "\(command) should be waiting for the lot")
            let predicateLocks: Int64 = try watcher.query("""
                SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE a.usename = \(person.id) AND l.mode = 'SIReadLock'
                """)[0].decode("n")
            #expect(predicateLocks == 0, "\(command) ran SERIALIZABLE: \(predicateLocks) predicate locks")
            try holder.execute("ROLLBACK")
            done.wait()
            let run = try #require(result.value)
            #expect(run.status == 0, "\(run)")
        }
    }
}
