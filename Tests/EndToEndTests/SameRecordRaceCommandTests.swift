import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 19, end to end: `gmp lot step` runs at READ COMMITTED (docs/concurrency.md), as
/// its rule locks the lot. Two people recording the same step of one lot at once: one
/// records it, the other gets the rule's refusal (exit 65), never two isolations.
@Suite("same-record race through gmp: one wins, one is refused")
struct SameRecordRaceCommandTests {
    @Test("two `gmp lot step LOT isolation` at once: one records it, the other is refused (65); neither ran SERIALIZABLE")
    func twoIsolations() throws {
        try DonorLotCommandTests.withSite { site in
            let donation = try DonorLotCommandTests.donation(in: site)
            let lot = try DonorLotCommandTests.createLot(in: site, ["--collection", donation.collection])
            // The superuser holds the lot, so that both commands are inside their
            // transactions, waiting for it, before either can record anything. (The
            // commands are told apart by their login: the tests set PGAPPNAME.)
            let holder = try TestServer.connect(site.database)
            try holder.execute("BEGIN")
            _ = try holder.query("SELECT din FROM gmp.lot WHERE din = \(lot.din) FOR UPDATE")
            // Watched from a session of its own: inside the holder's transaction,
            // pg_stat_activity would keep showing its first snapshot.
            let watcher = try TestServer.connect(site.database)
            let runs = Locked<[GMPRun]>([])
            let group = DispatchGroup()
            for _ in 0..<2 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    if let run = try? DonorLotCommandTests.step(in: site, lot, "isolation") { runs.mutate { $0.append(run) } }
                }
            }
            // Generous: a gmp process starts slowly on a loaded machine.
            let deadline = Date().addingTimeInterval(90)
            var waiting: Int64 = 0
            while waiting < 2 && Date() < deadline {
                waiting = try watcher.query("""
                    SELECT count(*) AS n FROM pg_stat_activity
                    WHERE usename = \(site.operatorAccount.id) AND wait_event_type = 'Lock'
                    """)[0].decode("n")
                if waiting < 2 { Thread.sleep(forTimeInterval: 0.02) }
            }
            #expect(waiting == 2, "both commands should be waiting for the lot")
            // A SERIALIZABLE transaction holds predicate (SIRead) locks on what it read;
            // at READ COMMITTED there are none.
            let predicateLocks: Int64 = try watcher.query("""
                SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE a.usename = \(site.operatorAccount.id) AND l.mode = 'SIReadLock'
                """)[0].decode("n")
            #expect(predicateLocks == 0, "lot step ran SERIALIZABLE: \(predicateLocks) predicate locks")
            try holder.execute("ROLLBACK")
            group.wait()
            let statuses = runs.value.map(\.status).sorted()
            #expect(statuses == [0, 65], "\(runs.value)")
            if let refused = runs.value.first(where: { $0.status == 65 }) {
                expectOneLineError(refused, exit: 65, mentioning: ["out of order"])
            }
            let steps: Int64 = try holder.query("""
                SELECT count(*) AS n FROM gmp.manufacturing_step WHERE din = \(lot.din) AND kind = 'isolation'
                """)[0].decode("n")
            #expect(steps == 1)
        }
    }
}
