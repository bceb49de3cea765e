import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// The rules of V0018 (shipments), tried as the people who use them and as a superuser
/// with psql: only released units ship (or quarantined ones on the urgent-need path),
/// nothing an open excursion affects leaves, the steps go in order, only the named
/// receiver confirms receipt, a received shipment never changes, and each refusal
/// leaves the audit trail as it was.
@Suite("Shipping rules hold in the database, whoever asks")
struct ShippingRulesTests {
    // MARK: - The whole way

    @Test("a released unit is packed, dispatched and received; both signatures stay intact; the trace shows its consignee")
    func shipsAndTraces() throws {
        try ShippingSite.with { s in
            let din = try s.releasedLot()
            let units = try s.units(din)
            let shipment = try s.createShipment()
            #expect(shipment.wholeMatch(of: /SHP\d\d-\d{5}/) != nil)
            #expect(try s.pack(shipment, Array(units.prefix(2))) == 2)
            #expect(try s.unitState(units[0]) == "packed")
            try s.dispatch(shipment)
            #expect(try s.unitState(units[0]) == "in_transit")
            try s.receive(shipment, condition: "shipper intact, logger in range")

            let row = try s.superuser.query("""
                SELECT state, holder_party, holder_person, device_id, shipment_id FROM gmp.unit WHERE id = \(units[0])
                """)[0]
            #expect(try row.decode("state", as: String.self) == "delivered")
            #expect(try row.decode("holder_party", as: String?.self) == ShippingSite.consignee)
            #expect(try row.decode("holder_person", as: String?.self) == nil)
            #expect(try row.decode("device_id", as: String?.self) == nil)
            #expect(try row.decode("shipment_id", as: String?.self) == shipment)
            #expect(try s.unitState(units[2]) == "in_hand", "an unpacked unit stays with its holder")

            let actions = try s.superuser.query("""
                SELECT string_agg(action, ',' ORDER BY id) AS a FROM gmp.custody_event WHERE unit_id = \(units[0])
                """)[0].decode("a", as: String.self)
            #expect(actions == "filled,packed,dispatched,received")
            let problems = try s.superuser.query("""
                SELECT cardinality(gmp_rules.custody_problems(\(units[0]))) AS n
                """)[0].decode("n", as: Int.self)
            #expect(problems == 0)

            let document = try Shipments(s.site.qaSession).document(shipment)
            #expect(document.status == "received" && document.receivedBy == s.receiver.id)
            #expect(document.signoffs.map(\.meaning) == ["performed", "verified"])
            #expect(document.signoffs.allSatisfy { $0.intact == true }, "\(document.signoffs)")
            #expect(document.signoffs[0].units == Array(units.prefix(2)))

            let trace = try DonorAndLotRulesTests.object(try s.site.qaSession.query("""
                SELECT gmp.trace_donor((SELECT donor_code FROM gmp.lot WHERE din = \(din)))::text AS doc
                """)[0].decode("doc"))
            let lot = try #require((trace["lots"] as? [[String: Any]])?.first { $0["din"] as? String == din })
            let whereabouts = try #require(lot["whereabouts"] as? [[String: Any]])
            #expect(whereabouts.count == 20)
            let delivered = try #require(whereabouts.first { $0["unit"] as? String == units[0] })
            #expect(delivered["state"] as? String == "delivered")
            #expect(delivered["consignee"] as? String == ShippingSite.consignee)
            #expect(delivered["shipment"] as? String == shipment)
            #expect(delivered["received_at"] is String)
            let kept = try #require(whereabouts.first { $0["unit"] as? String == units[2] })
            #expect(kept["state"] as? String == "in_hand" && kept["person"] as? String == s.site.operatorAccount.id)
        }
    }

    // MARK: - What may ship

