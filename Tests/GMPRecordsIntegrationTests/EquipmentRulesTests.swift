import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// The rules of V0029 and sql/code/17_equipment.sql (issue 14, equipment): a step or QC
/// result uses equipment only when in service and within its calibration and maintenance
/// at the step's time; status changes, calibrations and maintenance are signed; a
/// calibration found out of tolerance opens a deviation on every lot it calls into
/// question. Tried as the people who use them and as a superuser writing rows directly.
@Suite("Equipment is used only when in service and in date, whoever writes")
struct EquipmentRulesTests {
    typealias Site = QCReleaseSite

    // MARK: - Helpers

    static func register(_ site: Site, _ id: String = "BSC-01", calibration: Int? = 30, maintenance: Int? = 365,
                         as session: PostgresConnection? = nil) throws {
        try (session ?? site.site.operatorSession).execute("""
            SELECT gmp.register_equipment(\(id), 'biosafety_cabinet', 'Class II cabinet', NULL,
                                          \(calibration.map(Int64.init))::integer, \(maintenance.map(Int64.init))::integer)
            """)
    }

    /// Records a calibration or maintenance `daysAgo` days ago, signed by `account` (default: the operator).
    @discardableResult
    static func service(_ site: Site, _ id: String = "BSC-01", kind: String = "calibration", daysAgo: Double = 10,
                        found: String? = "in_tolerance", left: String? = "in_tolerance", due: String? = nil,
                        as account: TestAccount? = nil, session: PostgresConnection? = nil) throws -> Int64 {
        let who = account ?? site.site.operatorAccount
        let isCalibration = kind == "calibration"
        return try SignatureCeremony(session ?? site.site.operatorSession).sign(password: who.password) { db, challenge in
            try db.query("""
                SELECT gmp.record_equipment_service(\(challenge), \(id), \(kind),
                    now() - make_interval(secs => \(Int64(daysAgo * 86_400))::bigint), \(due)::timestamptz,
                    \(isCalibration ? found : nil), \(isCalibration ? left : nil), 'cert 1', 'done') AS id
                """)[0].decode("id")
        }
    }

    /// Calibrated and maintained 10 days ago: fit for use now.
    static func fit(_ site: Site, _ id: String = "BSC-01") throws {
        try register(site, id)
        try service(site, id)
        try service(site, id, kind: "maintenance")
    }

    static func changeStatus(_ site: Site, _ id: String = "BSC-01", inService: Bool, as account: TestAccount,
                             session: PostgresConnection) throws {
        try SignatureCeremony(session).sign(password: account.password) { db, challenge in
            if inService {
                _ = try db.execute("SELECT gmp.return_equipment_to_service(\(challenge), \(id), 'repaired and checked')")
            } else {
                _ = try db.execute("SELECT gmp.take_equipment_out_of_service(\(challenge), \(id), 'airflow alarm')")
            }
        }
    }

    /// A lot with its isolation recorded `stepHoursAgo` hours ago; returns it and the step's id.
    static func lotWithStep(_ site: Site, stepHoursAgo: Double = 0) throws -> (din: String, step: Int64) {
        let din = try site.lot()
        try site.site.operatorSession.execute("""
            SELECT gmp.record_step(\(din), 'isolation', now() - make_interval(secs => \(Int64(stepHoursAgo * 3600))::bigint),
                                   NULL, NULL, NULL, NULL, NULL, NULL)
            """)
        return (din, try latestStep(site, din))
    }

    static func latestStep(_ site: Site, _ din: String) throws -> Int64 {
        try site.site.superuser.query("SELECT max(id) AS id FROM gmp.manufacturing_step WHERE din = \(din)")[0].decode("id")
    }

    static func use(_ site: Site, _ id: String = "BSC-01", step: Int64? = nil, result: Int64? = nil,
                    as session: PostgresConnection? = nil) throws {
        try (session ?? site.site.operatorSession).execute("""
            SELECT gmp.record_equipment_use(\(id), \(step)::bigint, \(result)::bigint)
            """)
    }

    static func useCount(_ site: Site) throws -> Int64 {
        try site.site.superuser.query("SELECT count(*) AS n FROM gmp.equipment_use")[0].decode("n")
    }

    // MARK: - Use

