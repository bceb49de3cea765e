import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp ship …` and the donor trace's unit whereabouts as people run them: the built
/// binary, its stdout, --json and exit codes; every refusal is one line on stderr and
/// leaves the audit trail without one event more. The rules themselves are tried in
/// SQL by ShippingRulesTests.
@Suite("ship commands and the donor trace's whereabouts, end to end")
struct ShipCommandTests {
    typealias Site = DonorLotCommandTests.Site
    typealias CreatedLot = DonorLotCommandTests.CreatedLot

    static let consignee = "City Clinic Cell Therapy Unit"

    /// A QC site with a dry shipper DS-01 (added in SQL by the operator: the storage
    /// commands are not part of these tests) and a receiver at the consignee.
    final class ShipSite {
        let qs: QCReleaseCommandTests.QCSite
        var site: Site { qs.site }
        let receiver: TestAccount

        init(_ qs: QCReleaseCommandTests.QCSite) throws {
            self.qs = qs
            receiver = try TestAccount.create(in: qs.site.database, roles: ["operator"], fullName: "Rita Receiver")
            let operatorSession = try qs.site.operatorAccount.connect()
            try operatorSession.execute("SELECT gmp.add_location('SITE-A', 'site', NULL, 'Main site', NULL, NULL, NULL, NULL)")
            try operatorSession.execute("""
                SELECT gmp.add_location('DS-01', 'shipper', 'SITE-A', 'Dry shipper 1', -150, '{cells}', NULL, NULL)
                """)
        }

        /// A lot filled with 10 units (in the operator's hands), in quarantine with its
        /// specification assigned.
        func filledLot() throws -> CreatedLot {
            let lot = try qs.eligibleLot()
            for (kind, extra) in [("isolation", []), ("harvest", []), ("fill", DonorLotCommandTests.fill)] {
                try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, kind, extra) }
            }
            try site.expectSuccess { try site.signed(site.qc, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4"]) }
            return lot
        }

        /// A filled lot with every result passing, released by QA.
        func releasedLot() throws -> CreatedLot {
            let lot = try filledLot()
            try qs.passAll(lot)
            try site.expectSuccess { try site.signed(qs.releaser, ["release", "approve", lot.keyed]) }
            return lot
        }

        func unit(_ lot: CreatedLot, _ division: Int) -> String {
            lot.din + "-" + String(format: "%03d", division)
        }

        func create(_ extra: [String] = [], as person: TestAccount? = nil) throws -> GMPRun {
            try site.gmp(person ?? site.operatorAccount,
                         ["ship", "create", "--consignee", ShipCommandTests.consignee, "--address", "1 Main St, Springfield",
                          "--receiver", receiver.id, "--shipper", "DS-01", "--qualification", "PQ-DS-01, valid to 2027-06-30"]
                         + extra)
        }

        /// A new shipment's id, created by the operator.
        func shipment() throws -> String {
            let run = try site.expectSuccess { try create(["--json"]) }
            return try #require(try run.json()["id"] as? String, "\(run)")
        }
    }

    static func withShipSite<T>(_ body: (ShipSite) throws -> T) throws -> T {
        try QCReleaseCommandTests.withQCSite { qs in
            try qs.approvedSpecification()
            return try body(try ShipSite(qs))
        }
    }

    // MARK: - Tests

    @Test("create, pack, dispatch and receive with --json; show and list; the donor trace says where each unit went")
    func happyPath() throws {
        try Self.withShipSite { ss in
            let site = ss.site
            let lot = try ss.releasedLot()
            let created = try site.expectSuccess { try ss.create(["--json"]) }
            let id = try #require(try created.json()["id"] as? String, "\(created)")
            #expect(id.wholeMatch(of: /SHP\d\d-\d{5}/) != nil, "\(created)")
            #expect(try created.json()["status"] as? String == "created", "\(created)")

            let pack = try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["ship", "pack", id, "--unit", ss.unit(lot, 1), "--unit", ss.unit(lot, 2), "--json"])
            }
            #expect(try pack.json()["units"] as? Int == 2, "\(pack)")
            #expect(try pack.json()["packed"] as? [String] == [ss.unit(lot, 1), ss.unit(lot, 2)], "\(pack)")
            let packedText = try site.expectSuccess { try site.gmp(site.qa, ["ship", "show", id]) }
            #expect(packedText.stdout.contains("PACKED"), "\(packedText)")
            #expect(packedText.stdout.contains(ss.unit(lot, 2)), "\(packedText)")

            let dispatch = try site.expectSuccess {
                try site.signed(site.operatorAccount, ["ship", "dispatch", id, "--courier", "ColdChain Couriers, waybill 4711", "--json"])
            }
            #expect(try dispatch.json()["meaning"] as? String == "performed", "\(dispatch)")
            #expect(try dispatch.json()["signer"] as? String == site.operatorAccount.id, "\(dispatch)")

            let receive = try site.expectSuccess {
                try site.signed(ss.receiver, ["ship", "receive", id, "--condition", "shipper intact, logger in range", "--json"])
            }
            #expect(try receive.json()["meaning"] as? String == "verified", "\(receive)")

            let show = try site.expectSuccess { try site.gmp(site.qa, ["ship", "show", id, "--json"]) }
            let document = try show.json()
            #expect(document["status"] as? String == "received", "\(show)")
            #expect(document["received_by"] as? String == ss.receiver.id, "\(show)")
            let signoffs = try #require(document["signoffs"] as? [[String: Any]], "\(show)")
            #expect(signoffs.map { $0["meaning"] as? String } == ["performed", "verified"], "\(show)")
            #expect(signoffs.allSatisfy { $0["intact"] as? Bool == true }, "\(show)")
            let text = try site.expectSuccess { try site.gmp(site.qa, ["ship", "show", id]) }
            #expect(text.stdout.contains("RECEIVED"), "\(text)")
            #expect(text.stdout.contains("Rita Receiver"), "signatures show the printed name: \(text)")

            let list = try site.expectSuccess { try site.gmp(site.qa, ["ship", "list", "--status", "received", "--json"]) }
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]], "\(list)")
            #expect(rows.map { $0["id"] as? String } == [id], "\(list)")
            #expect(rows.first?["units"] as? Int == 2, "\(list)")

            let donor: String = try TestServer.connect(site.database)
                .query("SELECT donor_code FROM gmp.lot WHERE din = \(lot.din)")[0].decode("donor_code")
            let trace = try site.expectSuccess { try site.gmp(site.qa, ["trace", "donor", donor]) }
            let deliveredLine = trace.stdout.split(separator: "\n").first { $0.contains(ss.unit(lot, 1)) } ?? ""
            #expect(deliveredLine.contains("delivered to \(Self.consignee)") && deliveredLine.contains(id), "\(trace)")
            let keptLine = trace.stdout.split(separator: "\n").first { $0.contains(ss.unit(lot, 3)) } ?? ""
            #expect(keptLine.contains("in hand") && keptLine.contains(site.operatorAccount.id), "\(trace)")
            try TerminalOutputTests.expectTableFits("UNIT") { try site.gmp(site.qa, ["trace", "donor", donor], environment: $0) }
            let traceJSON = try site.expectSuccess { try site.gmp(site.qa, ["trace", "donor", donor, "--json"]) }
            let lots = try #require(try traceJSON.json()["lots"] as? [[String: Any]], "\(traceJSON)")
            let whereabouts = try #require(lots.first { $0["din"] as? String == lot.din }?["whereabouts"] as? [[String: Any]])
            #expect(whereabouts.count == 10, "\(traceJSON)")
            #expect(whereabouts.first?["consignee"] as? String == Self.consignee, "\(traceJSON)")
        }
    }

    @Test("refusals: one line, the documented exit code, nothing written")
    func refusals() throws {
        try Self.withShipSite { ss in
            let site = ss.site
            let quarantined = try ss.filledLot()
            let id = try ss.shipment()
            try site.expectRefused(exit: 65, mentioning: ["only released units ship", ss.unit(quarantined, 1)]) {
                try site.gmp(site.operatorAccount, ["ship", "pack", id, "--unit", ss.unit(quarantined, 1)])
            }
            try site.expectRefused(exit: 64, mentioning: ["--unit"]) { try site.gmp(site.operatorAccount, ["ship", "pack", id]) }
            try site.expectRefused(exit: 65, mentioning: ["only a packed shipment"]) {
                try site.signed(site.operatorAccount, ["ship", "dispatch", id, "--courier", "C"])
            }
            // The wrong person is told before any password is asked for.
            try site.expectRefused(exit: 77, mentioning: ["not to \(site.qa.id)", ss.receiver.id]) {
                try site.gmp(site.qa, ["ship", "receive", id, "--condition", "intact"])
            }
            try site.expectRefused(exit: 65, mentioning: ["not been dispatched"]) {
                try site.signed(ss.receiver, ["ship", "receive", id, "--condition", "intact"])
            }
            try site.expectRefused(exit: 64, mentioning: ["--urgent-need", "--physician"]) {
                try ss.create(["--urgent-need", "relapse"], as: site.director)
            }
            try site.expectRefused(exit: 77, mentioning: ["director"]) {
                try ss.create(["--urgent-need", "relapse", "--physician", "Dr. P"])
            }
            try site.expectRefused(exit: 77, mentioning: ["permission denied", "dispatch shipments"]) {
                try site.signed(site.director, ["ship", "dispatch", id, "--courier", "C"])
            }
            try site.expectRefused(exit: 65, mentioning: ["no shipment SHP00-99999"]) {
                try site.gmp(site.qa, ["ship", "show", "SHP00-99999"])
            }
            try site.expectRefused(exit: 65, mentioning: ["no storage location"]) {
                try site.gmp(site.operatorAccount, ["ship", "create", "--consignee", "C", "--address", "A", "--receiver",
                                                    ss.receiver.id, "--shipper", "NOPE", "--qualification", "Q"])
            }
        }
    }

    @Test("the urgent-need path: a director's shipment carries a quarantined unit, its label statements printed")
    func urgentNeed() throws {
        try Self.withShipSite { ss in
            let site = ss.site
            let quarantined = try ss.filledLot()
            let created = try site.expectSuccess {
                try ss.create(["--urgent-need", "relapse; no alternative therapy", "--physician", "Dr. P. Hysician, request of today",
                               "--json"], as: site.director)
            }
            #expect(try created.json()["urgent"] as? Bool == true, "\(created)")
            let id = try #require(try created.json()["id"] as? String)
            let pack = try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["ship", "pack", id, "--unit", ss.unit(quarantined, 1), "--json"])
            }
            let labels = try #require(try pack.json()["labels"] as? [[String: Any]], "\(pack)")
            #expect(labels.first?["statements"] as? [String] == ["QUARANTINE: NOT FOR RELEASE"],
                    "eligible donor, results pending: quarantine label only\n\(pack)")
            let show = try site.expectSuccess { try site.gmp(site.qa, ["ship", "show", id]) }
            #expect(show.stdout.contains("URGENT NEED"), "\(show)")
            #expect(show.stdout.contains("Dr. P. Hysician"), "\(show)")
        }
    }

    @Test("gmp ship --help teaches the steps and the rules")
    func help() throws {
        let run = try GMPBinary.run(["ship", "--help"])
        #expect(run.status == 0, "\(run)")
        for words in ["create", "pack", "dispatch", "receive", "urgent-need", "released"] {
            #expect(run.stdout.contains(words), "\(words)\n\(run)")
        }
        let receive = try GMPBinary.run(["ship", "receive", "--help"])
        #expect(receive.stdout.contains("--password-stdin") && receive.stdout.contains("named receiver"), "\(receive)")
    }
}
