#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient
import Testing

/// The master batch record files (`config/processes/*.yaml`): the parser's refusals, and
/// every shipped file.
@Suite("Master batch record files")
struct ProcessFileTests {
    typealias F = SpecFixtures

    static let minimal = """
        process: TEST-MBR
        title: Test process
        applies_to:
          product_kind: cells
          stage: drug_product
        steps:
          - kind: passage
            procedure: SOP-T-02
            check: none
            parameters:
              - name: seeding_density
                unit: cells/cm²
                at_least: 3000
                at_most: 5000
            equipment: [incubator]
          - kind: harvest
            procedure: SOP-T-03
            check: required
            materials: [dissociation_enzyme]
        """

    static func refusal(_ text: String) -> SpecificationFileError? {
        do {
            _ = try ProcessFile.parse(text)
            return nil
        } catch {
            return error as? SpecificationFileError
        }
    }

    @Test("a minimal file parses with its steps, limits exactly as typed, and requirements")
    func minimalParses() throws {
        let record = try ProcessFile.parse(Self.minimal)
        #expect(record.code == "TEST-MBR")
        #expect(record.steps.map(\.kind) == [.passage, .harvest])
        #expect(record.steps[0].checkRequired == false && record.steps[1].checkRequired)
        #expect(record.steps[0].parameters == [ProcessParameter(name: "seeding_density", unit: .cellsPerSquareCentimetre,
                                                                atLeast: F.d("3000"), atMost: F.d("5000"))])
        #expect(record.steps[0].equipment == ["incubator"])
        #expect(record.steps[1].materials == ["dissociation_enzyme"])
        #expect(MasterRecordDocument.json(for: record).contains(#""at_least":"3000","at_most":"5000""#))
    }

    @Test("each broken file is refused at the key that is wrong", arguments: [
        ("check: none", "check: maybe", "steps[0].check"),
        ("kind: harvest", "kind: isolation", "steps[1].kind"),
        ("procedure: SOP-T-02", "procedure: T-02", "steps[0].procedure"),
        ("unit: cells/cm²", "unit: furlongs", "steps[0].parameters[0].unit"),
        ("at_most: 5000", "at_most: 2000", "steps[0].parameters[0].at_most"),
        ("equipment: [incubator]", "equipment: [toaster]", "steps[0].equipment[0]"),
        ("materials: [dissociation_enzyme]", "materials: [magic]", "steps[1].materials[0]"),
        ("check: required", "check: required\n    colour: blue", "steps[1].colour"),
    ])
    func refused(_ original: String, _ replacement: String, _ path: String) throws {
        let text = Self.minimal.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.minimal)
        let error = try #require(Self.refusal(text), "\(replacement) was accepted")
        #expect(error.path == path, "\(error)")
    }

    @Test("a parameter without any limit is refused")
    func noLimit() throws {
        let text = Self.minimal.replacingOccurrences(of: "        at_least: 3000\n        at_most: 5000\n", with: "")
        let error = try #require(Self.refusal(text))
        #expect(error.problem.contains("no limit"))
    }

    @Test("a value outside the limits is not admitted, the limits themselves are", arguments: [
        ("2999.99", false), ("3000", true), ("5000.00", true), ("5000.01", false),
    ])
    func admits(_ value: String, _ admitted: Bool) throws {
        let parameter = try ProcessFile.parse(Self.minimal).steps[0].parameters[0]
        #expect(parameter.admits(F.d(value)) == admitted)
    }

    static let shipped = ["uc-msc.yaml": ("UC-MSC-MBR", ProductKind.cells), "bm-msc.yaml": ("BM-MSC-MBR", .cells),
                          "ad-msc.yaml": ("AD-MSC-MBR", .cells), "msc-ev.yaml": ("MSC-EV-MBR", .extracellularVesicles)]

    @Test("config/processes holds exactly the four shipped master batch records")
    func directory() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: RepositoryFiles.path("config/processes"))
            .filter { $0.hasSuffix(".yaml") }
        #expect(names.sorted() == Self.shipped.keys.sorted())
    }

    @Test("every shipped file parses: its code, kind, steps in order with a check on every step after the culture",
          arguments: ["uc-msc.yaml", "bm-msc.yaml", "ad-msc.yaml", "msc-ev.yaml"])
    func shippedFile(_ file: String) throws {
        let data = try #require(FileManager.default.contents(atPath: RepositoryFiles.path("config/processes/" + file)))
        let text = String(decoding: data, as: UTF8.self)
        let record = try ProcessFile.parse(text)
        let (code, kind) = try #require(Self.shipped[file])
        #expect(record.code == code)
        #expect(record.productKind == kind)
        #expect(record.stage == .drugProduct)
        #expect(record.steps.map(\.kind) == ManufacturingStepKind.allCases)
        let unchecked = record.steps.filter { $0.kind != .passage && !$0.checkRequired }
        #expect(unchecked.isEmpty)
        #expect(text.hasPrefix("# Controlled document"))
        #expect(text.contains("gmp process import config/processes/\(file)"))
        #expect(text.contains("gmp process approve \(code)@VERSION"))
        // Culture at 37 °C ± 0.5 wherever a passage is recorded.
        let passage = try #require(record.steps.first { $0.kind == .passage })
        let temperature = try #require(passage.parameters.first { $0.name == "incubation_temperature" })
        #expect(temperature.unit == .degreesCelsius && temperature.admits(F.d("37")) && !temperature.admits(F.d("38")))
    }
}
