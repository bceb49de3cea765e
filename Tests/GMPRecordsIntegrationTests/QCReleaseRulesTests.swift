import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// The rules of V0012–V0015 (specifications, QC results, deviations, dispositions),
/// tried as the people who use them and as a superuser with psql.
@Suite("QC and release rules hold in the database, whoever asks")
struct QCReleaseRulesTests {
    typealias Site = QCReleaseSite

    // MARK: - Specifications

    /// A criterion of the test document with one key changed, and the SQLSTATE it must get.
    static let brokenCriteria: [(change: String, sqlState: String)] = [
        (#""lower": "95", "lower_inclusive": null"#, "23514"),                       // a bound without its inclusivity
        (#""lower": "95", "lower_inclusive": true, "upper": "90", "upper_inclusive": true"#, "23514"), // empty window
        (#""lower": "95", "lower_inclusive": true, "accept": ["positive"]"#, "23514"),  // bound on a qualitative
        (#""lower": "101", "lower_inclusive": true"#, "GM002"),                     // over 100 %
        (#""lower": "-1", "lower_inclusive": true"#, "23514"),                      // negative
    ]

    @Test("a criterion with a gap in it is refused at import, whoever imports", arguments: brokenCriteria)
    func brokenCriterion(change: String, sqlState: String) throws {
        try Site.with { site in
            let kind = change.contains("upper") ? "window" : "lower"
            let document = """
                {"code": "BROKEN", "title": "t", "product_kind": "cells", "stage": "drug_product", "criteria": [
                 {"test": "cd105", "name": "n", "method": "m", "kind": "\(kind)", "unit": "%", \(change), "max_retests": 1}]}
                """
            let before = try site.eventCount()
            DonorAndLotRulesTests.expectSQLState(sqlState, change) {
                try site.site.qcSession.execute("SELECT gmp.import_specification(\(document)::jsonb, 'x')")
            }
            #expect(try site.eventCount() == before)
        }
    }

    @Test("an approved specification is never edited, its criteria never added to; the importer cannot approve")
    func approvedIsFixed() throws {
        try Site.with { site in
            let superuser = site.site.superuser
            for (statement, sqlState) in [("UPDATE gmp.specification SET title = 'edited'", "GM004"),
                                          ("DELETE FROM gmp.specification", "GM004"),
                                          ("UPDATE gmp.criterion SET lower = 90", "42501"),
                                          ("INSERT INTO gmp.criterion (specification_id, test, ordinal, name, method, kind, unit, upper, upper_inclusive, max_retests) VALUES ('\(site.specification)', 'extra', 99, 'n', 'm', 'upper', '%', 5, true, 1)", "GM004")] {
                DonorAndLotRulesTests.expectSQLState(sqlState, statement) {
                    try superuser.execute(script: SQLScript(shippedWithBinary: statement))
                }
            }
            let draft: String = try site.site.qcSession.query("""
                SELECT gmp.import_specification(\(Site.document.replacing("TEST-DP", with: "TEST-DP2"))::jsonb, 'v') AS id
                """)[0].decode("id")
            #expect(draft == "TEST-DP2@1")
            // The importer (QC) may not approve; QA who imported may not approve either.
            DonorAndLotRulesTests.expectSQLState("42501", "QC approving") {
                try SignatureCeremony(site.site.qcSession).sign(password: site.site.qc.password) { db, challenge in
                    _ = try db.execute("SELECT gmp.approve_specification(\(challenge), \(draft), 'x')")
                }
            }
            let lot = try site.site.createLot(collection: try site.site.receivedCollection().collection, stage: "drug_product")
            DonorAndLotRulesTests.expectSQLState("GM003", "assigning a draft") {
                try site.site.qcSession.execute("SELECT gmp.assign_specification(NULL, \(lot), \(draft), NULL, false, NULL)")
            }
            let again = try site.site.qcSession.query("""
                SELECT gmp.import_specification(\(Site.document.replacing("TEST-DP", with: "TEST-DP2"))::jsonb, 'v2') AS id
                """)[0].decode("id", as: String.self)
            #expect(again == "TEST-DP2@2", "a change is a new version")
            let signature: Bool = try superuser.query("""
                SELECT intact FROM gmp.signature_status WHERE record_table = 'gmp.specification' AND record_key = \(site.specification)
                """)[0].decode("intact")
            #expect(signature)
        }
    }

    // MARK: - Boundaries (ISCT, peers.md)

    static let boundaries: [(test: String, qualifier: String, value: String, expected: String)] = [
        ("cd105", "=", "95.0", "pass"), ("cd105", "=", "95", "pass"), ("cd105", "=", "94.99", "fail"),
        ("cd105", ">", "95", "pass"), ("cd105", "<", "99", "fail"),
        ("cd45", "=", "2.0", "pass"), ("cd45", "=", "2.01", "fail"), ("cd45", "<", "2", "pass"), ("cd45", ">", "1", "fail"),
        ("cell_dose", "=", "45", "pass"), ("cell_dose", "=", "44.999", "fail"), ("cell_dose", "=", "60.4999", "pass"),
        ("cell_dose", "=", "60.5", "fail"),
        ("endotoxin", "=", "12.5", "pass"), ("endotoxin", "=", "12.51", "fail"), ("endotoxin", "<", "12.5", "pass"),
        ("residual_bsa", "<", "50", "pass"), ("residual_bsa", "<", "50.1", "fail"), ("residual_bsa", "=", "3", "fail"),
    ]

    @Test("values meet limits exactly at the boundaries (M = 0.4: K/M = 12.5)", arguments: boundaries)
    func boundary(test: String, qualifier: String, value: String, expected: String) throws {
        try Site.with { site in
            let verdict: String = try site.site.superuser.query("""
                SELECT gmp_rules.criterion_verdict(c, \(qualifier), \(value)::numeric, NULL, 0.4, false) AS v
                FROM gmp.criterion c WHERE c.specification_id = \(site.specification) AND c.test = \(test)
                """)[0].decode("v")
            #expect(verdict == expected, "\(test) \(qualifier)\(value)")
        }
    }

    /// Each criterion's limit as every report prints it, for M = 0.4 mL/kg/h (K/M = 12.5),
    /// the intrathecal route (0.2 / 0.4) and no dose yet.
    static let printedLimits: [(test: String, limit: String)] = [
        ("cd105", "≥ 95"), ("cd45", "≤ 2"), ("cell_dose", "≥ 45 and < 60.5"), ("sterility", "no_growth"),
        ("trilineage", "osteogenic, adipogenic, chondrogenic: positive"), ("endotoxin", "≤ 12.5 (K/M = 5 / 0.4)"),
        ("residual_bsa", "< LOD, LOD ≤ 50"),
    ]

    @Test("the limit is printed from the row the verdict judges, numbers as written")
    func printedLimits() throws {
        try Site.with { site in
            func limit(_ test: String, dose: String?, intrathecal: Bool = false) throws -> String {
                try site.site.superuser.query("""
                    SELECT gmp_rules.limit_text(c, \(dose)::numeric, \(intrathecal)) AS l
                    FROM gmp.criterion c WHERE c.specification_id = \(site.specification) AND c.test = \(test)
                    """)[0].decode("l")
            }
            for (test, expected) in Self.printedLimits {
                let printed = try limit(test, dose: "0.4")
                #expect(printed == expected, "\(test)")
            }
            let intrathecal = try limit("endotoxin", dose: "0.4", intrathecal: true)
            #expect(intrathecal == "≤ 0.5 (K/M = 0.2 / 0.4)")
            let withoutDose = try limit("endotoxin", dose: nil)
            #expect(withoutDose == "≤ K/M, K = 5")
        }
    }

    @Test("adjacent windows with complementary bounds share no point and leave no gap")
    func adjacentWindows() throws {
        try Site.with { site in
            // [45, 60.5) and [60.5, 75]: every probe lies in exactly one of the two.
            for probe in ["60.4999999", "60.5", "60.5000001", "45", "75"] {
                let inFirst: String = try site.site.superuser.query("""
                    SELECT gmp_rules.criterion_verdict(c, '=', \(probe)::numeric, NULL, NULL, false) AS v
                    FROM gmp.criterion c WHERE c.specification_id = \(site.specification) AND c.test = 'cell_dose'
                    """)[0].decode("v")
                let inSecond: String = try site.site.superuser.query("""
                    SELECT gmp_rules.criterion_verdict(jsonb_populate_record(c,
                                   '{"lower": 60.5, "lower_inclusive": true, "upper": 75, "upper_inclusive": true}'),
                                                      '=', \(probe)::numeric, NULL, NULL, false) AS v
                    FROM gmp.criterion c WHERE c.specification_id = \(site.specification) AND c.test = 'cell_dose'
                    """)[0].decode("v")
                #expect([inFirst, inSecond].filter { $0 == "pass" }.count == 1, "\(probe): \(inFirst), \(inSecond)")
            }
        }
    }

    @Test("a multi-value result passes only when every part is accepted and none is missing")
    func multiValue() throws {
        try Site.with { site in
            for (outcomes, expected) in [(["positive", "positive", "positive"], "pass"),
                                         (["positive", "negative", "positive"], "fail"),
                                         (["positive", "positive"], "fail")] {
                let verdict: String = try site.site.superuser.query("""
                    SELECT gmp_rules.criterion_verdict(c, NULL, NULL, \(outcomes)::text[], NULL, false) AS v
                    FROM gmp.criterion c WHERE c.specification_id = \(site.specification) AND c.test = 'trilineage'
                    """)[0].decode("v")
                #expect(verdict == expected, "\(outcomes)")
            }
        }
    }

    // MARK: - Results

    @Test("a result is kept as typed and judged by the database; an OOS result opens an investigation")
    func recordedAsTyped() throws {
        try Site.with { site in
            let lot = try site.lot()
            let pass = try site.record(lot, "cd105", "95.0", unit: "%")
            #expect(pass.verdict == "pass" && pass.deviation == nil && pass.attempt == 1)
            let stored: String = try site.site.superuser.query("SELECT value::text AS v FROM gmp.qc_result WHERE id = \(pass.id)")[0].decode("v")
            #expect(stored == "95.0")
            let oos = try site.record(lot, "cd45", "2.01", unit: "%")
            #expect(oos.verdict == "fail")
            let deviation = try #require(oos.deviation)
            let open: String = try site.site.superuser.query("""
                SELECT d.kind || ' ' || d.status AS s FROM gmp.deviation d JOIN gmp.deviation_lot l ON l.deviation_id = d.id
                WHERE d.id = \(deviation) AND l.din = \(lot)
                """)[0].decode("s")
            #expect(open == "oos_investigation open")
            // Converted exactly: 50,000,000 cells is 50 × 10^6 cells.
            #expect(try site.record(lot, "cell_dose", "50000000", unit: "cells").verdict == "pass")
        }
    }

    static let refusedResults: [(what: String, test: String, value: String?, unit: String?, outcomes: [String]?, sqlState: String)] = [
        ("% on a count", "cell_dose", "50", "%", nil, "GM002"),
        ("negative value", "cd105", "-1", "%", nil, "23514"),
        ("over 100 %", "cd105", "100.1", "%", nil, "GM002"),
        ("number on a qualitative test", "sterility", "1", "CFU/mL", nil, "GM002"),
        ("unknown outcome", "sterility", nil, nil, ["clean"], "GM002"),
        ("missing part", "trilineage", nil, nil, ["positive"], "GM002"),
        ("unknown test", "cd999", "1", "%", nil, "GM001"),
        ("unknown unit", "cd105", "1", "percent", nil, "GM002"),
    ]

    @Test("a malformed result is refused and leaves nothing behind", arguments: refusedResults)
    func refusedResult(what: String, test: String, value: String?, unit: String?, outcomes: [String]?, sqlState: String) throws {
        try Site.with { site in
            let lot = try site.lot()
            let before = try site.eventCount()
            DonorAndLotRulesTests.expectSQLState(sqlState, what) {
                try site.record(lot, test, value, unit: unit, outcomes: outcomes)
            }
            #expect(try site.eventCount() == before, Comment(rawValue: what))
        }
    }

    @Test("a correction keeps the original and needs verifying again; an OOS result is never corrected")
    func corrections() throws {
        try Site.with { site in
            let lot = try site.lot()
            let original = try site.record(lot, "cd105", "97.1", unit: "%")
            try site.verify(original.id)
            DonorAndLotRulesTests.expectSQLState("GM008", "a correction without a reason") {
                try site.record(lot, "cd105", "97.7", unit: "%", corrects: original.id, reason: " ")
            }
            let corrected = try site.record(lot, "cd105", "97.7", unit: "%", corrects: original.id, reason: "transcription error")
            #expect(corrected.attempt == 1)
            #expect(try site.site.superuser.query("SELECT 1 FROM gmp.qc_result WHERE id = \(original.id) AND value = 97.1").count == 1)
            #expect(try site.blockers(lot).contains { $0.hasPrefix("unverified: CD105") })
            let oos = try site.record(lot, "cd45", "3", unit: "%")
            DonorAndLotRulesTests.expectSQLState("GM004", "correcting an OOS result") {
                try site.record(lot, "cd45", "1", unit: "%", corrects: oos.id, reason: "typo")
            }
            DonorAndLotRulesTests.expectSQLState("GM003", "a second result beside a passing one") {
                try site.record(lot, "cd105", "99", unit: "%")
            }
        }
    }

    @Test("verification is by a different person; the recorder and the analyst are refused")
    func secondPerson() throws {
        try Site.with { site in
            let lot = try site.lot()
            let byQC = try site.record(lot, "cd105", "97", unit: "%")
            DonorAndLotRulesTests.expectSQLState("GM005", "recorder verifying") {
                try site.verify(byQC.id, by: site.site.qc, session: site.site.qcSession)
            }
            let performedByQC2 = try site.record(lot, "cd45", "1", unit: "%", analyst: site.qc2.id)
            DonorAndLotRulesTests.expectSQLState("GM005", "analyst verifying") {
                try site.verify(performedByQC2.id)
            }
            try site.verify(byQC.id)
            let signed: String = try site.site.superuser.query("""
                SELECT meaning FROM gmp.signature WHERE record_table = 'gmp.qc_result' AND record_key = \(String(byQC.id))
                """)[0].decode("meaning")
            #expect(signed == "reviewed")
        }
    }

    @Test("invalidation needs QA and a cause; retests are bounded and never hide an OOS that stands")
    func invalidationAndRetests() throws {
        try Site.with { site in
            let lot = try site.lot()
            let first = try site.record(lot, "cd105", "90", unit: "%")
            #expect(first.verdict == "fail")
            let retest = try site.record(lot, "cd105", "97", unit: "%", analyst: site.qc2.id)
            #expect(retest.attempt == 2 && retest.verdict == "pass" && retest.warning == nil)
            try site.verify(retest.id, by: site.qa2, session: site.qa2Session)
            #expect(try site.blockers(lot).contains { $0.hasPrefix("fail: CD105") }, "the OOS still counts")
            DonorAndLotRulesTests.expectSQLState("GM003", "a retest beyond max_retests") {
                try site.record(lot, "cd105", "98", unit: "%")
            }
            DonorAndLotRulesTests.expectSQLState("42501", "QC invalidating") {
                try SignatureCeremony(site.qc2Session).sign(password: site.qc2.password) { db, challenge in
                    _ = try db.execute("SELECT gmp.invalidate_result(\(challenge), \(first.id), 'pipette out of calibration')")
                }
            }
            DonorAndLotRulesTests.expectSQLState("GM008", "no cause") {
                try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
                    _ = try db.execute("SELECT gmp.invalidate_result(\(challenge), \(first.id), 'bad')")
                }
            }
            try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
                _ = try db.execute("SELECT gmp.invalidate_result(\(challenge), \(first.id), 'pipette P-12 out of calibration')")
            }
            // The retest was recorded in the second QC person's name: it counts once they confirm it.
            #expect(try site.blockers(lot).contains { $0.hasPrefix("unconfirmed: CD105 positive (") })
            try site.confirm(retest.id, by: site.qc2, session: site.qc2Session)
            #expect(!(try site.blockers(lot).contains { $0.contains(": CD105 positive (") }), "the criterion passes; the OOS investigation stays open")
            let kept: Int = try site.site.superuser.query("SELECT count(*)::int AS n FROM gmp.qc_result WHERE din = \(lot) AND test = 'cd105'")[0].decode("n")
            #expect(kept == 2, "the invalidated result stays")
            // A retest by the original analyst is allowed, with a warning.
            let oos = try site.record(lot, "cd45", "5", unit: "%")
            let same = try site.record(lot, "cd45", "1", unit: "%")
            #expect(oos.verdict == "fail" && same.attempt == 2 && same.warning != nil)
        }
    }

    // MARK: - Disposition

    @Test("release is refused while anything blocks, each blocker named; then released, signed and closed")
    func releasePath() throws {
        try Site.with { site in
            let lot = try site.lot(eligible: false)
            let blockers = try site.blockers(lot)
            #expect(blockers.count == 8, "\(blockers)")
            #expect(blockers.contains { $0.hasSuffix("has no eligibility determination") })
            #expect(blockers.filter { $0.hasPrefix("missing: ") }.count == 7)
            try site.passAll(lot)
            #expect(try site.blockers(lot).count == 1)
            DonorAndLotRulesTests.expectSQLState("GM006", "release without eligibility") { try site.release(lot) }
            let collection: String = try site.site.superuser.query("SELECT collection_id FROM gmp.lot WHERE din = \(lot)")[0].decode("collection_id")
            let donor: String = try site.site.superuser.query("SELECT donor_code FROM gmp.lot WHERE din = \(lot)")[0].decode("donor_code")
            try site.site.determine(donor, collection, "eligible")
            #expect(try site.blockers(lot).isEmpty)
            // The verifier may not release.
            DonorAndLotRulesTests.expectSQLState("42501", "a QA person who verified a result") {
                try site.release(lot, as: site.qc2, session: site.qc2Session)
            }
            try site.release(lot)
            #expect(try site.site.status(lot) == "released")
            let intact: Bool = try site.site.superuser.query("""
                SELECT s.intact FROM gmp.signature_status s JOIN gmp.disposition d ON s.record_table = 'gmp.disposition'
                AND s.record_key = d.id::text WHERE d.din = \(lot) AND s.meaning = 'released'
                """)[0].decode("intact")
            #expect(intact)
            DonorAndLotRulesTests.expectSQLState("GM004", "a result after release") {
                try site.record(lot, "cd90", "99", unit: "%")
            }
            DonorAndLotRulesTests.expectSQLState("GM003", "rejecting a released lot") { try site.reject(lot) }
            let coa: String = try site.site.superuser.query("SELECT gmp.certificate_of_analysis(\(lot))::text AS c")[0].decode("c")
            let document = try DonorAndLotRulesTests.object(coa)
            let tests = try #require(document["tests"] as? [[String: Any]])
            #expect(tests.count == 7)
            #expect(tests.first { $0["test"] as? String == "trilineage" }?["result"] as? String
                    == "osteogenic: positive; adipogenic: positive; chondrogenic: positive")
            #expect(tests.first { $0["test"] as? String == "residual_bsa" }?["result"] as? String == "<10")
            #expect(tests.allSatisfy { $0["verdict"] as? String == "pass" && $0["verified_by"] as? String == site.qc2.id })
            #expect(((document["release"] as? [String: Any])?["intact"] as? Bool) == true)
            #expect(((document["audit"] as? [String: Any])?["seq"] as? Int) != nil)
        }
    }

    @Test("a release the verifier signs is refused at commit: segregation of duties")
    func verifierCannotRelease() throws {
        try Site.with { site in
            let lot = try site.lot()
            for value in Site.passing {
                let recorded = try site.record(lot, value.test, value.value, unit: value.unit, qualifier: value.qualifier,
                                               outcomes: value.outcomes)
                try site.verify(recorded.id, by: site.qa2, session: site.qa2Session)
            }
            DonorAndLotRulesTests.expectSQLState("42501", "verifier releasing") { try site.release(lot, as: site.qa2, session: site.qa2Session) }
            #expect(try site.site.status(lot) == "quarantine")
        }
    }

    @Test("a superuser cannot write a release: no disposition, or no signature, fails at commit")
    func superuserCannotRelease() throws {
        try Site.with { site in
            let lot = try site.lot()
            try site.passAll(lot)
            let superuser = site.site.superuser
            let before = try site.eventCount()
            DonorAndLotRulesTests.expectSQLState("42501", "status without a disposition") {
                try superuser.transaction { db in
                    _ = try db.execute("SELECT set_config('gmp.reason', 'forced', true)")
                    _ = try db.execute("UPDATE gmp.lot SET status = 'released' WHERE din = \(lot)")
                }
            }
            DonorAndLotRulesTests.expectSQLState("42501", "disposition without a signature") {
                try superuser.transaction { db in
                    _ = try db.execute("SELECT set_config('gmp.reason', 'forced', true)")
                    _ = try db.execute("""
                        INSERT INTO gmp.disposition (din, decision, package, package_sha256, decided_by)
                        SELECT \(lot), 'released', p, gmp_rules.package_sha256(p), \(site.site.qa.id)
                        FROM gmp_rules.release_package(\(lot)) p
                        """)
                    _ = try db.execute("UPDATE gmp.lot SET status = 'released' WHERE din = \(lot)")
                }
            }
            #expect(try site.site.status(lot) == "quarantine")
            #expect(try site.eventCount() == before)
        }
    }

    @Test("an open deviation blocks release; QA closes it with a signature")
    func deviationsBlock() throws {
        try Site.with { site in
            let lot = try site.lot()
            try site.passAll(lot)
            let id: String = try site.site.operatorSession.query("""
                SELECT gmp.open_deviation('Incubator alarm during passage 2', 'CO2 at 3 % for 40 minutes', ARRAY[\(lot)]) AS id
                """)[0].decode("id")
            #expect(try site.blockers(lot) == ["deviation \(id) is open: Incubator alarm during passage 2"])
            try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
                _ = try db.execute("SELECT gmp.close_deviation(\(challenge), \(id), 'no impact: within validated range')")
            }
            #expect(try site.blockers(lot).isEmpty)
            DonorAndLotRulesTests.expectSQLState("GM004", "editing a closed deviation") {
                try site.site.superuser.execute("UPDATE gmp.deviation SET outcome = 'other' WHERE id = \(id)")
            }
        }
    }

    @Test("exceptional release: director only, failed criteria only, physician's request required")
    func exceptionalRelease() throws {
        try Site.with { site in
            let lot = try site.lot()
            try site.passAll(lot)
            // A failed endotoxin needs its investigation closed first.
            let lot2 = try site.lot()
            for value in Site.passing where value.test != "endotoxin" {
                try site.verify(try site.record(lot2, value.test, value.value, unit: value.unit, qualifier: value.qualifier,
                                                outcomes: value.outcomes).id)
            }
            let oos = try site.record(lot2, "endotoxin", "20", unit: "EU/mL")
            try site.verify(oos.id)
            func exceptional(_ din: String, physician: String?) throws {
                let hash = try site.packageHash(din)
                try SignatureCeremony(site.site.directorSession).sign(password: site.site.director.password) { db, challenge in
                    _ = try db.execute("""
                        SELECT gmp.release_exceptionally(\(challenge), \(din), \(hash), \(physician),
                               'request 2026-11-30', 'accepts the endotoxin risk', 'no alternative therapy', 'sponsor notified')
                        """)
                }
            }
            DonorAndLotRulesTests.expectSQLState("GM006", "a lot that meets its criteria") { try exceptional(lot, physician: "Dr A") }
            DonorAndLotRulesTests.expectSQLState("GM006", "investigation still open") { try exceptional(lot2, physician: "Dr A") }
            try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
                _ = try db.execute("SELECT gmp.close_deviation(\(challenge), \(try #require(oos.deviation)), 'confirmed OOS')")
            }
            DonorAndLotRulesTests.expectSQLState("GM005", "no physician") { try exceptional(lot2, physician: nil) }
            DonorAndLotRulesTests.expectSQLState("42501", "QA calling it") {
                try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
                    _ = try db.execute("SELECT gmp.release_exceptionally(\(challenge), \(lot2), 'x', 'a', 'b', 'c', 'd', 'e')")
                }
            }
            try exceptional(lot2, physician: "Dr Treating Physician")
            #expect(try site.site.status(lot2) == "exceptionally_released")
            DonorAndLotRulesTests.expectSQLState("GM006", "a CoA for an exceptional release") {
                _ = try site.site.superuser.query("SELECT gmp.certificate_of_analysis(\(lot2))")
            }
        }
    }

    @Test("two QA people releasing and rejecting at once: exactly one disposition, one clear refusal")
    func simultaneousDispositions() throws {
        try Site.with { site in
            let lot = try site.lot()
            try site.passAll(lot)
            let hash = try site.packageHash(lot)
            // Hold the lot's row so both decisions queue behind it, then let them race.
            let gate = try TestServer.connect(site.site.database)
            try gate.execute("BEGIN")
            try gate.execute("SELECT 1 FROM gmp.lot WHERE din = \(lot) FOR UPDATE")
            let outcomes = Locked<[String]>([])
            let group = DispatchGroup()
            for (account, decision) in [(site.site.qa, "release"), (site.qa2, "reject")] {
                DispatchQueue.global().async(group: group) {
                    do {
                        try SignatureCeremony(try account.connect()).sign(password: account.password) { db, challenge in
                            if decision == "release" {
                                _ = try db.execute("SELECT gmp.release_lot(\(challenge), \(lot), \(hash), 'race')")
                            } else {
                                _ = try db.execute("SELECT gmp.reject_lot(\(challenge), \(lot), 'race')")
                            }
                        }
                        outcomes.mutate { $0.append("ok") }
                    } catch let error as PostgresError {
                        outcomes.mutate { $0.append(error.sqlState + " " + error.message) }
                    } catch {
                        outcomes.mutate { $0.append("other \(error)") }
                    }
                }
            }
            Thread.sleep(forTimeInterval: 0.3)
            try gate.execute("COMMIT")
            group.wait()
            let results = outcomes.value
            #expect(results.filter { $0 == "ok" }.count == 1, "\(results)")
            #expect(results.contains { $0.hasPrefix("GM003 lot \(lot) is already") }, "\(results)")
            let count: Int = try site.site.superuser.query("SELECT count(*)::int AS n FROM gmp.disposition WHERE din = \(lot)")[0].decode("n")
            #expect(count == 1)
        }
    }

    @Test("release re-checks the eligibility evidence: a reactive result recorded after the eligible determination blocks")
    func reactiveAfterDetermination() throws {
        try QCReleaseSite.with { site in
            let lot = try site.lot()
            try site.passAll(lot)
            #expect(try site.blockers(lot).isEmpty)
            let tested: String = try site.site.superuser.query("""
                SELECT coalesce(d.birth_mother, d.code) AS t FROM gmp.lot l JOIN gmp.donor d ON d.code = l.donor_code
                WHERE l.din = \(lot)
                """)[0].decode("t")
            try site.site.screen(tested, ["hiv1-nat"], result: "reactive")
            let blockers = try site.blockers(lot)
            #expect(blockers.count == 1 && blockers[0].contains("reactive") && blockers[0].contains("after the eligible determination"),
                    "\(blockers)")
            DonorAndLotRulesTests.expectSQLState("GM006", "release with a reactive result after the determination") {
                _ = try site.release(lot)
            }
            // Whoever writes: the disposition trigger re-checks at commit for a superuser too.
            #expect(try site.site.superuser.query("SELECT count(*)::int AS n FROM gmp.disposition WHERE din = \(lot)")[0]
                .decode("n", as: Int.self) == 0)
        }
    }

    @Test("withdrawn consent blocks release, and no exceptional release covers it")
    func withdrawnConsent() throws {
        try QCReleaseSite.with { site in
            let lot = try site.lot()
            try site.passAll(lot)
            let donor: String = try site.site.superuser.query("SELECT donor_code FROM gmp.lot WHERE din = \(lot)")[0].decode("donor_code")
            try site.site.withdrawConsent(donor, daysAgo: 0)
            let blockers = try site.blockers(lot)
            #expect(blockers == ["donor \(donor) withdrew consent on \(try site.site.superuser.query("SELECT current_date::text AS d")[0].decode("d", as: String.self)): the donation may not be used"],
                    "\(blockers)")
            DonorAndLotRulesTests.expectSQLState("GM006", "release after consent was withdrawn") { _ = try site.release(lot) }
            let kinds: [String] = try site.site.superuser.query("SELECT kind FROM gmp_rules.release_blockers(\(lot))").map { try $0.decode("kind") }
            #expect(kinds == ["consent"])
        }
    }
}
