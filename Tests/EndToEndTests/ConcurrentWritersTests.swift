import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 19: people writing different records at the same time must never see their work
/// refused because someone else was typing. Before the audit trail staged its events,
/// every audited write updated one chain-head row, and 16 `gmp donor screen` on 16
/// different donors made 1–2 of them exit 75 (serialization failures, retries exhausted).
@Suite("concurrent writers on different records, end to end")
struct ConcurrentWritersTests {
    static let writers = 16
    /// How long the writers keep writing: bounded, and long enough for many overlaps.
    static let duration: TimeInterval = 8

    /// Runs `body` for writers 0..<n, each on a thread of its own, all at once, and waits
    /// for them. Not `DispatchQueue.concurrentPerform`: it runs as many at a time as the
    /// machine has cores (2 here), so "16 writers" were 2 at a time.
    static func concurrently(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for writer in 0..<n {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                body(writer)
            }
        }
        group.wait()
    }

    /// Counts exit statuses from many threads.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var statuses: [Int32: Int] = [:]
        private var failures: [String] = []
        private var seen: Set<Int> = []

        func add(_ run: GMPRun, writer: Int) {
            lock.lock()
            defer { lock.unlock() }
            seen.insert(writer)
            statuses[run.status, default: 0] += 1
            if run.status != 0, failures.count < 3 { failures.append(run.description) }
        }

        var counts: [Int32: Int] { lock.lock(); defer { lock.unlock() }; return statuses }
        var examples: [String] { lock.lock(); defer { lock.unlock() }; return failures }
        /// How many different writers ran a command.
        var writers: Int { lock.lock(); defer { lock.unlock() }; return seen.count }
    }

    @Test("16 writers screening 16 different donors for a bounded time: no exit 75, every command succeeds, the trail verifies")
    func sixteenWriters() throws {
        try DonorLotCommandTests.withSite { site in
            let donors = try (0..<Self.writers).map { _ in
                let register = try site.expectSuccess {
                    try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic",
                                                        "--name", "Concurrent Example", "--json"])
                }
                return try #require(try register.json()["donor"] as? String, "\(register)")
            }
            let tally = Tally()
            let deadline = Date().addingTimeInterval(Self.duration)
            let tests = DonorLotCommandTests.livingDonorPanel
            Self.concurrently(Self.writers) { writer in
                var round = 0
                while Date() < deadline {
                    let test = tests[round % tests.count]
                    round += 1
                    guard let run = try? site.gmp(site.qc, ["donor", "screen", donors[writer], test, "nonreactive",
                                                            "--kit", "Kit \(test) lot \(round)",
                                                            "--specimen-on", DonorLotCommandTests.collectionDay]) else { continue }
                    tally.add(run, writer: writer)
                }
            }
            let counts = tally.counts
            let total = counts.values.reduce(0, +)
            #expect(total >= Self.writers, "every writer ran at least once: \(counts)")
            #expect(tally.writers == Self.writers, "all \(Self.writers) writers wrote: \(tally.writers)")
            #expect(counts[75] == nil, "exit 75 (retries exhausted) on different records: \(counts)\n\(tally.examples.joined(separator: "\n"))")
            #expect(counts.keys.allSatisfy { $0 == 0 }, "\(counts)\n\(tally.examples.joined(separator: "\n"))")

            // gmp audit verify chains what the writers left pending (a writer does not wait
            // for another one chaining), then the chain, v1 then v2, verifies with the tables
            // reconciled; every screening recorded is in it, as a v2 event.
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
            #expect(try verify.json()["intact"] as? Bool == true, "\(verify)")
            let database = try TestServer.connect(site.database)
            #expect(try database.query("SELECT count(*) AS n FROM gmp_audit.pending_event")[0].decode("n", as: Int64.self) == 0)
            let screenings = try database.query("""
                SELECT count(*) AS n FROM gmp_audit.event
                WHERE table_name = 'gmp.screening_result' AND action = 'INSERT' AND write_order IS NOT NULL
                """)[0].decode("n", as: Int64.self)
            #expect(screenings == Int64(counts[0] ?? 0), "one chained v2 event per screening recorded")
        }
    }
    /// What writer `writer` does in round `round` of the mixed load: each writer keeps to
    /// one kind of write, on records of its own (docs/concurrency.md lists the isolation
    /// of each).
    struct MixedLoad {
        let donors: [String], lots: [String], certificate: String

        func arguments(_ site: DonorLotCommandTests.Site, writer: Int, round: Int) -> (account: TestAccount, [String]) {
            switch writer % 4 {
            case 0:
                let test = DonorLotCommandTests.livingDonorPanel[round % DonorLotCommandTests.livingDonorPanel.count]
                return (site.qc, ["donor", "screen", donors[writer / 4], test, "nonreactive", "--kit", "Kit \(test) lot \(round)",
                                "--specimen-on", DonorLotCommandTests.collectionDay])
            case 1:
                return (site.operatorAccount, ["material", "receive", "MEM-ALPHA", "--supplier", "Gibco", "--manufacturer", "Gibco", "--supplier-lot", "L\(writer)-\(round)",
                                             "--quantity", "500", "--unit", "mL", "--expires", DonorLotCommandTests.day(100),
                                             "--condition", "intact, 4 C", "--certificate", certificate])
            case 2:
                return (site.operatorAccount, ["equipment", "register", "EQ\(writer)-\(round)", "--kind", "biosafety_cabinet",
                                             "--name", "Class II cabinet", "--calibration-interval", "30"])
            default:
                return (site.qa, ["lot", round % 2 == 0 ? "hold" : "unhold", lots[writer / 4], "--reason", "load test \(round)"])
            }
        }
    }

    @Test("16 writers of four kinds (donor screen, material receive, equipment register, lot hold/unhold) on their own records for a bounded time: no exit 75, every command succeeds")
    func sixteenMixedWriters() throws {
        try DonorLotCommandTests.withSite { site in
            let qcSite = try QCReleaseCommandTests.QCSite(site)
            let certificate = try qcSite.file("coa-mixed.pdf", "%PDF-1.4 certificate of analysis\n")
            try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["material", "type", "add", "MEM-ALPHA", "--name", "alpha-MEM",
                                                    "--category", "culture_medium", "--storage", "2-8 C"])
            }
            let kinds = Self.writers / 4
            let donors = try (0..<kinds).map { _ in
                let register = try site.expectSuccess {
                    try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", "Mixed Example", "--json"])
                }
                return try #require(try register.json()["donor"] as? String, "\(register)")
            }
            let donation = try DonorLotCommandTests.donation(in: site)
            let lots = try (0..<kinds).map { _ in try DonorLotCommandTests.createLot(in: site, ["--collection", donation.collection]).keyed }
            let load = MixedLoad(donors: donors, lots: lots, certificate: certificate)
            let tally = Tally()
            let deadline = Date().addingTimeInterval(Self.duration)
            Self.concurrently(Self.writers) { writer in
                var round = 0
                while Date() < deadline {
                    let (account, arguments) = load.arguments(site, writer: writer, round: round)
                    round += 1
                    guard let run = try? site.gmp(account, arguments) else { continue }
                    tally.add(run, writer: writer)
                }
            }
            let counts = tally.counts
            #expect(counts.values.reduce(0, +) >= Self.writers, "every writer ran at least once: \(counts)")
            #expect(tally.writers == Self.writers, "all \(Self.writers) writers wrote: \(tally.writers)")
            #expect(counts[75] == nil, "exit 75 (retries exhausted) on different records: \(counts)\n\(tally.examples.joined(separator: "\n"))")
            #expect(counts.keys.allSatisfy { $0 == 0 }, "\(counts)\n\(tally.examples.joined(separator: "\n"))")
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
        }
    }
}
