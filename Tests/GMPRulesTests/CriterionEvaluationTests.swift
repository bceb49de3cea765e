import GMPRules
import PostgresClient
import Testing

@Suite("Criterion verdicts")
struct CriterionEvaluationTests {
    typealias F = SpecFixtures

    private func verdict(_ body: String, _ value: MeasuredValue, dose: EndotoxinDose? = nil) throws -> CriterionVerdict {
        try F.criterion(body).verdict(for: value, dose: dose)
    }

    // MARK: ISCT boundaries, straight from the criteria

    @Test("≥ 95: 95.0 and 95 pass, 94.99 fails", arguments: [
        ("95.0", CriterionVerdict.pass), ("95", .pass), ("95.000001", .pass), ("100", .pass),
        ("94.99", .fail), ("94.9999999", .fail), ("0", .fail),
    ])
    func atLeast95(value: String, expected: CriterionVerdict) throws {
        #expect(try verdict("unit: \"%\"\nat_least: 95", F.number(value, .percent)) == expected)
    }

    @Test("≤ 2: 2.0 passes, 2.01 fails", arguments: [
        ("2.0", CriterionVerdict.pass), ("2", .pass), ("0", .pass), ("1.99", .pass), ("2.01", .fail), ("2.0000001", .fail),
    ])
    func atMost2(value: String, expected: CriterionVerdict) throws {
        #expect(try verdict("unit: \"%\"\nat_most: 2", F.number(value, .percent)) == expected)
    }

    @Test("exclusive bounds: 95 fails > 95, 2 fails < 2")
    func exclusiveBounds() throws {
        #expect(try verdict("unit: \"%\"\nmore_than: 95", F.number("95", .percent)) == .fail)
        #expect(try verdict("unit: \"%\"\nmore_than: 95", F.number("95.0", .percent)) == .fail)
        #expect(try verdict("unit: \"%\"\nmore_than: 95", F.number("95.01", .percent)) == .pass)
        #expect(try verdict("unit: \"%\"\nless_than: 2", F.number("2", .percent)) == .fail)
        #expect(try verdict("unit: \"%\"\nless_than: 2", F.number("1.99", .percent)) == .pass)
    }

    @Test("one-sided limits have no hidden other side")
    func oneSided() throws {
        #expect(try verdict("unit: \"10^6 cells\"\nat_least: 45", F.number("1000000", .millionCells)) == .pass)
        #expect(try verdict("unit: ng/mL\nat_most: 50", F.number("0", .nanogramsPerMillilitre)) == .pass)
    }

    // MARK: Windows

