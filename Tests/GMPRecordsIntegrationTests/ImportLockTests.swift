import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Issue 20, the advisory-lock finding: imports of a device's readings and versions of a
/// specification code were serialised by pg_advisory_xact_lock on keys any role could
/// take, so an auditor in psql could stall them. They are row locks now, on rows no gmp
/// role may lock. Tried as the attacker would: a plain SQL session of another role.
@Suite("Imports cannot be stalled by another role's lock")
struct ImportLockTests {
    typealias Rules = DonorAndLotRulesTests
    typealias Storage = ReadingsAndExcursionsTests.Storage

    /// The statements an attacking role might use to hold what gmp's imports lock; each
    /// must be refused for lack of privilege. (An operator or QC who begins an import in
    /// psql and leaves it open holds the device's lock like any import in progress: a
    /// gmp import waiting behind it gives up after the lock timeout, exit 75.)
    static let lockAttempts = [
        "SELECT FROM gmp.storage_location WHERE id = 'LN2-A' FOR UPDATE",
        "SELECT FROM gmp.storage_location WHERE id = 'LN2-A' FOR SHARE",
        "LOCK TABLE gmp.storage_location IN EXCLUSIVE MODE",
        "LOCK TABLE gmp.reading_import IN SHARE MODE",
        "SELECT FROM gmp_meta.serial_lock FOR UPDATE",
        "LOCK TABLE gmp_meta.serial_lock IN EXCLUSIVE MODE",
        "SELECT gmp_rules.lock_device_readings('LN2-A')",
        "SELECT gmp_rules.insert_document_version('gmp.specification', '{\"code\": \"TEST-DP\"}', '', 'spec')",
    ]

    @Test("another role holding the old advisory key does not stall a device's readings import; it cannot lock the rows gmp locks")
    func readingsImportNotStalled() throws {
        try Storage.with { s in
            for role in ["auditor", "qa", "operator"] {
                let attacker = try TestAccount.create(in: s.site.database, roles: [role]).connect()
                // The key gmp took until issue 20, held at session level for as long as the attacker likes.
                try attacker.execute("SELECT pg_advisory_lock(hashtext('gmp.temperature_reading'), hashtext('LN2-A'))")
                try attacker.execute("BEGIN")
                try attacker.execute("SELECT pg_advisory_xact_lock(hashtext('gmp.temperature_reading'), hashtext('LN2-A'))")
                for statement in Self.lockAttempts {
                    try attacker.execute("SAVEPOINT attempt")
                    Rules.expectSQLState("42501", "\(role): \(statement)") {
                        try attacker.execute(script: SQLScript(shippedWithBinary: statement))
                    }
                    try attacker.execute("ROLLBACK TO SAVEPOINT attempt")
                }
                // The attacker's transaction stays open, holding both advisory keys, while
                // the operator imports; without a lock timeout the import would wait for ever.
                try s.site.operatorSession.execute("SET lock_timeout = '2s'")
                let minute = ["auditor": 1, "qa": 2, "operator": 3][role] ?? 0
                let imported = try s.load([("LN2-A", minute, "-190")])
                #expect(imported.map(\.rows) == [1], "\(role)")
                try attacker.execute("ROLLBACK")
                try attacker.execute("SELECT pg_advisory_unlock_all()")
            }
        }
    }

    @Test("another role holding the old advisory key does not stall a specification import")
    func specificationImportNotStalled() throws {
        try Rules.Site.with { site in
            let attacker = try TestAccount.create(in: site.database, roles: ["auditor"]).connect()
            try attacker.execute("SELECT pg_advisory_lock(hashtext('gmp.specification'), hashtext('TEST-DP'))")
            try attacker.execute("BEGIN")
            try attacker.execute("SAVEPOINT attempt")
            Rules.expectSQLState("42501", "auditor locking the specification's lock row") {
                try attacker.execute("SELECT FROM gmp_meta.serial_lock WHERE key = 'TEST-DP' FOR UPDATE")
            }
            try attacker.execute("ROLLBACK TO SAVEPOINT attempt")
            try site.qcSession.execute("SET lock_timeout = '2s'")
            for version in 1...2 {
                let id: String = try site.qcSession.query("""
                    SELECT gmp.import_specification(\(QCReleaseSite.document)::jsonb, \("lock test source \(version)")) AS id
                    """)[0].decode("id")
                #expect(id == "TEST-DP@\(version)")
            }
            try attacker.execute("ROLLBACK")
            try attacker.execute("SELECT pg_advisory_unlock_all()")
        }
    }

    /// Issue 13: the master batch record import had its own copy of the specification's
    /// numbering, still with the advisory lock; both now number through
    /// gmp_rules.insert_document_version and its row lock.
    @Test("another role holding the old advisory key does not stall a master batch record import")
    func masterRecordImportNotStalled() throws {
        try Rules.Site.with { site in
            let attacker = try TestAccount.create(in: site.database, roles: ["auditor"]).connect()
            try attacker.execute("BEGIN")
            try attacker.execute("SELECT pg_advisory_xact_lock(hashtext('gmp.master_record'), hashtext('TEST-MBR'))")
            try attacker.execute("SAVEPOINT attempt")
            Rules.expectSQLState("42501", "auditor locking the master batch record's lock row") {
                try attacker.execute("SELECT FROM gmp_meta.serial_lock WHERE key = 'TEST-MBR' FOR UPDATE")
            }
            try attacker.execute("ROLLBACK TO SAVEPOINT attempt")
            try site.qaSession.execute("SET lock_timeout = '2s'")
            for version in 1...2 {
                let id: String = try site.qaSession.query("""
                    SELECT gmp.import_master_record(\(MasterRecordRulesTests.document(title: "lock test \(version)"))::jsonb,
                                                    \("lock test source \(version)")) AS id
                    """)[0].decode("id")
                #expect(id == "TEST-MBR@\(version)")
            }
            Rules.expectSQLState("GM003", "the same file imported again") {
                try site.qaSession.execute("""
                    SELECT gmp.import_master_record(\(MasterRecordRulesTests.document(title: "lock test 1"))::jsonb,
                                                    'lock test source 1')
                    """)
            }
            try attacker.execute("ROLLBACK")
        }
    }

    @Test("imports of one device still wait for each other, those of another device do not")
    func importsOfOneDeviceSerialised() throws {
        try Storage.with { s in
            // A superuser's session stands for gmp's own import of LN2-A in progress: it
            // holds the device's lock, and writes nothing (so the audit trail's own
            // serialisation of writers does not come into it).
            let holder = try TestServer.connect(s.site.database)
            try holder.execute("BEGIN")
            try holder.execute("SELECT gmp_rules.lock_device_readings('LN2-A')")
            try s.site.operatorSession.execute("SET lock_timeout = '1s'")
            Rules.expectSQLState("55P03", "an import of LN2-A while another is in progress") {
                try s.load([("LN2-A", 1, "-190")])
            }
            #expect(try s.load([("LN2-B", 1, "-190")]).map(\.rows) == [1])
            try holder.execute("ROLLBACK")
            #expect(try s.load([("LN2-A", 1, "-190")]).map(\.rows) == [1])
        }
    }
}