    @Test("units of a quarantined, on-hold or rejected lot are refused, whoever packs, and leave no trace")
    func unreleasedRefused() throws {
        try ShippingSite.with { s in
            let quarantined = try s.filledLot()
            let shipment = try s.createShipment()
            let unit = try s.units(quarantined)[0]
            try s.site.expectRefused("GM006", naming: [unit, "quarantine", "only released units ship"], "quarantined unit") {
                _ = try s.pack(shipment, [unit])
            }
            #expect(try s.unitState(unit) == "in_hand")
            #expect(try s.shipmentStatus(shipment) == "created", "the refused pack left the shipment as it was")

            let rejected = try s.filledLot()
            try s.qcSite.reject(rejected)
            let rejectedUnit = try s.units(rejected)[0]
            try s.site.expectRefused("GM006", naming: ["rejected"], "rejected unit") {
                _ = try s.pack(shipment, [rejectedUnit])
            }
            // Not even on the urgent-need path: urgency covers quarantine only.
            let urgent = try s.createShipment(urgent: true)
            try s.site.expectRefused("GM006", naming: ["rejected"], "rejected unit, urgent") {
                _ = try s.pack(urgent, [rejectedUnit])
            }
            // The rule sits on the custody chain: a superuser writing the event directly is refused too.
            try s.site.expectRefused("GM006", naming: ["only released units ship"], "superuser packing event") {
                try s.site.asSuperuser("""
                    UPDATE gmp.shipment SET status = 'packed', packed_at = clock_timestamp(), packed_by = '\(s.site.operatorAccount.id)'
                    WHERE id = '\(shipment)';
                    SELECT gmp_rules.record_custody('\(unit)', 'packed', 'packed', NULL, NULL, NULL,
                                                   '\(s.site.operatorAccount.id)', NULL, 'x', '\(shipment)', 'DS-01');
                    """)
            }
        }
    }

    /// Issue 20, item 8: the lot's status is checked again when the unit leaves.
    @Test("a unit of a lot rejected or held after packing is not dispatched, on the urgent-need path too")
    func lotStatusCheckedAtDispatch() throws {
        try ShippingSite.with { s in
            // A released lot's status is final, so only a quarantined lot on the urgent-need
            // path can change after packing: held, then rejected.
            let held = try s.filledLot(eligible: false)
            let heldUnit = try s.units(held)[0]
            let first = try s.createShipment(urgent: true)
            #expect(try s.pack(first, [heldUnit]) == 1)
            try s.site.qaSession.execute("SELECT gmp.hold_lot(\(held), 'deviation DEV-7 under investigation')")
            try s.site.expectRefused("GM006", naming: [heldUnit, "on hold"], "dispatch of a unit held after packing, urgent") {
                try s.dispatch(first)
            }
            #expect(try s.shipmentStatus(first) == "packed")
            // Once QA lifts the hold, the same shipment goes.
            try s.site.qaSession.execute("SELECT gmp.unhold_lot(\(held), 'DEV-7 closed, no impact')")
            try s.dispatch(first)
            #expect(try s.unitState(heldUnit) == "in_transit")
            try s.receive(first, condition: "intact")   // the shipper is free again

            let quarantined = try s.filledLot(eligible: false)
            let unit = try s.units(quarantined)[0]
            let urgent = try s.createShipment(urgent: true)
            #expect(try s.pack(urgent, [unit]) == 1)
            try s.qcSite.reject(quarantined)   // rejected after packing
            try s.site.expectRefused("GM006", naming: [unit, "rejected", "only released units ship"],
                                     "dispatch of a unit rejected after packing, urgent") {
                try s.dispatch(urgent)
            }
            #expect(try s.shipmentStatus(urgent) == "packed")
            #expect(try s.unitState(unit) == "packed")
        }
    }

