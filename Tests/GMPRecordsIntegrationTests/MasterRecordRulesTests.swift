import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// The rules of V0034 and sql/code/23_master_records.sql (issue 15, master batch records):
/// a lot is made under an approved, current version; its steps are the master's, with
/// every parameter in the master's unit, judged exactly (out of range: recorded, with a
/// deviation that blocks release); a second person checks, signed; an approved version
/// is never edited. Tried as the people who use them and as a superuser writing rows.
@Suite("Master batch records: lots are made and checked as the approved master says, whoever writes")
struct MasterRecordRulesTests {
    typealias Site = QCReleaseSite

    /// A test master for cells / drug product: no formulation step; the isolation and
    /// harvest need a second person's check; the harvest needs a biosafety cabinet.
    static func document(title: String = "Test process") -> String {
        """
        {"code": "TEST-MBR", "title": "\(title)", "product_kind": "cells", "stage": "drug_product",
         "steps": [
          {"kind": "isolation", "procedure": "SOP-T-01", "check": true,
           "parameters": [{"name": "digestion_time", "unit": "min", "at_least": "30", "at_most": "60"}],
           "materials": [], "equipment": []},
          {"kind": "passage", "procedure": "SOP-T-02", "check": false,
           "parameters": [{"name": "seeding_density", "unit": "cells/cm²", "at_least": "3000", "at_most": "5000"}],
           "materials": [], "equipment": []},
          {"kind": "harvest", "procedure": "SOP-T-03", "check": true,
           "parameters": [{"name": "centrifugation_force", "unit": "x g", "at_least": null, "at_most": "500"}],
           "materials": [], "equipment": ["biosafety_cabinet"]},
          {"kind": "fill", "procedure": "SOP-T-05", "check": false, "parameters": [], "materials": [], "equipment": []},
          {"kind": "cryopreservation", "procedure": "SOP-T-06", "check": false, "parameters": [], "materials": [],
           "equipment": []}
         ]}
        """
    }

    /// Imported by the site's QA person; approved by the second QA person unless `approve` is false.
    @discardableResult
    static func master(_ site: Site, title: String = "Test process", approve: Bool = true) throws -> String {
        let id: String = try site.site.qaSession.query("""
            SELECT gmp.import_master_record(\(document(title: title))::jsonb, \(title)) AS id
            """)[0].decode("id")
        if approve {
            try SignatureCeremony(site.qa2Session).sign(password: site.qa2.password) { db, challenge in
                _ = try db.execute("SELECT gmp.approve_master_record(\(challenge), \(id), 'approved for tests')")
            }
        }
        return id
    }

    /// A drug-product lot from an eligible donor, made under `process` (NULL: the default
    /// choice), with the test specification assigned.
    static func lot(_ site: Site, process: String? = "TEST-MBR") throws -> String {
        let (donor, collection) = try site.site.receivedCollection()
        try site.site.determine(donor, collection, "eligible")
        let din: String = try site.site.operatorSession.query("""
            SELECT gmp.create_lot(\(collection), NULL, 'drug_product', 'cells', 'allogeneic', current_date + 365,
                                  \(process)::text) AS din
            """)[0].decode("din")
        try site.assign(din, maxDose: "0.4")
        return din
    }

    /// Records a step with its parameters (name, value, unit or nil) and equipment, in one
    /// transaction, as `session` (default: the operator); returns the step's id.
    @discardableResult
    static func step(_ site: Site, _ din: String, _ kind: String, _ parameters: [(String, String, String?)] = [],
                     equipment: [String] = [], as session: PostgresConnection? = nil) throws -> Int64 {
        let passage = kind == "passage", fill = kind == "fill"
        return try (session ?? site.site.operatorSession).transaction { db in
            try db.execute("""
                SELECT gmp.record_step(\(din), \(kind), NULL, \(passage ? "2000000" : nil)::numeric,
                                       \(passage ? "92.5" : nil)::numeric, \(passage ? "2" : nil)::numeric,
                                       \(fill ? 4 : nil)::int, \(fill ? "1.0" : nil)::numeric, NULL)
                """)
            for id in equipment {
                try db.execute("SELECT gmp.record_equipment_use(\(id), (SELECT max(id) FROM gmp.manufacturing_step WHERE din = \(din)), NULL)")
            }
            for (name, value, unit) in parameters {
                try db.execute("SELECT gmp.record_step_parameter(\(din), \(name), \(value)::numeric, \(unit)::text)")
            }
            return try db.query("SELECT max(id) AS id FROM gmp.manufacturing_step WHERE din = \(din)")[0].decode("id")
        }
    }

