import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// A first writer that writes at READ COMMITTED, as gmp's commands do, then holds its
/// transaction open (and with it the rows it locked) until told to commit: the second
/// writer of a race meets it mid-flight. Signed writes go through the signing ceremony.
final class HeldWriter: @unchecked Sendable {
    private let written = DispatchSemaphore(value: 0)
    private let commit = DispatchSemaphore(value: 0)
    private let done = DispatchGroup()
    private let outcome = Locked("not run")

    /// Starts `write` as `account` and returns once it has written (or failed).
    init(_ account: TestAccount, signed: Bool,
         _ write: @escaping @Sendable (PostgresConnection, UUID?) throws -> Void) throws {
        done.enter()
        Thread.detachNewThread { [self] in
            defer { done.leave() }
            var held = false
            // Held on the first attempt only: a retry must not wait again.
            let body = { (db: PostgresConnection, challenge: UUID?) throws -> Void in
                try write(db, challenge)
                if !held { held = true; self.written.signal(); self.commit.wait() }
            }
            do {
                let session = try account.connect()
                try session.execute("SET gmp.audit_chain = 'after_commit'")
                if signed {
                    try SignatureCeremony(session).sign(password: account.password, isolation: WriteIsolation.lockedRows) {
                        db, challenge in try body(db, challenge)
                    }
                } else {
                    try session.transaction(WriteIsolation.lockedRows) { db in try body(db, nil) }
                }
                outcome.mutate { $0 = "ok" }
            } catch let error as PostgresError {
                outcome.mutate { $0 = error.sqlState }
            } catch {
                outcome.mutate { $0 = "other \(error)" }
            }
            if !held { written.signal() }
        }
        #expect(written.wait(timeout: .now() + 15) == .success, "the first writer never wrote")
    }

    /// Lets the first writer commit.
    func release() { commit.signal() }

    /// What the first writer got once it ended: "ok" or its SQLSTATE.
    func result() -> String {
        commit.signal()
        done.wait()
        return outcome.value
    }
}

/// Issue 19, the writes moved from SERIALIZABLE to READ COMMITTED (docs/concurrency.md):
/// releases and rejections, shipping, materials and equipment. Two people racing on the
/// SAME rule end with one winner and the rule's refusal for the other. Each race is made
/// deterministic: the first writer holds its uncommitted write until the second is seen
/// waiting for a lock (``SameRecordRaceTests/race(_:waiting:second:release:)``), then commits.
@Suite("Same-record races of the moved writes: one wins, the other gets the rule's refusal")
struct SameRecordRaceLockedRowsTests {
    /// Runs `write` in a READ COMMITTED transaction of `account`'s own, signed or not.
    static func write(_ account: TestAccount, signed: Bool,
                      _ body: (PostgresConnection, UUID?) throws -> Void) throws {
        let session = try account.connect()
        try session.execute("SET gmp.audit_chain = 'after_commit'")
        if signed {
            try SignatureCeremony(session).sign(password: account.password, isolation: WriteIsolation.lockedRows) {
                db, challenge in try body(db, challenge)
            }
        } else {
            try session.transaction(WriteIsolation.lockedRows) { db in try body(db, nil) }
        }
    }

    static func count(_ site: DonorAndLotRulesTests.Site, _ sql: SQLQuery) throws -> Int64 {
        try site.superuser.query(sql)[0].decode("n")
    }

