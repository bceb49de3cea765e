import PostgresClient
import Testing
import TestSupport

/// The database's own hash function agrees with the published test vectors
/// (docs/audit/test-vectors.md), which the Swift and Python implementations also check.
@Suite("gmp_audit.event_hash reproduces the published test vectors")
struct EventHashVectorTests {
    @Test("event 1 of the vectors")
    func firstVector() throws {
        try TestServer.withMigratedDatabase { database in
            let hash: ByteString = try TestServer.connect(database).query("""
                SELECT gmp_audit.event_hash(1, '2026-11-22T05:26:25.107456Z', 741, 'alice', 'INSERT', 'gmp.account',
                    'bob', NULL, '{"id": "bob", "full_name": "Bob Ng"}', NULL, decode(repeat('00', 32), 'hex')) AS hash
                """)[0].decode("hash")
            #expect(hash.hex == "22cdc21370c76b039182a32fcbe5bfcf717c2d09a5d357368820ecb61f5cd4fd")
        }
    }

    @Test("events 4 and 5 of the vectors: format v2, chained from event 3's v1 hash")
    func v2Vectors() throws {
        try TestServer.withMigratedDatabase { database in
            let row = try TestServer.connect(database).query("""
                SELECT h4, gmp_audit.event_hash_v2(5, 8, '2026-11-22T05:27:59.999999Z', 744, 'erin', 'UPDATE', 'gmp.example',
                    '7', '{"id": 7}', '{"id": 7, "ok": true}', 'checked', h4) AS h5
                FROM (SELECT gmp_audit.event_hash_v2(4, 9, '2026-11-22T05:28:00.25Z', 745, 'dave', 'INSERT', 'gmp.example',
                    '43', NULL, '{"id": 43}', NULL,
                    decode('471a2acfa6f9fda3330cdae1dd2fb9d42a1774018687e76e541b14d799534a76', 'hex')) AS h4) AS v
                """)[0]
            #expect(try row.decode("h4", as: ByteString.self).hex == "bb52107b35a00a5c597809aacce790a3b7af348684193fb15f9f5984480ca71c")
            #expect(try row.decode("h5", as: ByteString.self).hex == "ec6026b1dd2b40dad60b9bf591ab4da8590c889c16aaa144970029a1ef0cf66d")
        }
    }
}
