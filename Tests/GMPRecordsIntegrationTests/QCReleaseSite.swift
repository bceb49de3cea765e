import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// A site (DonorAndLotRulesTests.Site) with a second QC person and a second QA person,
/// an approved test specification, and helpers for results and dispositions, all in
/// plain SQL so that the rules are tried as psql users would meet them.
final class QCReleaseSite {
    let site: DonorAndLotRulesTests.Site
    let qc2: TestAccount, qa2: TestAccount
    let qc2Session: PostgresConnection, qa2Session: PostgresConnection
    let specification: String

    /// A specification with one criterion of every kind (docs/qc-and-release.md).
    static let document = """
        {"code": "TEST-DP", "title": "Test drug product", "product_kind": "cells", "stage": "drug_product",
         "criteria": [
          {"test": "cd105", "name": "CD105 positive", "method": "Flow", "kind": "lower", "unit": "%",
           "lower": "95", "lower_inclusive": true, "max_retests": 1},
          {"test": "cd45", "name": "CD45 positive", "method": "Flow", "kind": "upper", "unit": "%",
           "upper": "2", "upper_inclusive": true, "max_retests": 1},
          {"test": "cell_dose", "name": "Viable cells", "method": "Count", "kind": "window", "unit": "10^6 cells",
           "lower": "45", "lower_inclusive": true, "upper": "60.5", "upper_inclusive": false, "max_retests": 2},
          {"test": "sterility", "name": "Sterility", "method": "Ph. Eur. 2.6.1", "kind": "qualitative",
           "accept": ["no_growth"], "max_retests": 0},
          {"test": "trilineage", "name": "Trilineage", "method": "Differentiation", "kind": "qualitative",
           "accept": ["positive"], "parts": ["osteogenic", "adipogenic", "chondrogenic"], "max_retests": 1},
          {"test": "endotoxin", "name": "Endotoxin", "method": "Ph. Eur. 2.6.14", "kind": "endotoxin_dose",
           "unit": "EU/mL", "endotoxin_k": "5", "endotoxin_k_intrathecal": "0.2", "max_retests": 1,
           "max_dose_min": "0.1", "max_dose_max": "4", "max_dose_unit": "mL/kg/h"},
          {"test": "residual_bsa", "name": "Residual BSA", "method": "ELISA", "kind": "not_detected",
           "unit": "ng/mL", "detection_limit": "50", "max_retests": 1}
         ]}
        """

    /// Values that pass every criterion of ``document``.
    static let passing: [(test: String, qualifier: String?, value: String?, unit: String?, outcomes: [String]?)] = [
        ("cd105", nil, "98.2", "%", nil), ("cd45", nil, "0.4", "%", nil), ("cell_dose", nil, "50.0", "10^6 cells", nil),
        ("sterility", nil, nil, nil, ["no_growth"]), ("trilineage", nil, nil, nil, ["positive", "positive", "positive"]),
        ("endotoxin", nil, "12.5", "EU/mL", nil), ("residual_bsa", "<", "10", "ng/mL", nil),
    ]

    static func with(_ body: (QCReleaseSite) throws -> Void) throws {
        try DonorAndLotRulesTests.Site.with { site in try body(try QCReleaseSite(site)) }
    }

    private init(_ site: DonorAndLotRulesTests.Site) throws {
        self.site = site
        qc2 = try TestAccount.create(in: site.database, roles: ["qc"], fullName: "Riley Reviewer")
        qa2 = try TestAccount.create(in: site.database, roles: ["qa"], fullName: "Avery Approver")
        qc2Session = try qc2.connect()
        qa2Session = try qa2.connect()
        specification = try site.qcSession.query("""
            SELECT gmp.import_specification(\(Self.document)::jsonb, 'test source') AS id
            """)[0].decode("id")
        try SignatureCeremony(qa2Session).sign(password: qa2.password) { db, challenge in
            _ = try db.execute("SELECT gmp.approve_specification(\(challenge), \(specification), 'approved for tests')")
        }
    }

    /// A drug-product lot from an eligible donor's collection, with the test
    /// specification assigned (M = 0.4 mL/kg/h: endotoxin limit 12.5 EU/mL), the dose
    /// signed "determined" by the first QC person (default) or `doseSetter`.
    func lot(eligible: Bool = true, maxDose: String = "0.4", doseSetter: TestAccount? = nil,
             session: PostgresConnection? = nil) throws -> String {
        let (donor, collection) = try site.receivedCollection()
        if eligible { try site.determine(donor, collection, "eligible") }
        let din = try site.createLot(collection: collection, stage: "drug_product")
        try assign(din, maxDose: maxDose, as: doseSetter, session: session)
        return din
    }