    @Test("two QC people assign a specification to one lot at once: the second waits for the lot and is refused GM004, not a duplicate key")
    func twoAssignments() throws {
        try QCReleaseSite.with { qc in
            let (donor, collection) = try qc.site.receivedCollection()
            try qc.site.determine(donor, collection, "eligible")
            let din = try qc.site.createLot(collection: collection, stage: "drug_product")
            let specification = qc.specification
            let first = try HeldWriter(qc.site.qc, signed: true) { db, challenge in
                _ = try db.execute("""
                    SELECT gmp.assign_specification(\(challenge!), \(din), \(specification), 0.4::numeric, false, 'first')
                    """)
            }
            defer { first.release() }
            let qc2 = qc.qc2
            let outcome = try SameRecordRaceTests.race(qc.site, waiting: qc2, second: {
                try Self.write(qc2, signed: true) { db, challenge in
                    _ = try db.execute("""
                        SELECT gmp.assign_specification(\(challenge!), \(din), \(specification), 0.4::numeric, false, 'second')
                        """)
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM004", "the second assignment of a lot assigned meanwhile: \(outcome)")
            #expect(try Self.count(qc.site, "SELECT count(*) AS n FROM gmp.lot_specification WHERE din = \(din)") == 1)
        }
    }

    @Test("QA rejects a lot while another QA person releases it: the release waits and is refused GM003")
    func releaseWhileRejected() throws {
        try QCReleaseSite.with { qc in
            let din = try qc.lot()
            let hash = try qc.packageHash(din)
            let first = try HeldWriter(qc.site.qa, signed: true) { db, challenge in
                _ = try db.execute("SELECT gmp.reject_lot(\(challenge!), \(din), 'sterility failure')")
            }
            defer { first.release() }
            let qa2 = qc.qa2
            let outcome = try SameRecordRaceTests.race(qc.site, waiting: qa2, second: {
                try Self.write(qa2, signed: true) { db, challenge in
                    _ = try db.execute("SELECT gmp.release_lot(\(challenge!), \(din), \(hash), 'released')")
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM003", "the release of a lot rejected meanwhile: \(outcome)")
            #expect(try qc.site.status(din) == "rejected")
            #expect(try Self.count(qc.site, "SELECT count(*) AS n FROM gmp.disposition WHERE din = \(din)") == 1)
        }
    }

    @Test("two dispatches of one packed shipment (its unit) at once: one goes, the other is refused GM003")
    func twoDispatchesOfOneUnit() throws {
        try ShippingSite.with { ship in
            let din = try ship.releasedLot()
            let unit = try ship.units(din)[0]
            let shipment = try ship.createShipment()
            _ = try ship.pack(shipment, [unit])
            let sender = ship.site.operatorAccount
            let dispatch: @Sendable (PostgresConnection, UUID?) throws -> Void = { db, challenge in
                _ = try Shipments.dispatch(on: db, challenge: challenge!, shipment: shipment,
                                           courier: "ColdChain Couriers, waybill 4711", reason: "handed over")
            }
            let first = try HeldWriter(sender, signed: true, dispatch)
            defer { first.release() }
            let outcome = try SameRecordRaceTests.race(ship.site, waiting: sender, second: {
                try Self.write(sender, signed: true, dispatch)
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM003", "the second dispatch: \(outcome)")
            #expect(try ship.unitState(unit) == "in_transit")
            #expect(try Self.count(ship.site, """
                SELECT count(*) AS n FROM gmp.custody_event WHERE unit_id = \(unit) AND action = 'dispatched'
                """) == 1)
            #expect(try Self.count(ship.site, "SELECT count(*) AS n FROM gmp.shipment_signoff WHERE shipment_id = \(shipment)") == 1)
        }
    }

    @Test("two shipments packed into one dry shipper at once: the second waits for the first and is refused GM003")
    func twoShipmentsIntoOneShipper() throws {
        try ShippingSite.with { ship in
            let din = try ship.releasedLot()
            let units = try ship.units(din)
            let (one, two) = (try ship.createShipment(), try ship.createShipment())
            let packer = ship.site.operatorAccount
            let first = try HeldWriter(packer, signed: false) { db, _ in
                _ = try db.execute("SELECT gmp.pack_shipment(\(one), \([units[0]])::text[])")
            }
            defer { first.release() }
            // Before #19 the rule "a shipper carries one shipment at a time" read the other
            // shipments without a lock: at READ COMMITTED both were packed into DS-01.
            let outcome = try SameRecordRaceTests.race(ship.site, waiting: packer, second: {
                try Self.write(packer, signed: false) { db, _ in
                    _ = try db.execute("SELECT gmp.pack_shipment(\(two), \([units[1]])::text[])")
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM003", "the second shipment into the same shipper: \(outcome)")
            #expect(try ship.shipmentStatus(one) == "packed")
            #expect(try ship.shipmentStatus(two) == "created")
        }
    }

    /// A released 500 mL material lot and two lots, each with a step that may consume it.
    static func materialAndTwoSteps(_ site: QCReleaseSite) throws -> (material: String, steps: [Int64]) {
        try MaterialRulesTests.addType(site)
        let material = try MaterialRulesTests.receive(site)
        try MaterialRulesTests.decide(site, material, "released")
        let steps = try (0..<2).map { _ in try MaterialRulesTests.lotWithStep(site).step }
        return (material, steps)
    }

    @Test("two steps consume 300 mL each of one 500 mL material lot at once: the second waits, sees the first and is refused GM003")
    func twoConsumptionsExhaustOneLot() throws {
        try QCReleaseSite.with { site in
            let (material, steps) = try Self.materialAndTwoSteps(site)
            let other = try TestAccount.create(in: site.site.database, roles: ["operator"])
            let first = try HeldWriter(site.site.operatorAccount, signed: false) { db, _ in
                _ = try db.execute("SELECT gmp.record_consumption(\(material), 300, 'mL', \(steps[0]), NULL)")
            }
            defer { first.release() }
            // Before #19 the material lot was locked FOR SHARE, which two consumptions
            // share, and nothing counted what was left: both were recorded, 600 of 500 mL.
            let outcome = try SameRecordRaceTests.race(site.site, waiting: other, second: {
                try Self.write(other, signed: false) { db, _ in
                    _ = try db.execute("SELECT gmp.record_consumption(\(material), 300, 'mL', \(steps[1]), NULL)")
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM003", "the consumption past what is left: \(outcome)")
            #expect(try Self.count(site.site, "SELECT count(*) AS n FROM gmp.material_consumption WHERE material_lot_id = \(material)") == 1)
        }
    }

    @Test("a consumption waits for a session holding the material lot FOR SHARE without holding a share itself, so that session can go on to lock it for update: no deadlock")
    func consumptionTakesItsStrongestLockFirst() throws {
        try QCReleaseSite.with { site in
            let (material, steps) = try Self.materialAndTwoSteps(site)
            // Stands for another consumption between its two lock requests.
            let holder = try TestServer.connect(site.site.database)
            try holder.execute("BEGIN")
            try holder.execute("SELECT FROM gmp.material_lot WHERE id = \(material) FOR SHARE")
            let other = try TestAccount.create(in: site.site.database, roles: ["operator"])
            // Before, the recall check took FOR SHARE and the consumption rule then asked FOR
            // NO KEY UPDATE: the consumer held a share while waiting, the holder's request
            // for more waited on it, and one of them was aborted as a deadlock (40P01).
            // No retry here, so that a deadlock shows.
            let outcome = try SameRecordRaceTests.race(site.site, waiting: other, second: {
                let session = try other.connect()
                try session.execute("BEGIN")
                _ = try session.execute("SELECT gmp.record_consumption(\(material), 50, 'mL', \(steps[0]), NULL)")
                try session.execute("COMMIT")
            }, release: {
                try holder.execute("SELECT FROM gmp.material_lot WHERE id = \(material) FOR NO KEY UPDATE")
                try holder.execute("COMMIT")
            })
            #expect(outcome == "ok", "the consumption: \(outcome)")
            #expect(try Self.count(site.site, "SELECT count(*) AS n FROM gmp.material_consumption WHERE material_lot_id = \(material)") == 1)
        }
    }

    @Test("QA rejects a material lot while a step consumes it: the consumption waits and is refused GM006")
    func materialRejectedWhileConsumed() throws {
        try QCReleaseSite.with { site in
            let (material, steps) = try Self.materialAndTwoSteps(site)
            let first = try HeldWriter(site.site.qa, signed: true) { db, challenge in
                _ = try db.execute("SELECT gmp.reject_material(\(challenge!), \(material), 'supplier recall 2026-14')")
            }
            defer { first.release() }
            let user = site.site.operatorAccount
            let outcome = try SameRecordRaceTests.race(site.site, waiting: user, second: {
                try Self.write(user, signed: false) { db, _ in
                    _ = try db.execute("SELECT gmp.record_consumption(\(material), 50, 'mL', \(steps[0]), NULL)")
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM006", "the use of a material lot rejected meanwhile: \(outcome)")
            #expect(try Self.count(site.site, "SELECT count(*) AS n FROM gmp.material_consumption") == 0)
        }
    }

    /// A second operator's step on a new lot, using BSC-01, in one transaction (as
    /// `gmp lot step … --equipment BSC-01` records it).
    static func stepUsingCabinet(_ site: QCReleaseSite, as account: TestAccount) throws -> @Sendable () throws -> Void {
        let din = try site.lot()
        return {
            try Self.write(account, signed: false) { db, _ in
                _ = try db.execute("SELECT gmp.record_step(\(din), 'isolation', NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
                _ = try db.execute("""
                    SELECT gmp.record_equipment_use('BSC-01', (SELECT max(id) FROM gmp.manufacturing_step WHERE din = \(din)), NULL)
                    """)
            }
        }
    }

    @Test("equipment taken out of service while a step uses it: the step waits and is refused GM006")
    func outOfServiceWhileUsed() throws {
        try QCReleaseSite.with { site in
            try EquipmentRulesTests.fit(site)
            let other = try TestAccount.create(in: site.site.database, roles: ["operator"])
            let step = try Self.stepUsingCabinet(site, as: other)
            let first = try HeldWriter(site.site.operatorAccount, signed: true) { db, challenge in
                _ = try db.execute("SELECT gmp.take_equipment_out_of_service(\(challenge!), 'BSC-01', 'airflow alarm')")
            }
            defer { first.release() }
            let outcome = try SameRecordRaceTests.race(site.site, waiting: other, second: step, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM006", "a use of equipment taken out of service meanwhile: \(outcome)")
            #expect(try EquipmentRulesTests.useCount(site) == 0)
        }
    }

    @Test("a calibration finds equipment out of tolerance while a step uses it: the step waits and is refused GM006")
    func calibrationWhileUsed() throws {
        try QCReleaseSite.with { site in
            try EquipmentRulesTests.fit(site)
            let other = try TestAccount.create(in: site.site.database, roles: ["operator"])
            let step = try Self.stepUsingCabinet(site, as: other)
            let first = try HeldWriter(site.site.operatorAccount, signed: true) { db, challenge in
                _ = try db.execute("""
                    SELECT gmp.record_equipment_service(\(challenge!), 'BSC-01', 'calibration', now(), NULL,
                                                        'out_of_tolerance', 'out_of_tolerance', 'cert 2', 'failed')
                    """)
            }
            defer { first.release() }
            let outcome = try SameRecordRaceTests.race(site.site, waiting: other, second: step, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "GM006", "a use of equipment a calibration found out of tolerance meanwhile: \(outcome)")
            #expect(try EquipmentRulesTests.useCount(site) == 0)
        }
    }

    @Test("a step uses equipment while its calibration finds it out of tolerance: the calibration waits and opens a deviation on the lot")
    func stepWhileCalibrated() throws {
        try QCReleaseSite.with { site in
            try EquipmentRulesTests.fit(site)
            let din = try site.lot()
            let first = try HeldWriter(site.site.operatorAccount, signed: false) { db, _ in
                _ = try db.execute("SELECT gmp.record_step(\(din), 'isolation', NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
                _ = try db.execute("""
                    SELECT gmp.record_equipment_use('BSC-01', (SELECT max(id) FROM gmp.manufacturing_step WHERE din = \(din)), NULL)
                    """)
            }
            defer { first.release() }
            let calibrator = try TestAccount.create(in: site.site.database, roles: ["operator"])
            let outcome = try SameRecordRaceTests.race(site.site, waiting: calibrator, second: {
                try Self.write(calibrator, signed: true) { db, challenge in
                    _ = try db.execute("""
                        SELECT gmp.record_equipment_service(\(challenge!), 'BSC-01', 'calibration', clock_timestamp(), NULL,
                                                            'out_of_tolerance', 'in_tolerance', 'cert 2', 'adjusted')
                        """)
                }
            }, release: first.release)
            #expect(first.result() == "ok")
            #expect(outcome == "ok", "the calibration: \(outcome)")
            #expect(try Self.count(site.site, """
                SELECT count(*) AS n FROM gmp.equipment_deviation WHERE din = \(din)
                """) == 1, "the use committed while the calibration waited is found: its lot gets the deviation")
        }
    }
}
