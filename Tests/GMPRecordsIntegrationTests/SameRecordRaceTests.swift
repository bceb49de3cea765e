import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Issue 19: writes whose rules lock what they decide from run at READ COMMITTED
/// (docs/concurrency.md). Two people racing on the SAME rule must then still end with
/// exactly one winner and the rule's refusal for the other, never with both accepted.
/// Each race is made deterministic: the first writer holds its uncommitted write until
/// the second is seen waiting for a lock, then commits.
@Suite("Same-record races at READ COMMITTED: one wins, the other gets the rule's refusal")
struct SameRecordRaceTests {
    /// Runs `second` on a thread of its own, waits until `account`'s session waits for a
    /// lock, runs `release` (the first writer's COMMIT), and returns what `second` got:
    /// "ok" or the SQLSTATE it failed with.
    static func race(_ site: DonorAndLotRulesTests.Site, waiting account: TestAccount,
                     second: @escaping @Sendable () throws -> Void, release: () throws -> Void) throws -> String {
        let outcome = Locked("not run")
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            do {
                try second()
                outcome.mutate { $0 = "ok" }
            } catch let error as PostgresError {
                outcome.mutate { $0 = error.sqlState }
            } catch {
                outcome.mutate { $0 = "other \(error)" }
            }
        }
        let deadline = Date().addingTimeInterval(10)
        var queued = false
        while !queued && Date() < deadline {
            let waiting: Int64 = try site.superuser.query("""
                SELECT count(*) AS n FROM pg_stat_activity WHERE usename = \(account.id) AND wait_event_type = 'Lock'
                """)[0].decode("n")
            queued = waiting > 0
            if !queued { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(queued, "the second writer never waited for the first: the two did not overlap")
        try release()
        group.wait()
        return outcome.value
    }

    @Test("two people record the isolation of one lot at once, both READ COMMITTED: one step, the other refused GM003")
    func twoIsolationsOfOneLot() throws {
        try DonorAndLotRulesTests.Site.with { site in
            let (_, collection) = try site.receivedCollection()
            let lot = try site.createLot(collection: collection)
            let other = try TestAccount.create(in: site.database, roles: ["operator"])
            let first = site.operatorSession
            try first.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            try first.execute("SELECT gmp.record_step(\(lot), 'isolation', NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
            let outcome = try Self.race(site, waiting: other, second: {
                try other.connect().transaction(WriteIsolation.lockedRows) { db in
                    _ = try db.execute("SELECT gmp.record_step(\(lot), 'isolation', NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
                }
            }, release: { try first.execute("COMMIT") })
            #expect(outcome == "GM003", "the second isolation: \(outcome)")
            let steps: Int64 = try site.superuser.query("""
                SELECT count(*) AS n FROM gmp.manufacturing_step WHERE din = \(lot) AND kind = 'isolation'
                """)[0].decode("n")
            #expect(steps == 1)
        }
    }

    @Test("a working cell bank made from a master while QA rejects the master: it waits for the rejection and is refused GM006")
    func childOfALotBeingRejected() throws {
        try DonorAndLotRulesTests.Site.with { site in
            let (_, collection) = try site.receivedCollection()
            let master = try site.cellBank(from: collection)
            // QA's rejection is signed and written, not yet committed, when the operator
            // creates the child. Before #19 create_lot read the parent without a lock, saw it
            // in quarantine, and its foreign key only waited for the rejection to commit:
            // a child of a rejected cell bank was accepted at READ COMMITTED.
            let creator = try TestAccount.create(in: site.database, roles: ["operator"])
            let rejected = Locked(false)
            let commit = DispatchSemaphore(value: 0)
            let rejection = DispatchGroup()
            let qa = site.qa
            rejection.enter()
            Thread.detachNewThread {
                defer { rejection.leave() }
                // As gmp's sessions do: events are chained after the commit, so the signed
                // SERIALIZABLE transaction does not touch the chain head at its COMMIT.
                guard let session = try? qa.connect(),
                      (try? session.execute("SET gmp.audit_chain = 'after_commit'")) != nil else { return }
                _ = try? SignatureCeremony(session).sign(password: qa.password) { db, challenge in
                    let id: Int64 = try db.query("SELECT gmp.reject_lot(\(challenge)::uuid, \(master), 'sterility failure') AS id")[0]
                        .decode("id")
                    // Held open on the first attempt only: a retry must not wait again.
                    let first = !rejected.value
                    rejected.mutate { $0 = true }
                    if first { commit.wait() }
                    return id
                }
            }
            // However this test ends, the rejection's transaction ends too.
            defer { commit.signal() }
            let deadline = Date().addingTimeInterval(10)
            while !rejected.value && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            #expect(rejected.value, "the rejection was not written")
            let outcome = try Self.race(site, waiting: creator, second: {
                try creator.connect().transaction(WriteIsolation.lockedRows) { db in
                    _ = try db.execute("""
                        SELECT gmp.create_lot(NULL, \(master), 'working_cell_bank', 'cells', 'allogeneic', current_date + 365)
                        """)
                }
            }, release: { commit.signal() })
            rejection.wait()
            #expect(try site.status(master) == "rejected")
            #expect(outcome == "GM006", "the child of a rejected cell bank: \(outcome)")
            let children: Int64 = try site.superuser.query("SELECT count(*) AS n FROM gmp.lot WHERE parent_din = \(master)")[0]
                .decode("n")
            #expect(children == 0)
        }
    }
}
