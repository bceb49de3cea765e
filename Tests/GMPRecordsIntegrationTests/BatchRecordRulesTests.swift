import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// The executed batch record and QA's review of it (issue 15, sql/code/24_batch_record.sql):
/// tried as the people who use them and, in plain SQL, as a superuser.
@Suite("the batch record review gates the release of lots made under a master record")
struct BatchRecordRulesTests {
    typealias Site = QCReleaseSite

    /// A master batch record of two steps, no parameters and no checks, so that what is
    /// tried here is the review alone; imported by QA and approved by the second QA person.
    static func master(_ site: Site) throws {
        let existing: Int = try site.site.superuser.query("""
            SELECT count(*)::int AS n FROM gmp.master_record WHERE code = 'BR-MBR'
            """)[0].decode("n")
        guard existing == 0 else { return }
        let document = """
            {"code": "BR-MBR", "title": "Batch record test process", "product_kind": "cells", "stage": "drug_product",
             "steps": [
              {"kind": "isolation", "procedure": "SOP-T-01", "check": false, "parameters": [], "materials": [], "equipment": []},
              {"kind": "passage", "procedure": "SOP-T-02", "check": false, "parameters": [], "materials": [], "equipment": []}
             ]}
            """
        let id: String = try site.site.qaSession.query("""
            SELECT gmp.import_master_record(\(document)::jsonb, 'Batch record test process') AS id
            """)[0].decode("id")
        try SignatureCeremony(site.qa2Session).sign(password: site.qa2.password) { db, challenge in
            _ = try db.execute("SELECT gmp.approve_master_record(\(challenge), \(id), 'approved for tests')")
        }
    }

    /// A lot whose QC passes, from an eligible donor, with an isolation and a passage
    /// recorded by the operator; made under a master record when `underMaster`.
    static func lot(_ site: Site, underMaster: Bool = true) throws -> String {
        let lot: String
        if underMaster {
            try master(site)
            lot = try MasterRecordRulesTests.lot(site, process: "BR-MBR")
        } else {
            lot = try site.lot()
        }
        try site.site.step(lot, "isolation")
        try site.site.step(lot, "passage")
        try site.passAll(lot)
        return lot
    }

    static func contentHash(_ site: Site, _ lot: String) throws -> String {
        try site.site.superuser.query("SELECT gmp.batch_record(\(lot))->>'content_sha256' AS h")[0].decode("h")
    }

    /// QA reviews over the hash read now (default: the site's QA person).
    @discardableResult
    static func review(_ site: Site, _ lot: String, as account: TestAccount? = nil, session: PostgresConnection? = nil,
                       hash: String? = nil) throws -> Int64 {
        let sha = try hash ?? contentHash(site, lot)
        return try SignatureCeremony(session ?? site.site.qaSession).sign(password: (account ?? site.site.qa).password) { db, challenge in
            try db.query("SELECT gmp.review_batch_record(\(challenge), \(lot), \(sha), 'record reviewed in full') AS id")[0].decode("id")
        }
    }

    static func reviewBlockers(_ site: Site, _ lot: String) throws -> [String] {
        try site.site.superuser.query("""
            SELECT problem FROM gmp_rules.release_blockers(\(lot)) WHERE kind = 'batch_record_review'
            """).map { try $0.decode("problem") }
    }

