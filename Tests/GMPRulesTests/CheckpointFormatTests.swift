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

    @Test("a v3 checkpoint adds the reconciled snapshot (cluster, xmin, schema), signed; malformed values are refused")
    func version3() throws {
        let tables = AuditCheckpoint.TablesDigest(digest: Array(repeating: 0xAB, count: 32), rows: 905)
        let snapshot = AuditCheckpoint.Snapshot(cluster: 7_452_018_335_107_654_321, xmin: 4_294_967_301,
                                                schema: Array(repeating: 0xCD, count: 32))
        let statement = try AuditCheckpoint.Statement(installation: Self.installation, seq: 42, hash: Array(repeating: 7, count: 32),
                                                      createdAt: "2026-12-04T18:00:00.000000Z", signer: "quinn",
                                                      tables: tables, snapshot: snapshot)
        let checkpoint = try statement.sign(with: Self.key)
        let text = checkpoint.render()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 13)
        #expect(lines[0] == "gmp-audit-checkpoint-v3")
        #expect(lines[6] == "cluster: 7452018335107654321" && lines[7] == "xmin: 4294967301"
                && lines[8] == "schema: " + String(repeating: "cd", count: 32))
        let read = try AuditCheckpoint.parse(text)
        #expect(read == checkpoint && read.statement.snapshot == snapshot)
        try read.verify(with: Self.key.publicKey)
        // The snapshot is signed: an xmin moved later (to let older rows skip the re-reading) breaks it.
        #expect(throws: CheckpointVerificationError.badSignature(key: Self.key.fingerprint)) {
            try AuditCheckpoint.parse(text.replacingOccurrences(of: "xmin: 4294967301", with: "xmin: 4294967302"))
                .verify(with: Self.key.publicKey)
        }
        for (bad, line) in [("xmin: 04294967301", "line 8 (xmin)"), ("xmin: +4294967301", "line 8 (xmin)"),
                            ("cluster: 99999999999999999999", "line 7 (cluster)")] {
            let original = bad.hasPrefix("xmin") ? "xmin: 4294967301" : "cluster: 7452018335107654321"
            #expect { _ = try AuditCheckpoint.parse(text.replacingOccurrences(of: original, with: bad)) } throws: { error in
                (error as? CheckpointFormatError)?.problems.contains { $0.hasPrefix(line) } ?? false
            }
        }
        // A v3 header on a v2 file lacks the snapshot lines.
        let v2 = try Self.statement(tables: tables).sign(with: Self.key).render()
        #expect(throws: CheckpointFormatError.self) {
            _ = try AuditCheckpoint.parse(v2.replacingOccurrences(of: "checkpoint-v2", with: "checkpoint-v3"))
        }
    }
}
