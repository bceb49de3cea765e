import Foundation
import Testing
@testable import GMPDatabase
import PostgresClient
import TestSupport

@Suite("Migrations: forward only, each with its ledger row, refusing edited or newer schemas")
struct MigratorTests {
    let first = Migration(version: 1, name: "create_note", sql: "CREATE TABLE note (body text);")
    let second = Migration(version: 2, name: "add_author", sql: "ALTER TABLE note ADD COLUMN author text;")

    @Test("the shipped migrations apply to an empty database, once")
    func shippedApplyOnce() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let migrator = Migrator()
            #expect(try migrator.status(on: connection).currentVersion == 0)
            let outcome = try migrator.migrate(on: connection)
            #expect(outcome.applied.map(\.version) == Migration.shipped.map(\.version))
            #expect(outcome.status.isUpToDate)
            #expect(try migrator.migrate(on: connection).applied.isEmpty)
            let status = try migrator.status(on: connection)
            #expect(status.isUpToDate)
            #expect(status.applied.map(\.checksum) == Migration.shipped.map(\.checksum))
            #expect(status.applied.allSatisfy { $0.appliedBy == (try? TestServer.adminUser()) })
        }
    }

    @Test("the ledger and the installation record are append-only, even for the owner")
    func ledgerAppendOnly() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try Migrator().migrate(on: connection)
            #expect { try connection.execute("UPDATE gmp_meta.schema_migrations SET checksum = repeat('0', 64)") } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
            #expect { try connection.execute("DELETE FROM gmp_meta.schema_migrations") } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
            #expect { try connection.execute("TRUNCATE gmp_meta.schema_migrations") } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
            #expect { try connection.execute("UPDATE gmp_meta.installation SET id = gen_random_uuid()") } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied && ($0 as? PostgresError)?.hint?.contains("keeps history") == true
            }
            #expect { try connection.execute("DELETE FROM gmp_meta.installation") } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
        }
    }

    @Test("an edited applied migration stops everything, nothing changed")
    func editedMigration() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try Migrator(migrations: [first], code: []).migrate(on: connection)
            let edited = Migration(version: 1, name: "create_note", sql: "CREATE TABLE note (body text, extra int);")
            #expect {
                try Migrator(migrations: [edited, second], code: []).migrate(on: connection)
            } throws: { error in
                guard case .changedAfterApply(let applied, let shipped)? = error as? MigrationError else { return false }
                return applied.checksum == first.checksum && shipped.checksum == edited.checksum
            }
            // V2 was not applied either.
            #expect(try Migrator(migrations: [first, second], code: []).status(on: connection).currentVersion == 1)
        }
    }

    @Test("a database newer than the binary is refused")
    func newerDatabase() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try Migrator(migrations: [first, second], code: []).migrate(on: connection)
            #expect {
                try Migrator(migrations: [first], code: []).migrate(on: connection)
            } throws: { error in
                guard case .databaseNewerThanBinary(let unknown, let latest)? = error as? MigrationError else { return false }
                return unknown.map(\.version) == [2] && latest == 1
            }
        }
    }

    /// The ledger is read without `ORDER BY` (issue 18): gmp orders the rows itself.
    @Test("the ledger's rows come back in version order, whatever order the table holds them in")
    func ledgerOrderedByVersion() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let third = Migration(version: 3, name: "create_tag", sql: "CREATE TABLE tag (name text);")
            try Migrator(migrations: [first, third], code: []).migrate(on: connection)
            try Migrator(migrations: [first, second, third], code: []).migrate(on: connection)
            let stored: [Int] = try connection.query("SELECT version FROM gmp_meta.schema_migrations ORDER BY ctid")
                .map { try $0.decode("version") }
            #expect(stored == [1, 3, 2], "the table holds V2 after V3")
            let status = try Migrator(migrations: [first, second, third], code: []).status(on: connection)
            #expect(status.applied.map(\.version) == [1, 2, 3])
            #expect(status.currentVersion == 3)
            #expect(status.isUpToDate)
            #expect(try SchemaLedger.read(on: connection).map(\.version) == [1, 2, 3])
        }
    }

    /// `db status` copies the ledgers (issue 18, docs/benchmarks.md "The ledgers copied")
    /// where nothing else must travel in a transaction of its own; otherwise, and where the
    /// copy fails (no ledger yet), it selects them as before: the same status either way.
    @Test("the ledgers copied and the ledgers selected give the same status, migrated or not")
    func ledgersCopiedOrSelected() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let migrator = Migrator()
            func bothWays() throws -> (copied: SchemaStatus, selected: SchemaStatus, answer: Int, selectedAnswer: Int) {
                let (copied, others) = try migrator.status(on: connection, alongWith: ["SELECT 42 AS n"])
                #expect(!connection.hasStatementsWaiting)
                connection.sendWithNextStatement("SELECT 1") { _ in }   // as a command's login watch
                let (selected, selectedOthers) = try migrator.status(on: connection, alongWith: ["SELECT 42 AS n"])
                return (copied, selected, try others[0].get()[0].decode("n"), try selectedOthers[0].get()[0].decode("n"))
            }
            let empty = try bothWays()
            #expect(empty.copied.currentVersion == 0 && empty.copied == empty.selected && empty.answer == 42 && empty.selectedAnswer == 42)
            try migrator.migrate(on: connection)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-trace-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try connection.traceProtocol(to: path)
            let migrated = try bothWays()
            let trace = try String(contentsOfFile: path, encoding: .utf8)
            #expect(trace.contains("COPY gmp_meta.schema_migrations") && trace.contains("SELECT version, name"), "copied once, selected once")
            #expect(migrated.copied.isUpToDate && migrated.copied == migrated.selected)
            #expect(migrated.copied.applied == (try SchemaLedger.read(on: connection)))
            #expect(migrated.answer == 42 && migrated.selectedAnswer == 42)
            let bytes = try connection.copyRoundTrip([CodeLedger.copying])
            guard case .copied(let rows) = bytes[0] else { Issue.record("a COPY's output"); return }
            #expect(try CodeLedger.applied(fromCopy: rows) == (try CodeLedger.read(on: connection, schemaVersion: migrated.copied.currentVersion)))
            // Tampered behind the ledgers' triggers and the DDL recorder (as a superuser can):
            // an applied migration's checksum changed, a code file's row of other text, and
            // a second row of another file's same text. Seen the same both ways.
            try connection.execute(script: SQLScript(shippedWithBinary: """
                ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
                ALTER EVENT TRIGGER gmp_guard_drop DISABLE;
                ALTER TABLE gmp_meta.schema_migrations DISABLE TRIGGER USER;
                ALTER TABLE gmp_meta.code_applied DISABLE TRIGGER USER;
                UPDATE gmp_meta.schema_migrations SET checksum = repeat('a', 64) WHERE version = 5;
                INSERT INTO gmp_meta.code_applied (file, checksum, source, schema_version)
                    VALUES ('15_trace.sql', encode(sha256(convert_to('-- other', 'UTF8')), 'hex'), '-- other', 42);
                INSERT INTO gmp_meta.code_applied (file, checksum, source, schema_version)
                    SELECT file, checksum, source, schema_version FROM gmp_meta.code_applied
                    WHERE file = '06_lots.sql' ORDER BY id DESC LIMIT 1;
                """))
            let tampered = try bothWays()
            #expect(!tampered.copied.problems.isEmpty && tampered.copied.pendingCode.map(\.fileName) == ["15_trace.sql"])
            #expect(tampered.copied == tampered.selected)
        }
    }

    @Test("a failing migration leaves neither its changes nor its ledger row")
    func failingMigrationRollsBack() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let broken = Migration(version: 2, name: "broken", sql: "CREATE TABLE half (x int); SELECT 1/0;")
            #expect(throws: PostgresError.self) {
                try Migrator(migrations: [first, broken], code: []).migrate(on: connection)
            }
            let status = try Migrator(migrations: [first, broken], code: []).status(on: connection)
            #expect(status.currentVersion == 1)
            #expect(try connection.query("SELECT to_regclass('half') IS NULL AS gone")[0].decode("gone", as: Bool.self))
        }
    }

    /// The advisory key a migrator used to serialise on could be taken by any role.
    @Test("a person holding the migrators' old advisory key does not stall gmp db migrate")
    func advisoryKeyDoesNotStall() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["auditor"])
            let squatter = try TestServer.connect(try person.connectionString())
            try squatter.execute("SELECT pg_advisory_lock(\(Migrator.lockKey))")
            let migrating = try TestServer.connect(database)
            try migrating.execute("SET lock_timeout = '3s'")
            let scratch = Migration(version: Migration.shipped.count + 1, name: "scratch",
                                    sql: "COMMENT ON SCHEMA gmp_meta IS 'migrated while a key was held';\n")
            let outcome = try Migrator(migrations: Migration.shipped + [scratch]).migrate(on: migrating)
            #expect(outcome.applied == [scratch])
            // Nor can that person lock the ledger against a migrator.
            #expect {
                try squatter.transaction(.readCommitted, retry: .never) { db in
                    try db.execute("LOCK TABLE gmp_meta.schema_migrations IN SHARE ROW EXCLUSIVE MODE")
                }
            } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
        }
    }

    @Test("two migrators at once apply each migration exactly once")
    func concurrentMigrators() throws {
        try TestServer.withDatabase { database in
            let errors = Locked<[String]>([])
            let appliedCounts = Locked<[Int]>([])
            DispatchQueue.concurrentPerform(iterations: 3) { _ in
                do {
                    let applied = try Migrator().migrate(on: try TestServer.connect(database)).applied
                    appliedCounts.mutate { $0.append(applied.count) }
                } catch {
                    errors.mutate { $0.append(String(describing: error)) }
                }
            }
            #expect(errors.value.isEmpty)
            #expect(appliedCounts.value.reduce(0, +) == Migration.shipped.count)
            let rows: Int = try TestServer.connect(database).query("SELECT count(*) AS n FROM gmp_meta.schema_migrations")[0].decode("n")
            #expect(rows == Migration.shipped.count)
        }
    }
}