    @Test("a lot made under a master record without a review cannot be released; reviewed, it can, and its CoA stays intact")
    func reviewGatesRelease() throws {
        try Site.with { site in
            let lot = try Self.lot(site)
            let blockers = try Self.reviewBlockers(site, lot)
            #expect(blockers.count == 1 && blockers[0].contains("has not been reviewed by QA"), "\(blockers)")
            let check: String = try site.site.qaSession.query("SELECT gmp.release_check(\(lot))::text AS c")[0].decode("c")
            #expect(check.contains("batch_record_review") && check.contains("\"releasable\": false"), "\(check)")
            DonorAndLotRulesTests.expectSQLState("GM006", "QA releasing without the review") { try site.release(lot) }

            try Self.review(site, lot)
            #expect(try Self.reviewBlockers(site, lot).isEmpty)
            let package: String = try site.site.superuser.query("SELECT gmp_rules.release_package(\(lot))::text AS p")[0].decode("p")
            #expect(package.contains("\"batch_record_review\""), "the package names the review")
            try site.release(lot)
            #expect(try site.site.status(lot) == "released")
            let intact: Bool = try site.site.superuser.query("""
                SELECT (gmp.certificate_of_analysis(\(lot))->'release'->>'intact')::boolean AS i
                """)[0].decode("i")
            #expect(intact, "the released package hashes as signed")
            // A decided lot's record is closed to review.
            DonorAndLotRulesTests.expectSQLState("GM003", "a review after release") { try Self.review(site, lot) }
        }
    }

