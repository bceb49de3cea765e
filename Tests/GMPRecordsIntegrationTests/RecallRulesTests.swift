import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// The rules of V0030 and sql/code/19_recall.sql (issue 17): QA's signed opening holds
/// every lot the cause reached and lists every unit; while it is open no such unit ships
/// and no such lot is released, whoever writes; it closes, signed, only when every
/// consignee acknowledged and every held unit has a disposition. One test per cause
/// (material lot, product lot, donor with a newborn), tried through gmp and as a superuser.
@Suite("A recall holds what its cause reached until it is closed, whoever writes")
struct RecallRulesTests {
    typealias Site = ShippingSite

    // MARK: - Helpers

    /// QA opens a recall, signing "held"; returns its id.
    static func open(_ s: Site, _ cause: String, _ subject: String, result: Int64? = nil,
                     session: PostgresConnection? = nil, as account: TestAccount? = nil) throws -> String {
        try SignatureCeremony(session ?? s.site.qaSession).sign(password: (account ?? s.site.qa).password) { db, challenge in
            try db.query("""
                SELECT gmp.open_recall(\(challenge), \(cause), \(subject), \(result)::bigint,
                                       'supplier recall notice R-2026-14') AS id
                """)[0].decode("id")
        }
    }

    static func close(_ s: Site, _ recall: String) throws {
        try SignatureCeremony(s.site.qaSession).sign(password: s.site.qa.password) { db, challenge in
            _ = try db.execute("SELECT gmp.close_recall(\(challenge), \(recall), 'all units accounted for')")
        }
    }

    static func document(_ s: Site, _ recall: String) throws -> [String: Any] {
        try DonorAndLotRulesTests.object(try s.superuser.query("SELECT gmp.recall_document(\(recall))::text AS d")[0].decode("d"))
    }

    /// A lot filled and cryopreserved whose isolation consumed `material` (released).
    static func lotConsuming(_ s: Site, _ material: String) throws -> String {
        let din = try s.qcSite.lot()
        try s.site.step(din, "isolation")
        let step: Int64 = try s.superuser.query("SELECT max(id) AS id FROM gmp.manufacturing_step WHERE din = \(din)")[0]
            .decode("id")
        try MaterialRulesTests.consume(s.qcSite, material, step: step)
        for kind in ["passage", "harvest", "formulation", "fill", "cryopreservation"] { try s.site.step(din, kind) }
        return din
    }

    /// Ships `units` to the consignee: packed, dispatched, received.
    static func ship(_ s: Site, _ units: [String]) throws -> String {
        let shipment = try s.createShipment()
        _ = try s.pack(shipment, units)
        try s.dispatch(shipment)
        try s.receive(shipment, condition: "intact, below -150 °C")
        return shipment
    }

    // MARK: - Material lot

