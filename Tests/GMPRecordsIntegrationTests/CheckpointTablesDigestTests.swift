import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// Issue 18: `gmp audit checkpoint` hashes the record tables in key order, in bounded
/// memory (`verify`'s `tablesDigestInKeyOrder`), and must sign exactly the digest the replay
/// in memory gives for the same snapshot; when it cannot (a row matched to its replay
/// through a field added since), it gives none and the checkpoint replays in memory.
@Suite("Checkpoint tables digest in bounded memory: the in-memory replay's digest, or none")
struct CheckpointTablesDigestTests {
    /// The checkpoint's verification, bounded, on one connection or two.
    static func bounded(_ connection: PostgresConnection, second: (() throws -> PostgresConnection)? = nil) throws -> AuditVerification {
        try AuditTrail(connection).verify(reconcile: true, recordSnapshot: true, tablesDigestInKeyOrder: true,
                                          openSecondConnection: second)
    }

    static func inMemory(_ connection: PostgresConnection) throws -> AuditCheckpoint.TablesDigest? {
        let verification = try AuditTrail(connection).verify(reconcile: true, recordSnapshot: true, tablesDigestAtEnd: true)
        return verification.reconciliation?.tablesDigests[verification.recordedHead.seq]
    }

    @Test("the same digest as the replay in memory, on one connection or two, as the owner and as QA (tables skipped)")
    func sameDigest() throws {
        try ReconciliationTests.withLots { site, _, _ in
            let database = site.site.database
            let connection = try TestServer.connect(database)
            let expected = try #require(try Self.inMemory(connection))
            #expect(expected.rows > 50)
            for verification in [try Self.bounded(connection),
                                 try Self.bounded(connection, second: { try TestServer.connect(database) })] {
                #expect(verification.isIntact, "\(ReconciliationTests.findings(verification))")
                #expect(verification.reconciliation?.tablesDigests == [verification.recordedHead.seq: expected])
            }
            // Without the flag, a full verify hashes nothing more than before.
            #expect(try ReconciliationTests.verify(database).reconciliation?.tablesDigests.isEmpty == true)
            let qa = try site.site.qa.connect()
            let asQA = try Self.bounded(qa)
            let qaDigest = try #require(try Self.inMemory(try site.site.qa.connect()))
            #expect(asQA.reconciliation?.tablesDigests[asQA.recordedHead.seq] == qaDigest)
        }
    }

    @Test("after more events, the new head's digest; a tampered table gives none (the checkpoint is refused)")
    func laterAndTampered() throws {
        try ReconciliationTests.withLots { site, _, rejected in
            let database = site.site.database
            _ = try site.lot()
            let connection = try TestServer.connect(database)
            let bounded = try Self.bounded(connection)
            #expect(bounded.reconciliation?.tablesDigests[bounded.recordedHead.seq] == (try Self.inMemory(connection)))
            try Tampering.silently(database, tables: ["gmp.lot"], "UPDATE gmp.lot SET status = 'released' WHERE din = '\(rejected)'")
            let tampered = try Self.bounded(connection)
            #expect(!tampered.isIntact)
            #expect(tampered.reconciliation?.tablesDigests.isEmpty == true)
        }
    }

    @Test("rows that match their replay only through a column added since: no bounded digest, the in-memory one stands")
    func addedColumn() throws {
        try ReconciliationTests.withLots { site, _, _ in
            try ReconciliationTests.addDeviationColumns(site)
            let connection = try TestServer.connect(site.site.database)
            let bounded = try Self.bounded(connection)
            #expect(bounded.isIntact, "\(ReconciliationTests.findings(bounded))")
            #expect(bounded.reconciliation?.tablesDigests.isEmpty == true)
            #expect(try Self.inMemory(connection) != nil)
        }
    }
}
