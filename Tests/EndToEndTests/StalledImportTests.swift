import Foundation
import PostgresClient
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 19, defect 4: "A readings import stopped mid-COPY held the chain head; another
/// person's `donor screen` waited 10.4 s." Here a real `gmp storage readings import` is
/// stopped (SIGSTOP) while its COPY is open, its transaction holding its staged events and
/// its device: another person's audited write, and a reader of the trail, go at once.
extension DatabaseFailureTests {
    /// The pid of this test's own gmp process whose command line names `path`.
    static func ownGMPProcess(naming path: String) -> pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            // Read to the end: /proc's files report a size of 0, so a read by size gets nothing.
            guard let pid = pid_t(entry), let handle = FileHandle(forReadingAtPath: "/proc/\(entry)/cmdline") else { continue }
            let data = handle.readDataToEndOfFile()
            try? handle.close()
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if arguments.first?.hasSuffix("gmp") == true, arguments.contains(path) { return pid }
        }
        return nil
    }

    @Test("a readings import stopped mid-COPY: another person's audited write and audit verify go at once, the import finishes when resumed")
    func importStoppedMidCopy() throws {
        try ReadingsCommandTests.withTank { site, directory in
            // Enough readings that the COPY lasts long enough to be caught: one a second,
            // from 2026-11-01, 300,000 of them (3.5 days, all in the past).
            let path = directory + "/stalled.csv"
            var lines: [String] = []
            lines.reserveCapacity(300_000)
            for second in 0..<300_000 {
                let (day, rest) = second.quotientAndRemainder(dividingBy: 86_400)
                let (hour, rest2) = rest.quotientAndRemainder(dividingBy: 3_600)
                let (minute, sec) = rest2.quotientAndRemainder(dividingBy: 60)
                func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
                lines.append("LN2-E2E,2026-11-\(two(day + 1))T\(two(hour)):\(two(minute)):\(two(sec))Z,-190")
            }
            try ReadingsCommandTests.write(lines, to: path)
            let registered = try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", "Screened Meanwhile", "--json"])
            }
            let donor = try #require(try registered.json()["donor"] as? String, "\(registered)")

            let result = Locked<GMPRun?>(nil)
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                result.mutate { $0 = try? site.gmp(site.operatorAccount, ["storage", "readings", "import", path], killAfter: 180) }
                done.signal()
            }
            let watcher = try TestServer.connect(site.database)
            var stopped: pid_t?
            defer { if let stopped { kill(stopped, SIGCONT) } }
            let deadline = Date().addingTimeInterval(120)
            while stopped == nil, Date() < deadline, result.value == nil {
                let copying = try watcher.query("""
                    SELECT count(*) AS n FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name = 'gmp storage readings import'
                      AND state = 'active' AND query LIKE 'COPY gmp.temperature_reading%'
                    """)[0].decode("n", as: Int64.self)
                if copying > 0, let pid = Self.ownGMPProcess(naming: path) {
                    kill(pid, SIGSTOP)
                    stopped = pid
                } else {
                    usleep(5_000)
                }
            }
            let pid = try #require(stopped, "the import was caught inside its COPY")
            // Stopped inside its transaction: the COPY has not committed.
            let open = try watcher.query("""
                SELECT count(*) AS n FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'gmp storage readings import' AND xact_start IS NOT NULL
                """)[0].decode("n", as: Int64.self)
            #expect(open == 1, "the stopped import's transaction is open")

            // Another person's audited write (QC screens a donor): at once, not after the lock timeout (10 s).
            var started = Date()
            let write = try site.gmp(site.qc, ["donor", "screen", donor, DonorLotCommandTests.livingDonorPanel[0], "nonreactive",
                                               "--kit", "Kit during the stalled import", "--specimen-on", DonorLotCommandTests.collectionDay],
                                     killAfter: 60)
            #expect(write.status == 0, "\(write)")
            #expect(Date().timeIntervalSince(started) < 8, "a write waited for the stopped import: \(Date().timeIntervalSince(started)) s")
            // A reader of the trail chains first: nothing the import holds is in its way.
            started = Date()
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"], killAfter: 60)
            #expect(verify.status == 0, "\(verify)")
            #expect(try verify.json()["intact"] as? Bool == true, "\(verify)")
            #expect(Date().timeIntervalSince(started) < 8, "verify waited for the stopped import: \(Date().timeIntervalSince(started)) s")

            kill(pid, SIGCONT)
            stopped = nil
            done.wait()
            let run = try #require(result.value)
            #expect(run.status == 0, "the import finished once resumed: \(run)")
            #expect(try ReadingsCommandTests.readings(site) == 300_000)
            let after = try site.gmp(site.qa, ["audit", "verify", "--json"], killAfter: 120)
            #expect(after.status == 0, "\(after)")
        }
    }
}
