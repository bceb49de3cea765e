import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Issue 19: the second person's checks (`gmp qc verify`, `qc invalidate`, `lot check`)
/// moved from SERIALIZABLE to READ COMMITTED. Their rules used to read the result (or the
/// check) before taking the lot's lock; at READ COMMITTED what committed while they waited
/// for it would go unseen. Now they lock the lot first and read after: a race on the same
/// result or step ends with one winner and the rule's refusal for the other, never a
/// duplicate key, and never a verification of a result corrected meanwhile.
@Suite("Same-record races of the second person's checks at READ COMMITTED")
struct SameRecordRaceChecksTests {
    typealias Write = SameRecordRaceLockedRowsTests

    @Test("two people verify one result at once: the second waits for the lot and is refused GM003, not a duplicate key")
    func twoVerifications() throws {
        try QCReleaseSite.with { qc in
            let din = try qc.lot()
            let result = try qc.record(din, "cd45", "0.4", unit: "%").id
            let first = try HeldWriter(qc.qc2, signed: true) { db, challenge in
                _ = try db.execute("SELECT gmp.verify_result(\(challenge!), \(result), 'first')")
            }
            defer { first.release() }
            let qa2 = qc.qa2
            let outcome = try SameRecordRaceTests.race(qc.site, waiting: qa2, second: {
                try Write.write(qa2, signed: true) { db, challenge in
                    _ = try db.execute("SELECT gmp.verify_result(\(challenge!), \(result), 'second')")
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM003", "the second verification of a result verified meanwhile: \(outcome)")
            #expect(try Write.count(qc.site, "SELECT count(*) AS n FROM gmp.qc_verification WHERE result_id = \(result)") == 1)
        }
    }

    @Test("a result is corrected while another person verifies it: the verification waits for the lot and is refused GM004 (superseded)")
    func verificationOfACorrectedResult() throws {
        try QCReleaseSite.with { qc in
            let din = try qc.lot()
            let result = try qc.record(din, "cd45", "0.4", unit: "%").id
            let first = try HeldWriter(qc.site.qc, signed: false) { db, _ in
                _ = try db.query("""
                    SELECT * FROM gmp.record_result(\(din), 'cd45', NULL, 0.5::numeric, '%', NULL::text[], 'SOP method',
                                                    'Instrument 1', NULL, NULL, NULL, \(result), 'transcription error')
                    """)
            }
            defer { first.release() }
            let qc2 = qc.qc2
            let outcome = try SameRecordRaceTests.race(qc.site, waiting: qc2, second: {
                try Write.write(qc2, signed: true) { db, challenge in
                    _ = try db.execute("SELECT gmp.verify_result(\(challenge!), \(result), 'verified')")
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM004", "a verification of a result corrected while it waited: \(outcome)")
            #expect(try Write.count(qc.site, "SELECT count(*) AS n FROM gmp.qc_verification WHERE result_id = \(result)") == 0)
        }
    }

    @Test("two QA people invalidate one result at once: the second waits for the lot and is refused GM003, not a duplicate key")
    func twoInvalidations() throws {
        try QCReleaseSite.with { qc in
            let din = try qc.lot()
            let result = try qc.record(din, "cd45", "0.4", unit: "%").id
            let cause = "pipette P-12 out of calibration on the test day"
            let first = try HeldWriter(qc.site.qa, signed: true) { db, challenge in
                _ = try db.execute("SELECT gmp.invalidate_result(\(challenge!), \(result), \(cause))")
            }
            defer { first.release() }
            let qa2 = qc.qa2
            let outcome = try SameRecordRaceTests.race(qc.site, waiting: qa2, second: {
                try Write.write(qa2, signed: true) { db, challenge in
                    _ = try db.execute("SELECT gmp.invalidate_result(\(challenge!), \(result), \(cause))")
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM003", "the second invalidation of a result invalidated meanwhile: \(outcome)")
            #expect(try Write.count(qc.site, "SELECT count(*) AS n FROM gmp.qc_invalidation WHERE result_id = \(result)") == 1)
        }
    }

    @Test("two people check one step at once: the second waits for the lot and is refused GM004, not a duplicate key")
    func twoStepChecks() throws {
        try QCReleaseSite.with { qc in
            let (donor, collection) = try qc.site.receivedCollection()
            try qc.site.determine(donor, collection, "eligible")
            let din = try qc.site.createLot(collection: collection)
            try qc.site.step(din, "isolation")
            let step: Int64 = try qc.site.superuser.query("SELECT max(id) AS id FROM gmp.manufacturing_step WHERE din = \(din)")[0]
                .decode("id")
            let first = try HeldWriter(qc.site.qa, signed: true) { db, challenge in
                _ = try db.execute("SELECT gmp.check_step(\(challenge!), \(step), 'first')")
            }
            defer { first.release() }
            let qa2 = qc.qa2
            let outcome = try SameRecordRaceTests.race(qc.site, waiting: qa2, second: {
                try Write.write(qa2, signed: true) { db, challenge in
                    _ = try db.execute("SELECT gmp.check_step(\(challenge!), \(step), 'second')")
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM004", "the second check of a step checked meanwhile: \(outcome)")
            #expect(try Write.count(qc.site, "SELECT count(*) AS n FROM gmp.step_check WHERE step_id = \(step)") == 1)
        }
    }
}
