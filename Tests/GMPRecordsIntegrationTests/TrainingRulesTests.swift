import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// The rules of V0033 and sql/code/22_training.sql (issue 15, people qualified for the work):
/// a step or QC result covered by a registered procedure names it and is refused when its
/// performer (analyst) is not qualified on the version in force at its time; so is the
/// verifier of a result. Tried as the people who use them and as a superuser.
@Suite("Only people qualified on the procedure in force perform, record and verify, whoever writes")
struct TrainingRulesTests {
    typealias Site = QCReleaseSite

    // MARK: - Helpers

    /// QA registers `code` (signed "approved"), effective `effectiveDaysAgo` days ago.
    static func register(_ site: Site, _ code: String, kinds: [String] = [], tests: [String] = [],
                         effectiveDaysAgo: Int = 30, retrain: Int = 0) throws {
        try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
            _ = try db.execute("""
                SELECT gmp.register_procedure(\(challenge), \(code), 'Test procedure', current_date - \(Int64(effectiveDaysAgo))::int,
                                              \(Int64(retrain))::integer, \(kinds)::text[], \(tests)::text[])
                """)
        }
    }

    /// QA revises `code`, effective today, with a retraining window of `retrain` days.
    static func revise(_ site: Site, _ code: String, retrain: Int) throws {
        try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
            _ = try db.execute("""
                SELECT gmp.revise_procedure(\(challenge), \(code), NULL, current_date, \(Int64(retrain))::integer,
                                            NULL, NULL)
                """)
        }
    }

    /// `trainer` records the training of `trainee` on the latest version of `code`; returns its id.
    @discardableResult
    static func train(_ site: Site, _ trainee: TestAccount, _ code: String, acknowledged: Bool = true,
                      by trainer: TestAccount? = nil, session: PostgresConnection? = nil) throws -> Int64 {
        let who = trainer ?? site.site.qa
        let id: Int64 = try SignatureCeremony(session ?? site.site.qaSession).sign(password: who.password) { db, challenge in
            try db.query("""
                SELECT gmp.record_training(\(challenge), \(trainee.id), \(code), NULL, NULL, 'read-through and practical') AS id
                """)[0].decode("id")
        }
        if acknowledged { try acknowledge(id, by: trainee) }
        return id
    }

    static func acknowledge(_ id: Int64, by trainee: TestAccount, session: PostgresConnection? = nil) throws {
        let connection = try session ?? trainee.connect()
        try SignatureCeremony(connection).sign(password: trainee.password) { db, challenge in
            _ = try db.execute("SELECT gmp.acknowledge_training(\(challenge), \(id), NULL)")
        }
    }

    static func isolation(_ site: Site, _ din: String) throws {
        try site.site.step(din, "isolation")
    }

    static func stepProcedure(_ site: Site, _ din: String) throws -> String? {
        try site.site.superuser.query("SELECT procedure_code FROM gmp.manufacturing_step WHERE din = \(din)")[0]
            .decode("procedure_code")
    }

    static func signaturesIntact(_ site: Site) throws -> Bool {
        try site.site.superuser.query("SELECT coalesce(bool_and(intact), true) AS ok FROM gmp.signature_status")[0].decode("ok")
    }

    // MARK: - Steps

    @Test("an untrained performer is refused, by gmp and as a superuser writing the row; trained, the step names its procedure")
    func untrainedPerformerRefused() throws {
        try Site.with { site in
            try Self.register(site, "SOP-MFG-001", kinds: ["isolation"])
            let din = try site.site.createLot(collection: try site.site.receivedCollection().collection)
            let who = site.site.operatorAccount.id
            try site.site.expectRefused("GM005", naming: [who, "SOP-MFG-001", "version 1", "not trained"], "untrained operator") {
                try Self.isolation(site, din)
            }
            try site.site.expectRefused("GM005", naming: [who, "SOP-MFG-001"], "a superuser writes the untrained person's step") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.manufacturing_step (din, kind, performed_at, performed_by)
                    VALUES ('\(din)', 'isolation', now(), '\(who)')
                    """)
            }
            try Self.train(site, site.site.operatorAccount, "SOP-MFG-001")
            try Self.isolation(site, din)
            #expect(try Self.stepProcedure(site, din) == "SOP-MFG-001")
            // A step no procedure covers is recorded as before, naming none.
            try site.site.step(din, "passage")
            #expect(try site.site.superuser.query("""
                SELECT procedure_code FROM gmp.manufacturing_step WHERE din = \(din) AND kind = 'passage'
                """)[0].decode("procedure_code") as String? == nil)
            #expect(try Self.signaturesIntact(site))
        }
    }

    @Test("a procedure named for a step must be the one covering it")
    func namedProcedureMustCover() throws {
        try Site.with { site in
            try Self.register(site, "SOP-MFG-001", kinds: ["isolation"])
            try Self.register(site, "SOP-MFG-002", kinds: ["harvest"])
            try Self.train(site, site.site.operatorAccount, "SOP-MFG-001")
            let din = try site.site.createLot(collection: try site.site.receivedCollection().collection)
            try site.site.expectRefused("GM002", naming: ["SOP-MFG-001", "SOP-MFG-002"], "the wrong procedure named") {
                try site.site.operatorSession.transaction { db in
                    try db.execute("SELECT gmp.name_procedure('SOP-MFG-002')")
                    try db.execute("""
                        SELECT gmp.record_step(\(din), 'isolation', NULL, NULL, NULL, NULL, NULL, NULL, NULL)
                        """)
                }
            }
            try site.site.operatorSession.transaction { db in
                try db.execute("SELECT gmp.name_procedure('SOP-MFG-001')")
                try db.execute("SELECT gmp.record_step(\(din), 'isolation', NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
            }
            #expect(try Self.stepProcedure(site, din) == "SOP-MFG-001")
            try site.site.expectRefused("GM003", naming: ["isolation", "SOP-MFG-001"], "a second procedure covering a step") {
                try Self.register(site, "SOP-MFG-003", kinds: ["isolation"])
            }
        }
    }

    @Test("training counts only once the trainee has signed it; only the trainee signs; trainers are qualified or QA")
    func traineeMustSign() throws {
        try Site.with { site in
            try Self.register(site, "SOP-MFG-001", kinds: ["isolation"])
            let din = try site.site.createLot(collection: try site.site.receivedCollection().collection)
            let training = try Self.train(site, site.site.operatorAccount, "SOP-MFG-001", acknowledged: false)
            try site.site.expectRefused("GM005", naming: ["SOP-MFG-001", "awaits"], "trainee has not signed") {
                try Self.isolation(site, din)
            }
            try site.site.expectRefused("GM005", naming: [site.site.operatorAccount.id], "someone else acknowledges") {
                try Self.acknowledge(training, by: site.site.qc, session: site.site.qcSession)
            }
            try site.site.expectRefused("GM005", naming: ["not qualified"], "an unqualified trainer who is not QA") {
                try Self.train(site, site.site.qc, "SOP-MFG-001", acknowledged: false, by: site.qc2, session: site.qc2Session)
            }
            try site.site.expectRefused("42501", "a training record without the trainer's signature") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.training_record (trainee, code, version, trained_at, trainer)
                    VALUES ('\(site.site.qc.id)', 'SOP-MFG-001', 1, now(), '\(site.site.qa.id)')
                    """)
            }
            try site.site.expectRefused("42501", "an acknowledgement without the trainee's signature") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.training_acknowledgement (training_id, acknowledged_by)
                    VALUES (\(training), '\(site.site.operatorAccount.id)')
                    """)
            }
            try Self.acknowledge(training, by: site.site.operatorAccount, session: site.site.operatorSession)
            try Self.isolation(site, din)
            // Now qualified, the operator may train others on that version.
            try Self.train(site, site.site.qc, "SOP-MFG-001", by: site.site.operatorAccount, session: site.site.operatorSession)
            for statement in ["UPDATE gmp.training_record SET version = 2", "DELETE FROM gmp.training_acknowledgement",
                              "UPDATE gmp.procedure SET effective_on = current_date - 400", "DELETE FROM gmp.procedure_coverage"] {
                try site.site.expectRefused("42501", statement) { try site.site.asSuperuser(statement) }
            }
            #expect(try Self.signaturesIntact(site))
        }
    }

    @Test("a revision lapses the old qualification after its retraining window, not within it")
    func revisionLapses() throws {
        try Site.with { site in
            try Self.register(site, "SOP-MFG-001", kinds: ["isolation"])
            try Self.register(site, "SOP-MFG-002", kinds: ["passage"])
            try Self.train(site, site.site.operatorAccount, "SOP-MFG-001")
            try Self.train(site, site.site.operatorAccount, "SOP-MFG-002")
            try Self.revise(site, "SOP-MFG-001", retrain: 30)
            try Self.revise(site, "SOP-MFG-002", retrain: 0)
            let din = try site.site.createLot(collection: try site.site.receivedCollection().collection)
            try Self.isolation(site, din)  // within SOP-MFG-001 v2's 30 days
            try site.site.expectRefused("GM005", naming: ["SOP-MFG-002", "version 2", "version 1 only"],
                                        "lapsed: revised with no retraining window") {
                try site.site.step(din, "passage")
            }
            let who = site.site.operatorAccount.id
            let at = try site.site.superuser.query("""
                SELECT gmp_rules.qualified_on(\(who), 'SOP-MFG-001', now() + interval '29 days') AS within,
                       gmp_rules.qualified_on(\(who), 'SOP-MFG-001', now() + interval '31 days') AS after,
                       (gmp_rules.qualification(\(who), 'SOP-MFG-001', now() + interval '31 days')).state AS state
                """)[0]
            #expect(try at.decode("within") as Bool)
            #expect(!(try at.decode("after") as Bool))
            #expect(try at.decode("state") as String == "lapsed")
            try Self.train(site, site.site.operatorAccount, "SOP-MFG-002")
            try site.site.step(din, "passage")
        }
    }

    // MARK: - QC results

    @Test("an untrained analyst's result and an untrained verifier are refused; trained, both are accepted")
    func qcAnalystAndVerifier() throws {
        try Site.with { site in
            try Self.register(site, "SOP-QC-010", tests: ["cd105"])
            let din = try site.lot()
            try site.site.expectRefused("GM005", naming: [site.site.qc.id, "SOP-QC-010"], "untrained analyst") {
                try site.record(din, "cd105", "98.2", unit: "%")
            }
            try site.site.expectRefused("GM005", naming: [site.site.qc.id, "SOP-QC-010"], "a superuser's row naming her") {
                try site.site.asSuperuser("""
                    INSERT INTO gmp.qc_result (din, specification_id, test, attempt, qualifier, value, unit, method,
                                               analyst, performed_at, verdict)
                    VALUES ('\(din)', '', 'cd105', 1, '=', 98.2, '%', 'Flow', '\(site.site.qc.id)', now(), 'pass')
                    """)
            }
            try Self.train(site, site.site.qc, "SOP-QC-010")
            let result = try site.record(din, "cd105", "98.2", unit: "%")
            #expect(try site.site.superuser.query("SELECT procedure_code FROM gmp.qc_result WHERE id = \(result.id)")[0]
                .decode("procedure_code") as String == "SOP-QC-010")
            try site.site.expectRefused("GM005", naming: [site.qc2.id, "SOP-QC-010", "verification"], "untrained verifier") {
                try site.verify(result.id)
            }
            try Self.train(site, site.qc2, "SOP-QC-010")
            try site.verify(result.id)
            // A test no procedure covers is recorded as before.
            let other = try site.record(din, "cd45", "0.4", unit: "%")
            try site.verify(other.id)
            #expect(try Self.signaturesIntact(site))
        }
    }

    @Test("only QA registers and revises procedures; versions are numbered by the database")
    func onlyQARegisters() throws {
        try Site.with { site in
            for (who, session) in [("the operator", site.site.operatorSession), ("QC", site.site.qcSession)] {
                DonorAndLotRulesTests.expectSQLState("42501", "\(who) registers a procedure") {
                    try SignatureCeremony(session).sign(password: TestAccount.defaultPassword) { db, challenge in
                        _ = try db.execute("""
                            SELECT gmp.register_procedure(\(challenge), 'SOP-X-1', 'x', current_date, 0, NULL, NULL)
                            """)
                    }
                }
            }
            try Self.register(site, "SOP-MFG-001", kinds: ["isolation"])
            try Self.revise(site, "SOP-MFG-001", retrain: 14)
            let versions: [Int] = try site.site.superuser.query("""
                SELECT version FROM gmp.procedure WHERE code = 'SOP-MFG-001' ORDER BY version
                """).map { try $0.decode("version") }
            #expect(versions == [1, 2])
            try site.site.expectRefused("GM002", "a revision effective before the version it replaces") {
                try SignatureCeremony(site.site.qaSession).sign(password: site.site.qa.password) { db, challenge in
                    _ = try db.execute("""
                        SELECT gmp.revise_procedure(\(challenge), 'SOP-MFG-001', NULL, current_date - 1, NULL, NULL, NULL)
                        """)
                }
            }
        }
    }
}
