#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient
import Testing

/// The default specifications shipped in config/specs.
@Suite("Shipped specifications")
struct ShippedSpecificationTests {
    typealias F = SpecFixtures

    static let files = ["uc-msc.yaml", "bm-msc.yaml", "ad-msc.yaml", "msc-ev.yaml"]

    static func load(_ name: String) throws -> Specification {
        let data = try #require(FileManager.default.contents(atPath: F.shippedDirectory + "/" + name))
        return try SpecificationFile.parse(String(decoding: data, as: UTF8.self))
    }

    @Test("config/specs holds exactly the four shipped files")
    func directory() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: F.shippedDirectory).filter { $0.hasSuffix(".yaml") }
        #expect(names.sorted() == Self.files.sorted())
    }

    @Test("every shipped file parses, with its code and kind", arguments: [
        ("uc-msc.yaml", "UC-MSC-DP", ProductKind.cells), ("bm-msc.yaml", "BM-MSC-DP", .cells),
        ("ad-msc.yaml", "AD-MSC-DP", .cells), ("msc-ev.yaml", "MSC-EV-DP", .extracellularVesicles),
    ])
    func parses(file: String, code: String, kind: ProductKind) throws {
        let spec = try Self.load(file)
        #expect(spec.code == code)
        #expect(spec.productKind == kind)
        #expect(spec.stage == .drugProduct)
    }

    @Test("every shipped file starts by saying it is a controlled document", arguments: files)
    func header(file: String) throws {
        let data = try #require(FileManager.default.contents(atPath: F.shippedDirectory + "/" + file))
        let text = String(decoding: data, as: UTF8.self)
        let code = try Self.load(file).code
        #expect(text.hasPrefix("# Controlled document"))
        #expect(text.contains("gmp spec import config/specs/\(file)"))
        #expect(text.contains("gmp spec approve \(code)@VERSION"))
    }

    @Test("cell products carry the ISCT 2006 panel with inclusive bounds", arguments: ["uc-msc.yaml", "bm-msc.yaml", "ad-msc.yaml"])
    func isctPanel(file: String) throws {
        let byTest = Dictionary(uniqueKeysWithValues: try Self.load(file).criteria.map { ($0.test, $0) })
        for test in ["cd105", "cd73", "cd90"] {
            #expect(byTest[test]?.rule == .lower(Bound(value: F.d("95"), inclusive: true)), "\(test)")
        }
        for test in ["cd45", "cd34", "cd14", "cd19", "hla_dr"] {
            #expect(byTest[test]?.rule == .upper(Bound(value: F.d("2"), inclusive: true)), "\(test)")
        }
        #expect(byTest["viability"]?.rule == .lower(Bound(value: F.d("70"), inclusive: true)))
        #expect(byTest["sterility"]?.rule == .qualitative(accept: [.noGrowth], parts: nil))
        #expect(byTest["mycoplasma"]?.rule == .qualitative(accept: [.notDetected], parts: nil))
        #expect(byTest["karyotype"]?.rule == .qualitative(accept: [.normalKaryotype], parts: nil))
        guard case .endotoxinDose(let k, let kIntrathecal, let dose)? = byTest["endotoxin"]?.rule else {
            Issue.record("endotoxin is not a K/M criterion"); return
        }
        #expect(k == F.d("5") && kIntrathecal == F.d("0.2"))
        // A realistic range of M for an MSC infusion: K/M stays within 1–50 EU/mL.
        #expect(dose.min >= F.d("0.1") && dose.max <= F.d("5") && dose.min < dose.max, "\(file)")
        #expect(byTest["trilineage"]?.rule == .qualitative(accept: [.positive], parts: ["osteogenic", "adipogenic", "chondrogenic"]))
        #expect(byTest["cell_dose"]?.unit == .millionCells)
        // Each criterion names its method.
        #expect(byTest.values.allSatisfy { !$0.method.isEmpty && !$0.name.isEmpty })
    }

    @Test("the EV product has size, count, marker, sterility and endotoxin criteria")
    func extracellularVesicles() throws {
        let byTest = Dictionary(uniqueKeysWithValues: try Self.load("msc-ev.yaml").criteria.map { ($0.test, $0) })
        #expect(byTest["particle_size"]?.unit == .nanometres)
        #expect(byTest["particle_count"]?.unit == .billionParticlesPerMillilitre)
        #expect(byTest["ev_markers"]?.rule == .qualitative(accept: [.positive], parts: ["cd63", "cd81", "cd9"]))
        #expect(byTest["sterility"] != nil)
        #expect(byTest["endotoxin"]?.rule == .upper(Bound(value: F.d("0.5"), inclusive: false)))
    }
}
