import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Issue 19: the donor-intake writes (`gmp donor consent`, `withdraw-consent`, `determine`,
/// `tissue collect`, `receive`) moved from SERIALIZABLE to READ COMMITTED on the donor's
/// row lock (docs/concurrency.md). At READ COMMITTED without that lock a collection read
/// the consent before a withdrawal in flight committed, and a determination read the
/// results before a screen in flight committed. Now each waits for the donor and reads
/// after: the rule refuses the second writer with its code.
@Suite("Same-record races of the donor-intake writes at READ COMMITTED")
struct SameRecordRaceIntakeTests {
    typealias Write = SameRecordRaceLockedRowsTests

    @Test("a collection is recorded while the donor's consent is being withdrawn: it waits for the donor and is refused GM003, never both committed")
    func collectionDuringWithdrawal() throws {
        try DonorAndLotRulesTests.Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            let second = try TestAccount.create(in: site.database, roles: ["operator"], fullName: "Otto Operator")
            let first = try HeldWriter(site.operatorAccount, signed: false) { db, _ in
                _ = try db.execute("SELECT gmp.withdraw_consent(\(donor), current_date - 1, 'donor withdrew by letter')")
            }
            defer { first.release() }
            let days = DonorAndLotRulesTests.Site.collectionDaysAgo
            let outcome = try SameRecordRaceTests.race(site, waiting: second, second: {
                try Write.write(second, signed: false) { db, _ in
                    _ = try db.execute("""
                        SELECT gmp.collect_tissue(\(donor), 'adipose', 'recovery site',
                                                  ((current_date - \(days)::int) + time '12:00') AT TIME ZONE 'UTC',
                                                  'Dr Recovery', 25, 'mL', 'chilled, 2 to 8 C')
                        """)
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM003", "a collection while the consent was withdrawn: \(outcome)")
            #expect(try Write.count(site, "SELECT count(*) AS n FROM gmp.tissue_collection WHERE donor_code = \(donor)") == 0)
        }
    }

    @Test("a reactive result is being recorded while the director determines the donor eligible: the determination waits for the donor and is refused GM006")
    func determinationDuringAScreen() throws {
        try DonorAndLotRulesTests.Site.with { site in
            let (donor, collection) = try site.receivedCollection()
            let days = DonorAndLotRulesTests.Site.collectionDaysAgo
            let test = DonorAndLotRulesTests.fullPanel[0]
            let first = try HeldWriter(site.qc, signed: false) { db, _ in
                _ = try db.execute("""
                    SELECT gmp.record_screening_result(\(donor), \(test), 'reactive', 'Kit lot 43', current_date - \(days)::int)
                    """)
            }
            defer { first.release() }
            let director = site.director
            let outcome = try SameRecordRaceTests.race(site, waiting: director, second: {
                try Write.write(director, signed: true) { db, challenge in
                    _ = try db.execute("""
                        SELECT gmp.determine_eligibility(\(challenge!), \(donor), \(collection), 'eligible', 'determined')
                        """)
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM006", "an eligible determination beside a reactive result: \(outcome)")
            #expect(try Write.count(site, "SELECT count(*) AS n FROM gmp.eligibility_determination WHERE donor_code = \(donor)") == 0)
        }
    }

    @Test("two people receive one collection at once: the second waits for the collection and is refused GM004, the first receipt stands")
    func twoReceipts() throws {
        try DonorAndLotRulesTests.Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            let collection = try site.collect(donor)
            let second = try TestAccount.create(in: site.database, roles: ["operator"], fullName: "Otto Operator")
            let first = try HeldWriter(site.operatorAccount, signed: false) { db, _ in
                _ = try db.execute("SELECT gmp.receive_tissue(\(collection), now(), 'acceptable', 'first')")
            }
            defer { first.release() }
            let outcome = try SameRecordRaceTests.race(site, waiting: second, second: {
                try Write.write(second, signed: false) { db, _ in
                    _ = try db.execute("SELECT gmp.receive_tissue(\(collection), now(), 'compromised', 'second')")
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM004", "the second receipt of a collection received meanwhile: \(outcome)")
            #expect(try Write.count(site, """
                SELECT count(*) AS n FROM gmp.tissue_collection WHERE id = \(collection) AND receipt_note = 'first'
                """) == 1)
        }
    }
}
