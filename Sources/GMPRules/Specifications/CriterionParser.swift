import PostgresClient

/// Reads one `criteria[i]` mapping into a ``Criterion`` and refuses a meaningless one.
struct CriterionParser {
    static let lowerWords = ["at_least", "more_than"]
    static let upperWords = ["at_most", "less_than"]
    static let keys = ["test", "name", "method", "unit"] + lowerWords + upperWords
        + ["accept", "parts", "not_detected_at", "endotoxin_k", "endotoxin_k_intrathecal", "max_dose", "max_retests"]

    let fields: SpecificationMapping
    let defaultRetests: Int

    func parse() throws -> Criterion {
        let test = try fields.text("test", "the test code, such as cd105")
        guard SpecificationSyntax.isTestCode(test) else {
            throw fields.error("test", "\"\(test)\" is not a test code", fix: "use 1–40 of a–z, 0–9 and _")
        }
        let name = try fields.text("name", "the test's name as printed on reports")
        let method = try fields.text("method", "the method, such as Ph. Eur. 2.6.1")
        let maxRetests = fields.has("max_retests")
            ? try fields.integer("max_retests", in: SpecificationFile.retestRange) : defaultRetests
        let (unit, rule) = try parseRule()
        return Criterion(test: test, name: name, method: method, unit: unit, rule: rule, maxRetests: maxRetests)
    }

    // MARK: Kinds

    private enum Kind: String {
        case bounds, qualitative, notDetected, endotoxin

        /// The keys that make a criterion this kind.
        var keys: [String] {
            switch self {
            case .bounds: CriterionParser.lowerWords + CriterionParser.upperWords
            case .qualitative: ["accept", "parts"]
            case .notDetected: ["not_detected_at"]
            case .endotoxin: ["endotoxin_k", "endotoxin_k_intrathecal", "max_dose"]
            }
        }
    }

    private static let kindFix = "give one of: a bound word (at_least, more_than, at_most, less_than), "
        + "accept, not_detected_at, or endotoxin_k"

    private func parseRule() throws -> (MeasurementUnit?, CriterionRule) {
        let present = [Kind.bounds, .qualitative, .notDetected, .endotoxin].filter { kind in kind.keys.contains(where: fields.has) }
        guard let kind = present.first else {
            throw SpecificationFileError(path: fields.path, line: fields.line, problem: "the criterion has no limit",
                                         fix: Self.kindFix)
        }
        if present.count > 1 {
            let first = kind.keys.first(where: fields.has)!, second = present[1].keys.first(where: fields.has)!
            if present.contains(.qualitative), kind == .bounds {
                throw fields.error(first, "a qualitative criterion (accept) cannot have bounds",
                                   fix: "remove \(first), or make it a separate numeric criterion")
            }
            throw fields.error(second, "cannot be combined with \(first)",
                               fix: "a criterion has exactly one kind; split it into two criteria")
        }
        if kind == .qualitative {
            if fields.has("unit") {
                throw fields.error("unit", "a qualitative criterion has no unit", fix: "remove unit")
            }
            return (nil, try qualitativeRule())
        }
        let unit = try fields.choice("unit", MeasurementUnit.self)
        switch kind {
        case .bounds: return (unit, try boundsRule(unit))
        case .notDetected: return (unit, .notDetected(limit: try positive("not_detected_at", unit)))
        case .endotoxin: return (unit, try endotoxinRule(unit))
        case .qualitative: preconditionFailure("handled above")
        }
    }

    // MARK: Numeric limits

    private func boundsRule(_ unit: MeasurementUnit) throws -> CriterionRule {
        let lower = try bound(Self.lowerWords, inclusiveWord: "at_least", unit)
        let upper = try bound(Self.upperWords, inclusiveWord: "at_most", unit)
        switch (lower, upper) {
        case let (lower?, upper?):
            let empty = lower.value > upper.value
                || (lower.value == upper.value && !(lower.inclusive && upper.inclusive))
            if empty {
                let word = Self.upperWords.first(where: fields.has)!
                throw fields.error(word, "the window \(lower.text(lower: true)) and \(upper.text(lower: false)) is empty",
                                   fix: "make the lower limit smaller than the upper one (equal limits need at_least and at_most)")
            }
            return .window(lower: lower, upper: upper)
        case let (lower?, nil): return .lower(lower)
        case let (nil, upper?): return .upper(upper)
        case (nil, nil): preconditionFailure("a bounds criterion has a bound word")
        }
    }