    @Test("adjacent windows [4.5, 6.0) and [6.0, 7.5] partition: every value is in exactly one", arguments: [
        ("4.5", 1), ("5.999999", 1), ("6.0", 1), ("6", 1), ("6.000001", 1), ("7.5", 1), ("4.499999", 0), ("7.500001", 0),
    ])
    func adjacentWindows(value: String, inside: Int) throws {
        let low = try F.criterion("unit: \"10^6 cells\"\nat_least: 4.5\nless_than: 6.0")
        let high = try F.criterion("unit: \"10^6 cells\"\nat_least: 6.0\nat_most: 7.5")
        let result = F.number(value, .millionCells)
        let passes = [low, high].filter { (try? $0.verdict(for: result, dose: nil)) == .pass }
        #expect(passes.count == inside)
        if value == "6.0" || value == "6" { #expect(passes.first?.test == high.test && passes.count == 1) }
    }

    @Test("a point window with both ends inclusive holds exactly that value")
    func pointWindow() throws {
        let body = "unit: \"%\"\nat_least: 50\nat_most: 50.0"
        #expect(try verdict(body, F.number("50.00", .percent)) == .pass)
        #expect(try verdict(body, F.number("50.01", .percent)) == .fail)
    }

    // MARK: Qualifiers

    @Test("<v passes an upper bound U when v ≤ U, fails every lower bound")
    func belowQualifier() throws {
        #expect(try verdict("unit: EU/mL\nless_than: 0.5", F.number("0.5", .endotoxinUnitsPerMillilitre, .below)) == .pass)
        #expect(try verdict("unit: EU/mL\nat_most: 0.5", F.number("0.05", .endotoxinUnitsPerMillilitre, .below)) == .pass)
        #expect(try verdict("unit: EU/mL\nat_most: 0.5", F.number("0.6", .endotoxinUnitsPerMillilitre, .below)) == .fail)
        #expect(try verdict("unit: \"%\"\nat_least: 20", F.number("99", .percent, .below)) == .fail)
        #expect(try verdict("unit: \"%\"\nat_least: 1\nat_most: 50", F.number("10", .percent, .below)) == .fail)
    }

    @Test(">v passes a lower bound L when v ≥ L, fails every upper bound")
    func aboveQualifier() throws {
        #expect(try verdict("unit: \"10^9 particles/mL\"\nat_least: 10", F.number("10", .billionParticlesPerMillilitre, .above)) == .pass)
        #expect(try verdict("unit: \"10^9 particles/mL\"\nmore_than: 10", F.number("10", .billionParticlesPerMillilitre, .above)) == .pass)
        #expect(try verdict("unit: \"10^9 particles/mL\"\nat_least: 10", F.number("9", .billionParticlesPerMillilitre, .above)) == .fail)
        #expect(try verdict("unit: ng/mL\nat_most: 1000", F.number("5", .nanogramsPerMillilitre, .above)) == .fail)
    }

    @Test("not detected passes only <LOD with LOD ≤ the limit")
    func notDetected() throws {
        let body = "unit: ng/mL\nnot_detected_at: 50"
        #expect(try verdict(body, F.number("50", .nanogramsPerMillilitre, .below)) == .pass)
        #expect(try verdict(body, F.number("10", .nanogramsPerMillilitre, .below)) == .pass)
        #expect(try verdict(body, F.number("50.1", .nanogramsPerMillilitre, .below)) == .fail)
        #expect(try verdict(body, F.number("0", .nanogramsPerMillilitre)) == .fail)
        #expect(try verdict(body, F.number("12", .nanogramsPerMillilitre)) == .fail)
        #expect(try verdict(body, F.number("1", .nanogramsPerMillilitre, .above)) == .fail)
        #expect(try verdict(body, F.number("50000", .picogramsPerMillilitre, .below)) == .pass)
        #expect(try verdict(body, F.number("50001", .picogramsPerMillilitre, .below)) == .fail)
    }

    // MARK: Multi-part and qualitative results

    static let trilineage = "parts: [osteogenic, adipogenic, chondrogenic]\naccept: [positive]"

    @Test("every part accepted passes; one non-accepted, a missing or an extra part fails", arguments: [
        ([QualitativeOutcome.positive, .positive, .positive], CriterionVerdict.pass),
        ([.positive, .negative, .positive], .fail),
        ([.negative, .negative, .negative], .fail),
        ([.positive, .positive], .fail),
        ([.positive, .positive, .positive, .positive], .fail),
        ([], .fail),
    ])
    func multiPart(outcomes: [QualitativeOutcome], expected: CriterionVerdict) throws {
        #expect(try verdict(Self.trilineage, .outcomes(outcomes)) == expected)
    }

    @Test("peers' bug: a multi-select result is not always in range")
    func multiSelectNotAlwaysInRange() throws {
        let criterion = try F.criterion(Self.trilineage)
        let failing = QualitativeOutcome.allCases.filter { $0 != .positive }
        for outcome in failing {
            #expect(try criterion.verdict(for: .outcomes([.positive, outcome, .positive]), dose: nil) == .fail)
        }
    }

    @Test("a plain qualitative criterion needs exactly one accepted outcome")
    func qualitative() throws {
        #expect(try verdict("accept: [no_growth]", .outcomes([.noGrowth])) == .pass)
        #expect(try verdict("accept: [no_growth]", .outcomes([.growth])) == .fail)
        #expect(try verdict("accept: [no_growth]", .outcomes([])) == .fail)
        #expect(try verdict("accept: [no_growth]", .outcomes([.noGrowth, .noGrowth])) == .fail)
        #expect(try verdict("accept: [negative, not_detected]", .outcomes([.notDetected])) == .pass)
    }

    @Test("a result of the wrong kind fails")
    func wrongKind() throws {
        #expect(try verdict("accept: [negative]", F.number("0", .percent)) == .fail)
        #expect(try verdict("unit: \"%\"\nat_least: 95", .outcomes([.positive])) == .fail)
        #expect(try verdict("unit: ng/mL\nnot_detected_at: 50", .outcomes([.notDetected])) == .fail)
    }

    // MARK: Dose-based endotoxin

    static let endotoxin = "unit: EU/mL\nendotoxin_k: 5\nendotoxin_k_intrathecal: 0.2"

    @Test("K/M = 5 / 0.2 = 25: 25 passes, 25.01 fails", arguments: [
        ("25", CriterionVerdict.pass), ("25.00", .pass), ("24.999", .pass), ("25.01", .fail), ("25.0000001", .fail),
    ])
    func doseBased(value: String, expected: CriterionVerdict) throws {
        #expect(try verdict(Self.endotoxin, F.number(value, .endotoxinUnitsPerMillilitre), dose: F.dose("0.2")) == expected)
    }

    @Test("a non-terminating K/M is compared exactly: 5 / 0.3")
    func nonTerminating() throws {
        // 16.6666 × 0.3 = 4.99998 ≤ 5; 16.6667 × 0.3 = 5.00001 > 5.
        #expect(try verdict(Self.endotoxin, F.number("16.6666", .endotoxinUnitsPerMillilitre), dose: F.dose("0.3")) == .pass)
        #expect(try verdict(Self.endotoxin, F.number("16.6667", .endotoxinUnitsPerMillilitre), dose: F.dose("0.3")) == .fail)
    }

    @Test("intrathecal use takes K = 0.2: 0.2 / 0.2 = 1")
    func intrathecal() throws {
        let dose = F.dose("0.2", intrathecal: true)
        #expect(try verdict(Self.endotoxin, F.number("1", .endotoxinUnitsPerMillilitre), dose: dose) == .pass)
        #expect(try verdict(Self.endotoxin, F.number("1.01", .endotoxinUnitsPerMillilitre), dose: dose) == .fail)
        #expect(try verdict(Self.endotoxin, F.number("1.01", .internationalUnitsPerMillilitre), dose: dose) == .fail)
        #expect(try verdict(Self.endotoxin, F.number("0.5", .endotoxinUnitsPerMillilitre, .below), dose: dose) == .pass)
        #expect(try verdict(Self.endotoxin, F.number("0.5", .endotoxinUnitsPerMillilitre, .above), dose: dose) == .fail)
    }

    @Test("a dose-based limit cannot be judged without a usable dose or K for the route")
    func doseErrors() throws {
        let criterion = try F.criterion(Self.endotoxin)
        let value = F.number("1", .endotoxinUnitsPerMillilitre)
        #expect(throws: CriterionEvaluationError.doseMissing(test: "t")) { try criterion.verdict(for: value, dose: nil) }
        #expect(throws: CriterionEvaluationError.doseNotPositive(test: "t", dose: F.d("0"))) {
            try criterion.verdict(for: value, dose: F.dose("0"))
        }
        let noIntrathecal = try F.criterion("unit: EU/mL\nendotoxin_k: 5")
        #expect(throws: CriterionEvaluationError.intrathecalLimitMissing(test: "t")) {
            try noIntrathecal.verdict(for: value, dose: F.dose("0.2", intrathecal: true))
        }
    }

    // MARK: Units

    @Test("cells and 10^6 cells convert exactly")
    func cellConversion() throws {
        let body = "unit: \"10^6 cells\"\nat_least: 45\nless_than: 60.5"
        #expect(try verdict(body, F.number("45000000", .cells)) == .pass)
        #expect(try verdict(body, F.number("44999999", .cells)) == .fail)
        #expect(try verdict(body, F.number("60499999", .cells)) == .pass)
        #expect(try verdict(body, F.number("60500000", .cells)) == .fail)
        #expect(try verdict("unit: cells\nat_most: 1000", F.number("0.001", .millionCells)) == .pass)
        #expect(try verdict("unit: cells\nat_most: 1000", F.number("0.001000001", .millionCells)) == .fail)
    }

    @Test("the declared factors, both ways; undeclared pairs have none")
    func factors() {
        #expect(MeasurementUnit.cells.exactFactor(to: .millionCells) == F.d("0.000001"))
        #expect(MeasurementUnit.millionCells.exactFactor(to: .cells) == F.d("1000000"))
        #expect(MeasurementUnit.nanogramsPerMillilitre.exactFactor(to: .picogramsPerMillilitre) == F.d("1000"))
        #expect(MeasurementUnit.particlesPerMillilitre.exactFactor(to: .billionParticlesPerMillilitre) == F.d("0.000000001"))
        #expect(MeasurementUnit.internationalUnitsPerMillilitre.exactFactor(to: .endotoxinUnitsPerMillilitre) == F.d("1"))
        #expect(MeasurementUnit.percent.exactFactor(to: .percent) == F.d("1"))
        #expect(MeasurementUnit.percent.exactFactor(to: .cells) == nil)
        #expect(MeasurementUnit.millionCellsPerKilogram.exactFactor(to: .millionCells) == nil)
    }

    @Test("a % result on a count is refused, not failed")
    func percentOnCount() throws {
        let criterion = try F.criterion("unit: \"10^6 cells\"\nat_least: 45")
        #expect(throws: CriterionEvaluationError.unitNotConvertible(test: "t", from: .percent, to: .millionCells)) {
            try criterion.verdict(for: F.number("50", .percent), dose: nil)
        }
    }

    @Test("impossible values are refused: negative, or % over 100")
    func impossibleValues() throws {
        let criterion = try F.criterion("unit: \"%\"\nat_most: 2")
        #expect(throws: CriterionEvaluationError.self) { try criterion.verdict(for: F.number("-1", .percent), dose: nil) }
        #expect(throws: CriterionEvaluationError.self) { try criterion.verdict(for: F.number("100.1", .percent), dose: nil) }
    }
}
