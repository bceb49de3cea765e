import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 19, "retries that cannot exhaust on unrelated records": `spec assign` and
/// `deviation open` retried serialization failures on different lots under load (the load
/// benchmark: `spec assign` exhausted its 5 attempts at 16 clients); the second person's
/// checks (`qc verify`, `confirm`, `invalidate`, `lot check`) ran SERIALIZABLE too. All
/// now run at READ COMMITTED on the lot's row lock (docs/concurrency.md), where writers on
/// other lots never meet them: seen here as a command waiting for its lot and holding no
/// predicate (SIRead) lock, which SERIALIZABLE would.
extension SameRecordRaceCommandTests {
    /// Who runs `command` on `lot`, and how (a signed one reads the password from stdin);
    /// what it needs on the lot (a result, a step) is made first.
    static func onTheLot(_ command: String, _ qs: QCReleaseCommandTests.QCSite, _ lot: DonorLotCommandTests.CreatedLot) throws
        -> (TestAccount, [String], String?) {
        let site = qs.site
        func signed(_ person: TestAccount, _ arguments: [String]) -> (TestAccount, [String], String?) {
            (person, arguments + ["--password-stdin"], person.password + "\n")
        }
        switch command {
        case "spec assign":
            return signed(site.qc, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4"])
        case "deviation open":
            return (site.operatorAccount, ["deviation", "open", "--lot", lot.keyed, "--title", "Incubator alarm"], nil)
        case "lot check":
            let step = try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, "isolation") }
            return signed(site.qa, ["lot", "check", String(try #require(try step.json()["step_id"] as? Int, "\(step)"))])
        default:
            try site.expectSuccess { try site.signed(site.qc, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4"]) }
            let confirming = command == "qc confirm"
            let id = String(try qs.record(lot, "cd45", "0.4", unit: "%", confirming ? ["--analyst", qs.qc2.id] : []).id)
            switch command {
            case "qc verify": return signed(qs.qc2, ["qc", "verify", id])
            case "qc confirm": return signed(qs.qc2, ["qc", "confirm", id])
            default: return signed(site.qa, ["qc", "invalidate", id, "--cause", "pipette P-12 out of calibration on the test day"])
            }
        }
    }

    /// Runs `arguments` as `person` while another session holds `held` (a `SELECT … FOR
    /// UPDATE` of the row the command's rule decides from) in an open transaction: the
    /// command must wait for that lock holding no predicate (SIRead) lock, which it would
    /// under SERIALIZABLE, and exit 0 once the holder lets go.
    static func expectWaitsAtReadCommitted(_ site: DonorLotCommandTests.Site, _ person: TestAccount, _ arguments: [String],
                                           stdin: String?, holding held: SQLQuery, command: String, record: String) throws {
        let holder = try TestServer.connect(site.database)
        try holder.execute("BEGIN")
        _ = try holder.query(held)
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
        #expect(waiting == 1, "\(command) should be waiting for \(record)")
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

    @Test("gmp spec assign, deviation open, qc verify / confirm / invalidate and lot check wait for a lot another session holds at READ COMMITTED: no predicate locks; each records once it is let go",
          arguments: ["spec assign", "deviation open", "qc verify", "qc confirm", "qc invalidate", "lot check"])
    func readCommittedOnTheLot(command: String) throws {
        try QCReleaseCommandTests.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let lot = try qs.eligibleLot()
            let (person, arguments, stdin) = try Self.onTheLot(command, qs, lot)
            try Self.expectWaitsAtReadCommitted(site, person, arguments, stdin: stdin,
                                                holding: "SELECT din FROM gmp.lot WHERE din = \(lot.din) FOR UPDATE",
                                                command: command, record: "the lot")
        }
    }
}
