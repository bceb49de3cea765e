import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Inputs that decide a release (issue 20): the maximum dose M of a K/M endotoxin limit
/// (item 7) and the analyst named on a QC result (item 11), attacked in plain SQL as the
/// people who attacked them: a QA person setting a tiny dose and then releasing, and a
/// QC person recording a result in another person's name.
@Suite("Release inputs: a signed, bounded dose and the analyst's own confirmation")
struct DecisionInputTests {
    typealias Site = QCReleaseSite

    /// The document of QCReleaseSite with the K/M criterion's dose range taken out.
    static let withoutRange = Site.document
        .replacing("TEST-DP", with: "NO-RANGE")
        .replacing(#/,\s*"max_dose_min": "0.1", "max_dose_max": "4", "max_dose_unit": "mL/kg/h"/#, with: "")

    @Test("a K/M criterion without the permitted range of M is refused at import, naming the criterion")
    func rangeRequired() throws {
        try Site.with { site in
            #expect(!Self.withoutRange.contains("max_dose_min"))
            do {
                try site.site.qcSession.execute("SELECT gmp.import_specification(\(Self.withoutRange)::jsonb, 'no range')")
                Issue.record("a K/M criterion without a dose range was imported")
            } catch let error as PostgresError {
                #expect(error.sqlState == "GM002" && error.message.contains("endotoxin")
                        && error.message.contains("maximum dose"), "\(error)")
            }
            // A range on any other kind of criterion, or a half range, is refused too.
            let onBounds = Site.document.replacing("TEST-DP", with: "ODD-RANGE").replacing(
                #""lower": "95", "lower_inclusive": true, "max_retests": 1}"#,
                with: #""lower": "95", "lower_inclusive": true, "max_retests": 1, "max_dose_min": "1", "max_dose_max": "2", "max_dose_unit": "mL/kg/h"}"#)
            DonorAndLotRulesTests.expectSQLState("23514", "a dose range on a bounds criterion") {
                try site.site.qcSession.execute("SELECT gmp.import_specification(\(onBounds)::jsonb, 'odd range')")
            }
        }
    }

    @Test("the attack of item 7: M = 0.0001 is refused, unsigned or signed; M is set only signed and in range")
    func tinyDoseRefused() throws {
        try Site.with { site in
            let (donor, collection) = try site.site.receivedCollection()
            try site.site.determine(donor, collection, "eligible")
            let lot = try site.site.createLot(collection: collection, stage: "drug_product")
            // The call that set 0.0001 mL/kg/h on main: a dose is never set unsigned any more.
            DonorAndLotRulesTests.expectSQLState("42501", "the unsigned four-argument assignment") {
                try site.qa2Session.execute("SELECT gmp.assign_specification(\(lot), \(site.specification), 0.0001, false)")
            }
            DonorAndLotRulesTests.expectSQLState("42501", "a dose without a signature") {
                try site.qa2Session.execute("SELECT gmp.assign_specification(NULL, \(lot), \(site.specification), 0.4, false, NULL)")
            }
            for dose in ["0.0001", "0.09", "4.01", "1000"] {
                do {
                    try site.assign(lot, maxDose: dose, as: site.qa2, session: site.qa2Session)
                    Issue.record("M = \(dose) was accepted")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "GM002" && error.message.contains("outside specification")
                            && error.message.contains("from 0.1 to 4 mL/kg/h"), "\(dose): \(error)")
                }
            }
            let assigned: Int = try site.site.superuser.query(
                "SELECT count(*)::int AS n FROM gmp.lot_specification WHERE din = \(lot)")[0].decode("n")
            #expect(assigned == 0, "no refused dose was kept")
            // In range and signed: accepted, and the signature covers the dose.
            try site.assign(lot, maxDose: "0.4", as: site.qa2, session: site.qa2Session)
            let row = try site.site.superuser.query("""
                SELECT s.meaning, s.signer, st.intact, ls.max_dose_ml_per_kg_h::text AS m
                FROM gmp.signature s JOIN gmp.signature_status st ON st.id = s.id
                JOIN gmp.lot_specification ls ON ls.din = s.record_key
                WHERE s.record_table = 'gmp.lot_specification' AND s.record_key = \(lot)
                """)[0]
            #expect(try row.decode("meaning", as: String.self) == "determined")
            #expect(try row.decode("signer", as: String.self) == site.qa2.id)
            #expect(try row.decode("intact", as: Bool.self))
            #expect(try row.decode("m", as: String.self) == "0.4")
            // The check shows the dose and who set it.
            let dose = try site.site.superuser.query("SELECT (gmp.release_check(\(lot))->'dose')::text AS d")[0].decode("d", as: String.self)
            #expect(dose.contains("\"set_by\": \"\(site.qa2.id)\"") && dose.contains("\"signature_id\"")
                    && dose.contains("\"max_dose_ml_per_kg_h\": \"0.4\"") && dose.contains("\"min\": \"0.1\""), "\(dose)")
        }
    }

    @Test("whoever set the dose neither releases nor rejects the lot (refused at commit); another QA person does")
    func doseSetterExcluded() throws {
        try Site.with { site in
            let lot = try site.lot(doseSetter: site.qa2, session: site.qa2Session)
            try site.passAll(lot)
            #expect(try site.blockers(lot).isEmpty)
            DonorAndLotRulesTests.expectSQLState("42501", "the dose setter releasing") {
                _ = try site.release(lot, as: site.qa2, session: site.qa2Session)
            }
            DonorAndLotRulesTests.expectSQLState("42501", "the dose setter rejecting") {
                try site.reject(lot, as: site.qa2, session: site.qa2Session)
            }
            #expect(try site.site.status(lot) == "quarantine")
            try site.release(lot)
            #expect(try site.site.status(lot) == "released")
            let certificateDose = try site.site.superuser.query(
                "SELECT (gmp.certificate_of_analysis(\(lot))->'dose')::text AS d")[0].decode("d", as: String.self)
            #expect(certificateDose.contains("\"set_by\": \"\(site.qa2.id)\"") && certificateDose.contains("\"signed_by\": \"Avery Approver\""),
                    "\(certificateDose)")
        }
    }

    @Test("a dose set before doses were signed keeps the package it had: no new keys, so its hash is unchanged")
    func legacyPackageUnchanged() throws {
        try Site.with { site in
            let (donor, collection) = try site.site.receivedCollection()
            try site.site.determine(donor, collection, "eligible")
            let lot = try site.site.createLot(collection: collection, stage: "drug_product")
            // As the upgrade finds it: a row written before assignment was signed.
            try site.site.superuser.execute("SELECT set_config('gmp.reason', 'legacy assignment', false)")
            try site.site.superuser.execute("""
                INSERT INTO gmp.lot_specification (din, specification_id, max_dose_ml_per_kg_h, intrathecal, assigned_by)
                VALUES (\(lot), \(site.specification), 0.4, false, \(site.site.qa.id))
                """)
            try site.passAll(lot)
            let keys: [String] = try site.site.superuser.query("""
                SELECT jsonb_object_keys(gmp.release_check(\(lot))->'dose') AS k ORDER BY 1
                """).map { try $0.decode("k") }
            #expect(keys == ["intrathecal", "max_dose_ml_per_kg_h"])
            let resultKeys: Int = try site.site.superuser.query("""
                SELECT count(*)::int AS n FROM jsonb_array_elements(gmp.release_check(\(lot))->'evaluation') e,
                       jsonb_array_elements(e->'results') r WHERE r ? 'analyst_confirmed_by'
                """)[0].decode("n")
            #expect(resultKeys == 0)
            // Its assigner (here the site's QA person) is excluded from deciding all the same.
            DonorAndLotRulesTests.expectSQLState("42501", "the legacy dose setter releasing") { _ = try site.release(lot) }
        }
    }

    @Test("the attack of item 11: a result recorded in another person's name does not count until that person confirms it")
    func analystConfirms() throws {
        try Site.with { site in
            let lot = try site.lot()
            var ids: [String: Int64] = [:]
            for value in Site.passing {
                // The recorder types the second QC person as the analyst of cd105.
                let recorded = try site.record(lot, value.test, value.value, unit: value.unit, qualifier: value.qualifier,
                                               outcomes: value.outcomes, analyst: value.test == "cd105" ? site.qc2.id : nil)
                ids[value.test] = recorded.id
                // Verified by someone who neither recorded nor performed it.
                try site.verify(recorded.id, by: site.qa2, session: site.qa2Session)
            }
            let cd105 = try #require(ids["cd105"])
            let blockers = try site.blockers(lot)
            #expect(blockers.count == 1 && blockers[0].hasPrefix("unconfirmed: CD105"), "\(blockers)")
            DonorAndLotRulesTests.expectSQLState("GM006", "releasing with an unconfirmed result") { _ = try site.release(lot) }
            // Nobody but the named analyst confirms: not the recorder, not QA.
            func confirm(_ result: Int64, as account: TestAccount, _ session: PostgresConnection) throws {
                try site.confirm(result, by: account, session: session)
            }
            DonorAndLotRulesTests.expectSQLState("GM005", "the recorder confirming for the analyst") {
                try confirm(cd105, as: site.site.qc, site.site.qcSession)
            }
            DonorAndLotRulesTests.expectSQLState("GM005", "QA confirming for the analyst") {
                try confirm(cd105, as: site.qa2, site.qa2Session)
            }
            DonorAndLotRulesTests.expectSQLState("GM003", "confirming a result one recorded oneself") {
                try confirm(try #require(ids["cd45"]), as: site.site.qc, site.site.qcSession)
            }
            DonorAndLotRulesTests.expectSQLState("42501", "a direct insert") {
                try site.qc2Session.execute("INSERT INTO gmp.qc_analyst_confirmation (result_id) VALUES (\(cd105))")
            }
            try confirm(cd105, as: site.qc2, site.qc2Session)
            let meaning: [String] = try site.site.superuser.query("""
                SELECT meaning FROM gmp.signature WHERE record_table = 'gmp.qc_result' AND record_key = \(String(cd105))
                ORDER BY id
                """).map { try $0.decode("meaning") }
            #expect(meaning == ["reviewed", "performed"])
            #expect(try site.blockers(lot).isEmpty)
            try site.release(lot)
            #expect(try site.site.status(lot) == "released")
        }
    }
}
