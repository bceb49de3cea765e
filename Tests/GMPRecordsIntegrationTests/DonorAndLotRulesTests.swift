import Foundation
import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// The rules of V0007–V0010 (donors, consent, screening, eligibility, tissue, lots,
/// steps, status, traces), tried as the people who use them and as a superuser with
/// psql: each rule holds whoever asks, and a refusal leaves no trace.
@Suite("Donor, tissue and lot rules hold in the database, whoever asks")
struct DonorAndLotRulesTests {
    static let roles = ["operator", "qc", "qa", "director", "admin", "auditor"]

    /// Every screening test V0007 knows; a donor screened with all of them nonreactive
    /// is eligible for any tissue.
    static let fullPanel = ["hiv1-ab", "hiv1-nat", "hiv2-ab", "hbsag", "anti-hbc", "anti-hcv", "hcv-nat", "syphilis",
                            "htlv", "cmv", "wnv-nat"]

    // MARK: - 1. Role access

    /// The tables the rules protect, each with a column to try an UPDATE on.
    static let ruleTables: [(table: String, column: String)] = [
        ("gmp.donor", "intended_use"), ("gmp.consent", "scope"), ("gmp.screening_result", "result"),
        ("gmp.tissue_collection", "site"), ("gmp.eligibility_determination", "outcome"), ("gmp.lot", "status"),
        ("gmp.manufacturing_step", "note"), ("gmp.facility", "max_passage"),
    ]

