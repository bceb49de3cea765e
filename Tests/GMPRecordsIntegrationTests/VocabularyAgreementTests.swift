import Foundation
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// The Swift vocabularies that help texts and the README are built from must say what
/// the database enforces.
@Suite("Swift vocabularies agree with the database's tables")
struct VocabularyAgreementTests {
    @Test("LotStatus.allowedTransitions is exactly gmp_meta.lot_transition")
    func lotTransitions() throws {
        try TestServer.withMigratedDatabase { database in
            let rows = try TestServer.connect(database).query("SELECT from_status, to_status FROM gmp_meta.lot_transition")
            let inDatabase = Set(try rows.map { "\(try $0.decode("from_status", as: String.self))→\(try $0.decode("to_status", as: String.self))" })
            let inSwift = Set(LotStatus.allowedTransitions.flatMap { from, targets in targets.map { "\(from.rawValue)→\($0.rawValue)" } })
            #expect(inSwift == inDatabase)
        }
    }

    @Test("ScreeningTest and ManufacturingStepKind name exactly the database's tests and steps")
    func codes() throws {
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            let tests = Set(try db.query("SELECT code FROM gmp.screening_test").map { try $0.decode("code", as: String.self) })
            #expect(tests == Set(ScreeningTest.allCases.map(\.rawValue)))
            let steps = Set(try db.query("SELECT kind FROM gmp_meta.step_kind").map { try $0.decode("kind", as: String.self) })
            #expect(steps == Set(ManufacturingStepKind.allCases.map(\.rawValue)))
        }
    }

    @Test("MaterialVocabulary names exactly the database's material categories and units")
    func materials() throws {
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            let categories = Set(try db.query("SELECT category FROM gmp_meta.material_category")
                .map { try $0.decode("category", as: String.self) })
            #expect(categories == Set(MaterialVocabulary.categories))
            let units = Set(try db.query("SELECT symbol FROM gmp_meta.material_unit").map { try $0.decode("symbol", as: String.self) })
            #expect(units == Set(MaterialVocabulary.units))
        }
    }

    @Test("EquipmentVocabulary names exactly the database's equipment kinds")
    func equipmentKinds() throws {
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            let kinds = Set(try db.query("SELECT kind FROM gmp_meta.equipment_kind").map { try $0.decode("kind", as: String.self) })
            #expect(kinds == Set(EquipmentVocabulary.kinds))
        }
    }

    @Test("the database's MOD 37-2 agrees with the Swift one on the published vectors and generated DINs")
    func checkCharacters() throws {
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            for din in ["G123417654321", "G123498654321", "A999914123458", "G123426000001", "W000026999999"] {
                let server: String = try db.query("SELECT gmp_rules.iso7064_mod37_2(\(din)) AS c")[0].decode("c")
                #expect(server == ISO7064Mod37_2.checkCharacter(for: din).map(String.init), "\(din)")
            }
        }
    }
}

/// What Swift checks before anything is sent — a specification file, a typed result's
/// unit and outcomes — must use the database's vocabularies, and a file Swift accepts must
/// be stored as Swift read it. Judging results is the database's alone.
@Suite("Specification vocabularies and the import document agree with the database")
struct SpecificationAgreementTests {
    @Test("MeasurementUnit and QualitativeOutcome are the database's")
    func vocabularies() throws {
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            let units = Set(try db.query("SELECT symbol FROM gmp_meta.unit").map { try $0.decode("symbol", as: String.self) })
            #expect(units == Set(MeasurementUnit.allCases.map(\.rawValue)))
            let outcomes = Set(try db.query("SELECT outcome FROM gmp_meta.qualitative_outcome")
                .map { try $0.decode("outcome", as: String.self) })
            #expect(outcomes == Set(QualitativeOutcome.allCases.map(\.rawValue)))
        }
    }

    @Test("every shipped specification is stored as Swift parsed it: tests, kinds and units in file order")
    func shippedSpecifications() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent("config/specs")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 4)
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            let importer = try TestAccount.create(in: database, roles: ["qc"]).connect()
            for file in files {
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                let specification = try SpecificationFile.parse(text)
                let id: String = try importer.query("""
                    SELECT gmp.import_specification(\(JSONText(SpecificationDocument.json(for: specification)))::jsonb, \(text)) AS id
                    """)[0].decode("id")
                let stored = try db.query("""
                    SELECT test, kind, coalesce(unit, '') AS unit FROM gmp.criterion WHERE specification_id = \(id) ORDER BY ordinal
                    """).map { row in
                    "\(try row.decode("test", as: String.self)) \(try row.decode("kind", as: String.self)) \(try row.decode("unit", as: String.self))"
                }
                #expect(stored == specification.criteria.map { "\($0.test) \($0.rule.kind) \($0.unit?.rawValue ?? "")" }, "\(file)")
            }
        }
    }
}
