import Foundation
import Testing
@testable import GMPDatabase
import TestSupport

/// Every routine has one home under sql/code/, and the build refuses a tree that breaks
/// that: these run the build's own embedder on small trees, as the build does.
@Suite("Routine homes: one per routine, and the build refuses a second one")
struct CodeHomeTests {
    @Test("every shipped routine has exactly one home, named by its identity")
    func oneHomeEach() {
        let homes = CodeFile.shipped.flatMap(\.routines)
        #expect(!homes.isEmpty)
        #expect(Set(homes.map(\.identity)).count == homes.count)
        let blockers = CodeFile.home(of: "gmp_rules.blockers_of(text,jsonb)")
        #expect(blockers?.fileName == "10_release.sql")
        #expect(blockers?.location.hasPrefix("sql/code/10_release.sql:") == true)
        #expect(CodeFile.home(of: "gmp.record_step(text,text,timestamp with time zone,numeric,numeric,numeric,integer,numeric,text)") != nil)
    }

    /// A scratch tree of migrations and code files, embedded as the build would.
    private func embed(migrations: [String: String], code: [String: String]) throws -> GMPRun {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-embed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        func write(_ files: [String: String]) throws -> [String] {
            try files.keys.sorted().map { name in
                let path = root.appendingPathComponent(name).path
                try Data(files[name]!.utf8).write(to: URL(fileURLWithPath: path))
                return path
            }
        }
        let arguments = [root.appendingPathComponent("out.swift").path, "--migrations"] + (try write(migrations))
            + ["--code"] + (try write(code))
        return try GMPBinary.run(arguments, executable: "MigrationEmbedder")
    }

    private let table = "V0001__a.sql"
    private let function = "CREATE FUNCTION gmp.f(x integer, OUT y text) RETURNS text LANGUAGE sql AS $$ SELECT ';' $$;"

    @Test("a tree whose routines each have one home embeds")
    func goodTree() throws {
        let run = try embed(migrations: [table: function],
                            code: ["01_a.sql": "-- CREATE FUNCTION gmp.g() in a comment\nCREATE OR REPLACE FUNCTION gmp.f(x int) RETURNS text LANGUAGE sql AS $$ SELECT 'CREATE VIEW gmp.v' $$;\n"])
        #expect(run.status == 0, "\(run)")
    }

    @Test("a routine defined in two code files fails the build, naming both places")
    func twoHomes() throws {
        let run = try embed(migrations: [table: "SELECT 1;"],
                            code: ["01_a.sql": "CREATE VIEW gmp.v AS SELECT 1;", "02_b.sql": "\n\ncreate or replace view gmp.v as select 2;"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("02_b.sql:3: view gmp.v is already defined at 01_a.sql:1"), "\(run)")
    }

    @Test("a numbered migration after V0018 that defines a routine fails the build")
    func migrationDefinesRoutine() throws {
        var migrations = [String: String]()
        for version in 1...19 {
            migrations[String(format: "V%04d__m%d.sql", version, version)] = version == 19 ? "SELECT 1;\n" + function : "SELECT 1;"
        }
        let run = try embed(migrations: migrations, code: ["01_a.sql": function])
        #expect(run.status != 0)
        #expect(run.stderr.contains("V0019__m19.sql:2: defines function gmp.f(integer)"), "\(run)")
        #expect(run.stderr.contains("define routines in their home under sql/code/"))
    }

    @Test("a routine of the numbered migrations without a home fails the build; a dropped one needs none")
    func homeless() throws {
        let run = try embed(migrations: [table: function], code: [:])
        #expect(run.status != 0)
        #expect(run.stderr.contains("function gmp.f(integer), defined at V0001__a.sql:1, has no home under sql/code/"), "\(run)")
        let dropped = try embed(migrations: [table: function, "V0002__b.sql": "DROP FUNCTION gmp.f(integer);"], code: [:])
        #expect(dropped.status == 0, "\(dropped)")
        // A routine a migration moves or renames has its home under the new name.
        let moved = try embed(migrations: [table: function, "V0002__b.sql": "ALTER FUNCTION gmp.f(integer) SET SCHEMA gmp_rules;"],
                              code: ["01_a.sql": "CREATE OR REPLACE FUNCTION gmp_rules.f(x integer) RETURNS text LANGUAGE sql AS $$ SELECT '' $$;"])
        #expect(moved.status == 0, "\(moved)")
        let renamed = try embed(migrations: [table: function, "V0002__b.sql": "ALTER FUNCTION gmp.f(integer) RENAME TO g;"],
                                code: ["01_a.sql": function])
        #expect(renamed.status != 0 && renamed.stderr.contains("function gmp.g(integer), defined at V0001__a.sql:1, has no home"), "\(renamed)")
    }

    @Test("code files are named NN_name.sql with each NN once")
    func codeFileNames() throws {
        let badName = try embed(migrations: [table: "SELECT 1;"], code: ["audit.sql": "SELECT 1;"])
        #expect(badName.status != 0 && badName.stderr.contains("code files are named NN_snake_case_name.sql"))
        let twice = try embed(migrations: [table: "SELECT 1;"], code: ["01_a.sql": "SELECT 1;", "01_b.sql": "SELECT 1;"])
        #expect(twice.status != 0 && twice.stderr.contains("two code files have order 1"))
    }
}
