import GMPRules
import PostgresClient
import Testing

@Suite("Specification files")
struct SpecificationFileTests {
    typealias F = SpecFixtures

    /// The error parsing `text` gives, or nil (recording an issue) if it parsed.
    private func refusal(_ text: String) -> SpecificationFileError? {
        do {
            let parsed = try SpecificationFile.parse(text)
            Issue.record("expected a refusal, parsed \(parsed)")
        } catch let error as SpecificationFileError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return nil
    }

    @Test("the contract's example parses into the contract's kinds")
    func contractExample() throws {
        let spec = try SpecificationFile.parse(Self.contractExample)
        #expect(spec.code == "UC-MSC-DP")
        #expect(spec.productKind == .cells && spec.stage == .drugProduct)
        #expect(spec.criteria.map(\.test) == ["cd105", "cd45", "cell_dose", "sterility", "trilineage", "residual_bsa", "endotoxin"])
        #expect(spec.criteria.map(\.rule.kind) == ["lower", "upper", "window", "qualitative", "qualitative", "not_detected", "endotoxin_dose"])
        #expect(spec.criteria.map(\.maxRetests) == [1, 1, 2, 1, 1, 1, 1])
        #expect(spec.criteria[0].rule == .lower(Bound(value: F.d("95"), inclusive: true)))
        #expect(spec.criteria[2].rule == .window(lower: Bound(value: F.d("45"), inclusive: true),
                                                 upper: Bound(value: F.d("60.5"), inclusive: false)))
        #expect(spec.criteria[3].unit == nil)
        #expect(spec.criteria[4].rule == .qualitative(accept: [.positive], parts: ["osteogenic", "adipogenic", "chondrogenic"]))
        #expect(spec.criteria[6].rule == .endotoxinDose(k: F.d("5"), kIntrathecal: F.d("0.2"),
                                                        maxDose: DoseRange(min: F.d("0.1"), max: F.d("4"))))
    }

    @Test("numbers keep the digits as typed: 95.0 stays 95.0, never through Double")
    func numbersAsTyped() throws {
        let criterion = try F.criterion("unit: \"%\"\nat_least: 95.0")
        guard case .lower(let bound) = criterion.rule else { Issue.record("not a lower bound"); return }
        #expect(bound.value.description == "95.0")
        let long = try F.criterion("unit: ng/mL\nat_most: 0.10000000000000000000000000000001")
        guard case .upper(let upper) = long.rule else { Issue.record("not an upper bound"); return }
        #expect(upper.value.description == "0.10000000000000000000000000000001")
    }

    // MARK: Refusals, each naming the path

    @Test("refusals name the path of the problem", arguments: [
        // Unknown and missing keys.
        (F.file(criterion: "unit: \"%\"\nat_leats: 95"), "criteria[0].at_leats", "unknown key"),
        (F.file(criterion: "unit: \"%\"\nat_least: 95", top: "max_retests: 1\ncolour: red"), "colour", "unknown key"),
        (F.file(criterion: "unit: \"%\"\nat_least: 95", top: ""), "max_retests", "missing"),
        (F.file(criterion: "at_least: 95"), "criteria[0].unit", "missing"),
        (F.file(criterion: "unit: \"%\""), "criteria[0]", "no limit"),
        (F.file(criterion: "parts: [a, b]"), "criteria[0].accept", "missing"),
        (F.file(criterion: "unit: EU/mL\nendotoxin_k_intrathecal: 0.2"), "criteria[0].endotoxin_k", "missing"),
        // Two lower or two upper words.
        (F.file(criterion: "unit: \"%\"\nat_least: 95\nmore_than: 94"), "criteria[0].more_than", "at most one lower word"),
        (F.file(criterion: "unit: \"%\"\nat_most: 2\nless_than: 3"), "criteria[0].less_than", "at most one upper word"),
        // Bounds on a qualitative criterion, mixed kinds, a unit on a qualitative one.
        (F.file(criterion: "accept: [positive]\nat_least: 95"), "criteria[0].at_least", "qualitative criterion"),
        (F.file(criterion: "unit: EU/mL\nendotoxin_k: 5\nless_than: 0.5"), "criteria[0].endotoxin_k", "cannot be combined"),
        (F.file(criterion: "unit: \"%\"\naccept: [positive]"), "criteria[0].unit", "no unit"),
        // Empty windows.
        (F.file(criterion: "unit: \"%\"\nat_least: 60.5\nless_than: 45"), "criteria[0].less_than", "empty"),
        (F.file(criterion: "unit: \"%\"\nat_least: 6.0\nless_than: 6"), "criteria[0].less_than", "empty"),
        (F.file(criterion: "unit: \"%\"\nmore_than: 6\nat_most: 6.0"), "criteria[0].at_most", "empty"),
        // Vocabulary.
        (F.file(criterion: "unit: percent\nat_least: 95"), "criteria[0].unit", "\"percent\" is not one of"),
        (F.file(criterion: "accept: [sterile]"), "criteria[0].accept[0]", "not an outcome"),
        (F.file(criterion: "accept: [growth, no_growth]"), "criteria[0].accept[1]", "would accept every result"),
        (F.file(criterion: "accept: [negative, negative]"), "criteria[0].accept[1]", "listed twice"),
        (F.file(criterion: "parts: [a, a]\naccept: [positive]"), "criteria[0].parts[1]", "listed twice"),
        // Numbers.
        (F.file(criterion: "unit: \"%\"\nat_least: 9O.5"), "criteria[0].at_least", "\"9O.5\" is not a decimal"),
        (F.file(criterion: "unit: \"%\"\nat_least: 1e2"), "criteria[0].at_least", "not a decimal"),
        (F.file(criterion: "unit: \"%\"\nat_least: \"95\""), "criteria[0].at_least", "quoted"),
        (F.file(criterion: "unit: \"%\"\nat_least: 095"), "criteria[0].at_least", "would be stored as 95"),
        (F.file(criterion: "unit: ng/mL\nat_most: -1"), "criteria[0].at_most", "negative"),
        (F.file(criterion: "unit: \"%\"\nat_least: 100.5"), "criteria[0].at_least", "over 100"),
        (F.file(criterion: "unit: \"%\"\nat_least: 0"), "criteria[0].at_least", "checks nothing"),
        (F.file(criterion: "unit: ng/mL\nnot_detected_at: 0"), "criteria[0].not_detected_at", "above 0"),
        (F.file(criterion: "unit: \"%\"\nendotoxin_k: 5"), "criteria[0].unit", "EU/mL"),
        // The maximum dose M of a K/M limit: a bounded range, from the document (issue 20, item 7).
        (F.file(criterion: "unit: EU/mL\nendotoxin_k: 5"), "criteria[0].max_dose", "missing"),
        (F.file(criterion: "unit: EU/mL\nendotoxin_k: 5\nmax_dose: 0.4"), "criteria[0].max_dose", "expected a mapping"),
        (F.file(criterion: "unit: EU/mL\nendotoxin_k: 5\nmax_dose: {min: 0.1, max: 4}"), "criteria[0].max_dose.unit", "missing"),
        (F.file(criterion: "unit: EU/mL\nendotoxin_k: 5\nmax_dose: {unit: mL/kg, min: 0.1, max: 4}"), "criteria[0].max_dose.unit", "not mL/kg/h"),
        (F.file(criterion: "unit: EU/mL\nendotoxin_k: 5\nmax_dose: {unit: mL/kg/h, max: 4}"), "criteria[0].max_dose.min", "missing"),
        (F.file(criterion: "unit: EU/mL\nendotoxin_k: 5\nmax_dose: {unit: mL/kg/h, min: 0, max: 4}"), "criteria[0].max_dose.min", "above 0"),
        (F.file(criterion: "unit: EU/mL\nendotoxin_k: 5\nmax_dose: {unit: mL/kg/h, min: -0.1, max: 4}"), "criteria[0].max_dose.min", "negative"),
        (F.file(criterion: "unit: EU/mL\nendotoxin_k: 5\nmax_dose: {unit: mL/kg/h, min: 2, max: 1}"), "criteria[0].max_dose.max", "below min"),
        (F.file(criterion: "unit: EU/mL\nendotoxin_k: 5\nmax_dose: {unit: mL/kg/h, min: 0.1, top: 4}"), "criteria[0].max_dose.top", "unknown key"),
        (F.file(criterion: "unit: EU/mL\nless_than: 0.5\nmax_dose: {unit: mL/kg/h, min: 0.1, max: 4}"), "criteria[0].max_dose", "cannot be combined"),
        // Retests.
        (F.file(criterion: "unit: \"%\"\nat_least: 95", top: "max_retests: 4"), "max_retests", "outside 0…3"),
        (F.file(criterion: "unit: \"%\"\nat_least: 95\nmax_retests: -1"), "criteria[0].max_retests", "outside 0…3"),
        (F.file(criterion: "unit: \"%\"\nat_least: 95\nmax_retests: 1.5"), "criteria[0].max_retests", "not a whole number"),
        // Codes.
        (F.file(criterion: "unit: \"%\"\nat_least: 95").replacingOccurrences(of: "T-1", with: "t-1"), "specification", "not a specification code"),
        (F.file(criterion: "unit: \"%\"\nat_least: 95").replacingOccurrences(of: "test: t", with: "test: CD105"), "criteria[0].test", "not a test code"),
        (F.file(criterion: "unit: \"%\"\nat_least: 95").replacingOccurrences(of: "cells", with: "organoids"), "applies_to.product_kind", "not one of"),
    ])
    func refusals(text: String, path: String, problem: String) {
        guard let error = refusal(text) else { return }
        #expect(error.path == path, "\(error)")
        #expect(error.description.contains(problem), "\(error)")
        #expect(error.description.hasPrefix(path + ": "), "\(error)")
        #expect(error.description.contains("; fix: "), "\(error)")
    }

    @Test("a duplicate test code names both criteria")
    func duplicateTest() {
        let text = F.file(criterion: "unit: \"%\"\nat_least: 95") + "\n  - test: t\n    name: Again\n    method: M\n    accept: [positive]"
        guard let error = refusal(text) else { return }
        #expect(error.path == "criteria[1].test")
        #expect(error.problem.contains("criteria[0]"))
    }

    @Test("the error names the line too")
    func line() {
        guard let error = refusal(F.file(criterion: "unit: \"%\"\nat_least: 9O.5")) else { return }
        #expect(error.line == 12)
        #expect(error.description.hasPrefix("criteria[0].at_least: \"9O.5\" is not a decimal (line 12); fix: "))
    }

    @Test("not YAML, empty, several documents, a repeated key or not a mapping is refused", arguments: [
        "", "specification: [", "- a\n- b", "specification: A-1\n---\nspecification: B-1",
        F.file(criterion: "unit: \"%\"\nat_least: 95\nat_least: 96"),
    ])
    func notASpecification(text: String) {
        #expect(refusal(text) != nil)
    }

    static let contractExample = """
        specification: UC-MSC-DP          # code: [A-Z0-9][A-Z0-9-]{1,31}
        title: Umbilical-cord MSC drug product, cryopreserved
        applies_to:
          product_kind: cells              # cells | conditioned_medium | extracellular_vesicles
          stage: drug_product              # master_cell_bank | working_cell_bank | drug_product
        max_retests: 1                     # default for every criterion; 0…3; required
        criteria:
          - test: cd105                    # [a-z0-9_]{1,40}, unique in the file
            name: CD105 positive cells     # printed on reports
            method: Flow cytometry, ISCT panel
            unit: "%"                      # from the closed unit list below
            at_least: 95                   # ≥ 95
          - test: cd45
            name: CD45 positive cells
            method: Flow cytometry, ISCT panel
            unit: "%"
            at_most: 2                     # ≤ 2
          - test: cell_dose
            name: Viable cells per bag
            method: Automated count, trypan blue
            unit: "10^6 cells"
            at_least: 45                   # window: one lower and one upper word
            less_than: 60.5
            max_retests: 2                 # per-criterion override
          - test: sterility
            name: Sterility (14 days)
            method: Ph. Eur. 2.6.1
            accept: [no_growth]            # qualitative: outcomes from the closed vocabulary
          - test: trilineage
            name: Trilineage differentiation
            method: In vitro differentiation, 21 days
            parts: [osteogenic, adipogenic, chondrogenic]   # a multi-value result: one outcome per part
            accept: [positive]                              # every part must be accepted
          - test: residual_bsa
            name: Residual BSA
            method: ELISA
            unit: ng/mL
            not_detected_at: 50            # the result must be "<LOD" with LOD ≤ 50 ng/mL
          - test: endotoxin
            name: Bacterial endotoxins
            method: Ph. Eur. 2.6.14, kinetic chromogenic
            unit: EU/mL
            endotoxin_k: 5                 # limit = K / M, M = the lot's max dose in mL/kg/h
            endotoxin_k_intrathecal: 0.2   # K when the lot's route is intrathecal
            max_dose:                      # the M a lot may be given: outside it, refused
              unit: mL/kg/h
              min: 0.1
              max: 4
        """
}
