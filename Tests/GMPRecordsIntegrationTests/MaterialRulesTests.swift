import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// The rules of V0023 and sql/code/16_materials.sql (issue 14, materials): a material lot
/// is used only when released, unexpired and within its use-by after opening; its status
/// moves forward only with QA's signed disposition; a rejected one blocks the release of
/// every lot that consumed it. Tried as the people who use them and as a superuser.
@Suite("Material lots are used only when fit for use, whoever writes")
struct MaterialRulesTests {
    typealias Site = QCReleaseSite

    static let certificate = String(repeating: "ab", count: 32)

    // MARK: - Helpers

    static func addType(_ site: Site, code: String = "MEM-ALPHA") throws {
        try site.site.operatorSession.execute("""
            SELECT gmp.add_material_type(\(code), 'alpha-MEM', 'culture_medium', '2-8 C')
            """)
    }

    /// Receives a lot as the operator, `receivedDaysAgo` days ago, expiring `expiresInDays` from today.
    static func receive(_ site: Site, receivedDaysAgo: Int = 10, expiresInDays: Int = 100, daysAfterOpening: Int? = nil,
                        as session: PostgresConnection? = nil) throws -> String {
        try (session ?? site.site.operatorSession).query("""
            SELECT gmp.receive_material('MEM-ALPHA', 'Fisher Scientific', 'Gibco', 'SL-2841733', 500, 'mL',
                                        now() - make_interval(days => \(receivedDaysAgo)::int), 'intact, cold',
                                        current_date + \(expiresInDays)::int, \(daysAfterOpening)::int,
                                        \(Self.certificate), NULL) AS id
            """)[0].decode("id")
    }

    static func decide(_ site: Site, _ id: String, _ decision: String, as account: TestAccount? = nil,
                       session: PostgresConnection? = nil) throws {
        let who = account ?? site.site.qa
        try SignatureCeremony(session ?? site.site.qaSession).sign(password: who.password) { db, challenge in
            if decision == "released" {
                _ = try db.execute("SELECT gmp.release_material(\(challenge), \(id), 'certificate checked')")
            } else {
                _ = try db.execute("SELECT gmp.reject_material(\(challenge), \(id), 'supplier recall 2026-14')")
            }
        }
    }

    /// A lot made from tissue with its isolation recorded `stepHoursAgo` hours ago; returns it and the step's id.
    static func lotWithStep(_ site: Site, stepHoursAgo: Int = 0) throws -> (din: String, step: Int64) {
        let din = try site.lot()
        try site.site.operatorSession.execute("""
            SELECT gmp.record_step(\(din), 'isolation', now() - make_interval(hours => \(stepHoursAgo)::int),
                                   NULL, NULL, NULL, NULL, NULL, NULL)
            """)
        let step: Int64 = try site.site.superuser.query("SELECT max(id) AS id FROM gmp.manufacturing_step WHERE din = \(din)")[0]
            .decode("id")
        return (din, step)
    }

    static func consume(_ site: Site, _ material: String, step: Int64? = nil, result: Int64? = nil,
                        quantity: String = "50", unit: String = "mL", as session: PostgresConnection? = nil) throws {
        try (session ?? site.site.operatorSession).execute("""
            SELECT gmp.record_consumption(\(material), \(quantity)::numeric, \(unit), \(step)::bigint, \(result)::bigint)
            """)
    }

    static func materialCount(_ site: Site) throws -> Int64 {
        try site.site.superuser.query("SELECT count(*) AS n FROM gmp.material_consumption")[0].decode("n")
    }

    // MARK: - Consumption

    /// Each way a material lot is unfit, and how it is made so.
    static let unfit: [(how: String, says: String)] = [
        ("quarantine", "in quarantine"), ("rejected", "is rejected"), ("expired", "expired on"),
        ("expired after opening", "after opening"), ("not opened", "was not opened"),
        ("released after the step", "not yet released"),
    ]