    /// Each way equipment is unfit, and what the refusal says.
    static let unfit: [(how: String, says: String)] = [
        ("out of service", "out of service"), ("never calibrated", "no calibration"),
        ("calibration overdue", "calibration was overdue"), ("maintenance overdue", "maintenance was overdue"),
        ("left out of tolerance", "left out of tolerance"), ("calibrated after the step", "no calibration"),
        ("back-dated before an out-of-tolerance calibration", "found out of tolerance"),
        // Issue 14: equipment without an interval is not required to have a record, but the
        // due date and the as-left of a record it has hold all the same.
        ("no interval, its given due date passed", "calibration was overdue"),
        ("no interval, left out of tolerance", "left out of tolerance"),
    ]

    /// An ISO 8601 time `days` days from now (negative: ago).
    static func time(days: Double) -> String {
        ISO8601DateFormatter().string(from: Date().addingTimeInterval(days * 86_400))
    }

    @Test("a use of unfit equipment is refused: by a step (operator), a QC result (QC), and a superuser writing the row",
          arguments: unfit)
    func unfitEquipmentRefused(_ how: String, _ says: String) throws {
        try Site.with { site in
            let noInterval = how.hasPrefix("no interval")
            try Self.register(site, calibration: noInterval ? nil : 30, maintenance: noInterval ? nil : 365)
            var stepHoursAgo: Double = 0
            switch how {
            case "out of service":
                try Self.service(site)
                try Self.service(site, kind: "maintenance")
                try Self.changeStatus(site, inService: false, as: site.site.operatorAccount, session: site.site.operatorSession)
            case "never calibrated":
                try Self.service(site, kind: "maintenance")
            case "calibration overdue":
                try Self.service(site, daysAgo: 31)
                try Self.service(site, kind: "maintenance")
            case "maintenance overdue":
                try Self.service(site)
                try Self.service(site, kind: "maintenance", daysAgo: 400)
            case "left out of tolerance":
                try Self.service(site, found: "out_of_tolerance", left: "out_of_tolerance")
                try Self.service(site, kind: "maintenance")
            case "back-dated before an out-of-tolerance calibration":
                // Found out of tolerance an hour ago; a step of two hours ago is recorded only now.
                try Self.service(site)
                try Self.service(site, kind: "maintenance")
                try Self.service(site, daysAgo: 1.0 / 24, found: "out_of_tolerance", left: "in_tolerance")
                stepHoursAgo = 2
            case "no interval, its given due date passed":
                try Self.service(site, daysAgo: 40, due: Self.time(days: -30))
            case "no interval, left out of tolerance":
                try Self.service(site, found: "out_of_tolerance", left: "out_of_tolerance", due: Self.time(days: 300))
            default:
                // Calibrated and maintained an hour ago; the step was two hours ago.
                try Self.service(site, daysAgo: 1.0 / 24)
                try Self.service(site, kind: "maintenance", daysAgo: 1.0 / 24)
                stepHoursAgo = 2
            }
            let (_, step) = try Self.lotWithStep(site, stepHoursAgo: stepHoursAgo)
            try site.site.expectRefused("GM006", naming: ["BSC-01", says], "\(how), by the operator's step") {
                try Self.use(site, step: step)
            }
            if stepHoursAgo == 0 {
                let result = try site.record(try site.lot(), "cd105", "98.2", unit: "%")
                try site.site.expectRefused("GM006", naming: ["BSC-01", says], "\(how), by QC's result") {
                    try Self.use(site, result: result.id, as: site.site.qcSession)
                }
            }
            try site.site.expectRefused("GM006", naming: ["BSC-01", says], "\(how), by a superuser") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.equipment_use (equipment_id, step_id, din, used_at)
                    VALUES ('BSC-01', \(step), (SELECT din FROM gmp.manufacturing_step WHERE id = \(step)), now())
                    """)
            }
            #expect(try Self.useCount(site) == 0)
        }
    }

    @Test("fit equipment is used; the use takes its lot and time from the step, not the writer; it is append-only")
    func fitEquipmentUsed() throws {
        try Site.with { site in
            try Self.fit(site)
            let (din, step) = try Self.lotWithStep(site, stepHoursAgo: 1)
            try Self.use(site, step: step)
            let result = try site.record(din, "cd105", "98.2", unit: "%")
            try Self.use(site, result: result.id, as: site.site.qcSession)
            let row = try site.site.superuser.query("""
                SELECT u.din, u.used_at = s.performed_at AS same_time, u.recorded_by FROM gmp.equipment_use u
                JOIN gmp.manufacturing_step s ON s.id = u.step_id
                """)[0]
            #expect(try row.decode("din") as String == din)
            #expect(try row.decode("same_time") as Bool)
            #expect(try row.decode("recorded_by") as String == site.site.operatorAccount.id)
            #expect(try Self.useCount(site) == 2)
            for (who, session) in [("QA", site.site.qaSession), ("the director", site.site.directorSession)] {
                DonorAndLotRulesTests.expectSQLState("42501", "\(who) records a use") {
                    try Self.use(site, step: step, as: session)
                }
            }
            DonorAndLotRulesTests.expectSQLState("42501", "the director takes it out of service") {
                try Self.changeStatus(site, inService: false, as: site.site.director, session: site.site.directorSession)
            }
            for statement in ["UPDATE gmp.equipment_use SET used_at = now()", "DELETE FROM gmp.equipment_use",
                              "UPDATE gmp.equipment_service SET due_at = due_at + interval '1 year'",
                              "DELETE FROM gmp.equipment_service"] {
                try site.site.expectRefused("42501", statement) { try site.site.asSuperuser(statement) }
            }
        }
    }

    @Test("equipment without intervals needs no calibration or maintenance record, and is used in date with one")
    func noIntervalNoRecordRequired() throws {
        try Site.with { site in
            try Self.register(site, calibration: nil, maintenance: nil)
            let (_, first) = try Self.lotWithStep(site, stepHoursAgo: 0)
            try Self.use(site, step: first)
            try Self.service(site, daysAgo: 1, due: Self.time(days: 300))
            let (_, second) = try Self.lotWithStep(site, stepHoursAgo: 0)
            try Self.use(site, step: second)
            #expect(try Self.useCount(site) == 2)
        }
    }

    // MARK: - Register and status

    @Test("equipment changes only its status, signed; anyone who uses it takes it out of service, only QA returns it")
    func statusIsSigned() throws {
        try Site.with { site in
            try Self.fit(site)
            for statement in ["UPDATE gmp.equipment SET name = 'edited' WHERE id = 'BSC-01'",
                              "UPDATE gmp.equipment SET calibration_interval_days = 3000 WHERE id = 'BSC-01'",
                              "DELETE FROM gmp.equipment WHERE id = 'BSC-01'"] {
                try site.site.expectRefused("GM004", statement) { try site.site.asSuperuser(statement) }
            }
            try site.site.expectRefused("42501", "a status without its signed change") {
                try site.site.asSuperuser("UPDATE gmp.equipment SET status = 'out_of_service' WHERE id = 'BSC-01'")
            }
            try site.site.expectRefused("42501", "a status change without its signature") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.equipment_status_change (equipment_id, status, reason, changed_by)
                    VALUES ('BSC-01', 'out_of_service', 'x', '\(site.site.qa.id)');
                    UPDATE gmp.equipment SET status = 'out_of_service' WHERE id = 'BSC-01'
                    """)
            }
            try site.site.expectRefused("GM003", "registered out of service") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.equipment (id, kind, name, status, registered_by)
                    VALUES ('INC-09', 'incubator', 'x', 'out_of_service', '\(site.site.qa.id)')
                    """)
            }
            try Self.changeStatus(site, inService: false, as: site.site.qc, session: site.site.qcSession)
            DonorAndLotRulesTests.expectSQLState("42501", "the operator returns it to service") {
                try Self.changeStatus(site, inService: true, as: site.site.operatorAccount, session: site.site.operatorSession)
            }
            DonorAndLotRulesTests.expectSQLState("GM003", "out of service twice") {
                try Self.changeStatus(site, inService: false, as: site.site.operatorAccount, session: site.site.operatorSession)
            }
            try Self.changeStatus(site, inService: true, as: site.site.qa, session: site.site.qaSession)
            let row = try site.site.superuser.query("""
                SELECT e.status, (SELECT count(*) FROM gmp.signature s WHERE s.record_table = 'gmp.equipment_status_change'
                                  AND s.meaning = 'approved') AS signed
                FROM gmp.equipment e WHERE e.id = 'BSC-01'
                """)[0]
            #expect(try row.decode("status") as String == "in_service")
            #expect(try row.decode("signed") as Int64 == 2)
            // In service again: fit for a step now.
            let (_, step) = try Self.lotWithStep(site)
            try Self.use(site, step: step)
        }
    }

    @Test("a storage device is the tank, freezer or shipper gmp storage knows; an unknown kind is refused")
    func storageDevices() throws {
        try Site.with { site in
            try site.site.operatorSession.execute("SELECT gmp.add_location('SITE-E', 'site', NULL, 'Site', NULL, NULL, NULL, NULL)")
            try site.site.operatorSession.execute("SELECT gmp.add_location('TANK-E', 'tank', 'SITE-E', 'Tank', -150, '{cells}', NULL, NULL)")
            try site.site.operatorSession.execute("SELECT gmp.add_location('RACK-E', 'rack', 'TANK-E', 'Rack', NULL, NULL, NULL, NULL)")
            try site.site.operatorSession.execute("""
                SELECT gmp.register_equipment('TANK-E', 'storage_device', 'LN2 tank', NULL, NULL, 30)
                """)
            let linked: String = try site.site.superuser.query("SELECT storage_device_id FROM gmp.equipment WHERE id = 'TANK-E'")[0]
                .decode("storage_device_id")
            #expect(linked == "TANK-E")
            try site.site.expectRefused("GM002", naming: ["RACK-E"], "a rack as a storage device") {
                try site.site.operatorSession.execute("""
                    SELECT gmp.register_equipment('RACK-E', 'storage_device', 'rack', NULL, NULL, NULL)
                    """)
            }
            try site.site.expectRefused("GM001", "an unknown storage device") {
                try site.site.operatorSession.execute("""
                    SELECT gmp.register_equipment('NOPE-1', 'storage_device', 'x', NULL, NULL, NULL)
                    """)
            }
            try site.site.expectRefused("GM002", "an unknown kind") {
                try site.site.operatorSession.execute("SELECT gmp.register_equipment('X-1', 'toaster', 'x', NULL, NULL, NULL)")
            }
        }
    }

    // MARK: - Calibration and maintenance

    @Test("a calibration or maintenance is signed by who performed it, in time order, due within its interval")
    func serviceRules() throws {
        try Site.with { site in
            try Self.register(site)
            let id = try Self.service(site, as: site.site.qc, session: site.site.qcSession)
            let row = try site.site.superuser.query("""
                SELECT s.performed_by, g.signer, g.meaning, s.due_at = s.performed_at + interval '30 days' AS by_interval
                FROM gmp.equipment_service s JOIN gmp.signature g ON g.record_table = 'gmp.equipment_service'
                 AND g.record_key = s.id::text WHERE s.id = \(id)
                """)[0]
            #expect(try row.decode("performed_by") as String == site.site.qc.id)
            #expect(try row.decode("signer") as String == site.site.qc.id)
            #expect(try row.decode("meaning") as String == "performed")
            #expect(try row.decode("by_interval") as Bool)
            try site.site.expectRefused("GM003", "a calibration before the latest one") {
                try Self.service(site, daysAgo: 20)
            }
            try site.site.expectRefused("GM002", "due beyond the interval") {
                try Self.service(site, daysAgo: 1, due: "2099-01-01")
            }
            try site.site.expectRefused("GM002", "performed in the future") {
                try Self.service(site, daysAgo: -2)
            }
            try site.site.expectRefused("GM002", "a calibration without as found") {
                try Self.service(site, daysAgo: 1, found: nil)
            }
            DonorAndLotRulesTests.expectSQLState("42501", "the director calibrates") {
                try Self.service(site, daysAgo: 1, as: site.site.director, session: site.site.directorSession)
            }
            try site.site.expectRefused("42501", "a superuser's calibration without a signature") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.equipment_service (equipment_id, kind, performed_at, performed_by, due_at, as_found, as_left)
                    VALUES ('BSC-01', 'calibration', now(), '\(site.site.qc.id)', now() + interval '1 day', 'in_tolerance',
                            'in_tolerance')
                    """)
            }
        }
    }

    // MARK: - Out of tolerance

    @Test("a calibration found out of tolerance lists the uses since the last good one and opens a deviation on each open lot and the lots made from it, which blocks release")
    func outOfTolerance() throws {
        try Site.with { site in
            try Self.register(site)
            try Self.service(site, daysAgo: 20)
            try Self.service(site, kind: "maintenance", daysAgo: 20)
            // Before the last good calibration: not affected.
            let (before, beforeStep) = try Self.lotWithStep(site, stepHoursAgo: 24 * 15)
            try Self.use(site, step: beforeStep)
            try Self.service(site, daysAgo: 10)
            // After it: a drug-product lot's step, another lot's QC result, a cell bank and the bank made from it.
            let (stepLot, step) = try Self.lotWithStep(site, stepHoursAgo: 24 * 5)
            try Self.use(site, step: step)
            let resultLot = try site.lot()
            let result = try site.record(resultLot, "cd105", "98.2", unit: "%")
            try Self.use(site, result: result.id, as: site.site.qcSession)
            let (_, collection) = try site.site.receivedCollection()
            let bank = try site.site.createLot(collection: collection)
            try site.site.step(bank, "isolation")
            try Self.use(site, step: try Self.latestStep(site, bank))
            for kind in ["passage", "harvest", "formulation", "fill", "cryopreservation"] { try site.site.step(bank, kind) }
            let working = try site.site.createLot(parent: bank, stage: "working_cell_bank")
            #expect(try site.blockers(stepLot).allSatisfy { !$0.contains("BSC-01") })

            let deviationsBefore: Int64 = try site.site.superuser.query("SELECT count(*) AS n FROM gmp.deviation")[0].decode("n")
            let service = try Self.service(site, daysAgo: 0, found: "out_of_tolerance", left: "in_tolerance")
            let document = try DonorAndLotRulesTests.object(try site.site.operatorSession.query(
                "SELECT gmp.equipment_service_document(\(service))::text AS d")[0].decode("d"))
            let uses = try #require(document["affected_uses"] as? [[String: Any]])
            #expect(Set(uses.compactMap { $0["lot"] as? String }) == [stepLot, resultLot, bank])
            let lots = try #require(document["affected_lots"] as? [[String: Any]])
            #expect(Set(lots.compactMap { $0["din"] as? String }) == [stepLot, resultLot, bank, working])
            #expect(lots.first { ($0["din"] as? String) == working }?["via"] as? String == bank)
            #expect(lots.allSatisfy { $0["deviation"] as? String != nil })
            let opened: Int64 = try site.site.superuser.query("SELECT count(*) AS n FROM gmp.deviation")[0].decode("n")
            #expect(opened - deviationsBefore == 4)
            for din in [stepLot, resultLot, bank, working] {
                #expect(try site.blockers(din).contains { $0.contains("BSC-01") && $0.contains("out of tolerance") }, "\(din)")
            }
            #expect(try site.blockers(before).allSatisfy { !$0.contains("BSC-01") })

            // QA closes the deviation with its impact assessment: the lot's blocker goes.
            let deviation: String = try site.site.superuser.query("""
                SELECT deviation_id FROM gmp.equipment_deviation WHERE din = \(stepLot)
                """)[0].decode("deviation_id")
            try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
                _ = try db.execute("SELECT gmp.close_deviation(\(challenge), \(deviation), 'no impact: within 1 %')")
            }
            #expect(try site.blockers(stepLot).allSatisfy { !$0.contains("BSC-01") })
            for statement in ["DELETE FROM gmp.equipment_deviation", "UPDATE gmp.equipment_deviation SET din = din"] {
                try site.site.expectRefused("42501", statement) { try site.site.asSuperuser(statement) }
            }
        }
    }

    // MARK: - Release and trace

    @Test("the release package has equipment only when the lot used some (others hash as before); the trace lists it")
    func packageAndTrace() throws {
        try Site.with { site in
            try Self.fit(site)
            let (din, step) = try Self.lotWithStep(site, stepHoursAgo: 1)
            let untouched = try site.lot()
            let before = try site.packageHash(untouched)
            try Self.use(site, step: step)
            let package: String = try site.site.superuser.query("SELECT gmp.release_check(\(din))::text AS p")[0].decode("p")
            #expect(package.contains("\"equipment\""))
            let untouchedPackage: String = try site.site.superuser.query("SELECT gmp.release_check(\(untouched))::text AS p")[0]
                .decode("p")
            #expect(!untouchedPackage.contains("\"equipment\""))
            #expect(try site.packageHash(untouched) == before)

            let trace = try DonorAndLotRulesTests.object(try site.site.operatorSession.query(
                "SELECT gmp.trace_lot(\(din))::text AS t")[0].decode("t"))
            let equipment = try #require(trace["equipment"] as? [[String: Any]])
            #expect(equipment.map { $0["equipment"] as? String } == ["BSC-01"])
            #expect(equipment.first?["kind"] as? String == "biosafety_cabinet")
            let none = try DonorAndLotRulesTests.object(try site.site.operatorSession.query(
                "SELECT gmp.trace_lot(\(untouched))::text AS t")[0].decode("t"))
            #expect((none["equipment"] as? [Any])?.isEmpty == true)
        }
    }
}