    @Test("a material lot's recall holds the lot that consumed it: on hold, not released even after an unhold, by gmp or a superuser")
    func materialRecallHoldsLots() throws {
        try Site.with { s in
            try MaterialRulesTests.addType(s.qcSite)
            let material = try MaterialRulesTests.receive(s.qcSite)
            try MaterialRulesTests.decide(s.qcSite, material, "released")
            let din = try Self.lotConsuming(s, material)
            let untouched = try s.filledLot()
            try s.qcSite.passAll(din)
            let eventsBefore = try s.qcSite.eventCount()

            // Only QA opens, signed; an operator may not call it at all.
            DonorAndLotRulesTests.expectSQLState("42501", "an operator opening a recall") {
                _ = try Self.open(s, "material_lot", material, session: s.site.operatorSession, as: s.site.operatorAccount)
            }
            let recall = try Self.open(s, "material_lot", material)
            #expect(try s.qcSite.eventCount() > eventsBefore)
            #expect(try s.site.status(din) == "on_hold")
            #expect(try s.site.status(untouched) == "quarantine")
            let doc = try Self.document(s, recall)
            #expect(doc["status"] as? String == "open")
            let lots = try #require(doc["lots"] as? [[String: Any]])
            #expect(lots.compactMap { $0["din"] as? String } == [din])
            #expect(lots.first?["held"] as? Bool == true && lots.first?["status_at_open"] as? String == "quarantine")
            #expect((doc["units"] as? [[String: Any]])?.count == 20)
            let signatures = try #require(doc["signatures"] as? [[String: Any]])
            #expect(signatures.count == 1 && signatures.first?["meaning"] as? String == "held"
                    && signatures.first?["intact"] as? Bool == true)

            // The hold lifted by hand: the recall still blocks the release, through gmp and as a superuser.
            try s.site.qaSession.execute("SELECT gmp.unhold_lot(\(din), 'investigated')")
            #expect(try s.qcSite.blockers(din).contains { $0.contains(recall) })
            try s.site.expectRefused("GM006", naming: [recall], "releasing a held lot") { try s.qcSite.release(din) }
            try s.site.expectRefused("GM006", naming: [recall], "a superuser releasing it, replica mode too") {
                try s.site.asSuperuser("""
                    SET LOCAL session_replication_role = replica;
                    UPDATE gmp.lot SET status = 'released', status_changed_at = now(),
                        status_changed_by = '\(s.site.qa.id)' WHERE din = '\(din)'
                    """)
            }
            // The untouched lot is not reached by it.
            #expect(try s.qcSite.blockers(untouched).allSatisfy { !$0.contains(recall) })

            // Held units without a disposition: no closure, through gmp or by a superuser's row.
            try s.site.expectRefused("GM006", naming: ["without a disposition"], "closing too early") {
                try Self.close(s, recall)
            }
            try s.site.expectRefused("GM006", naming: ["without a disposition"], "a superuser's closure row") {
                try s.site.asSuperuser("INSERT INTO gmp.recall_closure (recall_id, summary) VALUES ('\(recall)', 'done')")
            }
            // QA rejects the lot; its units take that disposition; then the recall closes.
            try s.qcSite.reject(din)
            for unit in try s.units(din) {
                try s.site.qaSession.execute("SELECT gmp.dispose_recall_unit(\(recall), \(unit), 'rejected', NULL)")
            }
            try Self.close(s, recall)
            let closed = try Self.document(s, recall)
            #expect(closed["status"] as? String == "closed")
            #expect((closed["signatures"] as? [[String: Any]])?.last?["meaning"] as? String == "approved")
            try s.site.expectRefused("GM004", naming: [recall], "a disposition after the closure") {
                try s.site.qaSession.execute("SELECT gmp.dispose_recall_unit(\(recall), \(try s.units(din)[0]), 'cleared', 'x')")
            }
        }
    }

    // MARK: - Product lot

    @Test("a product lot's recall lists shipped units by consignee, stops the rest shipping, and closes once acknowledged and disposed")
    func productRecallThroughClosure() throws {
        try Site.with { s in
            let din = try s.releasedLot()
            let units = try s.units(din)
            let shipment = try Self.ship(s, Array(units[0..<3]))
            // Two more packed into a shipment not yet dispatched.
            let waiting = try s.createShipment()
            _ = try s.pack(waiting, Array(units[3..<5]))

            let recall = try Self.open(s, "product_lot", din)
            #expect(try s.site.status(din) == "released", "a final lot keeps its status")
            let doc = try Self.document(s, recall)
            let consignees = try #require(doc["consignees"] as? [[String: Any]])
            #expect(consignees.count == 1 && consignees.first?["consignee"] as? String == ShippingSite.consignee)
            #expect(consignees.first?["units"] as? [String] == Array(units[0..<3]))
            let shippedRows = try #require(doc["units"] as? [[String: Any]]).filter { $0["shipped"] as? Bool == true }
            #expect(shippedRows.allSatisfy { $0["shipment"] as? String == shipment })

            // Nothing of the lot ships while it is open: not packed, not dispatched, not by a superuser.
            // A second shipper, since DS-01 carries the waiting shipment.
            try s.site.operatorSession.execute("""
                SELECT gmp.add_location('DS-02', 'shipper', 'SITE-A', 'Dry shipper 2', -150, '{cells}', NULL, NULL)
                """)
            let another: String = try s.site.qaSession.query("""
                SELECT gmp.create_shipment(\(ShippingSite.consignee), '1 Main St, Springfield', \(s.receiver.id), 'DS-02',
                                           'PQ-DS-02, valid to 2027-06-30', NULL, NULL) AS id
                """)[0].decode("id")
            try s.site.expectRefused("GM006", naming: [units[6], recall], "packing a held unit") {
                _ = try s.pack(another, [units[6]], as: s.site.operatorSession)
            }
            try s.site.expectRefused("GM006", naming: [recall], "dispatching a shipment packed before the recall") {
                try s.dispatch(waiting)
            }
            try s.site.expectRefused("GM006", naming: [recall], "a superuser writing the packing event") {
                try s.site.asSuperuser("""
                    INSERT INTO gmp.custody_event (unit_id, action, state, holder_person, shipment_id, device_id, reason)
                    VALUES ('\(units[7])', 'packed', 'packed', '\(s.site.operatorAccount.id)', '\(another)', 'DS-02', 'x')
                    """)
            }

            // Acknowledgement before notification, and one that leaves a unit out, are refused.
            let ack = { (returned: [String], destroyed: [String], administered: [String]) throws -> Void in
                _ = try s.site.qaSession.execute("""
                    SELECT gmp.acknowledge_recall(\(recall), \(ShippingSite.consignee), 'Dr A. Clinician', NULL,
                                                  \(returned)::text[], \(destroyed)::text[], \(administered)::text[], NULL)
                    """)
            }
            try s.site.expectRefused("GM003", naming: ["not notified"], "an acknowledgement before the notification") {
                try ack([units[0]], [units[1]], [units[2]])
            }
            try s.site.qaSession.execute("""
                SELECT gmp.notify_recall(\(recall), \(ShippingSite.consignee), 'phone', 'Dr A. Clinician, transplant unit',
                                         NULL, 'told to quarantine the units')
                """)
            try s.site.expectRefused("GM002", naming: [units[2]], "an acknowledgement leaving a unit out") {
                try ack([units[0]], [units[1]], [])
            }
            try ack([units[0]], [units[1]], [units[2]])
            #expect(try s.unitState(units[0]) == "recalled", "the returned unit re-entered custody as recalled")
            let holder: String = try s.superuser.query("SELECT holder_person FROM gmp.unit WHERE id = \(units[0])")[0]
                .decode("holder_person")
            #expect(holder == s.site.qa.id)
            #expect(try s.unitState(units[1]) == "delivered")

            // The units held in the facility: each needs a disposition before the closure.
            try s.site.expectRefused("GM006", naming: ["without a disposition"], "closing with held units open") {
                try Self.close(s, recall)
            }
            try s.site.expectRefused("GM003", naming: ["consignee"], "disposing a shipped unit as QA") {
                try s.site.qaSession.execute("SELECT gmp.dispose_recall_unit(\(recall), \(units[2]), 'cleared', 'x')")
            }
            try s.site.expectRefused("GM008", "a clearance without its reason") {
                try s.site.qaSession.execute("SELECT gmp.dispose_recall_unit(\(recall), \(units[5]), 'cleared', NULL)")
            }
            for unit in units[3...] {
                try s.site.qaSession.execute("""
                    SELECT gmp.dispose_recall_unit(\(recall), \(unit), 'cleared', 'sterility retest of retained sample passed')
                    """)
            }
            try Self.close(s, recall)
            // Closed: the held units ship again.
            try s.dispatch(waiting)
            #expect(try s.unitState(units[3]) == "in_transit")
        }
    }

    // MARK: - Donor

    @Test("a birth mother's recall and lookback reach her newborn's lots; a post-release result needs a released lot")
    func donorRecallReachesNewborn() throws {
        try Site.with { s in
            let site = s.site
            let mother = try site.registerDonor(fullName: "Beatrice Lookback")
            let newborn = try site.registerDonor(mother: mother)
            try site.consent(mother)
            try site.screen(mother)
            let collection = try site.collect(newborn, source: "umbilical_cord", unit: "g")
            try site.receive(collection)
            try site.determine(newborn, collection, "eligible")
            let master = try site.cellBank(from: collection)
            let working = try site.createLot(parent: master, stage: "working_cell_bank")
            let other = try s.filledLot()

            let lookback = try DonorAndLotRulesTests.object(
                try s.superuser.query("SELECT gmp.recall_lookback(\(mother))::text AS d")[0].decode("d"))
            #expect(lookback["newborns"] as? [String] == [newborn])
            #expect((lookback["lots"] as? [[String: Any]])?.compactMap { $0["din"] as? String } == [master, working])
            #expect((lookback["in_facility"] as? [[String: Any]])?.count == 20)

            try site.expectRefused("GM003", naming: ["released"], "a post-release result on a lot in quarantine") {
                _ = try Self.open(s, "post_release_result", other)
            }
            let recall = try Self.open(s, "donor", mother)
            let doc = try Self.document(s, recall)
            #expect((doc["lots"] as? [[String: Any]])?.compactMap { $0["din"] as? String } == [master, working])
            #expect(doc["newborns"] as? [String] == [newborn])
            #expect(try site.status(master) == "on_hold" && site.status(working) == "on_hold")
            #expect(try site.status(other) == "quarantine")
            // The opening's signature covers the recall row; a superuser's recall without one fails at commit.
            try site.expectRefused("42501", naming: ["e-signature"], "a superuser's unsigned recall") {
                try site.asSuperuser("""
                    INSERT INTO gmp.recall (id, cause, donor_code, description, opened_by)
                    VALUES ('RCL26-99999', 'donor', '\(mother)', 'no signature', '\(site.qa.id)')
                    """)
            }
            try site.expectRefused("42501", "a superuser editing the recall") {
                try site.asSuperuser("UPDATE gmp.recall SET description = 'changed' WHERE id = '\(recall)'")
            }
        }
    }

    // MARK: - Post-release result

    @Test("a post-release result names a result of the released lot; the recall reaches its units, nothing else")
    func postReleaseResult() throws {
        try Site.with { s in
            let din = try s.releasedLot()
            let other = try s.filledLot()
            let result: Int64 = try s.superuser.query("""
                SELECT id FROM gmp.qc_result WHERE din = \(din) AND test = 'sterility' ORDER BY id DESC LIMIT 1
                """)[0].decode("id")
            let foreign = try s.qcSite.record(other, "cd105", "98.2", unit: "%")
            try s.site.expectRefused("GM001", naming: ["\(foreign.id)"], "a result of another lot") {
                _ = try Self.open(s, "post_release_result", din, result: foreign.id)
            }
            try s.site.expectRefused("GM002", "a result named for a product-lot recall") {
                _ = try Self.open(s, "product_lot", din, result: result)
            }
            let recall = try Self.open(s, "post_release_result", din, result: result)
            let doc = try Self.document(s, recall)
            #expect(doc["cause"] as? String == "post_release_result")
            #expect((doc["result_id"] as? NSNumber)?.int64Value == result)
            #expect((doc["lots"] as? [[String: Any]])?.compactMap { $0["din"] as? String } == [din])
            #expect((doc["lots"] as? [[String: Any]])?.first?["held"] as? Bool == false)
            #expect((doc["units"] as? [[String: Any]])?.count == 20)
            #expect(try s.site.status(other) == "quarantine")
            // A held unit of a recall that did not reach it is refused, as a superuser's row too.
            try s.site.expectRefused("GM001", naming: [recall], "a disposition of a unit the recall did not reach") {
                try s.site.asSuperuser("""
                    INSERT INTO gmp.recall_unit_disposition (recall_id, unit_id, disposition, reason)
                    VALUES ('\(recall)', '\(try s.units(other)[0])', 'cleared', 'x')
                    """)
            }
        }
    }

    // MARK: - Every unit, wherever it is; nothing leaves, nothing new is made

    @Test("the opening records each unit where it is (delivered, in transit, stored, thawed, discarded, in hand); none is thawed or shipped while it is open, by gmp or a superuser")
    func unitsWhereverTheyAre() throws {
        try Site.with { s in
            let din = try s.releasedLot()
            let units = try s.units(din)
            let delivered = try Self.ship(s, [units[0]])
            let travelling = try s.createShipment()
            _ = try s.pack(travelling, [units[1]])
            try s.dispatch(travelling)
            try s.storeInTank(units[2])
            try s.site.operatorSession.execute("SELECT gmp.thaw_unit(\(units[3]), 'QC retain thawed before the recall')")
            try s.site.operatorSession.execute("SELECT gmp.discard_unit(\(units[4]), 'dropped')")

            let recall = try Self.open(s, "product_lot", din)
            let doc = try Self.document(s, recall)
            let rows = try #require(doc["units"] as? [[String: Any]])
            let row = { (unit: String) in rows.first { $0["unit"] as? String == unit } ?? [:] }
            #expect(rows.count == 20)
            #expect(row(units[0])["state_at_open"] as? String == "delivered" && row(units[0])["shipped"] as? Bool == true
                    && row(units[0])["shipment"] as? String == delivered
                    && row(units[0])["consignee"] as? String == ShippingSite.consignee)
            #expect(row(units[1])["state_at_open"] as? String == "in_transit" && row(units[1])["shipped"] as? Bool == true
                    && row(units[1])["shipment"] as? String == travelling
                    && row(units[1])["consignee"] as? String == ShippingSite.consignee)
            for (unit, state) in [(units[2], "stored"), (units[3], "thawed"), (units[4], "discarded"), (units[5], "in_hand")] {
                #expect(row(unit)["state_at_open"] as? String == state && row(unit)["shipped"] as? Bool == false
                        && row(unit)["consignee"] as? String == nil, "\(unit)")
            }
            let consignees = try #require(doc["consignees"] as? [[String: Any]])
            #expect(consignees.count == 1 && consignees.first?["units"] as? [String] == [units[0], units[1]])
            let outstanding = try #require(doc["outstanding"] as? [String])
            #expect(outstanding.contains { $0.contains("17 unit(s) held") }, "a discarded unit needs no disposition: \(outstanding)")

            // A held unit is not thawed (the start of an administration), by gmp or a superuser's event.
            try s.site.expectRefused("GM006", naming: [units[5], recall], "thawing a held unit") {
                try s.site.operatorSession.execute("SELECT gmp.thaw_unit(\(units[5]), 'for the patient')")
            }
            try s.site.expectRefused("GM006", naming: [units[6], recall], "a superuser's thaw event, replica mode too") {
                try s.site.asSuperuser("""
                    SET LOCAL session_replication_role = replica;
                    INSERT INTO gmp.custody_event (unit_id, action, state, holder_person, reason)
                    VALUES ('\(units[6])', 'thawed', 'thawed', '\(s.site.operatorAccount.id)', 'x')
                    """)
            }
            // Still allowed: a unit stays here (withdrawn from storage) or is destroyed.
            try s.site.operatorSession.execute("SELECT gmp.withdraw_unit(\(units[2]), 'to the quarantine shelf')")
            try s.site.operatorSession.execute("SELECT gmp.discard_unit(\(units[5]), 'destroyed under the recall')")
            // The unit in transit still arrives; the consignee is then asked what became of it.
            try s.receive(travelling, condition: "intact")
            #expect(try s.unitState(units[1]) == "delivered")
        }
    }

    @Test("nothing new is made from what an open recall holds: no child lot, no newborn's lot, no unit, no consumption of the material, whoever writes")
    func nothingDerivedWhileOpen() throws {
        try Site.with { s in
            let site = s.site
            let mother = try site.registerDonor(fullName: "Beatrice Derivation")
            let newborn = try site.registerDonor(mother: mother)
            try site.consent(mother)
            try site.screen(mother)
            let collection = try site.collect(newborn, source: "umbilical_cord", unit: "g")
            try site.receive(collection)
            try site.determine(newborn, collection, "eligible")
            let master = try site.cellBank(from: collection)
            let later = try site.collect(newborn, source: "umbilical_cord", unit: "g")
            try site.receive(later)
            try site.determine(newborn, later, "eligible")

            let recall = try Self.open(s, "donor", mother)
            try site.expectRefused("GM006", naming: ["lot \(master)", recall], "a working cell bank from the held master") {
                _ = try site.createLot(parent: master, stage: "working_cell_bank")
            }
            try site.expectRefused("GM006", naming: ["donor \(newborn)", recall], "a new lot of the recalled mother's newborn") {
                _ = try site.createLot(collection: later)
            }
            try site.expectRefused("GM006", naming: [recall], "a superuser's child lot, replica mode too") {
                try site.asSuperuser("""
                    SET LOCAL session_replication_role = replica;
                    INSERT INTO gmp.lot (din, stage, product_kind, intended_use, donor_code, collection_id, parent_din, expires_on)
                    SELECT 'W0000' || substr(din, 6), 'working_cell_bank', product_kind, intended_use, donor_code,
                           collection_id, din, expires_on FROM gmp.lot WHERE din = '\(master)'
                    """)
            }
            try site.expectRefused("GM006", naming: ["lot \(master)", recall], "a superuser's new unit of the held lot") {
                try site.asSuperuser("""
                    INSERT INTO gmp.unit (id, din, division, container, volume_ml, state, holder_person)
                    VALUES ('\(master)-099', '\(master)', 99, 'vial', 1.5, 'in_hand', '\(site.operatorAccount.id)')
                    """)
            }

            // A recalled material lot is not consumed while the recall is open, as a superuser neither.
            try MaterialRulesTests.addType(s.qcSite)
            let material = try MaterialRulesTests.receive(s.qcSite)
            try MaterialRulesTests.decide(s.qcSite, material, "released")
            _ = try Self.lotConsuming(s, material)
            let other = try s.qcSite.lot()
            try site.step(other, "isolation")
            let materialRecall = try Self.open(s, "material_lot", material)
            let step: Int64 = try s.superuser.query("SELECT max(id) AS id FROM gmp.manufacturing_step WHERE din = \(other)")[0]
                .decode("id")
            try site.expectRefused("GM006", naming: ["material lot \(material)", materialRecall], "consuming the recalled medium") {
                try MaterialRulesTests.consume(s.qcSite, material, step: step)
            }
            try site.expectRefused("GM006", naming: [materialRecall], "a superuser's consumption row") {
                try site.asSuperuser("""
                    SET LOCAL session_replication_role = replica;
                    INSERT INTO gmp.material_consumption (material_lot_id, step_id, quantity, unit)
                    VALUES ('\(material)', \(step), 5, 'mL')
                    """)
            }
        }
    }
}