    @Test("no role writes donor, tissue, lot or facility tables directly; only directors and admins read personal data",
          arguments: roles)
    func directTableAccess(role: String) throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestServer.connect(database)
            let registrar = try TestAccount.create(in: database, roles: ["operator"])
            let donor: String = try registrar.connect().query("""
                SELECT gmp.register_donor('allogeneic', true, NULL, 'role test', full_name => 'Olivia Example') AS code
                """)[0].decode("code")
            let session = try TestAccount.create(in: database, roles: [role]).connect()
            let before = try Self.eventCount(admin)
            for (table, column) in Self.ruleTables {
                for statement in ["INSERT INTO \(table) DEFAULT VALUES",
                                  "UPDATE \(table) SET \(column) = \(column)",
                                  "DELETE FROM \(table)"] {
                    Self.expectSQLState("42501", "\(role): \(statement)") {
                        try session.execute(script: SQLScript(shippedWithBinary: statement))
                    }
                }
            }
            for statement in ["INSERT INTO gmp_private.donor_identity (donor_code) VALUES ('\(donor)')",
                              "UPDATE gmp_private.donor_identity SET full_name = 'Someone Else'",
                              "DELETE FROM gmp_private.donor_identity"] {
                Self.expectSQLState("42501", "\(role): \(statement)") {
                    try session.execute(script: SQLScript(shippedWithBinary: statement))
                }
            }
            if ["director", "admin"].contains(role) {
                let names = try session.query("SELECT full_name FROM gmp_private.donor_identity WHERE donor_code = \(donor)")
                #expect(try names.map { try $0.decode("full_name", as: String.self) } == ["Olivia Example"])
            } else {
                Self.expectSQLState("42501", "\(role): reading gmp_private.donor_identity") {
                    _ = try session.query("SELECT full_name FROM gmp_private.donor_identity")
                }
            }
            #expect(try Self.eventCount(admin) == before, "a refused write left an audit event")
        }
    }

    /// Calls that fail harmlessly (unknown donor, collection or lot) once past the
    /// EXECUTE check, with the roles granted them. `configure_facility` succeeds.
    static let guardedCalls: [(call: String, allowed: Set<String>)] = [
        ("SELECT gmp.register_donor('allogeneic', true, 'D00-000000', 'role check')", ["operator", "director"]),
        ("SELECT gmp.record_consent('D00-000000', current_date, 'scope', 'taker')", ["operator", "director"]),
        ("SELECT gmp.withdraw_consent('D00-000000', current_date, 'role check')", ["operator", "director"]),
        ("SELECT gmp.record_screening_result('D00-000000', 'hbsag', 'nonreactive', 'kit', current_date)", ["qc"]),
        ("SELECT gmp.collect_tissue('D00-000000', 'adipose', 'site', now(), 'collector', 1, 'mL', 'cool')", ["operator"]),
        ("SELECT gmp.receive_tissue('T00-000000', now(), 'acceptable', NULL)", ["operator"]),
        ("SELECT gmp.determine_eligibility(gen_random_uuid(), 'D00-000000', 'T00-000000', 'eligible', 'x')", ["director"]),
        ("SELECT gmp.create_lot('T00-000000', NULL, 'master_cell_bank', 'cells', 'allogeneic', current_date + 365)",
         ["operator"]),
        ("SELECT gmp.record_step('G123400000001', 'isolation', NULL, NULL, NULL, NULL, NULL, NULL, NULL)", ["operator"]),
        ("SELECT gmp.hold_lot('G123400000001', 'role check')", ["qa"]),
        ("SELECT gmp.unhold_lot('G123400000001', 'role check')", ["qa"]),
        ("SELECT gmp.reject_lot(gen_random_uuid(), 'G123400000001', 'role check')", ["qa"]),
        ("SELECT gmp.configure_facility('G1234', 10, 40, 'role check')", ["admin"]),
        ("SELECT gmp_rules.set_lot_status('G123400000001', 'released', 'role check')", []),
        ("SELECT gmp.trace_donor('D00-000000')", Set(roles)),
        ("SELECT gmp.trace_lot('G123400000001')", Set(roles)),
        ("SELECT gmp.lot_show('G123400000001')", Set(roles)),
        ("SELECT gmp.eligibility_problems('D00-000000', 'T00-000000')", Set(roles)),
    ]

    @Test("each donor, tissue and lot function is callable by its roles only", arguments: roles)
    func functionGrants(role: String) throws {
        try TestServer.withMigratedDatabase { database in
            let session = try TestAccount.create(in: database, roles: [role]).connect()
            for (call, allowed) in Self.guardedCalls {
                if allowed.contains(role) {
                    // Past the EXECUTE check: it runs, or a rule inside refuses it.
                    do {
                        try session.execute(script: SQLScript(shippedWithBinary: call))
                    } catch let error as PostgresError {
                        #expect(error.kind == .refusedByRule, "\(role) may call \(call), but: \(error)")
                    }
                } else {
                    Self.expectSQLState("42501", "\(role): \(call)") {
                        try session.execute(script: SQLScript(shippedWithBinary: call))
                    }
                }
            }
        }
    }

    // MARK: - 2. Eligibility

    @Test("a full nonreactive panel in the window: the director's 'eligible' is accepted and signed 'determined'")
    func eligibleSigned() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            try site.screen(donor)
            let collection = try site.collect(donor, source: "adipose", unit: "mL")
            let id = try site.determine(donor, collection, "eligible")
            let rows = try site.superuser.query("""
                SELECT d.outcome, cardinality(d.problems) AS problems, d.determined_by, d.evidence->>'tested_person' AS tested,
                       s.signer, s.meaning, s.intact, e.outcome AS in_force
                FROM gmp.eligibility_determination d
                JOIN gmp.signature_status s ON s.record_table = 'gmp.eligibility_determination' AND s.record_key = d.id::text
                JOIN gmp.eligibility e ON e.collection_id = d.collection_id
                WHERE d.id = \(id)
                """)
            let row = try #require(rows.first)
            #expect(rows.count == 1)
            #expect(try row.decode("outcome", as: String.self) == "eligible")
            #expect(try row.decode("problems", as: Int.self) == 0)
            #expect(try row.decode("determined_by", as: String.self) == site.director.id)
            #expect(try row.decode("tested", as: String.self) == donor)
            #expect(try row.decode("signer", as: String.self) == site.director.id)
            #expect(try row.decode("meaning", as: String.self) == "determined")
            #expect(try row.decode("intact", as: Bool.self))
            #expect(try row.decode("in_force", as: String.self) == "eligible")
        }
    }

    @Test("a reactive result: 'eligible' is refused naming the test; 'ineligible' is accepted with the finding")
    func reactiveRefused() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            try site.screen(donor, Self.fullPanel.filter { $0 != "anti-hcv" })
            try site.screen(donor, ["anti-hcv"], result: "reactive")
            let collection = try site.collect(donor)
            try site.expectRefused("GM006", naming: ["anti-HCV"], "eligible despite a reactive anti-HCV") {
                try site.determine(donor, collection, "eligible")
            }
            let id = try site.determine(donor, collection, "ineligible")
            let problems: String = try site.superuser.query("""
                SELECT array_to_string(problems, '; ') AS p FROM gmp.eligibility_determination WHERE id = \(id)
                """)[0].decode("p")
            #expect(problems.contains("anti-HCV reactive"))
        }
    }

    @Test("a specimen 10 days before an umbilical cord recovery is outside the window")
    func specimenOutsideWindow() throws {
        try Site.with { site in
            let mother = try site.registerDonor()
            let newborn = try site.registerDonor(mother: mother)
            try site.consent(mother)
            try site.screen(mother, specimenOffset: -10)
            let collection = try site.collect(newborn, source: "umbilical_cord", unit: "cm")
            try site.expectRefused("GM006", naming: ["outside the window"], "eligible on specimens 10 days early") {
                try site.determine(newborn, collection, "eligible")
            }
        }
    }

    @Test("bone marrow: a specimen 30 days before the recovery is in the window, 31 days is not")
    func boneMarrowWindow() throws {
        try Site.with { site in
            let inWindow = try site.registerDonor()
            try site.consent(inWindow)
            try site.screen(inWindow, specimenOffset: -30)
            let accepted = try site.collect(inWindow, source: "bone_marrow", unit: "mL")
            try site.determine(inWindow, accepted, "eligible")

            let tooEarly = try site.registerDonor()
            try site.consent(tooEarly)
            try site.screen(tooEarly, specimenOffset: -31)
            let refused = try site.collect(tooEarly, source: "bone_marrow", unit: "mL")
            try site.expectRefused("GM006", naming: ["outside the window"], "bone marrow on specimens 31 days early") {
                try site.determine(tooEarly, refused, "eligible")
            }
        }
    }

    @Test("a missing test is refused, naming it")
    func missingTestRefused() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            try site.screen(donor, Self.fullPanel.filter { $0 != "syphilis" })
            let collection = try site.collect(donor)
            try site.expectRefused("GM006", naming: ["Treponema pallidum (syphilis): no result"], "eligible without syphilis") {
                try site.determine(donor, collection, "eligible")
            }
        }
    }

    @Test("bone marrow needs HTLV-I/II and CMV; adipose tissue does not")
    func leukocyteRichPanel() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            try site.screen(donor, Self.fullPanel.filter { $0 != "htlv" && $0 != "cmv" })
            let marrow = try site.collect(donor, source: "bone_marrow", unit: "mL")
            let adipose = try site.collect(donor, source: "adipose", unit: "g")
            try site.expectRefused("GM006", naming: ["HTLV-I/II antibody: no result", "CMV antibody: no result"],
                                   "bone marrow without HTLV and CMV") {
                try site.determine(donor, marrow, "eligible")
            }
            try site.determine(donor, adipose, "eligible")
        }
    }

    @Test("'exempt' is accepted for an autologous donor only")
    func exemptOnlyAutologous() throws {
        try Site.with { site in
            let autologous = try site.registerDonor(use: "autologous")
            try site.consent(autologous)
            let own = try site.collect(autologous)
            let id = try site.determine(autologous, own, "exempt")
            #expect(try site.superuser.query("SELECT outcome FROM gmp.eligibility_determination WHERE id = \(id)")[0]
                .decode("outcome", as: String.self) == "exempt")

            let allogeneic = try site.registerDonor(use: "allogeneic")
            try site.consent(allogeneic)
            try site.screen(allogeneic)
            let other = try site.collect(allogeneic)
            try site.expectRefused("GM002", "exempt for an allogeneic donor") {
                try site.determine(allogeneic, other, "exempt")
            }
        }
    }

    @Test("a newborn is tested through the birth mother: results on the newborn are refused, hers make it eligible")
    func newbornTestedThroughMother() throws {
        try Site.with { site in
            let mother = try site.registerDonor()
            let newborn = try site.registerDonor(mother: mother)
            try site.consent(mother)
            try site.expectRefused("GM002", naming: [mother], "a result recorded on the newborn") {
                try site.screen(newborn, ["hbsag"])
            }
            let collection = try site.collect(newborn, source: "cord_blood", unit: "mL")
            try site.expectRefused("GM006", naming: ["no result"], "eligible before the mother is tested") {
                try site.determine(newborn, collection, "eligible")
            }
            try site.screen(mother)
            let id = try site.determine(newborn, collection, "eligible")
            #expect(try site.superuser.query("""
                SELECT evidence->>'tested_person' AS tested FROM gmp.eligibility_determination WHERE id = \(id)
                """)[0].decode("tested", as: String.self) == mother)
        }
    }

    // MARK: - 3. Consent

    @Test("no collection without a consent given on or before the recovery")
    func collectionNeedsConsent() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.expectRefused("GM003", "a collection without consent") { _ = try site.collect(donor) }
            try site.consent(donor, givenDaysAgo: Site.collectionDaysAgo - 1)
            try site.expectRefused("GM003", "a collection before the consent") { _ = try site.collect(donor) }
            try site.consent(donor, givenDaysAgo: Site.collectionDaysAgo)
            _ = try site.collect(donor)
        }
    }

    @Test("after a withdrawal no collection is recorded, from the donor or from her newborn")
    func withdrawalBlocksCollections() throws {
        try Site.with { site in
            let mother = try site.registerDonor()
            let newborn = try site.registerDonor(mother: mother)
            try site.consent(mother)
            _ = try site.collect(mother)
            try site.withdrawConsent(mother)
            try site.expectRefused("GM003", "a collection after withdrawal") { _ = try site.collect(mother) }
            try site.expectRefused("GM003", "a newborn's collection after the mother withdrew") {
                _ = try site.collect(newborn, source: "placenta", unit: "g")
            }
        }
    }

    @Test("a recorded withdrawal is never edited or deleted, not even by the superuser")
    func withdrawalIsFinal() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            try site.withdrawConsent(donor, daysAgo: 5)
            for edit in ["UPDATE gmp.consent SET withdrawn_on = withdrawn_on - 1",
                         "UPDATE gmp.consent SET withdrawn_on = NULL, withdrawal_recorded_by = NULL",
                         "UPDATE gmp.consent SET withdrawal_recorded_by = 'someone_else'",
                         "UPDATE gmp.consent SET scope = 'wider scope'",
                         "DELETE FROM gmp.consent"] {
                try site.expectRefused("GM004", "superuser: \(edit)") {
                    try site.asSuperuser("\(edit) WHERE donor_code = '\(donor)'")
                }
            }
            try site.expectRefused("GM003", "a second withdrawal") { try site.withdrawConsent(donor, daysAgo: 1) }
            #expect(try site.superuser.query("""
                SELECT withdrawn_on = current_date - 5 AS same FROM gmp.consent WHERE donor_code = \(donor)
                """)[0].decode("same", as: Bool.self))
        }
    }

    // MARK: - 4. Collections

    @Test("a collection's unit must fit its source, its time must not be in the future, and newborn tissue needs the mother")
    func collectionRules() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            try site.expectRefused("GM002", naming: ["unit g", "bone marrow"], "bone marrow in g") {
                _ = try site.collect(donor, source: "bone_marrow", unit: "g")
            }
            try site.expectRefused("GM002", "a collection an hour from now") {
                try site.operatorSession.execute("""
                    SELECT gmp.collect_tissue(\(donor), 'adipose', 'abdomen', now() + interval '1 hour', 'Dr Recovery',
                                              10, 'mL', 'chilled')
                    """)
            }
            try site.expectRefused("GM002", "umbilical cord from a donor with no birth mother") {
                _ = try site.collect(donor, source: "umbilical_cord", unit: "cm")
            }
            _ = try site.collect(donor, source: "bone_marrow", unit: "mL")
        }
    }

    @Test("receipt is recorded once, by the person who received it, not before the collection")
    func receiptOnce() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            let collection = try site.collect(donor)
            try site.expectRefused("GM002", "a receipt before the collection") {
                try site.operatorSession.execute("""
                    SELECT gmp.receive_tissue(\(collection), now() - interval '100 days', 'acceptable', NULL)
                    """)
            }
            try site.receive(collection)
            #expect(try site.superuser.query("SELECT received_by FROM gmp.tissue_collection WHERE id = \(collection)")[0]
                .decode("received_by", as: String.self) == site.operatorAccount.id)
            try site.expectRefused("GM004", "a second receipt") { try site.receive(collection) }
        }
    }

    @Test("a recorded collection is never edited or deleted, not even by the superuser")
    func collectionIsFinal() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            let unreceived = try site.collect(donor)
            let received = try site.collect(donor)
            try site.receive(received)
            for (id, edit) in [(unreceived, "UPDATE gmp.tissue_collection SET site = 'elsewhere'"),
                               (unreceived, "UPDATE gmp.tissue_collection SET amount = amount + 1"),
                               (received, "UPDATE gmp.tissue_collection SET receipt_condition = 'compromised'"),
                               (received, "UPDATE gmp.tissue_collection SET received_at = received_at + interval '1 minute'"),
                               (received, "DELETE FROM gmp.tissue_collection")] {
                try site.expectRefused("GM004", "superuser: \(edit)") {
                    try site.asSuperuser("\(edit) WHERE id = '\(id)'")
                }
            }
        }
    }

    // MARK: - 5. Lots

    @Test("a lot needs a received collection")
    func lotNeedsReceipt() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            let collection = try site.collect(donor)
            try site.expectRefused("GM003", naming: [collection], "a lot from tissue not yet received") {
                _ = try site.createLot(collection: collection)
            }
            try site.receive(collection)
            _ = try site.createLot(collection: collection)
        }
    }

    @Test("a DIN is facility, year and sequence with the MOD 37-2 check character; numbering runs per facility and year")
    func donationIdentificationNumbers() throws {
        try Site.with { site in
            let (_, collection) = try site.receivedCollection()
            let year: String = try site.superuser.query("SELECT to_char(now() AT TIME ZONE 'UTC', 'YY') AS yy")[0].decode("yy")
            let first = try site.createLot(collection: collection)
            let second = try site.createLot(collection: collection, stage: "drug_product")
            #expect(first == "G1234\(year)000001")
            #expect(second == "G1234\(year)000002")
            // Lots of another year or facility do not move this year's numbering.
            try site.asSuperuser("""
                INSERT INTO gmp.lot (din, stage, product_kind, intended_use, donor_code, collection_id, expires_on)
                SELECT prefix || '000050', stage, product_kind, intended_use, donor_code, collection_id, expires_on
                FROM gmp.lot, unnest(ARRAY['G1234' || to_char(now() AT TIME ZONE 'UTC' - interval '1 year', 'YY'),
                                           'H9999' || to_char(now() AT TIME ZONE 'UTC', 'YY')]) AS prefix
                WHERE din = '\(first)'
                """)
            let third = try site.createLot(collection: collection)
            #expect(third == "G1234\(year)000003")
            for din in [first, second, third] {
                let row = try site.superuser.query("""
                    SELECT l.check_character, o.keyed_id FROM gmp.lot l JOIN gmp.lot_overview o USING (din) WHERE din = \(din)
                    """)[0]
                let expected = try #require(ISO7064Mod37_2.checkCharacter(for: din))
                #expect(try row.decode("check_character", as: String.self) == String(expected))
                #expect(try row.decode("keyed_id", as: String.self) == din + String(expected))
                #expect(try DonationIdentificationNumber(stored: din).checkCharacter == expected)
            }
        }
    }

    @Test("a lot's intended use must be its donor's")
    func intendedUseMatchesDonor() throws {
        try Site.with { site in
            let (_, collection) = try site.receivedCollection()
            try site.expectRefused("GM006", naming: ["allogeneic"], "an autologous lot from an allogeneic donor") {
                _ = try site.createLot(collection: collection, use: "autologous")
            }
            let bank = try site.cellBank(from: collection)
            try site.expectRefused("GM006", "an autologous working cell bank from an allogeneic master") {
                _ = try site.createLot(parent: bank, stage: "working_cell_bank", use: "autologous")
            }
        }
    }

    @Test("lineage: no working cell bank from tissue, no child of an uncryopreserved or wrong-stage parent")
    func lineageRules() throws {
        try Site.with { site in
            let (_, collection) = try site.receivedCollection()
            try site.expectRefused("GM002", "a working cell bank from tissue") {
                _ = try site.createLot(collection: collection, stage: "working_cell_bank")
            }
            let master = try site.createLot(collection: collection)
            try site.step(master, "isolation")
            try site.step(master, "passage")
            try site.step(master, "harvest")
            try site.step(master, "formulation")
            try site.step(master, "fill")
            try site.expectRefused("GM003", naming: [master], "a working cell bank from a master not yet cryopreserved") {
                _ = try site.createLot(parent: master, stage: "working_cell_bank")
            }
            try site.step(master, "cryopreservation")
            try site.expectRefused("GM002", "a master cell bank from a master cell bank") {
                _ = try site.createLot(parent: master, stage: "master_cell_bank")
            }
            let working = try site.createLot(parent: master, stage: "working_cell_bank")
            try site.expectRefused("GM002", "a working cell bank from a working cell bank") {
                _ = try site.createLot(parent: working, stage: "working_cell_bank")
            }
            try site.expectRefused("GM002", "isolation on a lot made from a cell bank") { try site.step(working, "isolation") }
        }
    }

    @Test("manufacturing steps are taken in order")
    func stepOrder() throws {
        try Site.with { site in
            let (_, collection) = try site.receivedCollection()
            let lot = try site.createLot(collection: collection)
            try site.expectRefused("GM003", "a passage before isolation") { try site.step(lot, "passage") }
            try site.expectRefused("GM003", "a harvest before isolation") { try site.step(lot, "harvest") }
            try site.step(lot, "isolation")
            try site.expectRefused("GM003", "a second isolation") { try site.step(lot, "isolation") }
            try site.expectRefused("GM002", "a passage dated before the isolation") {
                try site.operatorSession.execute("""
                    SELECT gmp.record_step(\(lot), 'passage', now() - interval '1 day', 2000000, 92.5, 2, NULL, NULL, NULL)
                    """)
            }
            try site.step(lot, "passage")
            try site.step(lot, "passage")
            try site.expectRefused("GM003", "a fill before harvest") { try site.step(lot, "fill") }
            try site.expectRefused("GM003", "a cryopreservation before fill") { try site.step(lot, "cryopreservation") }
            try site.step(lot, "harvest")
            try site.expectRefused("GM003", "a passage after harvest") { try site.step(lot, "passage") }
            try site.step(lot, "formulation")
            try site.step(lot, "fill")
            try site.step(lot, "cryopreservation")
            try site.expectRefused("GM003", "a passage after cryopreservation") { try site.step(lot, "passage") }
        }
    }

    @Test("the facility's passage limit holds, counting on from the parent cell bank")
    func passageLimit() throws {
        try Site.with(maxPassage: 3) { site in
            let (_, collection) = try site.receivedCollection()
            let master = try site.cellBank(from: collection, passages: 2, doublings: "2")
            let working = try site.createLot(parent: master, stage: "working_cell_bank")
            try site.step(working, "passage", doublings: "2")
            try site.expectRefused("GM002", naming: ["limit of 3"], "passage 4 with a limit of 3") {
                try site.step(working, "passage", doublings: "2")
            }
            #expect(try site.passages(master) == ["0/0", "1/2", "2/4"])
            #expect(try site.passages(working) == ["3/6"])
        }
    }

    @Test("the facility's population-doubling limit holds, counting on from the parent cell bank")
    func doublingLimit() throws {
        try Site.with(maxDoublings: 20) { site in
            let (_, collection) = try site.receivedCollection()
            let master = try site.cellBank(from: collection, passages: 2, doublings: "8")
            let working = try site.createLot(parent: master, stage: "working_cell_bank")
            try site.step(working, "passage", doublings: "4")
            try site.expectRefused("GM002", naming: ["limit of 20"], "20.5 doublings with a limit of 20") {
                try site.step(working, "passage", doublings: "0.5")
            }
            #expect(try site.passages(working) == ["3/20"])
        }
    }

    @Test("doublings recorded at isolation count against the limit")
    func isolationDoublingsCounted() throws {
        try Site.with(maxDoublings: 20) { site in
            let (_, collection) = try site.receivedCollection()
            let lot = try site.createLot(collection: collection)
            try site.expectRefused("GM002", naming: ["limit of 20"], "500 doublings at isolation with a limit of 20") {
                try site.operatorSession.execute("""
                    SELECT gmp.record_step(\(lot), 'isolation', NULL, NULL, NULL, 500::numeric, NULL, NULL, NULL)
                    """)
            }
        }
    }

    @Test("a donor who withdrew and consents again may donate again; until then, no collection")
    func consentAgainAfterWithdrawal() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor, givenDaysAgo: 60)
            try site.withdrawConsent(donor, daysAgo: 50)
            try site.expectRefused("GM003", naming: ["withdrawn consent"], "a collection after the withdrawal") {
                _ = try site.collect(donor)
            }
            try site.consent(donor, givenDaysAgo: 45)
            #expect(try site.collect(donor).hasPrefix("T"))
        }
    }

    @Test("adding a lot transition, even as the superuser, leaves an audit event")
    func transitionTableAudited() throws {
        try Site.with { site in
            let before = try Self.eventCount(site.superuser)
            try site.asSuperuser("INSERT INTO gmp_meta.lot_transition VALUES ('rejected', 'quarantine')")
            let row = try site.superuser.query("""
                SELECT table_name, action FROM gmp_audit.event ORDER BY seq DESC LIMIT 1
                """)[0]
            #expect(try Self.eventCount(site.superuser) == before + 1)
            #expect(try row.decode("table_name", as: String.self) == "gmp_meta.lot_transition")
            #expect(try row.decode("action", as: String.self) == "INSERT")
        }
    }

    // MARK: - 6. Lot status

    @Test("not even the superuser moves a lot outside the state machine, edits it or deletes it")
    func superuserCannotBendLots() throws {
        try Site.with { site in
            let (donor, collection) = try site.receivedCollection()
            let lot = try site.createLot(collection: collection)
            let other = try site.createLot(collection: collection)
            // Allowed by the state machine since V0015, but only with a signed disposition.
            try site.expectRefused("42501", "superuser: quarantine → released") {
                try site.asSuperuser("UPDATE gmp.lot SET status = 'released' WHERE din = '\(lot)'")
            }
            try site.expectRefused("GM004", "superuser: delete a lot") {
                try site.asSuperuser("DELETE FROM gmp.lot WHERE din = '\(lot)'")
            }
            try site.expectRefused("GM004", "superuser as replica: delete a lot") {
                try site.asSuperuser("SET LOCAL session_replication_role = replica; DELETE FROM gmp.lot WHERE din = '\(lot)'")
            }
            // Each edit rides on an allowed status change, so only the edit can be what is refused.
            for edit in ["din = 'G123400999999'", "stage = 'drug_product'", "product_kind = 'conditioned_medium'",
                         "intended_use = 'autologous'", "donor_code = 'D00-000000'", "collection_id = 'T00-000000'",
                         "parent_din = '\(other)'", "expires_on = expires_on + 1", "created_at = created_at - interval '1 day'",
                         "created_by = 'someone_else'"] {
                try site.expectRefused("GM004", "superuser: \(edit)") {
                    try site.asSuperuser("UPDATE gmp.lot SET status = 'on_hold', \(edit) WHERE din = '\(lot)'")
                }
            }
            try site.asSuperuser("UPDATE gmp.lot SET status = 'on_hold' WHERE din = '\(lot)'")
            #expect(try site.status(lot) == "on_hold")
            #expect(try site.superuser.query("SELECT donor_code FROM gmp.lot WHERE din = \(lot)")[0]
                .decode("donor_code", as: String.self) == donor)
        }
    }

    @Test("QA holds a lot and lifts the hold; a held lot takes no step")
    func holdAndUnhold() throws {
        try Site.with { site in
            let (_, collection) = try site.receivedCollection()
            let lot = try site.createLot(collection: collection)
            try site.step(lot, "isolation")
            try site.expectRefused("GM003", "lifting a hold that was never placed") {
                try site.qaSession.execute("SELECT gmp.unhold_lot(\(lot), 'nothing to lift')")
            }
            try site.qaSession.execute("SELECT gmp.hold_lot(\(lot), 'deviation DEV-12 under investigation')")
            #expect(try site.status(lot) == "on_hold")
            try site.expectRefused("GM003", "a step on a held lot") { try site.step(lot, "passage") }
            try site.qaSession.execute("SELECT gmp.unhold_lot(\(lot), 'DEV-12 closed, no impact')")
            #expect(try site.status(lot) == "quarantine")
            try site.step(lot, "passage")
            let reasons = try site.superuser.query("""
                SELECT reason FROM gmp_audit.event WHERE table_name = 'gmp.lot' AND record_key = \(lot) AND action = 'UPDATE'
                ORDER BY seq
                """).map { try $0.decode("reason", as: String.self) }
            #expect(reasons == ["deviation DEV-12 under investigation", "DEV-12 closed, no impact"])
        }
    }

    @Test("QA rejects with a signature 'rejected'; a rejected lot is final and has no children")
    func rejectIsFinal() throws {
        try Site.with { site in
            let (_, collection) = try site.receivedCollection()
            let lot = try site.cellBank(from: collection)
            let signature = try SignatureCeremony(site.qaSession).sign(password: site.qa.password) { db, challenge in
                try db.query("SELECT gmp.reject_lot(\(challenge)::uuid, \(lot), 'sterility failure') AS id")[0]
                    .decode("id", as: Int64.self)
            }
            let row = try site.superuser.query("""
                SELECT signer, meaning, record_table, record_key, intact FROM gmp.signature_status WHERE id = \(signature)
                """)[0]
            #expect(try row.decode("signer", as: String.self) == site.qa.id)
            #expect(try row.decode("meaning", as: String.self) == "rejected")
            // Since V0015 the signature covers the disposition, which holds the lot's package.
            #expect(try row.decode("record_table", as: String.self) == "gmp.disposition")
            let key: String = try row.decode("record_key")
            let disposition: String = try site.superuser.query(
                "SELECT din || ' ' || decision AS d FROM gmp.disposition WHERE id::text = \(key)")[0].decode("d")
            #expect(disposition == "\(lot) rejected")
            #expect(try row.decode("intact", as: Bool.self))
            #expect(try site.status(lot) == "rejected")

            try site.expectRefused("GM003", "QA: rejected → on_hold") {
                try site.qaSession.execute("SELECT gmp.hold_lot(\(lot), 'second thoughts')")
            }
            try site.expectRefused("GM003", "QA: rejected → quarantine") {
                try site.qaSession.execute("SELECT gmp.unhold_lot(\(lot), 'second thoughts')")
            }
            for status in ["on_hold", "quarantine"] {
                try site.expectRefused("GM003", "superuser: rejected → \(status)") {
                    try site.asSuperuser("UPDATE gmp.lot SET status = '\(status)' WHERE din = '\(lot)'")
                }
            }
            try site.expectRefused("GM006", "a working cell bank from a rejected master") {
                _ = try site.createLot(parent: lot, stage: "working_cell_bank")
            }
        }
    }

    // MARK: - 7. Personal data

    @Test("personal data is audited without its values: who changed which field, never the name or record number")
    func personalDataRedacted() throws {
        try Site.with { site in
            let secrets = ["Amelia Privateperson", "MRN-5550199", "+1 555 0199"]
            let donor = try site.registerDonor(fullName: secrets[0], medicalRecordNumber: secrets[1], contact: secrets[2])
            try site.asSuperuser("""
                UPDATE gmp_private.donor_identity SET contact = 'Flat 2, 10 Secret Street' WHERE donor_code = '\(donor)'
                """)
            let events = try site.superuser.query("""
                SELECT action, actor, old_values::text AS old, new_values::text AS new,
                       (old_values->>'redacted') AS old_redacted, (new_values->>'redacted') AS new_redacted,
                       new_values->'fields_changed' AS fields
                FROM gmp_audit.event WHERE table_name = 'gmp_private.donor_identity' AND record_key = \(donor) ORDER BY seq
                """)
            #expect(try events.map { try $0.decode("action", as: String.self) } == ["INSERT", "UPDATE"])
            #expect(try events[0].decode("actor", as: String.self) == site.operatorAccount.id)
            #expect(try events[0].decode("new_redacted", as: String?.self) == "true")
            #expect(try events[1].decode("old_redacted", as: String?.self) == "true")
            #expect(try events[1].decode("new_redacted", as: String?.self) == "true")
            let inserted = try events[0].decode("fields", as: JSONText.self).text
            #expect(inserted.contains("full_name") && inserted.contains("medical_record_number"))
            #expect(try events[1].decode("fields", as: JSONText.self).text == #"["contact"]"#)
            for value in secrets + ["Secret Street"] {
                let leaks: Int64 = try site.superuser.query("""
                    SELECT count(*) AS n FROM gmp_audit.event
                    WHERE strpos(concat(old_values::text, new_values::text, reason), \(value)) > 0
                    """)[0].decode("n")
                #expect(leaks == 0, "the audit trail holds the personal value \(value)")
            }
            try site.expectRefused("42501", "superuser: delete personal data") {
                try site.asSuperuser("DELETE FROM gmp_private.donor_identity WHERE donor_code = '\(donor)'")
            }
            let name: String = try site.directorSession.query("""
                SELECT full_name FROM gmp_private.donor_identity WHERE donor_code = \(donor)
                """)[0].decode("full_name")
            #expect(name == secrets[0])
        }
    }

    // MARK: - 8. Traces

    @Test("a birth mother's trace reaches her newborn's lots; a lot's trace has its lineage; an auditor may run both")
    func traces() throws {
        try Site.with { site in
            let mother = try site.registerDonor(fullName: "Beatrice Tracemother")
            let newborn = try site.registerDonor(mother: mother)
            try site.consent(mother)
            try site.screen(mother)
            let collection = try site.collect(newborn, source: "umbilical_cord", unit: "g")
            try site.receive(collection)
            try site.determine(newborn, collection, "eligible")
            let master = try site.cellBank(from: collection)
            let working = try site.createLot(parent: master, stage: "working_cell_bank")
            let auditor = try TestAccount.create(in: site.database, roles: ["auditor"]).connect()

            let donorText: String = try auditor.query("SELECT gmp.trace_donor(\(mother))::text AS doc")[0].decode("doc")
            #expect(!donorText.contains("Tracemother"))
            let donorTrace = try Self.object(donorText)
            #expect(donorTrace["newborns"] as? [String] == [newborn])
            let lots = try #require(donorTrace["lots"] as? [[String: Any]])
            #expect(lots.compactMap { $0["din"] as? String } == [master, working])
            #expect(lots.allSatisfy { $0["donor"] as? String == newborn })
            let collections = try #require(donorTrace["collections"] as? [[String: Any]])
            #expect(collections.compactMap { $0["id"] as? String } == [collection])

            let lotTrace = try Self.object(try auditor.query("SELECT gmp.trace_lot(\(working))::text AS doc")[0].decode("doc"))
            let lineage = try #require(lotTrace["lineage"] as? [[String: Any]])
            #expect(lineage.count == 1)
            #expect(lineage.first?["din"] as? String == master)
            #expect(lineage.first?["stage"] as? String == "master_cell_bank")
            let lot = try #require(lotTrace["lot"] as? [String: Any])
            #expect(lot["din"] as? String == working && lot["parent"] as? String == master)
            #expect(lot["donor"] as? String == newborn && lot["eligibility"] as? String == "eligible")
            let eligibility = try #require((lotTrace["collection"] as? [String: Any])?["eligibility"] as? [String: Any])
            #expect(eligibility["signature_intact"] as? Bool == true)
            let screening = try #require(lotTrace["screening"] as? [[String: Any]])
            #expect(screening.count == Self.fullPanel.count)
            #expect(screening.allSatisfy { $0["donor"] as? String == mother })
        }
    }

    /// Issue 18: `gmp lot show` prints the lot and its steps only, so it asks for them only
    /// (`gmp.lot_show`), not for the whole trace with its signature checks.
    @Test("gmp.lot_show is the lot and the steps of the lot's trace, nothing else; an unknown lot is refused as the trace refuses it")
    func lotShowIsPartOfTrace() throws {
        try Site.with { site in
            let donor = try site.registerDonor()
            try site.consent(donor)
            try site.screen(donor)
            let collection = try site.collect(donor)
            try site.receive(collection)
            try site.determine(donor, collection, "eligible")
            let master = try site.cellBank(from: collection)
            let working = try site.createLot(parent: master, stage: "working_cell_bank")
            let auditor = try TestAccount.create(in: site.database, roles: ["auditor"]).connect()
            for din in [master, working] {
                let row = try auditor.query("""
                    SELECT s::text AS shown, jsonb_build_object('lot', t -> 'lot', 'steps', t -> 'steps')::text AS from_trace,
                           (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(s) k) AS keys,
                           jsonb_array_length(s -> 'steps') AS steps
                    FROM gmp.lot_show(\(din)) s, gmp.trace_lot(\(din)) t
                    """)[0]
                #expect(try row.decode("shown", as: String.self) == row.decode("from_trace", as: String.self), "\(din)")
                #expect(try row.decode("keys", as: String.self) == "lot,steps")
                if din == master { #expect(try row.decode("steps", as: Int64.self) > 0, "the cell bank's steps are shown") }
            }
            Self.expectSQLState("GM001", "gmp.lot_show of an unknown lot") {
                _ = try auditor.query("SELECT gmp.lot_show('G123499999999')::text AS d")
            }
            Self.expectSQLState("GM001", "gmp.trace_lot of an unknown lot") {
                _ = try auditor.query("SELECT gmp.trace_lot('G123499999999')::text AS d")
            }
        }
    }

    // MARK: - Helpers

    static func eventCount(_ admin: PostgresConnection) throws -> Int64 {
        try admin.query("SELECT count(*) AS n FROM gmp_audit.event")[0].decode("n")
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Expects `body` to fail with `sqlState`.
    static func expectSQLState(_ sqlState: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                               _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("\(what): accepted, expected SQLSTATE \(sqlState)", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(error.sqlState == sqlState, "\(what): \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
        }
    }
}

extension DonorAndLotRulesTests {
    /// A migrated database with the facility configured and one person per working role,
    /// each connected; the steps of donation, collection and manufacture as helpers.
    final class Site {
        /// Every collection is recovered at noon UTC this many days ago, so specimens
        /// up to 7 days after it are still in the past.
        static let collectionDaysAgo = 40

        let database: String
        let superuser: PostgresConnection
        let operatorAccount: TestAccount, qc: TestAccount, qa: TestAccount, director: TestAccount
        let operatorSession: PostgresConnection, qcSession: PostgresConnection
        let qaSession: PostgresConnection, directorSession: PostgresConnection

        static func with(maxPassage: Int = 10, maxDoublings: Int = 40, _ body: (Site) throws -> Void) throws {
            try TestServer.withMigratedDatabase { database in
                try body(try Site(database, maxPassage: maxPassage, maxDoublings: maxDoublings))
            }
        }

        private init(_ database: String, maxPassage: Int, maxDoublings: Int) throws {
            self.database = database
            superuser = try TestServer.connect(database)
            operatorAccount = try TestAccount.create(in: database, roles: ["operator"], fullName: "Olga Operator")
            qc = try TestAccount.create(in: database, roles: ["qc"], fullName: "Quentin Control")
            qa = try TestAccount.create(in: database, roles: ["qa"], fullName: "Quinn Assurance")
            director = try TestAccount.create(in: database, roles: ["director"], fullName: "Dana Director")
            operatorSession = try operatorAccount.connect()
            qcSession = try qc.connect()
            qaSession = try qa.connect()
            directorSession = try director.connect()
            try superuser.execute("""
                SELECT gmp.configure_facility('G1234', \(maxPassage)::int, \(maxDoublings)::numeric, 'test set-up')
                """)
        }

        // Donors, consent, screening.

        func registerDonor(use: String = "allogeneic", mother: String? = nil, fullName: String? = nil,
                           medicalRecordNumber: String? = nil, contact: String? = nil) throws -> String {
            try operatorSession.query("""
                SELECT gmp.register_donor(\(use), true, \(mother), 'test donor', full_name => \(fullName),
                                          contact => \(contact), medical_record_number => \(medicalRecordNumber)) AS code
                """)[0].decode("code")
        }

        func consent(_ donor: String, givenDaysAgo: Int = 60) throws {
            try operatorSession.execute("""
                SELECT gmp.record_consent(\(donor), current_date - \(givenDaysAgo)::int, 'MSC manufacture', 'Nurse Taker')
                """)
        }

        func withdrawConsent(_ donor: String, daysAgo: Int = 1) throws {
            try operatorSession.execute("""
                SELECT gmp.withdraw_consent(\(donor), current_date - \(daysAgo)::int, 'donor withdrew by letter')
                """)
        }

        /// QC records `tests` for `donor`, the specimen drawn `specimenOffset` days from the collection day.
        func screen(_ donor: String, _ tests: [String] = DonorAndLotRulesTests.fullPanel, result: String = "nonreactive",
                    specimenOffset: Int = 0) throws {
            for test in tests {
                try qcSession.execute("""
                    SELECT gmp.record_screening_result(\(donor), \(test), \(result), 'Kit lot 42',
                                                       current_date - \(Self.collectionDaysAgo - specimenOffset)::int)
                    """)
            }
        }

        // Tissue.

        func collect(_ donor: String, source: String = "adipose", unit: String = "mL") throws -> String {
            try operatorSession.query("""
                SELECT gmp.collect_tissue(\(donor), \(source), 'recovery site',
                                          ((current_date - \(Self.collectionDaysAgo)::int) + time '12:00') AT TIME ZONE 'UTC',
                                          'Dr Recovery', 25, \(unit), 'chilled, 2 to 8 C') AS id
                """)[0].decode("id")
        }

        func receive(_ collection: String) throws {
            try operatorSession.execute("SELECT gmp.receive_tissue(\(collection), now(), 'acceptable', 'intact')")
        }

        /// The director determines `outcome`, signing.
        @discardableResult
        func determine(_ donor: String, _ collection: String, _ outcome: String) throws -> Int64 {
            try SignatureCeremony(directorSession).sign(password: director.password) { db, challenge in
                try db.query("""
                    SELECT gmp.determine_eligibility(\(challenge)::uuid, \(donor), \(collection), \(outcome),
                                                     'determined from the screening results') AS id
                    """)[0].decode("id")
            }
        }

        /// A consented, fully screened allogeneic donor and a received adipose collection.
        func receivedCollection() throws -> (donor: String, collection: String) {
            let donor = try registerDonor()
            try consent(donor)
            try screen(donor)
            let collection = try collect(donor)
            try receive(collection)
            return (donor, collection)
        }

        // Lots.

        func createLot(collection: String? = nil, parent: String? = nil, stage: String = "master_cell_bank",
                       use: String = "allogeneic") throws -> String {
            try operatorSession.query("""
                SELECT gmp.create_lot(\(collection), \(parent), \(stage), 'cells', \(use), current_date + 365) AS din
                """)[0].decode("din")
        }

        /// Records a step as it happens; passages carry counts and `doublings`, fills units.
        func step(_ din: String, _ kind: String, doublings: String = "2") throws {
            let passage = kind == "passage", fill = kind == "fill"
            let cells: String? = passage ? "2000000" : nil
            let viability: String? = passage ? "92.5" : nil
            let populationDoublings: String? = passage ? doublings : nil
            let units: Int? = fill ? 20 : nil
            let volume: String? = fill ? "1.5" : nil
            try operatorSession.execute("""
                SELECT gmp.record_step(\(din), \(kind), NULL, \(cells)::numeric, \(viability)::numeric,
                                       \(populationDoublings)::numeric, \(units)::int, \(volume)::numeric, NULL)
                """)
        }

        /// A master cell bank from `collection`, filled and cryopreserved.
        func cellBank(from collection: String, passages: Int = 1, doublings: String = "2") throws -> String {
            let din = try createLot(collection: collection)
            try step(din, "isolation")
            for _ in 0..<passages { try step(din, "passage", doublings: doublings) }
            for kind in ["harvest", "formulation", "fill", "cryopreservation"] { try step(din, kind) }
            return din
        }

        func status(_ din: String) throws -> String {
            try superuser.query("SELECT status FROM gmp.lot WHERE din = \(din)")[0].decode("status")
        }

        /// "passage number/cumulative doublings" of each culture step of a lot, in order.
        func passages(_ din: String) throws -> [String] {
            try superuser.query("""
                SELECT passage_number || '/' || trim_scale(cumulative_doublings) AS p FROM gmp.manufacturing_step
                WHERE din = \(din) AND kind IN ('isolation', 'passage') ORDER BY id
                """).map { try $0.decode("p") }
        }

        // Refusals.

        /// Runs `statements` as the superuser in one transaction, with a reason given, so
        /// that only the rule under test can refuse them.
        func asSuperuser(_ statements: String) throws {
            try superuser.transaction { db in
                try db.execute("SELECT set_config('gmp.reason', 'superuser edit in a test', true)")
                try db.execute(script: SQLScript(shippedWithBinary: statements))
            }
        }

        struct Counts: Equatable, CustomStringConvertible {
            let values: [String: Int64]
            var description: String { values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        }

        /// The audit trail's length and every record table's row count.
        func counts() throws -> Counts {
            let row = try superuser.query("""
                SELECT (SELECT count(*) FROM gmp_audit.event) AS events,
                       (SELECT count(*) FROM gmp.eligibility_determination) AS determinations,
                       (SELECT count(*) FROM gmp.signature) AS signatures,
                       (SELECT count(*) FROM gmp.screening_result) AS results,
                       (SELECT count(*) FROM gmp.tissue_collection) AS collections,
                       (SELECT count(*) FROM gmp.lot) AS lots,
                       (SELECT count(*) FROM gmp.manufacturing_step) AS steps
                """)[0]
            var values: [String: Int64] = [:]
            for name in ["events", "determinations", "signatures", "results", "collections", "lots", "steps"] {
                values[name] = try row.decode(name)
            }
            return Counts(values: values)
        }

        /// Expects `body` to be refused with `sqlState`, the message naming each of
        /// `naming`, and to leave the audit trail and every record table as they were.
        func expectRefused(_ sqlState: String, naming: [String] = [], _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
            let before = try counts()
            DonorAndLotRulesTests.expectSQLState(sqlState, what, sourceLocation: sourceLocation) {
                do {
                    try body()
                } catch let error as PostgresError {
                    for name in naming {
                        #expect(error.message.contains(name), "\(what): the message does not name \(name): \(error.message)",
                                sourceLocation: sourceLocation)
                    }
                    throw error
                }
            }
            let after = try counts()
            #expect(after == before, "\(what): the refusal left a trace (\(before) → \(after))", sourceLocation: sourceLocation)
        }
    }
}
