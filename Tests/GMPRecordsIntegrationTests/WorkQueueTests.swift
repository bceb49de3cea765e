import Foundation
import PostgresClient
import Testing
import TestSupport

/// The work queues (sql/code/21_work_queues.sql) through plain SQL, each person with their
/// own login as psql would: gmp.work_queue shows each the queues of their roles and only
/// their own work, reads what they could read anyway, and changes nothing.
@Suite("Work queues through plain SQL: by role, by person, read-only")
struct WorkQueueTests {
    static func queue(_ session: PostgresConnection, _ name: String) throws -> [String] {
        try session.query("SELECT item FROM gmp.work_queue(30) WHERE queue = \(name)").map { try $0.decode("item") }
    }

    @Test("results wait for a second person and the named analyst; the recorder and other roles do not see them")
    func resultsByRoleAndPerson() throws {
        try QCReleaseSite.with { qs in
            let site = qs.site
            let din = try qs.lot()
            let own = try qs.record(din, "cd105", "98.2", unit: "%")
            let forQC2 = try qs.record(din, "cd45", "0.4", unit: "%", analyst: qs.qc2.id)

            #expect(try Self.queue(qs.qc2Session, "qc_to_verify") == [String(own.id)])
            #expect(try Self.queue(qs.qc2Session, "qc_to_confirm") == [String(forQC2.id)])
            #expect(try Self.queue(site.qcSession, "qc_to_verify").isEmpty, "nobody verifies their own result")
            #expect(try Self.queue(site.operatorSession, "qc_to_verify").isEmpty, "verification is QC's and QA's")
            #expect(try Set(Self.queue(site.qaSession, "qc_to_verify")) == [String(own.id)],
                    "a result awaiting its analyst is confirmed first")

            try qs.verify(own.id)
            #expect(try Self.queue(qs.qa2Session, "qc_to_verify").isEmpty)

            // Every role may ask; an auditor has no queue of their own.
            let auditor = try TestAccount.create(in: site.database, roles: ["auditor"])
            let rows = try auditor.connect().query("SELECT * FROM gmp.work_queue(30)")
            #expect(rows.count == 0)
        }
    }

    @Test("the queue views are read-only for every role, and gmp.work_queue writes nothing")
    func readOnly() throws {
        try QCReleaseSite.with { qs in
            let site = qs.site
            let admin = try TestServer.connect(site.database)
            let before: Int64 = try admin.query("SELECT count(*) AS n FROM gmp_audit.event")[0].decode("n")
            for session in [site.operatorSession, site.qcSession, site.qaSession] {
                _ = try session.query("SELECT * FROM gmp.work_queue(3650)")
                _ = try session.query("SELECT count(*) AS n FROM gmp.queue_expiring_lot")
                _ = try session.query("SELECT count(*) AS n FROM gmp.queue_material_quarantine")
                _ = try session.query("SELECT count(*) AS n FROM gmp.queue_lot_to_release")
                do {
                    try session.execute("UPDATE gmp.queue_expiring_lot SET expires_on = expires_on + 1")
                    Issue.record("an update through a queue view succeeded")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "42501", "\(error)")
                }
            }
            let after: Int64 = try admin.query("SELECT count(*) AS n FROM gmp_audit.event")[0].decode("n")
            #expect(after == before)
        }
    }
}
