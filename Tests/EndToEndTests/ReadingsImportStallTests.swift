import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PostgresClient
import Testing
import TestSupport

/// Issue 19, defect 4: "one stalled client freezes every audited write" — a readings
/// import stopped in the middle of its COPY held the chain head, and another person's
/// `donor screen` waited 10.4 s. Here a real `gmp storage readings import` is stopped
/// (SIGSTOP) while its COPY is streaming, its server session left waiting for the rest of
/// the rows; another person's audited write must go through while it stays stopped. Then
/// the import either continues (SIGCONT: it completes, every reading there) or is killed
/// (SIGKILL: nothing of it remains, it was one transaction, and the trail verifies).
@Suite("a readings import stalled inside its COPY, end to end")
struct ReadingsImportStallTests {
    typealias Site = DonorLotCommandTests.Site

    /// Enough rows that the COPY streams for a while (seconds here), so that the test sees
    /// it running and stops gmp long before its last row is sent.
    static let rows = 1_000_000
    static let device = "LN2-E2E"
    static let application = "gmp storage readings import"

    /// A log of `rows` readings of the test tank, one a second, ending an hour ago, within
    /// the tank's limit (-150 °C: no excursion). Written as bytes: formatting a million
    /// dates one by one takes a debug build far longer than the import.
    static func writeLargeLog(to path: String) throws {
        let end = Int(Date().timeIntervalSince1970) - 3_600
        let start = end - rows + 1
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let twoDigits = (0..<60).map { Array(String(format: "%02d", $0).utf8) }
        var bytes = Array("device,read_at,celsius\n".utf8)
        bytes.reserveCapacity(rows * 40)
        var dayStart = -1
        var dayPrefix: [UInt8] = []
        for second in start...end {
            let midnight = second - second % 86_400
            if midnight != dayStart {
                dayStart = midnight
                let day = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: TimeInterval(midnight)))
                dayPrefix = Array("\(device),\(day.year!)-".utf8) + twoDigits[day.month!] + [UInt8(ascii: "-")]
                    + twoDigits[day.day!] + [UInt8(ascii: "T")]
            }
            let inDay = second - midnight
            bytes += dayPrefix
            bytes += twoDigits[inDay / 3_600]
            bytes.append(UInt8(ascii: ":"))
            bytes += twoDigits[inDay / 60 % 60]
            bytes.append(UInt8(ascii: ":"))
            bytes += twoDigits[inDay % 60]
            bytes += Array("Z,-18\(second % 10).5\n".utf8)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The import's COPY as the server shows it: its session and the rows it has so far.
    struct RunningCopy: Equatable {
        let backend: Int32
        let tuples: Int64
        let waitEvent: String?
    }

    static func runningCopy(_ monitor: PostgresConnection, backend: Int32? = nil) throws -> RunningCopy? {
        try monitor.query("""
            SELECT p.pid, p.tuples_processed, a.wait_event
            FROM pg_stat_progress_copy p JOIN pg_stat_activity a ON a.pid = p.pid
            WHERE p.datname = current_database() AND a.application_name = \(application)
              AND (\(backend)::int IS NULL OR p.pid = \(backend))
            """).first.map {
            RunningCopy(backend: try $0.decode("pid"), tuples: try $0.decode("tuples_processed"),
                        waitEvent: try $0.decode("wait_event"))
        }
    }

    /// The inserts into `table` in the trail, chained or still pending.
    static func auditEvents(_ database: PostgresConnection, table: String, key: String? = nil) throws -> Int64 {
        try database.query("""
            SELECT count(*) AS n FROM (
                SELECT action, table_name, new_values FROM gmp_audit.event
                UNION ALL SELECT action, table_name, new_values FROM gmp_audit.pending_event) e
            WHERE e.action = 'INSERT' AND e.table_name = \(table) AND (\(key)::text IS NULL OR e.new_values ->> 'id' = \(key))
            """)[0].decode("n")
    }

    /// How the stopped import ends.
    enum Ending { case continued, killed }

    /// Starts the import of a million readings, stops it with SIGSTOP once its COPY
    /// streams, checks that its server session waits inside the COPY for rows never sent,
    /// and has QC screen a donor meanwhile; then ends the import as `ending` says and
    /// returns its run, with the site and a superuser connection for the checks.
    static func stallInsideCopy(ending: Ending, then check: (Site, PostgresConnection, GMPRun) throws -> Void) throws {
        try ReadingsCommandTests.withTank { site, directory in
            let register = try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", "Stall Example", "--json"])
            }
            let donor = try #require(try register.json()["donor"] as? String, "\(register)")
            let path = directory + "/large.csv"
            try writeLargeLog(to: path)
            let monitor = try TestServer.connect(site.database)

            let gmpPID = Locked<Int32?>(nil)
            let result = Locked<GMPRun?>(nil)
            let finished = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                let run = try? site.gmp(site.operatorAccount, ["storage", "readings", "import", path, "--device", device, "--json"],
                                        killAfter: 600, started: { pid in gmpPID.mutate { $0 = pid } })
                result.mutate { $0 = run }
                finished.signal()
            }
            // Once it streams: seen in the server's COPY progress with some rows in.
            // Polled as fast as one query goes: the COPY lasts seconds.
            var copy: RunningCopy?
            let seenBy = Date().addingTimeInterval(300)
            while copy == nil, Date() < seenBy, result.value == nil {
                if let seen = try runningCopy(monitor), seen.tuples > 0 { copy = seen } else { usleep(1_000) }
            }
            let pid = try #require(gmpPID.value, "gmp was started")
            guard let streaming = copy else {
                if result.value == nil { kill(pid, SIGKILL) }
                finished.wait()
                Issue.record("the import's COPY was never seen streaming: \(result.value.map { "\($0)" } ?? "still running after 300 s")")
                return
            }
            kill(pid, SIGSTOP)
            var stopped = true
            defer { if stopped { kill(pid, SIGKILL) } }

