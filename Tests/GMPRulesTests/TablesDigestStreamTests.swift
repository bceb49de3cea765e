import SystemCrypto
import GMPRules
import Testing

/// The record tables' digest a checkpoint signs, fed row by row (issue 18: the bounded
/// checkpoint feeds the server's sorted rows; the replay in memory feeds its own).
@Suite("Tables digest stream: the checkpoint's record-tables digest, row by row")
struct TablesDigestStreamTests {
    static func field(_ text: String) -> [UInt8] {
        let count = UInt32(text.utf8.count)
        return [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + Array(text.utf8)
    }

    @Test("the replay's digest is SHA-256 of the format's fields, rows in byte order; the stream fed them gives the same")
    func format() throws {
        let reconciler = AuditReconcilerTests.replayed()
        let digest = reconciler.tablesDigest()
        let bytes = Self.field("gmp-tables-v1") + Self.field("gmp.lot") + Self.field(AuditReconcilerTests.row("A1", "rejected"))
            + Self.field("gmp.lot") + Self.field(AuditReconcilerTests.row("B2", "quarantine"))
        #expect(digest == AuditCheckpoint.TablesDigest(digest: Array(SHA256.hash(data: bytes)), rows: 2))
        var stream = TablesDigestStream()
        try stream.row(table: "gmp.lot", text: AuditReconcilerTests.row("A1", "rejected"))
        try stream.row(table: "gmp.lot", text: AuditReconcilerTests.row("B2", "quarantine"))
        #expect(stream.finish() == digest)
    }

    @Test("rows out of byte order, or a table after a later one, are refused")
    func order() throws {
        var stream = TablesDigestStream()
        try stream.row(table: "gmp.lot", text: "b")
        try stream.row(table: "gmp.lot", text: "b")
        #expect(throws: KeyOrderedReconciler.OrderError.self) { try stream.row(table: "gmp.lot", text: "a") }
        var tables = TablesDigestStream()
        try tables.row(table: "gmp.step", text: "a")
        #expect(throws: KeyOrderedReconciler.OrderError.self) { try tables.row(table: "gmp.lot", text: "z") }
    }

    @Test("the rows' keyed sum plus the images removed equals the images written, only for the same rows")
    func rowsProved() throws {
        let key = ReplayDigest.randomKey()
        var written = ReplayDigest(key: key), removed = ReplayDigest(key: key)
        func add(_ sum: inout ReplayDigest, _ text: String) {
            Array("gmp.lot".utf8).withUnsafeBytes { sum.addRow(table: $0, image: RowDigest(of: text)) }
        }
        add(&written, "a1")
        add(&written, "a2")
        add(&removed, "a1")
        add(&written, "b")
        for (rows, agrees) in [(["a2", "b"], true), (["a1", "b"], false), (["a2", "b", "b"], false)] {
            var stream = TablesDigestStream(digestKey: key)
            for row in rows { try stream.row(table: "gmp.lot", text: row) }
            var made = try #require(stream.rows)
            made.add(removed)
            #expect((made == written) == agrees, "\(rows)")
        }
    }
}