    @Test("a release that skips gmp.release_lot (a superuser handing QA the inner routine and the table rights) is refused at COMMIT")
    func releaseRefusedAtCommit() throws {
        try Site.with { site in
            let lot = try Self.lot(site)
            let qa = try #require(SQLIdentifier(site.site.qa.id))
            try site.site.superuser.execute("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp_rules TO \(identifier: qa)")
            try site.site.superuser.execute("GRANT INSERT ON gmp.disposition TO \(identifier: qa)")
            try site.site.superuser.execute("GRANT UPDATE ON gmp.lot TO \(identifier: qa)")
            DonorAndLotRulesTests.expectSQLState("GM006", "a release through gmp_rules.decide") {
                try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
                    _ = try db.execute("""
                        SELECT gmp_rules.decide(\(challenge), \(lot), 'released', gmp_rules.release_package(\(lot)), 'bypass',
                                                NULL, NULL, NULL, NULL, NULL)
                        """)
                }
            }
            #expect(try site.site.status(lot) == "quarantine")
        }
    }

    @Test("a change after the review (a new step, a deviation) blocks again, naming the review; reviewed again, it clears")
    func changeBreaksReview() throws {
        try Site.with { site in
            let lot = try Self.lot(site)
            try Self.review(site, lot)
            let before = try Self.contentHash(site, lot)
            try site.site.step(lot, "passage")
            #expect(try Self.contentHash(site, lot) != before)
            var blockers = try Self.reviewBlockers(site, lot)
            #expect(blockers.count == 1 && blockers[0].contains("changed since the review at")
                    && blockers[0].contains("review again"), "\(blockers)")
            DonorAndLotRulesTests.expectSQLState("GM006", "release after a new step") { try site.release(lot) }
            // The old hash is refused: the reviewer must see what is there now.
            DonorAndLotRulesTests.expectSQLState("GM010", "a review over the hash read before the step") {
                try Self.review(site, lot, hash: before)
            }
            try Self.review(site, lot)
            #expect(try Self.reviewBlockers(site, lot).isEmpty)
            // A deviation linked to the lot is a change of the record too.
            try site.site.operatorSession.execute("SELECT gmp.open_deviation('cabinet alarm during passage', 'airflow alarm', ARRAY[\(lot)])")
            blockers = try Self.reviewBlockers(site, lot)
            #expect(blockers.count == 1 && blockers[0].contains("changed since the review"), "\(blockers)")
            let document: String = try site.site.qaSession.query("SELECT gmp.batch_record(\(lot))::text AS d")[0].decode("d")
            #expect(document.contains("\"current\": false"), "the document says the review no longer covers it")
        }
    }

    @Test("only QA reviews, and not a QA person who performed a step of the lot; the row needs its signature")
    func whoMayReview() throws {
        try Site.with { site in
            let lot = try Self.lot(site)
            let hash = try Self.contentHash(site, lot)
            for (account, session) in [(site.site.operatorAccount, site.site.operatorSession), (site.site.qc, site.site.qcSession)] {
                DonorAndLotRulesTests.expectSQLState("42501", "\(account.id) reviewing") {
                    try Self.review(site, lot, as: account, session: session, hash: hash)
                }
                DonorAndLotRulesTests.expectSQLState("42501", "\(account.id) inserting a review") {
                    try session.execute("INSERT INTO gmp.batch_record_review (din, document_sha256) VALUES (\(lot), sha256('x'))")
                }
            }
            // A QA person who also works in production and performed a step of this lot.
            let maker = try TestAccount.create(in: site.site.database, roles: ["operator", "qa"], fullName: "Pat Performer")
            let makerSession = try maker.connect()
            try makerSession.execute("""
                SELECT gmp.record_step(\(lot), 'passage', NULL, 2000000::numeric, 92.5::numeric, 2::numeric, NULL::int, NULL::numeric, NULL)
                """)
            DonorAndLotRulesTests.expectSQLState("42501", "a QA person who performed a step") {
                try Self.review(site, lot, as: maker, session: makerSession)
            }
            // A superuser's row without a signature is refused at COMMIT.
            DonorAndLotRulesTests.expectSQLState("42501", "a superuser's unsigned review") {
                try site.site.superuser.transaction { db in
                    try db.execute("SELECT set_config('gmp.reason', 'unsigned review', true)")
                    try db.execute("""
                        INSERT INTO gmp.batch_record_review (din, document_sha256, reviewed_by)
                        VALUES (\(lot), decode(\(try Self.contentHash(site, lot)), 'hex'), \(site.site.qa.id))
                        """)
                }
            }
            #expect(try Self.reviewBlockers(site, lot).count == 1)
        }
    }

    @Test("a lot not made under a master record needs no review, and its package has no review key")
    func lotsWithoutMasterUnaffected() throws {
        try Site.with { site in
            let lot = try Self.lot(site, underMaster: false)
            #expect(try Self.reviewBlockers(site, lot).isEmpty)
            #expect(try site.blockers(lot).isEmpty)
            let package: String = try site.site.superuser.query("SELECT gmp_rules.release_package(\(lot))::text AS p")[0].decode("p")
            #expect(!package.contains("batch_record_review"))
            try site.release(lot)
            #expect(try site.site.status(lot) == "released")
        }
    }

    @Test("the batch record shows steps with performer names, QC, signatures and its chain position")
    func documentContent() throws {
        try Site.with { site in
            let lot = try Self.lot(site)
            try site.site.superuser.execute("SELECT gmp_audit.chain_pending()")
            let document = try DonorAndLotRulesTests.object(
                try site.site.qaSession.query("SELECT gmp.batch_record(\(lot))::text AS d")[0].decode("d"))
            let steps = try #require(document["steps"] as? [[String: Any]])
            #expect(steps.map { $0["kind"] as? String } == ["isolation", "passage"])
            #expect(steps.allSatisfy { $0["performer_name"] as? String == "Olga Operator" })
            let qc = try #require(document["qc"] as? [[String: Any]])
            #expect(qc.count == 7 && qc.allSatisfy { $0["verdict"] as? String == "pass" })
            let signatures = try #require(document["signatures"] as? [[String: Any]])
            #expect(signatures.contains { $0["meaning"] as? String == "determined" })
            #expect(signatures.filter { $0["record_table"] as? String == "gmp.qc_result" }.count == 7)
            let audit = try #require(document["audit"] as? [String: Any])
            #expect((audit["seq"] as? Int ?? 0) > 0)
            #expect((document["master_record"] as? [String: Any])?["code"] as? String == "BR-MBR")
            // Chaining pending events, a hold and its lifting change nothing a review covers.
            let hash = try Self.contentHash(site, lot)
            try site.site.qaSession.execute("SELECT gmp.hold_lot(\(lot), 'waiting for a document')")
            try site.site.qaSession.execute("SELECT gmp.unhold_lot(\(lot), 'document found')")
            #expect(try Self.contentHash(site, lot) == hash)
        }
    }
}