    @Test("the urgent-need path: a director with justification and physician only; then a quarantined unit ships, labelled")
    func urgentNeedPath() throws {
        try ShippingSite.with { s in
            // An operator may create shipments, but not on the urgent-need path.
            try s.site.expectRefused("42501", naming: ["director"], "operator, urgent") {
                _ = try s.createShipment(urgent: true, as: s.site.operatorSession)
            }
            for (need, physician) in [("patient relapsed, no alternative", nil), (nil, "Dr. P. Hysician, request of today")] {
                try s.site.expectRefused("GM002", naming: ["justification", "physician"], "half an urgent path") {
                    _ = try s.site.directorSession.query("""
                        SELECT gmp.create_shipment('City Clinic', '1 Main St', \(s.receiver.id), 'DS-01', 'PQ-1',
                                                   \(need), \(physician)) AS id
                        """)
                }
            }
            let din = try s.filledLot(eligible: false)
            let unit = try s.units(din)[0]
            let ordinary = try s.createShipment()
            try s.site.expectRefused("GM006", naming: ["only released units ship"], "quarantined, ordinary shipment") {
                _ = try s.pack(ordinary, [unit])
            }
            let urgent = try s.createShipment(urgent: true)
            #expect(try s.pack(urgent, [unit]) == 1)
            try s.dispatch(urgent)
            try s.receive(urgent, condition: "intact")
            let document = try Shipments(s.site.qaSession).document(urgent)
            #expect(document.urgent && document.urgentNeed != nil && document.physician != nil)
            let statements = document.labelStatements(for: try #require(document.units.first))
            #expect(statements.contains("NOT EVALUATED FOR INFECTIOUS SUBSTANCES"), "\(statements)")
            #expect(statements.contains("WARNING: Advise patient of communicable disease risks"), "\(statements)")
            #expect(try s.unitState(unit) == "delivered")
        }
    }

    @Test("a unit an open excursion affects is neither packed nor dispatched until QA has assessed it")
    func excursionAffectedRefused() throws {
        try ShippingSite.with { s in
            let din = try s.releasedLot()
            let units = try s.units(din)
            // In the tank during an excursion, then taken out again.
            try s.storeInTank(units[0])
            let excursion = try s.excursion(device: "LN2-01")
            try s.site.operatorSession.execute("SELECT gmp.withdraw_unit(\(units[0]), 'for shipping')")
            let shipment = try s.createShipment()
            try s.site.expectRefused("GM006", naming: [units[0], excursion], "excursion-affected unit") {
                _ = try s.pack(shipment, [units[0]])
            }
            try s.assess(excursion)
            #expect(try s.pack(shipment, [units[0]]) == 1)

            // The shipper itself warms up before dispatch: dispatch is refused.
            #expect(try s.pack(shipment, [units[1]]) == 2)
            let shipperExcursion = try s.excursion(device: "DS-01")
            try s.site.expectRefused("GM006", naming: [shipperExcursion], "dispatch during an excursion of the shipper") {
                try s.dispatch(shipment)
            }
            #expect(try s.shipmentStatus(shipment) == "packed")
            try s.assess(shipperExcursion)
            try s.dispatch(shipment)
            #expect(try s.shipmentStatus(shipment) == "dispatched")
        }
    }

    // MARK: - Who does what, in which order

    @Test("only the named receiver confirms receipt: not the sender, not QA, not another person")
    func onlyNamedReceiver() throws {
        try ShippingSite.with { s in
            let din = try s.releasedLot()
            let shipment = try s.createShipment()
            _ = try s.pack(shipment, [try s.units(din)[0]])
            try s.dispatch(shipment)
            let other = try TestAccount.create(in: s.site.database, roles: ["operator"], fullName: "Other Nurse")
            for (account, session) in [(s.site.operatorAccount, s.site.operatorSession), (s.site.qa, s.site.qaSession),
                                       (other, try other.connect())] {
                try s.site.expectRefused("42501", naming: [shipment, s.receiver.id], "receipt by \(account.id)") {
                    try s.receive(shipment, condition: "intact", as: account, session: session)
                }
            }
            #expect(try s.shipmentStatus(shipment) == "dispatched")
            try s.receive(shipment, condition: "intact")
        }
    }

    @Test("steps out of order are refused: dispatch before packing, receipt before dispatch, packing after dispatch, twice")
    func stepsInOrder() throws {
        try ShippingSite.with { s in
            let din = try s.releasedLot()
            let units = try s.units(din)
            let shipment = try s.createShipment()
            try s.site.expectRefused("GM003", naming: ["created", "pack"], "dispatch before packing") { try s.dispatch(shipment) }
            try s.site.expectRefused("GM003", naming: ["not been dispatched"], "receipt before anything") {
                try s.receive(shipment, condition: "intact")
            }
            _ = try s.pack(shipment, [units[0]])
            try s.site.expectRefused("GM003", naming: ["packed", "not been dispatched"], "receipt before dispatch") {
                try s.receive(shipment, condition: "intact")
            }
            // The receiver never packs; a second person does not pack into someone else's shipment.
            try s.site.expectRefused("42501", naming: ["named receiver"], "the receiver packing") {
                _ = try s.receiverSession.query("SELECT gmp.pack_shipment(\(shipment), ARRAY[\(units[1])]) AS n")
            }
            try s.site.expectRefused("42501", naming: ["being packed by"], "another person packing") {
                _ = try s.site.qcSession.query("SELECT gmp.pack_shipment(\(shipment), ARRAY[\(units[1])]) AS n")
            }
            try s.site.expectRefused("GM003", naming: ["already packed"], "a unit packed twice") {
                _ = try s.pack(shipment, [units[0]])
            }
            // Only the sender who holds the packed units dispatches.
            try s.site.expectRefused("42501", naming: ["packed by"], "dispatch by QA") {
                try s.dispatch(shipment, as: s.site.qa, session: s.site.qaSession)
            }
            // The shipper carries one shipment at a time.
            let second = try s.createShipment()
            try s.site.expectRefused("GM003", naming: ["in use by shipment \(shipment)"], "the shipper twice") {
                _ = try s.pack(second, [units[1]])
            }
            try s.dispatch(shipment)
            try s.site.expectRefused("GM003", naming: ["dispatched", "nothing more"], "packing after dispatch") {
                _ = try s.pack(shipment, [units[1]])
            }
            try s.site.expectRefused("GM003", naming: ["only a packed shipment"], "dispatch twice") { try s.dispatch(shipment) }
            try s.site.expectRefused("GM002", naming: ["before the dispatch"], "receipt dated before dispatch") {
                try s.receive(shipment, condition: "intact", secondsAgo: 3600)
            }
            try s.receive(shipment, condition: "intact")
            try s.site.expectRefused("GM004", naming: ["was received"], "receipt twice") {
                try s.receive(shipment, condition: "intact again")
            }
        }
    }

    // MARK: - Nobody bends it

    @Test("a received shipment never changes, and its units stay delivered, even for a superuser")
    func receivedIsFinal() throws {
        try ShippingSite.with { s in
            let din = try s.releasedLot()
            let unit = try s.units(din)[0]
            let shipment = try s.createShipment()
            _ = try s.pack(shipment, [unit])
            try s.dispatch(shipment)
            try s.receive(shipment, condition: "intact")
            // Sign-offs are append-only (refused as a rewrite, 42501); the rest by the rules (P0001).
            for (statement, sqlState) in [
                ("UPDATE gmp.shipment SET condition = 'damaged' WHERE id = '\(shipment)'", "GM004"),
                ("UPDATE gmp.shipment SET status = 'dispatched' WHERE id = '\(shipment)'", "GM004"),
                ("DELETE FROM gmp.shipment WHERE id = '\(shipment)'", "GM004"),
                ("UPDATE gmp.shipment_signoff SET condition = 'damaged'", "42501"),
                ("DELETE FROM gmp.shipment_signoff", "42501"),
                ("SELECT gmp_rules.record_custody('\(unit)', 'withdrawn', 'in_hand', NULL, NULL, NULL, '\(s.site.operatorAccount.id)', NULL, 'x')", "GM003"),
            ] {
                try s.site.expectRefused(sqlState, statement) { try s.site.asSuperuser(statement) }
            }
            try s.site.expectRefused("GM003", naming: ["delivered"], "discarding a delivered unit") {
                try s.site.operatorSession.execute("SELECT gmp.discard_unit(\(unit), 'x')")
            }
            #expect(try s.unitState(unit) == "delivered")
        }
    }

    @Test("a superuser cannot mark a shipment dispatched without the sender's signature, nor skip a step")
    func noUnsignedSteps() throws {
        try ShippingSite.with { s in
            let din = try s.releasedLot()
            let unit = try s.units(din)[0]
            let shipment = try s.createShipment()
            try s.site.expectRefused("GM003", naming: ["cannot become dispatched"], "skipping packing") {
                try s.site.asSuperuser("""
                    UPDATE gmp.shipment SET status = 'dispatched', courier = 'X', dispatched_at = now(), dispatched_by = '\(s.site.operatorAccount.id)'
                    WHERE id = '\(shipment)'
                    """)
            }
            _ = try s.pack(shipment, [unit])
            try s.site.expectRefused("42501", naming: ["e-signature"], "dispatch without signature") {
                try s.site.asSuperuser("""
                    UPDATE gmp.shipment SET status = 'dispatched', courier = 'X', dispatched_at = clock_timestamp(),
                                            dispatched_by = '\(s.site.operatorAccount.id)'
                    WHERE id = '\(shipment)'
                    """)
            }
            try s.site.expectRefused("GM007", naming: ["when the shipment is dispatched"], "a dispatched event before dispatch") {
                try s.site.asSuperuser("""
                    SELECT gmp_rules.record_custody('\(unit)', 'dispatched', 'in_transit', NULL, NULL, NULL, NULL, 'X', 'x',
                                                   '\(shipment)', 'DS-01')
                    """)
            }
            #expect(try s.shipmentStatus(shipment) == "packed")
        }
    }

    /// The shipping functions and who may call them; calls fail harmlessly past EXECUTE.
    static let guardedCalls: [(call: String, allowed: Set<String>)] = [
        ("SELECT gmp.create_shipment('C', 'A', 'nobody', 'DS-00', 'Q')", ["operator", "qa", "director"]),
        ("SELECT gmp.pack_shipment('SHP00-00000', ARRAY['X'])", ["operator", "qc", "qa"]),
        ("SELECT gmp.dispatch_shipment(gen_random_uuid(), 'SHP00-00000', 'C', NULL)", ["operator", "qc", "qa"]),
        ("SELECT gmp.receive_shipment(gen_random_uuid(), 'SHP00-00000', NULL, 'ok')", Set(DonorAndLotRulesTests.roles)),
        ("SELECT gmp.shipment_document('SHP00-00000')", Set(DonorAndLotRulesTests.roles)),
    ]

    @Test("no role writes shipments directly; each shipping function is callable by its roles only",
          arguments: DonorAndLotRulesTests.roles)
    func roleAccess(role: String) throws {
        try TestServer.withMigratedDatabase { database in
            let session = try TestAccount.create(in: database, roles: [role]).connect()
            for statement in ["INSERT INTO gmp.shipment DEFAULT VALUES", "UPDATE gmp.shipment SET status = status",
                              "DELETE FROM gmp.shipment", "INSERT INTO gmp.shipment_signoff DEFAULT VALUES",
                              "INSERT INTO gmp.custody_event DEFAULT VALUES"] {
                DonorAndLotRulesTests.expectSQLState("42501", "\(role): \(statement)") {
                    try session.execute(script: SQLScript(shippedWithBinary: statement))
                }
            }
            for (call, allowed) in Self.guardedCalls {
                if allowed.contains(role) {
                    do {
                        try session.execute(script: SQLScript(shippedWithBinary: call))
                        Issue.record("\(role): \(call) succeeded on a missing record")
                    } catch let error as PostgresError {
                        #expect(error.kind == .refusedByRule, "\(role) may call \(call), but: \(error)")
                    }
                } else {
                    DonorAndLotRulesTests.expectSQLState("42501", "\(role): \(call)") {
                        try session.execute(script: SQLScript(shippedWithBinary: call))
                    }
                }
            }
        }
    }
}
