import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 19, "retries that could exhaust": the second person's signed checks — `qc verify`,
/// `qc confirm`, `qc invalidate` and `lot check` — ran SERIALIZABLE, whose false conflicts
/// between writers on different lots spend the 5 attempts. They now run READ COMMITTED on
/// the lot's row lock (docs/concurrency.md); here 16 people sign them at once, each on the
/// results or steps of a lot of their own.
extension ConcurrentWritersTests {
    /// The four kinds of check, writer `w` doing kind `w % 4`.
    static let checkKinds = ["qc verify", "qc confirm", "qc invalidate", "lot check"]
    /// Records each writer checks.
    static let checksPerWriter = 4

    @Test("16 writers of qc verify, qc confirm, qc invalidate and lot check (signed), each on a lot of its own: no exit 75, every check recorded, the trail verifies")
    func sixteenCheckingWriters() throws {
        try QCReleaseCommandTests.withQCSite { qs in
            let site = qs.site
            try qs.approvedSpecification()
            let tests = QCReleaseCommandTests.passing.prefix(Self.checksPerWriter)
            // Per writer: who signs, and the command for each of its records.
            let work: [(account: TestAccount, commands: [[String]])] = try (0..<Self.writers).map { writer in
                switch Self.checkKinds[writer % Self.checkKinds.count] {
                case "qc verify":
                    let lot = try qs.assignedLot()
                    return (qs.qc2, try tests.map { ["qc", "verify", String(try qs.record(lot, $0.test, $0.value, unit: $0.unit).id)] })
                case "qc confirm":
                    let lot = try qs.assignedLot()
                    return (qs.qc2, try tests.map {
                        ["qc", "confirm", String(try qs.record(lot, $0.test, $0.value, unit: $0.unit, ["--analyst", qs.qc2.id]).id)]
                    })
                case "qc invalidate":
                    let lot = try qs.assignedLot()
                    return (site.qa, try tests.map {
                        ["qc", "invalidate", String(try qs.record(lot, $0.test, $0.value, unit: $0.unit).id),
                         "--cause", "pipette P-\(writer) out of calibration on the test day"]
                    })
                default:
                    let lot = try qs.eligibleLot()
                    return (site.qa, try [("isolation", []), ("passage", DonorLotCommandTests.passage), ("harvest", []),
                                          ("fill", ["--units", "2", "--unit-volume", "1.5"])].map { kind, extra in
                        let step = try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, kind, extra) }
                        return ["lot", "check", String(try #require(try step.json()["step_id"] as? Int, "\(step)"))]
                    })
                }
            }
            let database = try TestServer.connect(site.database)
            func checks() throws -> Int64 {
                try database.query("""
                    SELECT (SELECT count(*) FROM gmp.qc_verification) + (SELECT count(*) FROM gmp.qc_analyst_confirmation)
                         + (SELECT count(*) FROM gmp.qc_invalidation) + (SELECT count(*) FROM gmp.step_check) AS n
                    """)[0].decode("n")
            }
            let before = try checks()
            let tally = Tally()
            Self.concurrently(Self.writers) { writer in
                let (account, commands) = work[writer]
                for command in commands {
                    guard let run = try? site.signed(account, command) else { continue }
                    tally.add(run, writer: writer)
                }
            }
            let counts = tally.counts
            let examples = tally.examples.joined(separator: "\n")
            #expect(tally.writers == Self.writers, "all \(Self.writers) writers wrote: \(tally.writers)")
            #expect(counts[75] == nil, "exit 75 (retries exhausted) on different records: \(counts)\n\(examples)")
            #expect(counts == [0: Self.writers * Self.checksPerWriter], "every check succeeds: \(counts)\n\(examples)")
            #expect(try checks() - before == Int64(Self.writers * Self.checksPerWriter), "every check is recorded")
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
        }
    }
}
