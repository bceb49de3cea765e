import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// gmp.record_label_print (sql/code/18_labels.sql) and gmp.label_print (V0031), through
/// plain SQL as the people who print labels and as those who may not.
@Suite("label prints: audited, a reprint needs its reason")
struct LabelPrintRulesTests {
    typealias Site = DonorAndLotRulesTests.Site

    /// The unit's label as gmp label print builds it.
    static func label(_ site: CustodySite, _ division: Int?) throws -> ProductLabel {
        try ProductLabel(din: DonationIdentificationNumber(stored: site.lot), division: division, stage: "master_cell_bank",
                         productKind: "cells", intendedUse: "allogeneic", expiresOn: "2027-06-30", statements: [])
    }

    static func print(_ label: ProductLabel, on session: PostgresConnection, reason: String? = nil,
                      dinData: String? = nil) throws -> (id: Int64, reprint: Bool) {
        let row = try session.query("""
            SELECT (r->>'id')::bigint AS id, (r->>'reprint')::boolean AS reprint
              FROM gmp.record_label_print(\(label.din), \(label.division)::integer, '{pdf}', \(dinData ?? label.dinData),
                                          \(label.productCodeData), \(label.expirationData), \(reason)) AS r
            """)[0]
        return (try row.decode("id"), try row.decode("reprint"))
    }

    @Test("the first print is recorded and audited; a second without a reason is refused with GM008, with one it is a reprint")
    func reprintNeedsReason() throws {
        try CustodySite.with { site in
            let label = try Self.label(site, 3)
            let session = site.site.operatorSession
            let first = try Self.print(label, on: session)
            #expect(first.reprint == false)
            let audited = try site.site.superuser.query("""
                SELECT actor, reason, new_values->>'din_data' AS data FROM gmp_audit.event
                 WHERE table_name = 'gmp.label_print' AND record_key = \(String(first.id)) AND action = 'INSERT'
                """)
            #expect(audited.count == 1)
            #expect(try audited.first?.decode("actor", as: String.self) == site.site.operatorAccount.id)
            #expect(try audited.first?.decode("data", as: String.self) == label.dinData)
            #expect(try audited.first?.decode("reason", as: String.self) == "label printed")

            DonorAndLotRulesTests.expectSQLState("GM008", "a reprint without a reason") { _ = try Self.print(label, on: session) }
            DonorAndLotRulesTests.expectSQLState("GM008", "a blank reason") { _ = try Self.print(label, on: session, reason: "  ") }
            // Another person reprinting counts as a reprint too: it is the label, not the printer.
            DonorAndLotRulesTests.expectSQLState("GM008", "QA reprinting") { _ = try Self.print(label, on: site.site.qaSession) }

            let again = try Self.print(label, on: session, reason: "label smudged in the LN2 vapour")
            #expect(again.reprint == true)
            let reason: String = try site.site.superuser.query("""
                SELECT reason FROM gmp_audit.event WHERE table_name = 'gmp.label_print' AND record_key = \(String(again.id))
                """)[0].decode("reason")
            #expect(reason == "label smudged in the LN2 vapour")

            // Another unit's first label is no reprint.
            #expect(try Self.print(try Self.label(site, 4), on: session).reprint == false)
        }
    }

    @Test("the data structures must be the lot's: wrong flags refused (GM002), a unit beyond the fill refused (GM001)")
    func dataMustMatchTheRecord() throws {
        try CustodySite.with { site in
            let label = try Self.label(site, 1)
            let wrongFlags = "=" + site.lot + "00"
            DonorAndLotRulesTests.expectSQLState("GM002", "flags 00") { _ = try Self.print(label, on: site.site.operatorSession, dinData: wrongFlags) }
            DonorAndLotRulesTests.expectSQLState("GM001", "unit 21 of 20") {
                _ = try Self.print(try Self.label(site, 21), on: site.site.operatorSession)
            }
        }
    }

    @Test("nobody writes gmp.label_print directly, nobody rewrites it, and an auditor cannot print")
    func onlyThroughTheFunction() throws {
        try CustodySite.with { site in
            let label = try Self.label(site, 2)
            DonorAndLotRulesTests.expectSQLState("42501", "operator INSERT") {
                try site.site.operatorSession.execute("""
                    INSERT INTO gmp.label_print (din, division, formats, din_data, product_data, expiry_data, reprint)
                    VALUES (\(label.din), 2, '{pdf}', \(label.dinData), \(label.productCodeData), \(label.expirationData), false)
                    """)
            }
            let auditor = try TestAccount.create(in: site.site.database, roles: ["auditor"])
            DonorAndLotRulesTests.expectSQLState("42501", "auditor prints") { _ = try Self.print(label, on: try auditor.connect()) }

            let first = try Self.print(label, on: site.site.operatorSession)
            // Erasing the first print would turn the next one into a first print without a reason.
            DonorAndLotRulesTests.expectSQLState("42501", "superuser DELETE") {
                try site.site.superuser.execute("DELETE FROM gmp.label_print WHERE id = \(first.id)")
            }
            DonorAndLotRulesTests.expectSQLState("23514", "a reprint row without its reason, inserted by the superuser") {
                try site.site.superuser.execute("""
                    INSERT INTO gmp.label_print (din, division, formats, din_data, product_data, expiry_data, reprint, printed_by)
                    VALUES (\(label.din), 2, '{zpl}', \(label.dinData), \(label.productCodeData), \(label.expirationData), true,
                            \(site.site.operatorAccount.id))
                    """)
            }
        }
    }
}
