import Foundation
import Testing
@testable import GMPDatabase
import PostgresClient

@Suite("Schema status rules and the shipped migrations (no database)")
struct SchemaStatusTests {
    let one = Migration(version: 1, name: "a", sql: "SELECT 1;")
    let two = Migration(version: 2, name: "b", sql: "SELECT 2;")

    func row(_ migration: Migration, checksum: String? = nil) -> AppliedMigration {
        AppliedMigration(version: migration.version, name: migration.name, checksum: checksum ?? migration.checksum,
                         appliedAt: Timestamp(microsecondsSinceEpoch: 0), appliedBy: "ann")
    }

    @Test("pending, up to date, changed and unknown")
    func rules() throws {
        #expect(SchemaStatus(applied: [], shipped: [one, two]).pending == [one, two])
        #expect(SchemaStatus(applied: [row(one), row(two)], shipped: [one, two]).isUpToDate)
        let changed = SchemaStatus(applied: [row(one, checksum: String(repeating: "0", count: 64))], shipped: [one, two])
        #expect(changed.problems.count == 1)
        #expect(throws: MigrationError.self) { try changed.requireConsistent() }
        let newer = SchemaStatus(applied: [row(one), row(two)], shipped: [one])
        #expect(newer.problems == [.unknownVersion(row(two))])
        #expect(newer.currentVersion == 2)
        #expect(newer.latestKnownVersion == 1)
    }

    @Test("checksums are SHA-256 of the file's bytes (FIPS 180-2 vector)")
    func checksum() {
        #expect(Migration(version: 1, name: "x", sql: "abc").checksum
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(one.fileName == "V0001__a.sql")
    }

    @Test("the binary embeds sql/migrations and sql/code exactly: same files, same bytes, numbered without gaps")
    func embeddedMatchesFiles() throws {
        let sql = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("sql")
        func files(_ folder: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: sql.appendingPathComponent(folder).path)
                .filter { $0.hasSuffix(".sql") }.sorted()
        }
        #expect(Migration.shipped.map(\.fileName) == (try files("migrations")))
        #expect(Migration.shipped.map(\.version) == Array(1...Migration.shipped.count))
        for migration in Migration.shipped {
            let bytes = try Data(contentsOf: sql.appendingPathComponent("migrations/" + migration.fileName))
            #expect(Array(migration.sql.utf8) == Array(bytes))
        }
        #expect(CodeFile.shipped.map(\.fileName) == (try files("code")))
        for file in CodeFile.shipped {
            let bytes = try Data(contentsOf: sql.appendingPathComponent("code/" + file.fileName))
            #expect(Array(file.sql.utf8) == Array(bytes))
        }
    }

    /// Start-up (issue 18): the build writes each shipped file's checksum beside its text
    /// (the MigrationEmbedder's own SHA-256), so `gmp db status` hashes nothing. The ledgers
    /// compare those checksums, so each must be swift-crypto's SHA-256 of the file's bytes.
    @Test("the shipped files' checksums, computed at build time, are SHA-256 of their bytes")
    func buildTimeChecksums() {
        #expect(embeddedMigrations.count == Migration.shipped.count && embeddedCodeFiles.count == CodeFile.shipped.count)
        for (embedded, migration) in zip(embeddedMigrations, Migration.shipped) {
            #expect(embedded.checksum == sha256Hex(embedded.sql), "V\(embedded.version)")
            #expect(migration.checksum == embedded.checksum && migration == Migration(version: embedded.version,
                                                                                      name: embedded.name, sql: embedded.sql))
        }
        for (embedded, file) in zip(embeddedCodeFiles, CodeFile.shipped) {
            #expect(embedded.checksum == sha256Hex(embedded.sql), "\(file.fileName)")
            #expect(file.checksum == embedded.checksum)
        }
    }

    @Test("a code file is pending until its exact text is the one last applied")
    func pendingCode() throws {
        let audit = CodeFile(order: 1, name: "audit", sql: "SELECT 1;")
        let lots = CodeFile(order: 2, name: "lots", sql: "SELECT 2;")
        func applied(_ file: CodeFile, checksum: String? = nil) -> AppliedCode {
            AppliedCode(fileName: file.fileName, checksum: checksum ?? file.checksum, schemaVersion: 2,
                        appliedAt: Timestamp(microsecondsSinceEpoch: 0), appliedBy: "owner")
        }
        #expect(SchemaStatus(applied: [row(one), row(two)], shipped: [one, two], shippedCode: [audit, lots]).pendingCode
            == [audit, lots])
        let edited = SchemaStatus(applied: [row(one), row(two)], shipped: [one, two],
                                  appliedCode: [applied(audit), applied(lots, checksum: String(repeating: "0", count: 64))],
                                  shippedCode: [audit, lots])
        #expect(edited.pendingCode == [lots])
        #expect(!edited.isUpToDate)
        #expect(edited.problems.isEmpty)
        #expect(SchemaStatus(applied: [row(one), row(two)], shipped: [one, two],
                             appliedCode: [applied(audit), applied(lots)], shippedCode: [audit, lots]).isUpToDate)
        #expect(audit.fileName == "01_audit.sql")
    }
}
