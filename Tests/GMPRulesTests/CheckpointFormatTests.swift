import GMPRules
import Testing

/// Checkpoint files: v2 signs the record tables as the trail replays them (issue 20,
/// item 12); v1 files, written before, stay readable and verifiable.
@Suite("Checkpoint files: v2 with the tables' digest, v1 still verifiable")
struct CheckpointFormatTests {
    static let key = CheckpointKey.generate()
    static let installation = "3f2a8c1e-0b6d-4e7a-9c55-2d1f0e4b7a90"

    static func statement(tables: AuditCheckpoint.TablesDigest?) throws -> AuditCheckpoint.Statement {
        try AuditCheckpoint.Statement(installation: installation, seq: 42, hash: Array(repeating: 7, count: 32),
                                      createdAt: "2026-12-04T18:00:00.000000Z", signer: "quinn", tables: tables)
    }

    @Test("a v2 checkpoint carries tables and rows, signed, and reads back as written")
    func version2() throws {
        let tables = AuditCheckpoint.TablesDigest(digest: Array(repeating: 0xAB, count: 32), rows: 905)
        let checkpoint = try Self.statement(tables: tables).sign(with: Self.key)
        let text = checkpoint.render()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 10)
        #expect(lines[0] == "gmp-audit-checkpoint-v2")
        #expect(lines[4] == "tables: " + String(repeating: "ab", count: 32) && lines[5] == "rows: 905")
        let read = try AuditCheckpoint.parse(text)
        #expect(read == checkpoint && read.statement.tables == tables)
        try read.verify(with: Self.key.publicKey)

        // The tables line is signed: changing it breaks the signature.
        let forged = text.replacingOccurrences(of: "rows: 905", with: "rows: 906")
        #expect(throws: CheckpointVerificationError.badSignature(key: Self.key.fingerprint)) {
            try AuditCheckpoint.parse(forged).verify(with: Self.key.publicKey)
        }
    }

    @Test("a v1 checkpoint (no tables) is still written as v1, read and verified")
    func version1() throws {
        let checkpoint = try Self.statement(tables: nil).sign(with: Self.key)
        let text = checkpoint.render()
        #expect(text.hasPrefix("gmp-audit-checkpoint-v1\ninstallation: "))
        #expect(text.split(separator: "\n").count == 8 && !text.contains("tables:"))
        let read = try AuditCheckpoint.parse(text)
        #expect(read.statement.tables == nil)
        try read.verify(with: Self.key.publicKey)
    }

    @Test("a v2 header without the tables lines, or a malformed digest, is refused naming the line")
    func malformed() throws {
        let v1 = try Self.statement(tables: nil).sign(with: Self.key).render()
        let relabelled = v1.replacingOccurrences(of: "checkpoint-v1", with: "checkpoint-v2")
        #expect(throws: CheckpointFormatError.self) { try AuditCheckpoint.parse(relabelled) }
        let tables = AuditCheckpoint.TablesDigest(digest: Array(repeating: 1, count: 32), rows: 0)
        let v2 = try Self.statement(tables: tables).sign(with: Self.key).render()
        #expect(v2.contains("\nrows: 0\n"))
        do {
            _ = try AuditCheckpoint.parse(v2.replacingOccurrences(of: "tables: 01", with: "tables: 1"))
            Issue.record("a short digest was accepted")
        } catch let error as CheckpointFormatError {
            #expect(error.problems.contains { $0.hasPrefix("line 5 (tables):") }, "\(error.problems)")
        }
    }
}