            // Stopped inside the COPY: its session waits for the client with fewer rows than
            // the file has, and no more arrive.
            var stalled: RunningCopy?
            var last: RunningCopy?
            let stallBy = Date().addingTimeInterval(60)
            while stalled == nil, Date() < stallBy {
                usleep(200_000)
                let now = try runningCopy(monitor, backend: streaming.backend)
                if let now, now == last, now.waitEvent == "ClientRead" { stalled = now }
                last = now
                if now == nil { break }
            }
            let held = try #require(stalled, "the import's session waits inside its COPY for rows gmp never sent: last seen \(String(describing: last))")
            #expect(held.tuples < Int64(rows), "stopped before its last row was sent: \(held.tuples) of \(rows)")

            // Another person's audited write on another record, while the import holds its
            // transaction: it must not wait for the import. Bounded: gmp gives up on a held
            // row after lock_timeout (10 s, exit 75); killed at 60 s it hung.
            let screen = try site.gmp(site.qc, ["donor", "screen", donor, "hiv1-ab", "nonreactive", "--kit", "Kit during a stalled import",
                                                "--specimen-on", DonorLotCommandTests.collectionDay, "--json"], killAfter: 60)
            #expect(!screen.killed, "donor screen hung behind the stalled import (killed after 60 s, past lock_timeout's 10 s): \(screen)")
            #expect(screen.status == 0, "\(screen)")
            let id = try #require(try screen.json()["id"] as? Int, "\(screen)")
            #expect(try monitor.query("""
                SELECT count(*) AS n FROM gmp.screening_result WHERE id = \(Int64(id)) AND donor_code = \(donor)
                """)[0].decode("n", as: Int64.self) == 1, "the screening is recorded")
            #expect(try auditEvents(monitor, table: "gmp.screening_result", key: String(id)) == 1, "and its audit event is in the trail")
            // A reader of the whole trail is not frozen either: it chains what is committed
            // and leaves the stopped import's uncommitted events alone.
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"], killAfter: 120)
            #expect(verify.status == 0, "audit verify while the import is stopped: \(verify)")
            // All of that happened while the import was still stopped inside its COPY.
            #expect(try runningCopy(monitor, backend: streaming.backend) == held, "the import was still stopped inside its COPY")

            kill(pid, ending == .continued ? SIGCONT : SIGKILL)
            stopped = false
            finished.wait()
            let run = try #require(result.value, "the import ran")
            if ending == .killed {
                // The server sees the connection close and rolls the transaction back.
                let goneBy = Date().addingTimeInterval(60)
                while Date() < goneBy, try !monitor.query("SELECT 1 FROM pg_stat_activity WHERE pid = \(streaming.backend)").isEmpty {
                    usleep(100_000)
                }
            }
            try check(site, monitor, run)
        }
    }

    static func readings(_ database: PostgresConnection) throws -> (imports: Int64, readings: Int64) {
        let row = try database.query("""
            SELECT (SELECT count(*) FROM gmp.reading_import) AS imports, (SELECT count(*) FROM gmp.temperature_reading) AS readings
            """)[0]
        return (try row.decode("imports"), try row.decode("readings"))
    }

    @Test("an import stopped inside its COPY: another person's donor screen goes through meanwhile; continued, the import completes with every reading")
    func stoppedThenContinued() throws {
        try Self.stallInsideCopy(ending: .continued) { site, database, run in
            #expect(!run.killed && run.status == 0, "the continued import completes: \(run)")
            let documents = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]]
            #expect(documents?.first?["rows"] as? Int == Self.rows, "\(run)")
            let loaded = try Self.readings(database)
            #expect(loaded.imports == 1 && loaded.readings == Int64(Self.rows), "every reading is there: \(loaded)")
            let events = try Self.auditEvents(database, table: "gmp.temperature_reading")
            #expect(events == 1, "the import's readings have their one event: \(events)")
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
        }
    }

    @Test("an import stopped inside its COPY, then killed: nothing of it remains (one transaction), the device takes the next import, audit verify exits 0")
    func stoppedThenKilled() throws {
        try Self.stallInsideCopy(ending: .killed) { site, database, run in
            #expect(run.killed && run.status == SIGKILL, "\(run)")
            let loaded = try Self.readings(database)
            #expect(loaded.imports == 0 && loaded.readings == 0, "nothing of the killed import remains: \(loaded)")
            let events = (try Self.auditEvents(database, table: "gmp.reading_import"),
                          try Self.auditEvents(database, table: "gmp.temperature_reading"))
            #expect(events == (0, 0), "no audit event of the killed import: \(events)")
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
            #expect(try verify.json()["intact"] as? Bool == true, "\(verify)")
            // Its device lock went with its session: the device's next log loads.
            let small = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-after-kill-\(UUID().uuidString).csv").path
            defer { try? FileManager.default.removeItem(atPath: small) }
            try ReadingsCommandTests.write(["\(Self.device),2026-12-01T10:00:00Z,-182.4"], to: small)
            try site.expectSuccess { try site.gmp(site.operatorAccount, ["storage", "readings", "import", small]) }
        }
    }
}
