import GMPDomain
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

    @Test("the database's MOD 37-2 agrees with the Swift one on the published vectors and generated DINs")
    func checkCharacters() throws {
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            for din in ["G123417654321", "G123498654321", "A999914123458", "G123426000001", "W000026999999"] {
                let server: String = try db.query("SELECT gmp_meta.iso7064_mod37_2(\(din)) AS c")[0].decode("c")
                #expect(server == ISO7064Mod37_2.checkCharacter(for: din).map(String.init), "\(din)")
            }
        }
    }
}