    /// `account` checks the step, signing "verified".
    static func check(_ step: Int64, as account: TestAccount, session: PostgresConnection) throws {
        try SignatureCeremony(session).sign(password: account.password) { db, challenge in
            _ = try db.execute("SELECT gmp.check_step(\(challenge), \(step), 'checked against the batch record')")
        }
    }

    static let isolation = [("digestion_time", "45", Optional("min"))]
    static let passage = [("seeding_density", "4000", Optional<String>.none)]
    static let harvest = [("centrifugation_force", "400", Optional("x g"))]

    // MARK: - Versions

    @Test("with one master in force for a kind of lot it is the default; with several (cord, marrow, adipose) the person must choose")
    func defaultOnlyWhenOne() throws {
        try Site.with { site in
            try Self.master(site)
            let only = try Self.lot(site, process: nil)
            #expect(try site.site.superuser.query("SELECT master_code FROM gmp.lot_master_record WHERE din = \(only)")[0]
                .decode("master_code", as: String.self) == "TEST-MBR")
            let other: String = try site.site.qaSession.query("""
                SELECT gmp.import_master_record(\(Self.document().replacingOccurrences(of: "TEST-MBR", with: "OTHER-MBR"))::jsonb,
                                                'another source') AS id
                """)[0].decode("id")
            try SignatureCeremony(site.qa2Session).sign(password: site.qa2.password) { db, challenge in
                _ = try db.execute("SELECT gmp.approve_master_record(\(challenge), \(other), 'approved')")
            }
            let (donor, collection) = try site.site.receivedCollection()
            try site.site.determine(donor, collection, "eligible")
            let before = try site.site.superuser.query("SELECT count(*) AS n FROM gmp.lot")[0].decode("n", as: Int64.self)
            try site.site.expectRefused("GM002", naming: ["several master batch records", "OTHER-MBR@1", "TEST-MBR@1"],
                                        "no default among several") {
                try site.site.operatorSession.execute("""
                    SELECT gmp.create_lot(\(collection), NULL, 'drug_product', 'cells', 'allogeneic', current_date + 365, NULL::text)
                    """)
            }
            #expect(try site.site.superuser.query("SELECT count(*) AS n FROM gmp.lot")[0].decode("n", as: Int64.self) == before)
            _ = try Self.lot(site, process: "OTHER-MBR")
        }
    }

    @Test("a lot is not made under a draft or a superseded version, through gmp or as a superuser")
    func draftAndSupersededRefused() throws {
        try Site.with { site in
            let draft = try Self.master(site, approve: false)
            #expect(draft == "TEST-MBR@1")
            let (donor, collection) = try site.site.receivedCollection()
            try site.site.determine(donor, collection, "eligible")
            try site.site.expectRefused("GM003", naming: ["TEST-MBR@1", "draft"], "a draft, by the operator") {
                try site.site.operatorSession.execute("""
                    SELECT gmp.create_lot(\(collection), NULL, 'drug_product', 'cells', 'allogeneic', current_date + 365,
                                          'TEST-MBR@1')
                    """)
            }
            let plain = try site.site.createLot(collection: collection, stage: "drug_product")
            try site.site.expectRefused("GM003", naming: ["draft"], "a draft, by a superuser") {
                try site.site.asSuperuser("INSERT INTO gmp.lot_master_record (din, master_code, master_version) VALUES ('\(plain)', 'TEST-MBR', 1)")
            }
            // Without --process and without an approved master, the lot has none, as before issue 15.
            let none = try Self.lot(site, process: nil)
            #expect(try site.site.superuser.query("SELECT count(*) AS n FROM gmp.lot_master_record WHERE din = \(none)")[0]
                .decode("n", as: Int64.self) == 0)

            try SignatureCeremony(site.qa2Session).sign(password: site.qa2.password) { db, challenge in
                _ = try db.execute("SELECT gmp.approve_master_record(\(challenge), 'TEST-MBR@1', 'approved')")
            }
            #expect(try Self.master(site, title: "Test process, revised") == "TEST-MBR@2")
            try site.site.expectRefused("GM003", naming: ["TEST-MBR@1", "superseded by TEST-MBR@2"], "a superseded version") {
                try site.site.operatorSession.execute("""
                    SELECT gmp.create_lot(\(collection), NULL, 'drug_product', 'cells', 'allogeneic', current_date + 365,
                                          'TEST-MBR@1')
                    """)
            }
            // The default is the version in force.
            let current = try Self.lot(site, process: nil)
            #expect(try site.site.superuser.query("SELECT master_version FROM gmp.lot_master_record WHERE din = \(current)")[0]
                .decode("master_version", as: Int.self) == 2)
        }
    }

    @Test("an approved master is never edited, not even by a superuser; its importer cannot approve it")
    func approvedNeverEdited() throws {
        try Site.with { site in
            let id = try Self.master(site, approve: false)
            try site.site.expectRefused("GM005", naming: ["you imported"], "approval by its importer") {
                try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
                    _ = try db.execute("SELECT gmp.approve_master_record(\(challenge), \(id), 'mine')")
                }
            }
            try SignatureCeremony(site.qa2Session).sign(password: site.qa2.password) { db, challenge in
                _ = try db.execute("SELECT gmp.approve_master_record(\(challenge), \(id), 'approved')")
            }
            try site.site.expectRefused("GM004", naming: ["approved", "never edited"], "a changed title") {
                try site.site.asSuperuser("UPDATE gmp.master_record SET title = 'edited' WHERE id = '\(id)'")
            }
            try site.site.expectRefused("GM004", naming: ["fixed when it was imported"], "a parameter added") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.master_parameter (master_id, kind, name, ordinal, unit, at_most)
                    VALUES ('\(id)', 'fill', 'fill_speed', 1, 'min', 5)
                    """)
            }
            try site.site.expectRefused("42501", naming: ["append-only"], "a limit widened") {
                try site.site.asSuperuser("UPDATE gmp.master_parameter SET at_most = 900 WHERE master_id = '\(id)'")
            }
        }
    }

    // MARK: - Executed steps

    @Test("a step the master does not list, an unknown parameter, a wrong unit, a missing parameter or equipment: refused, nothing written")
    func stepRefusals() throws {
        try Site.with { site in
            try Self.master(site)
            try EquipmentRulesTests.fit(site)
            let din = try Self.lot(site)
            try site.site.expectRefused("GM002", naming: ["has no parameter seeding_density"], "a parameter name of another step") {
                try Self.step(site, din, "isolation", Self.isolation + [("seeding_density", "4000", nil)])
            }
            try site.site.expectRefused("GM002", naming: ["min", "h"], "a wrong unit") {
                try Self.step(site, din, "isolation", [("digestion_time", "1", "h")])
            }
            try site.site.expectRefused("GM002", naming: ["digestion_time"], "a missing parameter (at COMMIT)") {
                try Self.step(site, din, "isolation")
            }
            try site.site.expectRefused("GM002", naming: ["digestion_time"], "a missing parameter, by a superuser") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.manufacturing_step (din, kind, performed_at, performed_by)
                    VALUES ('\(din)', 'isolation', now(), '\(site.site.operatorAccount.id)')
                    """)
            }
            try Self.step(site, din, "isolation", Self.isolation)
            try Self.step(site, din, "passage", Self.passage)
            try site.site.expectRefused("GM002", naming: ["biosafety_cabinet"], "a harvest without its cabinet") {
                try Self.step(site, din, "harvest", Self.harvest)
            }
            try Self.step(site, din, "harvest", Self.harvest, equipment: ["BSC-01"])
            try site.site.expectRefused("GM002", naming: ["no formulation step"], "a step the master does not list") {
                try Self.step(site, din, "formulation")
            }
            try site.site.expectRefused("GM004", naming: ["recorded earlier"], "a parameter added to an earlier step") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.step_parameter (step_id, name, value, unit, within_limits)
                    SELECT max(id), 'centrifugation_force', 300, 'x g', true FROM gmp.manufacturing_step WHERE din = '\(din)'
                    """)
            }
        }
    }

    @Test("an out-of-range value is recorded, judged exactly, and opens a deviation that blocks release")
    func outOfRange() throws {
        try Site.with { site in
            try Self.master(site)
            let din = try Self.lot(site)
            // Exactly at the limit is within it.
            try Self.step(site, din, "isolation", [("digestion_time", "60.000", "min")])
            try Self.step(site, din, "passage", [("seeding_density", "5000.01", nil)])
            let rows = try site.site.superuser.query("""
                SELECT p.name, p.within_limits, p.unit, d.status, d.title, dl.din
                FROM gmp.step_parameter p JOIN gmp.manufacturing_step s ON s.id = p.step_id
                LEFT JOIN gmp.deviation d ON d.id = p.deviation_id LEFT JOIN gmp.deviation_lot dl ON dl.deviation_id = d.id
                WHERE s.din = \(din) ORDER BY s.id
                """)
            #expect(rows.count == 2)
            #expect(try rows[0].decode("within_limits", as: Bool.self))
            #expect(try rows[1].decode("within_limits", as: Bool.self) == false)
            #expect(try rows[1].decode("unit", as: String.self) == "cells/cm²")
            #expect(try rows[1].decode("status", as: String?.self) == "open")
            #expect(try rows[1].decode("din", as: String?.self) == din)
            #expect(try site.blockers(din).contains { $0.contains("seeding_density out of range") })
        }
    }

    // MARK: - Second-person check

    @Test("the performer cannot check their own step; a check needs its signature, whoever writes")
    func samePersonRefused() throws {
        try Site.with { site in
            try Self.master(site)
            let din = try Self.lot(site)
            let step = try Self.step(site, din, "isolation", Self.isolation)
            try site.site.expectRefused("GM005", naming: ["you performed"], "the performer checking") {
                try Self.check(step, as: site.site.operatorAccount, session: site.site.operatorSession)
            }
            try site.site.expectRefused("42501", naming: ["signature"], "a check without a signature, by a superuser") {
                try site.site.asSuperuser("INSERT INTO gmp.step_check (step_id, checked_by) VALUES (\(step), '\(site.site.qa.id)')")
            }
            try Self.check(step, as: site.site.qa, session: site.site.qaSession)
            #expect(try site.site.superuser.query("""
                SELECT count(*) AS n FROM gmp.signature WHERE record_table = 'gmp.step_check' AND record_key = \(String(step))
                  AND meaning = 'verified' AND signer = \(site.site.qa.id)
                """)[0].decode("n", as: Int64.self) == 1)
        }
    }

    @Test("a step follows its master step's procedure once registered; the second person checks only when qualified on it")
    func unqualifiedCheckerRefused() throws {
        try Site.with { site in
            try Self.master(site)
            // The master's isolation names SOP-T-01; registered here (covering no kind), it is
            // the procedure the step follows, and its performer must be qualified on it.
            try TrainingRulesTests.register(site, "SOP-T-01")
            try TrainingRulesTests.train(site, site.site.operatorAccount, "SOP-T-01")
            let din = try Self.lot(site)
            let isolation = try Self.step(site, din, "isolation", Self.isolation)
            #expect(try TrainingRulesTests.stepProcedure(site, din) == "SOP-T-01")
            func checks() throws -> Int64 {
                try site.site.superuser.query("SELECT count(*) AS n FROM gmp.step_check WHERE step_id = \(isolation)")[0].decode("n")
            }
            try site.site.expectRefused("GM005", naming: [site.qa2.id, "SOP-T-01"], "a checker not trained on the procedure") {
                try Self.check(isolation, as: site.qa2, session: site.qa2Session)
            }
            #expect(try checks() == 0)
            try TrainingRulesTests.train(site, site.qa2, "SOP-T-01")
            try Self.check(isolation, as: site.qa2, session: site.qa2Session)
            #expect(try checks() == 1)
        }
    }

    @Test("a step its master requires checked blocks release until a second person checks it")
    func uncheckedBlocksRelease() throws {
        try Site.with { site in
            try Self.master(site)
            try EquipmentRulesTests.fit(site)
            let din = try Self.lot(site)
            let isolation = try Self.step(site, din, "isolation", Self.isolation)
            try Self.step(site, din, "passage", Self.passage)
            let harvest = try Self.step(site, din, "harvest", Self.harvest, equipment: ["BSC-01"])
            try Self.step(site, din, "fill")
            try Self.step(site, din, "cryopreservation")
            try site.passAll(din)
            let unchecked = try site.site.superuser.query("""
                SELECT item FROM gmp_rules.release_blockers(\(din)) WHERE kind = 'unchecked_step' ORDER BY item::bigint
                """).map { try $0.decode("item", as: String.self) }
            #expect(unchecked == [String(isolation), String(harvest)])
            try site.site.expectRefused("GM006", naming: ["second person"], "release with unchecked steps") {
                try site.release(din)
            }
            try Self.check(isolation, as: site.site.qa, session: site.site.qaSession)
            try Self.check(harvest, as: site.qa2, session: site.qa2Session)
            // The executed batch record shows each step's parameters against the master's
            // limits and who checked it; QA's review of it is the last thing release waits for.
            let record: String = try site.site.superuser.query("SELECT gmp.batch_record(\(din))::text AS r")[0].decode("r")
            #expect(record.contains(#""name": "digestion_time""#) && record.contains(#""at_least": "30""#), "\(record)")
            #expect(record.contains(#""checked_by": "\#(site.qa2.id)""#), "\(record)")
            let awaiting = try site.blockers(din)
            #expect(awaiting.map { $0.contains("has not been reviewed by QA") } == [true], "\(awaiting)")
            try BatchRecordRulesTests.review(site, din)
            #expect(try site.blockers(din).isEmpty)
            try site.release(din)
            #expect(try site.site.status(din) == "released")
        }
    }
}