    /// Assigns the test specification with a signed dose.
    func assign(_ din: String, maxDose: String, as account: TestAccount? = nil, session: PostgresConnection? = nil) throws {
        try SignatureCeremony(session ?? site.qcSession).sign(password: (account ?? site.qc).password) { db, challenge in
            _ = try db.execute("""
                SELECT gmp.assign_specification(\(challenge), \(din), \(specification), \(maxDose)::numeric, false,
                                                'dose from the infusion plan')
                """)
        }
    }

    struct Recorded {
        let id: Int64
        let attempt: Int
        let verdict: String
        let deviation: String?
        let warning: String?
    }

    /// Records a result as `session` (default: the first QC person, who also performed it).
    @discardableResult
    func record(_ din: String, _ test: String, _ value: String? = nil, unit: String? = nil, qualifier: String? = nil,
                outcomes: [String]? = nil, analyst: String? = nil, corrects: Int64? = nil, reason: String? = nil,
                as session: PostgresConnection? = nil) throws -> Recorded {
        let row = try (session ?? site.qcSession).query("""
            SELECT * FROM gmp.record_result(\(din), \(test), \(qualifier), \(value)::numeric, \(unit), \(outcomes)::text[],
                                            'SOP method', 'Instrument 1', \(analyst), NULL, NULL, \(corrects), \(reason))
            """)[0]
        return Recorded(id: try row.decode("id"), attempt: try row.decode("attempt"), verdict: try row.decode("verdict"),
                        deviation: try row.decode("deviation_id"), warning: try row.decode("warning"))
    }

    /// The second QC person verifies, signing "reviewed".
    func verify(_ result: Int64, by account: TestAccount? = nil, session: PostgresConnection? = nil) throws {
        let who = account ?? qc2
        try SignatureCeremony(session ?? qc2Session).sign(password: who.password) { db, challenge in
            _ = try db.execute("SELECT gmp.verify_result(\(challenge), \(result), 'checked against the raw data')")
        }
    }

    /// The analyst named on a result someone else recorded confirms it, signing "performed".
    func confirm(_ result: Int64, by account: TestAccount, session: PostgresConnection) throws {
        try SignatureCeremony(session).sign(password: account.password) { db, challenge in
            _ = try db.execute("SELECT gmp.confirm_result(\(challenge), \(result), 'I performed it')")
        }
    }

    /// Every criterion recorded with a passing value and verified.
    func passAll(_ din: String) throws {
        for value in Self.passing {
            let recorded = try record(din, value.test, value.value, unit: value.unit, qualifier: value.qualifier,
                                      outcomes: value.outcomes)
            try verify(recorded.id)
        }
    }

    func packageHash(_ din: String) throws -> String {
        try site.superuser.query("SELECT gmp.release_check(\(din))->>'package_sha256' AS h")[0].decode("h")
    }

    func blockers(_ din: String) throws -> [String] {
        try site.superuser.query("SELECT problem FROM gmp_rules.release_blockers(\(din)) ORDER BY kind, item")
            .map { try $0.decode("problem") }
    }

    /// QA releases (default: the site's QA person, who took no part in the results).
    @discardableResult
    func release(_ din: String, as account: TestAccount? = nil, session: PostgresConnection? = nil) throws -> Int64 {
        let hash = try packageHash(din)
        let who = account ?? site.qa
        return try SignatureCeremony(session ?? site.qaSession).sign(password: who.password) { db, challenge in
            try db.query("SELECT gmp.release_lot(\(challenge), \(din), \(hash), 'released for tests') AS id")[0].decode("id")
        }
    }

    func reject(_ din: String, as account: TestAccount? = nil, session: PostgresConnection? = nil) throws {
        let who = account ?? site.qa
        try SignatureCeremony(session ?? site.qaSession).sign(password: who.password) { db, challenge in
            _ = try db.execute("SELECT gmp.reject_lot(\(challenge), \(din), 'fails endotoxin')")
        }
    }

    func eventCount() throws -> Int64 {
        try DonorAndLotRulesTests.eventCount(site.superuser)
    }
}