    /// The one bound among `words`, refusing two, and bounds that exclude nothing or
    /// everything a unit allows (a limit that cannot fail is no limit).
    private func bound(_ words: [String], inclusiveWord: String, _ unit: MeasurementUnit) throws -> Bound? {
        let given = words.filter(fields.has)
        guard let word = given.first else { return nil }
        if given.count > 1 {
            throw fields.error(given[1], "a criterion has at most one \(inclusiveWord == "at_least" ? "lower" : "upper") word, "
                               + "and \(word) is already given", fix: "keep one of \(words.joined(separator: " or "))")
        }
        let value = try fields.decimal(word)
        try checkPercent(word, value, unit)
        let zero = ExactDecimal(0), hundred = ExactDecimal(100)
        switch word {
        case "at_least" where value == zero:
            throw fields.error(word, "every result is at least 0, so the bound checks nothing", fix: "remove it or raise it")
        case "less_than" where value == zero:
            throw fields.error(word, "no result is less than 0, so every result would fail", fix: "raise the limit")
        case "at_most" where unit == .percent && value == hundred:
            throw fields.error(word, "every result is at most 100 %, so the bound checks nothing", fix: "remove it or lower it")
        case "more_than" where unit == .percent && value == hundred:
            throw fields.error(word, "no result is more than 100 %, so every result would fail", fix: "lower the limit")
        default:
            return Bound(value: value, inclusive: word == inclusiveWord)
        }
    }

    private func checkPercent(_ key: String, _ value: ExactDecimal, _ unit: MeasurementUnit) throws {
        if unit == .percent, value > ExactDecimal(100) {
            throw fields.error(key, "\(value) % is over 100 %", fix: "give a percentage from 0 to 100")
        }
    }

    /// A limit above zero (a K or LOD of 0 could only be met by nothing at all).
    private func positive(_ key: String, _ unit: MeasurementUnit) throws -> ExactDecimal {
        let value = try fields.decimal(key)
        try checkPercent(key, value, unit)
        guard !value.isZero else { throw fields.error(key, "must be above 0", fix: "give the limit, above 0") }
        return value
    }

    private func endotoxinRule(_ unit: MeasurementUnit) throws -> CriterionRule {
        guard unit == .endotoxinUnitsPerMillilitre || unit == .internationalUnitsPerMillilitre else {
            throw fields.error("unit", "a K/M endotoxin limit is in EU/mL, not \(unit.rawValue)", fix: "use unit: EU/mL")
        }
        let k = try positive("endotoxin_k", unit)
        let kIntrathecal = fields.has("endotoxin_k_intrathecal") ? try positive("endotoxin_k_intrathecal", unit) : nil
        return .endotoxinDose(k: k, kIntrathecal: kIntrathecal, maxDose: try doseRange())
    }

    /// `max_dose: {unit: mL/kg/h, min: …, max: …}`: the range of M a lot may be given.
    /// Required: an unbounded M lets any endotoxin result pass (K/M grows as M shrinks).
    private func doseRange() throws -> DoseRange {
        let node = try fields.required("max_dose", "the permitted range of the maximum dose: {unit: mL/kg/h, min: 0.1, max: 4}")
        let range = try SpecificationMapping(node, path: fields.path("max_dose"), allowed: ["unit", "min", "max"])
        let unit = try range.text("unit", DoseRange.unit)
        guard unit == DoseRange.unit else {
            throw range.error("unit", "\"\(unit)\" is not \(DoseRange.unit)", fix: "give M in \(DoseRange.unit), so that K/M is in EU/mL")
        }
        let min = try range.decimal("min"), max = try range.decimal("max")
        guard !min.isZero else {
            throw range.error("min", "must be above 0", fix: "give the smallest dose a lot may have, above 0")
        }
        guard min <= max else {
            throw range.error("max", "\(max) is below min \(min)", fix: "make max at least min")
        }
        return DoseRange(min: min, max: max)
    }

    // MARK: Qualitative

    private func qualitativeRule() throws -> CriterionRule {
        let vocabulary = QualitativeOutcome.allCases.map(\.rawValue).joined(separator: ", ")
        var accept: [QualitativeOutcome] = []
        for item in try fields.list("accept", "accepted outcomes, such as no_growth") {
            guard let outcome = QualitativeOutcome(rawValue: item.text) else {
                throw SpecificationFileError(path: item.path, line: item.line, problem: "\"\(item.text)\" is not an outcome",
                                             fix: "use one of \(vocabulary)")
            }
            if accept.contains(outcome) || accept.contains(outcome.opposite) {
                let problem = accept.contains(outcome)
                    ? "\(outcome.rawValue) is listed twice"
                    : "accepting both \(outcome.opposite.rawValue) and \(outcome.rawValue) would accept every result"
                throw SpecificationFileError(path: item.path, line: item.line, problem: problem, fix: "remove it")
            }
            accept.append(outcome)
        }
        guard fields.has("parts") else { return .qualitative(accept: accept, parts: nil) }
        var parts: [String] = []
        for item in try fields.list("parts", "the parts, such as osteogenic, adipogenic") {
            guard SpecificationSyntax.isTestCode(item.text), !parts.contains(item.text) else {
                let problem = parts.contains(item.text) ? "\"\(item.text)\" is listed twice" : "\"\(item.text)\" is not a part name"
                throw SpecificationFileError(path: item.path, line: item.line, problem: problem,
                                             fix: "name each part once, with 1–40 of a–z, 0–9 and _")
            }
            parts.append(item.text)
        }
        return .qualitative(accept: accept, parts: parts)
    }
}

private extension Bound {
    /// One end of a window as written, for messages: "≥ 60.5" or "< 45".
    func text(lower: Bool) -> String {
        (lower ? (inclusive ? "≥" : ">") : (inclusive ? "≤" : "<")) + " \(value)"
    }
}
