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

/// The specification vocabularies and the evaluation in Swift (used to check files and
/// print limits before import) must agree with the database, which decides.
@Suite("Specification vocabularies and verdicts agree with the database")
struct SpecificationAgreementTests {
    @Test("MeasurementUnit, QualitativeOutcome and the exact conversions are the database's")
    func vocabularies() throws {
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            let units = Set(try db.query("SELECT symbol FROM gmp_meta.unit").map { try $0.decode("symbol", as: String.self) })
            #expect(units == Set(MeasurementUnit.allCases.map(\.rawValue)))
            let outcomes = Set(try db.query("SELECT outcome FROM gmp_meta.qualitative_outcome")
                .map { try $0.decode("outcome", as: String.self) })
            #expect(outcomes == Set(QualitativeOutcome.allCases.map(\.rawValue)))
            for from in MeasurementUnit.allCases {
                for to in MeasurementUnit.allCases where from != to {
                    let rows = try db.query("""
                        SELECT factor FROM gmp_meta.unit_conversion WHERE from_unit = \(from.rawValue) AND to_unit = \(to.rawValue)
                        """)
                    let server: ExactDecimal? = try rows.first?.decode("factor")
                    #expect(server == from.exactFactor(to: to), "\(from.rawValue) → \(to.rawValue)")
                }
            }
        }
    }

    /// Values around every bound of every shipped specification, judged both ways.
    @Test("Swift and SQL give the same verdict and print the same limit for every shipped criterion")
    func shippedSpecifications() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent("config/specs")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 4)
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            let importer = try TestAccount.create(in: database, roles: ["qc"]).connect()
            var compared = 0
            for file in files {
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                let specification = try SpecificationFile.parse(text)
                let id: String = try importer.query("""
                    SELECT gmp.import_specification(\(JSONText(SpecificationDocument.json(for: specification)))::jsonb, \(text)) AS id
                    """)[0].decode("id")
                let dose = EndotoxinDose(maxDoseMlPerKgPerHour: ExactDecimal("0.2")!, intrathecal: false)
                for criterion in specification.criteria {
                    let limit: String = try db.query("""
                        SELECT gmp_meta.limit_text(c, 0.2, false) AS l FROM gmp.criterion c
                        WHERE c.specification_id = \(id) AND c.test = \(criterion.test)
                        """)[0].decode("l")
                    #expect(limit == criterion.limitText(dose: dose), "\(file) \(criterion.test)")
                    for probe in Self.probes(for: criterion) {
                        let swift = try? criterion.verdict(for: probe, dose: dose).rawValue
                        let (qualifier, value, unit, outcomes) = Self.sql(probe)
                        let server: String = try db.query("""
                            SELECT gmp_meta.criterion_verdict(c, \(qualifier), \(value)::numeric * coalesce(
                                       (SELECT factor FROM gmp_meta.unit_conversion WHERE from_unit = \(unit) AND to_unit = c.unit), 1),
                                   \(outcomes)::text[], 0.2, false) AS v
                            FROM gmp.criterion c WHERE c.specification_id = \(id) AND c.test = \(criterion.test)
                            """)[0].decode("v")
                        #expect(swift == server, "\(file) \(criterion.test) \(probe)")
                        compared += 1
                    }
                }
            }
            #expect(compared > 300, "only \(compared) verdicts compared")
        }
    }

    /// Each bound, just below and just above it, as exact, below-LOD and above-range values.
    static func probes(for criterion: Criterion) -> [MeasuredValue] {
        guard let unit = criterion.unit else {
            if case .qualitative(let accept, let parts) = criterion.rule {
                let count = parts?.count ?? 1
                let other = QualitativeOutcome.allCases.first { !accept.contains($0) }!
                return [.outcomes(Array(repeating: accept[0], count: count)),
                        .outcomes(Array(repeating: other, count: count)),
                        .outcomes(Array(repeating: accept[0], count: count + 1))]
            }
            return []
        }
        var values: [ExactDecimal] = []
        switch criterion.rule {
        case .lower(let b), .upper(let b): values = [b.value]
        case .window(let l, let u): values = [l.value, u.value]
        case .notDetected(let limit): values = [limit]
        case .endotoxinDose(let k, _): values = [k.multiplied(by: ExactDecimal("5")!)]  // K/M with M = 0.2
        case .qualitative: values = []
        }
        let above = ExactDecimal("1.001")!, below = ExactDecimal("0.999")!
        return values.flatMap { v -> [MeasuredValue] in
            [v, v.multiplied(by: above), v.multiplied(by: below)].flatMap { x in
                [MeasuredValue.number(qualifier: .exact, value: x, unit: unit),
                 .number(qualifier: .below, value: x, unit: unit), .number(qualifier: .above, value: x, unit: unit)]
            }
        }
    }

    static func sql(_ probe: MeasuredValue) -> (String?, String?, String?, [String]?) {
        switch probe {
        case .number(let qualifier, let value, let unit):
            (qualifier == .exact ? "=" : qualifier == .below ? "<" : ">", value.description, unit.rawValue, nil)
        case .outcomes(let outcomes):
            (nil, nil, nil, outcomes.map(\.rawValue))
        }
    }
}