    @Test("a consumption of an unfit material lot is refused, through gmp and as a superuser writing the row",
          arguments: unfit)
    func unfitMaterialRefused(_ how: String, _ says: String) throws {
        try Site.with { site in
            try Self.addType(site)
            var stepHoursAgo = 0
            let material: String
            switch how {
            case "quarantine":
                material = try Self.receive(site)
            case "rejected":
                material = try Self.receive(site)
                try Self.decide(site, material, "released")
                try Self.decide(site, material, "rejected")
            case "expired":
                // Expired yesterday; received before then. The step is now.
                material = try Self.receive(site, receivedDaysAgo: 10, expiresInDays: -1)
                try Self.decide(site, material, "released")
            case "expired after opening":
                material = try Self.receive(site, daysAfterOpening: 1)
                try Self.decide(site, material, "released")
                try site.site.operatorSession.execute("SELECT gmp.open_material(\(material), now() - interval '3 days')")
            case "not opened":
                material = try Self.receive(site, daysAfterOpening: 7)
                try Self.decide(site, material, "released")
            default:
                // Released now; the step was two hours ago.
                material = try Self.receive(site)
                try Self.decide(site, material, "released")
                stepHoursAgo = 2
            }
            let (_, step) = try Self.lotWithStep(site, stepHoursAgo: stepHoursAgo)
            try site.site.expectRefused("GM006", naming: [material, says], "\(how), through gmp") {
                try Self.consume(site, material, step: step)
            }
            // QC's result, recorded now like the step (not for the lot released after the step:
            // resultConsumption tries that one at the result's own time).
            if stepHoursAgo == 0 {
                let result = try site.record(try site.lot(), "cd105", "98.2", unit: "%")
                try site.site.expectRefused("GM006", naming: [material, says], "\(how), by QC's result") {
                    try Self.consume(site, material, result: result.id, quantity: "1", unit: "test", as: site.site.qcSession)
                }
            }
            try site.site.expectRefused("GM006", naming: [material, says], "\(how), by a superuser") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.material_consumption (material_lot_id, quantity, unit, step_id, din, used_at)
                    VALUES ('\(material)', 5, 'mL', \(step), (SELECT din FROM gmp.manufacturing_step WHERE id = \(step)), now())
                    """)
            }
            #expect(try Self.materialCount(site) == 0)
        }
    }

    @Test("a receipt names its manufacturer (21 CFR 1271.210(d)(1)): as the operator, QC, and a superuser writing the row")
    func receiptNamesManufacturer() throws {
        try Site.with { site in
            try Self.addType(site)
            for (who, session) in [("the operator", site.site.operatorSession), ("QC", site.site.qcSession)] {
                for manufacturer in [nil, "  "] as [String?] {
                    try site.site.expectRefused("GM002", naming: ["manufacturer"], "\(who), manufacturer \(manufacturer ?? "none")") {
                        try session.execute("""
                            SELECT gmp.receive_material('MEM-ALPHA', 'Fisher Scientific', \(manufacturer)::text, 'L1', 5, 'mL', NULL,
                                                        'ok', current_date + 9, NULL, \(Self.certificate), NULL)
                            """)
                    }
                }
            }
            try site.site.expectRefused("GM002", naming: ["manufacturer"], "a superuser's row without one") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.material_lot (id, type_code, supplier, supplier_lot, quantity, unit, received_at,
                        receipt_condition, expires_on, certificate_sha256, storage_condition)
                    VALUES ('MAT26-99998', 'MEM-ALPHA', 'X', 'Y', 1, 'mL', now(), 'ok', current_date + 9,
                            decode('\(Self.certificate)', 'hex'), 'cold')
                    """)
            }
            #expect(try site.site.superuser.query("SELECT count(*) AS n FROM gmp.material_lot")[0].decode("n") as Int64 == 0)
            let material = try Self.receive(site)
            let document = try site.site.superuser.query("SELECT gmp.material_document(\(material))::text AS d")[0]
                .decode("d", as: String.self)
            #expect(document.contains("\"manufacturer\": \"Gibco\""), "\(document)")
            #expect(document.contains("\"supplier\": \"Fisher Scientific\""), "\(document)")
        }
    }

    @Test("a consumption needs a quantity more than zero, finite, in a known unit, and one step or result")
    func quantityAndUnitRequired() throws {
        try Site.with { site in
            try Self.addType(site)
            let material = try Self.receive(site)
            try Self.decide(site, material, "released")
            let (_, step) = try Self.lotWithStep(site)
            for (quantity, unit) in [("0", "mL"), ("-1", "mL"), ("NaN", "mL"), ("5", "cups")] {
                try site.site.expectRefused("GM002", "\(quantity) \(unit)") {
                    try Self.consume(site, material, step: step, quantity: quantity, unit: unit)
                }
            }
            // A unit of another kind than the lot was received in (mL): it cannot be reconciled with the receipt.
            for unit in ["g", "test", "vial"] {
                try site.site.expectRefused("GM002", naming: [material, "received in mL", unit], "5 \(unit) of a lot received in mL") {
                    try Self.consume(site, material, step: step, quantity: "5", unit: unit)
                }
            }
            try site.site.expectRefused("GM002", naming: ["received in mL"], "a superuser's row in g") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.material_consumption (material_lot_id, quantity, unit, step_id, din, used_at)
                    VALUES ('\(material)', 5, 'g', \(step), (SELECT din FROM gmp.manufacturing_step WHERE id = \(step)), now())
                    """)
            }
            try Self.consume(site, material, step: step, quantity: "0.5", unit: "L")
            #expect(try Self.materialCount(site) == 1)
            try site.site.expectRefused("GM002", "neither step nor result") { try Self.consume(site, material) }
            try site.site.expectRefused("GM002", "a superuser's row without a quantity") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.material_consumption (material_lot_id, quantity, unit, step_id, din, used_at)
                    VALUES ('\(material)', NULL, 'mL', \(step), 'x', now())
                    """)
            }
            #expect(try Self.materialCount(site) == 1)
        }
    }

    @Test("consumptions never take more than was received, counted in the lot's unit (issue 19)")
    func consumptionsCountAgainstWhatWasReceived() throws {
        try Site.with { site in
            try Self.addType(site)
            let material = try Self.receive(site)  // 500 mL
            try Self.decide(site, material, "released")
            let (_, step) = try Self.lotWithStep(site)
            try Self.consume(site, material, step: step, quantity: "0.4", unit: "L")
            try Self.consume(site, material, step: step, quantity: "50000", unit: "µL")
            // 50 mL left: 51 mL is refused, naming what is left; 50 mL is taken.
            try site.site.expectRefused("GM003", naming: ["50 mL left", "51 mL"], "51 mL of the 50 mL left") {
                try Self.consume(site, material, step: step, quantity: "51", unit: "mL")
            }
            try Self.consume(site, material, step: step, quantity: "50", unit: "mL")
            try site.site.expectRefused("GM003", naming: ["0 mL left"], "more of an exhausted lot, as a superuser") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.material_consumption (material_lot_id, quantity, unit, step_id, din, used_at)
                    VALUES ('\(material)', 1, 'mL', \(step), 'x', now())
                    """)
            }
            #expect(try Self.materialCount(site) == 3)
        }
    }

    @Test("a consumption takes its lot and time from the step, not from the writer; it is append-only")
    func consumptionTakesLotAndTimeFromStep() throws {
        try Site.with { site in
            try Self.addType(site)
            let material = try Self.receive(site)
            try Self.decide(site, material, "released")
            let (din, step) = try Self.lotWithStep(site)
            // gmp.record_consumption writes placeholders ('' and -infinity): the rule fills them in.
            try Self.consume(site, material, step: step)
            let row = try site.site.superuser.query("""
                SELECT c.din, c.used_at = s.performed_at AS same_time, c.recorded_by FROM gmp.material_consumption c
                JOIN gmp.manufacturing_step s ON s.id = c.step_id
                """)[0]
            #expect(try row.decode("din") as String == din)
            #expect(try row.decode("same_time") as Bool)
            #expect(try row.decode("recorded_by") as String == site.site.operatorAccount.id)
            for statement in ["UPDATE gmp.material_consumption SET quantity = 1", "DELETE FROM gmp.material_consumption"] {
                try site.site.expectRefused("42501", statement) { try site.site.asSuperuser(statement) }
            }
        }
    }

    @Test("a QC result's consumption is checked at the result's time, through gmp")
    func resultConsumption() throws {
        try Site.with { site in
            try Self.addType(site)
            let material = try Self.receive(site)
            let din = try site.lot()
            let result = try site.record(din, "cd105", "98.2", unit: "%")
            try site.site.expectRefused("GM006", naming: ["quarantine"], "a quarantined kit") {
                try Self.consume(site, material, result: result.id, quantity: "1", unit: "test", as: site.site.qcSession)
            }
            try Self.decide(site, material, "released")
            // Released after the test was performed: still refused for that result.
            try site.site.expectRefused("GM006", naming: ["not yet released"], "released after the test") {
                try Self.consume(site, material, result: result.id, quantity: "1", unit: "test", as: site.site.qcSession)
            }
        }
    }

    @Test("a consumption names its QC result's test or its step's kind, in the material's document and its trace")
    func consumptionNamesTestOrStep() throws {
        try Site.with { site in
            try Self.addType(site)
            let material = try Self.receive(site)
            try Self.decide(site, material, "released")
            let result = try site.record(try site.lot(), "cd105", "98.2", unit: "%")
            try Self.consume(site, material, result: result.id, quantity: "1", unit: "mL", as: site.site.qcSession)
            let (_, step) = try Self.lotWithStep(site)
            try Self.consume(site, material, step: step)
            let document: String = try site.site.superuser.query("SELECT gmp.material_document(\(material))::text AS t")[0]
                .decode("t")
            let trace: String = try site.site.superuser.query("SELECT gmp.trace_material_json(\(material))::text AS t")[0]
                .decode("t")
            for consumptions in [try DonorAndLotRulesTests.object(document)["consumptions"],
                                 try DonorAndLotRulesTests.object(trace)["consumptions"]] {
                let rows = try #require(consumptions as? [[String: Any]])
                #expect(rows.map { $0["test"] as? String } == ["cd105", nil], "\(rows)")
                #expect(rows.map { $0["step"] as? String } == [nil, "isolation"], "\(rows)")
                #expect(rows[0]["step"] is NSNull && rows[1]["test"] is NSNull, "a key with no value is there, null: \(rows)")
            }
        }
    }

    @Test("a lot the material reached twice, consumed and through a consumed parent, is listed once with how it was reached, and so are the lots made from it (issue 14: the reach without UNION's repeat check)")
    func lotReachedTwiceListedOnce() throws {
        try Site.with { site in
            let (material, bank, working) = try Self.bankReachedByMaterial(site)
            try site.site.step(working, "passage")
            try Self.consume(site, material, step: try Self.lastStep(site, working))
            for kind in ["harvest", "formulation", "fill", "cryopreservation"] { try site.site.step(working, kind) }
            let product = try site.site.createLot(parent: working, stage: "drug_product")

            let text: String = try site.site.qaSession.query(
                "SELECT gmp.trace_material_json(\(material))::text AS t")[0].decode("t")
            let lots = try #require(try DonorAndLotRulesTests.object(text)["lots"] as? [[String: Any]])
            #expect(lots.compactMap { $0["din"] as? String } == [bank, working, product].sorted(), "\(lots)")
            let how = Dictionary(uniqueKeysWithValues: lots.map {
                ($0["din"] as? String ?? "", "\($0["consumed"] as? Bool ?? false) \($0["via"] as? String ?? "-")")
            })
            #expect(how == [bank: "true -", working: "true \(bank)", product: "false \(working)"], "\(how)")
            let jsonb: Bool = try site.site.qaSession.query(
                "SELECT gmp.trace_material(\(material)) = gmp.trace_material_json(\(material))::jsonb AS same")[0].decode("same")
            #expect(jsonb)
        }
    }

    // MARK: - Material lots

    @Test("a material lot moves forward only, with QA's signed disposition; it is never edited or deleted")
    func materialLotGuard() throws {
        try Site.with { site in
            try Self.addType(site)
            let material = try Self.receive(site)
            let quarantined = try Self.receive(site, as: site.site.qcSession)
            try site.site.expectRefused("42501", "a status without a disposition") {
                try site.site.asSuperuser("""
                    UPDATE gmp.material_lot SET status = 'released', status_changed_at = now(),
                        status_changed_by = '\(site.site.qa.id)' WHERE id = '\(material)'
                    """)
            }
            try site.site.expectRefused("42501", "a disposition without its signature") {
                try site.site.asSuperuser("""
                    UPDATE gmp.material_lot SET status = 'released', status_changed_at = now(),
                        status_changed_by = '\(site.site.qa.id)' WHERE id = '\(material)';
                    INSERT INTO gmp.material_disposition (material_lot_id, decision, decided_by)
                    VALUES ('\(material)', 'released', '\(site.site.qa.id)')
                    """)
            }
            try site.site.expectRefused("GM003", "a lot received released") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.material_lot (id, type_code, supplier, supplier_lot, quantity, unit, received_at,
                        receipt_condition, expires_on, certificate_sha256, storage_condition, status, status_changed_at,
                        status_changed_by)
                    VALUES ('MAT26-99999', 'MEM-ALPHA', 'X', 'Y', 1, 'mL', now(), 'ok', current_date + 9,
                            decode('\(Self.certificate)', 'hex'), 'cold', 'released', now(), '\(site.site.qa.id)')
                    """)
            }
            // The operator and QC may not decide; nor may anyone open a quarantined lot.
            for (account, session) in [(site.site.operatorAccount, site.site.operatorSession), (site.site.qc, site.site.qcSession)] {
                DonorAndLotRulesTests.expectSQLState("42501", "\(account.id) releases") {
                    try Self.decide(site, material, "released", as: account, session: session)
                }
            }
            try site.site.expectRefused("GM003", "opening a quarantined lot") {
                try site.site.operatorSession.execute("SELECT gmp.open_material(\(material), NULL)")
            }
            try Self.decide(site, material, "released")
            try site.site.operatorSession.execute("SELECT gmp.open_material(\(material), NULL)")
            try site.site.expectRefused("GM004", "opening twice") {
                try site.site.operatorSession.execute("SELECT gmp.open_material(\(material), NULL)")
            }
            for statement in ["UPDATE gmp.material_lot SET supplier_lot = 'edited' WHERE id = '\(material)'",
                              "UPDATE gmp.material_lot SET expires_on = expires_on + 365 WHERE id = '\(material)'",
                              "DELETE FROM gmp.material_lot WHERE id = '\(material)'"] {
                try site.site.expectRefused("GM004", statement) { try site.site.asSuperuser(statement) }
            }
            try site.site.expectRefused("GM003", "back to quarantine") {
                try site.site.asSuperuser("UPDATE gmp.material_lot SET status = 'quarantine', status_changed_at = NULL, status_changed_by = NULL WHERE id = '\(material)'")
            }
            DonorAndLotRulesTests.expectSQLState("GM003", "releasing twice") { try Self.decide(site, material, "released") }
            try Self.decide(site, material, "rejected")
            try Self.decide(site, quarantined, "rejected")
            DonorAndLotRulesTests.expectSQLState("GM003", "a rejected lot released") { try Self.decide(site, quarantined, "released") }
            try site.site.expectRefused("GM002", "a receipt without its certificate's hash") {
                try site.site.operatorSession.execute("""
                    SELECT gmp.receive_material('MEM-ALPHA', 'Gibco', 'Gibco', 'L1', 5, 'mL', NULL, 'ok', current_date + 9, NULL,
                                                'abc', NULL)
                    """)
            }
            let statuses: [String] = try site.site.superuser.query("SELECT status FROM gmp.material_lot ORDER BY id")
                .map { try $0.decode("status") }
            #expect(statuses == ["rejected", "rejected"])
        }
    }

    // MARK: - Release and trace

    @Test("a lot that consumed a material lot later rejected cannot be released, not even exceptionally")
    func rejectedMaterialBlocksRelease() throws {
        try Site.with { site in
            try Self.addType(site)
            let material = try Self.receive(site)
            try Self.decide(site, material, "released")
            let (din, step) = try Self.lotWithStep(site)
            let untouched = try site.lot()
            let before = try site.packageHash(untouched)
            try Self.consume(site, material, step: step)
            try site.passAll(din)
            let package = try site.site.superuser.query("SELECT gmp.release_check(\(din))::text AS p")[0].decode("p", as: String.self)
            #expect(package.contains("\"materials\""))
            #expect(try site.packageHash(untouched) == before)
            let untouchedPackage = try site.site.superuser.query("SELECT gmp.release_check(\(untouched))::text AS p")[0]
                .decode("p", as: String.self)
            #expect(!untouchedPackage.contains("\"materials\""))
            #expect(try site.blockers(din).isEmpty)

            try Self.decide(site, material, "rejected")
            #expect(try site.blockers(din).contains { $0.contains(material) && $0.contains("rejected") })
            DonorAndLotRulesTests.expectSQLState("GM006", "release") { try site.release(din) }
            let hash = try site.packageHash(din)
            DonorAndLotRulesTests.expectSQLState("GM006", "exceptional release") {
                try SignatureCeremony(site.site.directorSession).sign(password: site.site.director.password) { db, challenge in
                    _ = try db.execute("""
                        SELECT gmp.release_exceptionally(\(challenge), \(din), \(hash), 'Dr Treating', 'request on file',
                                                         'accepted', 'no alternative therapy', 'QA notified')
                        """)
                }
            }
            #expect(try site.site.status(din) == "quarantine")
        }
    }

    @Test("the release package hash covers the materials and equipment: each consumption and use changes it; the CoA names neither")
    func packageHashCoversMaterialsAndEquipment() throws {
        try Site.with { site in
            try Self.addType(site)
            let material = try Self.receive(site)
            try Self.decide(site, material, "released")
            try EquipmentRulesTests.fit(site)
            let (din, step) = try Self.lotWithStep(site)
            try site.passAll(din)
            let bare = try site.packageHash(din)
            try Self.consume(site, material, step: step)
            let withMaterial = try site.packageHash(din)
            try EquipmentRulesTests.use(site, step: step)
            let withEquipment = try site.packageHash(din)
            #expect(Set([bare, withMaterial, withEquipment]).count == 3, "\(bare) \(withMaterial) \(withEquipment)")
            // QA decided on the package without them: that decision is refused, the current one taken.
            for stale in [bare, withMaterial] {
                DonorAndLotRulesTests.expectSQLState("GM010", "a release signed on the package before a consumption or use") {
                    try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
                        _ = try db.execute("SELECT gmp.release_lot(\(challenge), \(din), \(stale), 'released')")
                    }
                }
            }
            try site.release(din)
            let coa: String = try site.site.superuser.query("SELECT gmp.certificate_of_analysis(\(din))::text AS c")[0].decode("c")
            for word in [material, "BSC-01", "material", "equipment"] {
                #expect(!coa.contains(word), "the CoA names \(word): \(coa)")
            }
        }
    }

    @Test("the trace goes both ways: a material lot to every lot it reached (cell bank and the lots made from it), a lot to its materials")
    func traceBothWays() throws {
        try Site.with { site in
            let (material, bank, working) = try Self.bankReachedByMaterial(site)
            let unrelated = try site.lot()

            let trace = try DonorAndLotRulesTests.object(try site.site.qaSession.query(
                "SELECT gmp.trace_material(\(material))::text AS t")[0].decode("t"))
            let lots = try #require(trace["lots"] as? [[String: Any]])
            let reached = Set(lots.compactMap { $0["din"] as? String })
            #expect(reached == [bank, working], "reached \(reached), not the unrelated \(unrelated)")
            #expect(lots.first { ($0["din"] as? String) == working }?["via"] as? String == bank)

            for din in [bank, working] {
                let back = try DonorAndLotRulesTests.object(try site.site.operatorSession.query(
                    "SELECT gmp.trace_lot(\(din))::text AS t")[0].decode("t"))
                let materials = try #require(back["materials"] as? [[String: Any]])
                #expect(materials.map { $0["material_lot"] as? String } == [material])
            }
            let none = try DonorAndLotRulesTests.object(try site.site.operatorSession.query(
                "SELECT gmp.trace_lot(\(unrelated))::text AS t")[0].decode("t"))
            #expect((none["materials"] as? [Any])?.isEmpty == true)

            // The bank's consumption blocks its descendants too, once the material is rejected.
            try Self.decide(site, material, "rejected")
            #expect(try site.blockers(working).contains { $0.contains(material) })
        }
    }

    @Test("the material and donor traces take the whereabouts of every lot they reach in one query (issue 14), each as the lot's own")
    func traceWhereaboutsInOneQuery() throws {
        try Site.with { site in
            try Self.addType(site)
            let material = try Self.receive(site)
            try Self.decide(site, material, "released")
            let (donor, collection) = try site.site.receivedCollection()
            let bank = try site.site.createLot(collection: collection)
            try site.site.step(bank, "isolation")
            let step: Int64 = try site.site.superuser.query("SELECT max(id) AS id FROM gmp.manufacturing_step WHERE din = \(bank)")[0]
                .decode("id")
            try Self.consume(site, material, step: step)
            for kind in ["passage", "harvest", "formulation", "fill", "cryopreservation"] { try site.site.step(bank, kind) }
            let working = try site.site.createLot(parent: bank, stage: "working_cell_bank")

            // Calls of the whereabouts functions counted within the transaction (track_functions).
            let (trace, perLotCalls, apartCalls) = try site.site.superuser.transaction { db in
                try db.execute("SET LOCAL track_functions = 'all'")
                let trace: String = try db.query("SELECT gmp.trace_material(\(material))::text AS t")[0].decode("t")
                // The material trace takes its units in its own statement, with no function
                // of its own (each is parsed and planned apart in every cold session).
                let apart: Int = try db.query("""
                    SELECT coalesce(pg_stat_get_xact_function_calls('gmp_rules.lots_whereabouts(text[])'::regprocedure), 0) AS n
                    """)[0].decode("n")
                let donorTrace: String = try db.query("SELECT gmp.trace_donor(\(donor))::text AS t")[0].decode("t")
                #expect(donorTrace.contains(bank))
                let calls: Int = try db.query("""
                    SELECT coalesce(pg_stat_get_xact_function_calls('gmp_rules.unit_whereabouts(text)'::regprocedure), 0) AS n
                    """)[0].decode("n")
                return (trace, calls, apart)
            }
            #expect(perLotCalls == 0, "a trace asked for the whereabouts lot by lot")
            #expect(apartCalls == 0, "the material trace ran the whereabouts as a function of its own")
            let lots = try #require(try DonorAndLotRulesTests.object(trace)["lots"] as? [[String: Any]])
            #expect(Set(lots.compactMap { $0["din"] as? String }) == [bank, working])
            #expect((lots.first { $0["din"] as? String == bank }?["whereabouts"] as? [Any])?.count == 20)
            #expect((lots.first { $0["din"] as? String == working }?["whereabouts"] as? [Any])?.isEmpty == true)
            #expect(try Self.lotsWhoseUnitsDiffer(site, trace) == 0)
        }
    }

    @Test("gmp reads the material trace as JSON text written once (gmp.trace_material_json), not as jsonb parsed from that text and written out again (issue 14); gmp.trace_material is the same document as jsonb")
    func traceReadAsJSONText() throws {
        try Site.with { site in
            let (material, bank, working) = try Self.bankReachedByMaterial(site)

            // What gmp asks for (Materials.traceJSON), with the calls of the jsonb form counted
            // within the same transaction (track_functions, a superuser's setting).
            let (text, jsonbCalls) = try site.site.superuser.transaction { db in
                try db.execute("SET LOCAL track_functions = 'all'")
                let text = try Materials(db).traceJSON(material)
                let calls: Int = try db.query("""
                    SELECT coalesce(pg_stat_get_xact_function_calls('gmp.trace_material(text)'::regprocedure), 0)::int AS n
                    """)[0].decode("n")
                return (text, calls)
            }
            #expect(jsonbCalls == 0, "gmp read the trace through its jsonb form")
            let type: String = try site.site.superuser.query("""
                SELECT pg_get_function_result('gmp.trace_material_json(text)'::regprocedure) AS t
                """)[0].decode("t")
            #expect(type == "json")
            // The same document as the jsonb form, and what gmp decodes from it, as a reader.
            let same: Bool = try site.site.qaSession.query("""
                SELECT \(text)::jsonb = gmp.trace_material(\(material)) AS same
                """)[0].decode("same")
            #expect(same, "\(text)")
            let trace = try Materials(site.site.qaSession).trace(material)
            #expect(trace.material.id == material && trace.consumptions.count == 1)
            #expect(trace.lots.map(\.din) == [bank, working].sorted() && trace.lots.allSatisfy { $0.whereabouts != nil })
        }
    }

    @Test("the material trace and the material's document are each one statement (issue 14): no document function is called apart, none reads a column off a composite parameter, and an unknown lot is still refused")
    func traceIsOneStatement() throws {
        try Site.with { site in
            let (material, _, _) = try Self.bankReachedByMaterial(site)
            // Every gmp function called, counted within the transaction (track_functions): a
            // SQL function that is not inlined is parsed and planned apart on each call, in
            // every fresh backend.
            let calls: [(entry: String, run: (PostgresConnection) throws -> Void)] = [
                ("gmp.trace_material_json", { db in _ = try db.query("SELECT gmp.trace_material_json(\(material))::text AS d") }),
                ("gmp.material_document", { db in _ = try db.query("SELECT gmp.material_document(\(material))::text AS d") }),
            ]
            for (entry, run) in calls {
                // The session's counts not yet flushed include earlier transactions': the
                // difference made by this call.
                let called: [String] = try site.site.superuser.transaction { db in
                    try db.execute("SET LOCAL track_functions = 'all'")
                    try db.execute("""
                        CREATE TEMP TABLE calls_before ON COMMIT DROP AS
                        SELECT funcid, calls FROM pg_stat_xact_user_functions
                        """)
                    try run(db)
                    return try db.query("""
                        SELECT f.schemaname || '.' || f.funcname AS f FROM pg_stat_xact_user_functions f
                        LEFT JOIN calls_before b ON b.funcid = f.funcid
                        WHERE f.schemaname IN ('gmp', 'gmp_rules') AND f.calls > coalesce(b.calls, 0) ORDER BY 1
                        """).map { try $0.decode("f") }
                }
                // The entry point, and the signature's hash (gmp_rules.content_hash: its SET
                // clauses pin the encoding, so it is never inlined; one call a disposition).
                #expect(called.filter { $0 != "gmp_rules.content_hash" } == [entry], "\(entry) called \(called)")
            }
            // What the statement inlines takes the lot's columns, not its row.
            let composite: [String] = try site.site.superuser.query("""
                SELECT p.oid::regprocedure::text AS f FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'gmp_rules' AND p.proname IN ('material_lot_documents', 'material_unusable')
                  AND p.oid <> 'gmp_rules.material_unusable(gmp.material_lot, timestamptz)'::regprocedure
                  AND EXISTS (SELECT FROM unnest(p.proargtypes) a JOIN pg_type t ON t.oid = a WHERE t.typtype = 'c')
                """).map { try $0.decode("f") }
            #expect(composite.isEmpty, "\(composite)")
            // An unknown lot: the refusal of require_material_lot, as a reader.
            DonorAndLotRulesTests.expectSQLState("GM001", "the trace of an unknown lot") {
                _ = try site.site.qaSession.query("SELECT gmp.trace_material_json('MAT26-99999')::text AS d")
            }
            DonorAndLotRulesTests.expectSQLState("GM001", "the document of an unknown lot") {
                _ = try site.site.qaSession.query("SELECT gmp.material_document('MAT26-99999')::text AS d")
            }
        }
    }

    /// The reached lots of `trace` whose units say other than the donor trace says of them,
    /// less what the material trace leaves out (division, container, since) and its null
    /// keys (issue 14): the material trace writes its units as JSON text, this one as jsonb.
    static func lotsWhoseUnitsDiffer(_ site: Site, _ trace: String) throws -> Int {
        try site.site.superuser.query("""
            SELECT count(*) AS n FROM jsonb_array_elements(\(trace)::jsonb -> 'lots') l
            WHERE l -> 'whereabouts' IS DISTINCT FROM
                  coalesce((SELECT jsonb_agg(jsonb_strip_nulls(w - 'division' - 'container' - 'since') ORDER BY n)
                            FROM jsonb_array_elements(gmp_rules.unit_whereabouts(l ->> 'din')) WITH ORDINALITY u (w, n)),
                           '[]')
            """)[0].decode("n")
    }

    /// The keys of a reached lot in `gmp.trace_material`: what a recall needs of it (issue 14).
    static let reachedLotKeys: Set<String> = ["din", "check_character", "stage", "product_kind", "status", "via", "consumed",
                                              "whereabouts"]

    @Test("the material trace names every lot reached (through a cell bank too), its product and status, and each unit where it is or with its consignee; it reads none of the lot's other records")
    func traceNamesLotsUnitsAndConsignees() throws {
        try ShippingSite.with { s in
            let site = s.qcSite
            try Self.addType(site)
            let material = try Self.receive(site)
            try Self.decide(site, material, "released")
            // A cell bank that consumed it, and a working bank made from it (not released).
            let (_, collection) = try site.site.receivedCollection()
            let bank = try site.site.createLot(collection: collection)
            try site.site.step(bank, "isolation")
            try Self.consume(site, material, step: try Self.lastStep(site, bank))
            for kind in ["passage", "harvest", "formulation", "fill", "cryopreservation"] { try site.site.step(bank, kind) }
            let working = try site.site.createLot(parent: bank, stage: "working_cell_bank")
            // A drug product that consumed it, released: one unit delivered, one stored, one in hand.
            let product = try site.lot()
            try site.site.step(product, "isolation")
            try Self.consume(site, material, step: try Self.lastStep(site, product))
            for kind in ["passage", "harvest", "formulation", "fill", "cryopreservation"] { try site.site.step(product, kind) }
            try site.passAll(product)
            _ = try site.release(product)
            let units = try s.units(product)
            let shipment = try s.createShipment()
            _ = try s.pack(shipment, [units[0]])
            try s.dispatch(shipment)
            try s.receive(shipment, condition: "shipper intact, logger in range")
            try s.storeInTank(units[1])

            // What the trace reads, counted within its transaction. The session's counts not
            // yet flushed (PostgreSQL flushes them at most once a second) include earlier
            // transactions': the set-up's release and storage read these very tables. So the
            // difference the trace makes.
            let (text, untouched) = try site.site.superuser.transaction { db in
                try db.execute("""
                    CREATE TEMP TABLE reads_before ON COMMIT DROP AS
                    SELECT relid, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS scans FROM pg_stat_xact_all_tables
                    """)
                let text: String = try db.query("SELECT gmp.trace_material(\(material))::text AS t")[0].decode("t")
                let read: [String] = try db.query("""
                    SELECT t.relname FROM pg_stat_xact_all_tables t LEFT JOIN reads_before b ON b.relid = t.relid
                    WHERE t.schemaname = 'gmp' AND coalesce(t.seq_scan, 0) + coalesce(t.idx_scan, 0) > coalesce(b.scans, 0)
                    """).map { try $0.decode("relname") }
                return (text, Set(["eligibility_determination", "consent", "donor", "screening_result", "custody_event"])
                    .subtracting(read))
            }
            #expect(untouched.count == 5, "the trace read the lot's eligibility, donor or custody records: \(untouched)")
            let trace = try DonorAndLotRulesTests.object(text)
            let material_ = try #require(trace["material"] as? [String: Any])
            let dispositions = try #require(material_["dispositions"] as? [[String: Any]])
            #expect(dispositions.map { $0["signature_intact"] as? Bool } == [true], "the verified disposition: \(dispositions)")
            let lots = try #require(trace["lots"] as? [[String: Any]])
            #expect(lots.map { $0["din"] as? String } == [bank, working, product].sorted())
            for lot in lots { #expect(Set(lot.keys) == Self.reachedLotKeys, "\(lot)") }
            let byDin = Dictionary(uniqueKeysWithValues: lots.map { ($0["din"] as? String ?? "", $0) })
            #expect(byDin[working]?["via"] as? String == bank && byDin[working]?["consumed"] as? Bool == false)
            #expect(byDin[working]?["status"] as? String == "quarantine")
            #expect(byDin[bank]?["consumed"] as? Bool == true && byDin[bank]?["via"] is NSNull)
            #expect(byDin[product]?["status"] as? String == "released" && byDin[product]?["product_kind"] as? String == "cells")
            let whereabouts = try #require(byDin[product]?["whereabouts"] as? [[String: Any]])
            #expect(whereabouts.map { $0["unit"] as? String } == units)
            #expect(whereabouts[0]["state"] as? String == "delivered" && whereabouts[0]["consignee"] as? String == ShippingSite.consignee
                    && whereabouts[0]["shipment"] as? String == shipment && whereabouts[0]["received_at"] is String, "\(whereabouts[0])")
            #expect(whereabouts[1]["state"] as? String == "stored" && (whereabouts[1]["location"] as? String)?.contains("LN2-01-B1") == true
                    && whereabouts[1]["position"] is String, "\(whereabouts[1])")
            #expect(whereabouts[2]["state"] as? String == "in_hand" && whereabouts[2]["person"] as? String == site.site.operatorAccount.id,
                    "\(whereabouts[2])")
            // Only what is printed, and no null keys: a stored unit names no consignee.
            #expect(Set(whereabouts[1].keys) == ["unit", "state", "location", "position", "device"], "\(whereabouts[1])")
            #expect(whereabouts.allSatisfy { $0.values.allSatisfy { !($0 is NSNull) } })
            // Delivered, stored and in hand: each unit as the lot's own whereabouts say.
            #expect(try Self.lotsWhoseUnitsDiffer(site, text) == 0)
            // The material's, its dispositions', consumptions' and the lots' keys are written
            // in byte order, gmp's (issue 14); the document's own and the units' are not.
            let json: String = try site.site.superuser.query(
                "SELECT gmp.trace_material_json(\(material))::text AS t")[0].decode("t")
            let objects = try Self.objectsByKeyOrder(site, json)
            #expect(objects.unsorted == 0 && objects.all == 1 + 1 + 2 + 3, "\(objects)")
        }
    }

    /// How many objects a material trace's JSON `text` holds below its top, outside the
    /// units (`whereabouts`), and how many of them have their keys, as written, other than
    /// in their UTF-8 byte order (the order gmp writes keys in, so that gmp copies an
    /// object in that order as it comes).
    static func objectsByKeyOrder(_ site: Site, _ text: String) throws -> (all: Int64, unsorted: Int64) {
        let row = try site.site.superuser.query("""
            WITH RECURSIVE v (j, top) AS (
                SELECT \(text)::json, true
                UNION ALL
                SELECT e.value, false FROM v CROSS JOIN LATERAL (
                    SELECT value FROM json_each(CASE WHEN json_typeof(v.j) = 'object' THEN v.j END)
                    WHERE key <> 'whereabouts'
                    UNION ALL
                    SELECT value FROM json_array_elements(CASE WHEN json_typeof(v.j) = 'array' THEN v.j END)) e)
            SELECT count(*) AS objects, count(*) FILTER (
                       WHERE ARRAY(SELECT json_object_keys(j)) IS DISTINCT FROM
                             ARRAY(SELECT k FROM json_object_keys(j) k ORDER BY convert_to(k, 'UTF8'))) AS unsorted
            FROM v WHERE json_typeof(j) = 'object' AND NOT top
            """)[0]
        return (try row.decode("objects"), try row.decode("unsorted"))
    }

    /// Each disposition's `signature_intact` in the material's document, by id.
    static func dispositionsIntact(_ db: PostgresConnection, _ material: String) throws -> [Int64: Bool] {
        let rows = try db.query("""
            SELECT (d ->> 'id')::bigint AS id, (d ->> 'signature_intact')::boolean AS intact
            FROM jsonb_array_elements(gmp.trace_material(\(material)) -> 'material' -> 'dispositions') d
            """)
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode("id"), try $0.decode("intact")) })
    }

    @Test("the trace states a disposition's signature intact as gmp_rules.signature_intact does, without its generic dynamic check (issue 14): same hash for every signed disposition, false once the signed row is changed, whatever the viewer's settings")
    func dispositionIntactAsTheGenericCheck() throws {
        try Site.with { site in
            try Self.addType(site)
            let recalled = try Self.receive(site)
            try Self.decide(site, recalled, "released")
            try Self.decide(site, recalled, "rejected")
            let released = try Self.receive(site)
            try Self.decide(site, released, "released")
            let db = site.site.superuser
            // Same truth as the generic check, for every signature on a material disposition.
            let (signed, differing): (Int, Int) = try {
                let row = try db.query("""
                    SELECT count(*)::int AS n,
                           count(*) FILTER (WHERE gmp_rules.material_disposition_intact(d, s)
                                            IS DISTINCT FROM gmp_rules.signature_intact(s.id))::int AS differing
                    FROM gmp.material_disposition d
                    JOIN gmp.signature s ON s.record_table = 'gmp.material_disposition' AND s.record_key = d.id::text
                    """)[0]
                return (try row.decode("n"), try row.decode("differing"))
            }()
            #expect(signed == 3 && differing == 0, "\(signed) signatures, \(differing) differing")
            // The trace calls neither the generic check nor the lookup of the release time
            // (each a function parsed and planned on its own, in every cold session).
            let calls: Int = try db.transaction { tx in
                try tx.execute("SET LOCAL track_functions = 'all'")
                _ = try tx.query("SELECT gmp.trace_material(\(recalled))::text AS t")
                return try tx.query("""
                    SELECT (coalesce(pg_stat_get_xact_function_calls('gmp_rules.signature_intact(bigint)'::regprocedure), 0)
                            + coalesce(pg_stat_get_xact_function_calls('gmp_rules.record_content(text,text)'::regprocedure), 0)
                            + coalesce(pg_stat_get_xact_function_calls(
                                  'gmp_rules.material_unusable(gmp.material_lot,timestamptz)'::regprocedure), 0))::int AS n
                    """)[0].decode("n")
            }
            #expect(calls == 0, "the trace called the generic signature check or the release-time lookup \(calls) time(s)")
            // A viewer's own settings change nothing.
            let intact = try site.site.qaSession.transaction { tx in
                let settings: [StaticString] = ["SET LOCAL TimeZone = 'Pacific/Chatham'", "SET LOCAL DateStyle = 'SQL, DMY'",
                                                "SET LOCAL IntervalStyle = 'sql_standard'", "SET LOCAL extra_float_digits = -3"]
                for setting in settings { try tx.execute(SQLQuery(stringLiteral: setting)) }
                return try Self.dispositionsIntact(tx, recalled)
            }
            #expect(intact.count == 2 && intact.values.allSatisfy { $0 }, "\(intact)")
            // The rejection's reason changed by a superuser behind the rules: that signature
            // reads broken, the release's stays intact, in the trace as in the generic check.
            let rejection: Int64 = try db.query("""
                SELECT id FROM gmp.material_disposition WHERE material_lot_id = \(recalled) AND decision = 'rejected'
                """)[0].decode("id")
            try site.site.asSuperuser("""
                ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
                ALTER TABLE gmp.material_disposition DISABLE TRIGGER append_only;
                UPDATE gmp.material_disposition SET reason = 'no recall after all' WHERE id = \(rejection);
                ALTER TABLE gmp.material_disposition ENABLE ALWAYS TRIGGER append_only;
                ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS
                """)
            let after = try Self.dispositionsIntact(site.site.qaSession, recalled)
            #expect(after[rejection] == false && after.count == 2 && after.values.filter { $0 }.count == 1, "\(after)")
            let generic: Bool = try db.query("""
                SELECT gmp_rules.signature_intact(s.id) AS intact FROM gmp.signature s
                WHERE s.record_table = 'gmp.material_disposition' AND s.record_key = \(String(rejection))
                """)[0].decode("intact")
            #expect(generic == false)
            #expect(try Self.dispositionsIntact(db, released).values.allSatisfy { $0 })
        }
    }

    /// A released material lot consumed by a cell bank's isolation, the bank taken through
    /// to cryopreservation and a working cell bank made from it: what the trace tests follow.
    static func bankReachedByMaterial(_ site: Site) throws -> (material: String, bank: String, working: String) {
        try addType(site)
        let material = try receive(site)
        try decide(site, material, "released")
        let (_, collection) = try site.site.receivedCollection()
        let bank = try site.site.createLot(collection: collection)
        try site.site.step(bank, "isolation")
        try consume(site, material, step: try lastStep(site, bank))
        for kind in ["passage", "harvest", "formulation", "fill", "cryopreservation"] { try site.site.step(bank, kind) }
        return (material, bank, try site.site.createLot(parent: bank, stage: "working_cell_bank"))
    }

    static func lastStep(_ site: Site, _ din: String) throws -> Int64 {
        try site.site.superuser.query("SELECT max(id) AS id FROM gmp.manufacturing_step WHERE din = \(din)")[0].decode("id")
    }

    @Test("the list of material lots is one query that says of each lot what its document says, usable or not")
    func listAgreesWithDocuments() throws {
        try Site.with { site in
            try Self.addType(site)
            let quarantined = try Self.receive(site)
            let released = try Self.receive(site)
            try Self.decide(site, released, "released")
            let expired = try Self.receive(site, receivedDaysAgo: 10, expiresInDays: -1)
            try Self.decide(site, expired, "released")
            let unopened = try Self.receive(site, daysAfterOpening: 7)
            try Self.decide(site, unopened, "released")
            let recalled = try Self.receive(site)
            try Self.decide(site, recalled, "released")
            try Self.decide(site, recalled, "rejected")
            let (_, step) = try Self.lotWithStep(site)
            try Self.consume(site, released, step: step)

            // As a person with no role on materials beyond reading (the operator).
            let session = site.site.operatorSession
            let all = try session.query("SELECT id, usable FROM gmp.material_lots(false)")
            let usable = Dictionary(uniqueKeysWithValues: try all.map { (try $0.decode("id", as: String.self),
                                                                        try $0.decode("usable", as: Bool.self)) })
            #expect(Set(usable.keys) == [quarantined, released, expired, unopened, recalled])
            for id in usable.keys {
                let document: Bool = try session.query(
                    "SELECT (gmp.material_document(\(id))->>'usable_now')::boolean AS u")[0].decode("u")
                #expect(usable[id] == document, "\(id): list \(String(describing: usable[id])), document \(document)")
            }
            #expect(usable[released] == true && usable[quarantined] == false && usable[recalled] == false)
            let onlyUsable = try session.query("SELECT id FROM gmp.material_lots(true)").map { try $0.decode("id", as: String.self) }
            #expect(onlyUsable == [released])
            // Newest first, as gmp material list shows them.
            #expect(try all.map { try $0.decode("id", as: String.self) } == [recalled, unopened, expired, released, quarantined])
        }
    }
}
