import PostgresClient

/// A QC result as a person types it on the command line, checked before anything
/// reaches the database: `98.2` with `--unit %`, `<0.05` (below the limit of
/// detection), `>1000` (above the range), or outcomes such as `no_growth` or
/// `positive,positive,positive` (one per part, in the specification's order).
///
/// The number is kept exactly as typed ("95.0" stays "95.0"): it travels to
/// PostgreSQL's `numeric` as text and is never rounded on the way.
public struct ResultEntry: Sendable, Equatable {
    /// What was typed, classified.
    public let value: MeasuredValue

    /// Parses `text` (and `unit`, required for a number and refused for outcomes).
    public init(_ text: String, unit: String?) throws(ResultEntryError) {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty else { throw .empty }
        if let outcomes = Self.outcomes(trimmed) {
            guard unit == nil else { throw .unitOnOutcome(trimmed) }
            value = .outcomes(outcomes)
            return
        }
        var qualifier = ResultQualifier.exact
        var digits = Substring(trimmed)
        if let first = digits.first, first == "<" || first == ">" {
            qualifier = first == "<" ? .below : .above
            digits = digits.dropFirst()
        }
        if digits.hasSuffix("%") { throw .unitInValue(trimmed) }
        guard let number = ExactDecimal(String(digits)) else {
            throw trimmed.contains(",") && !trimmed.contains(".") ? .decimalComma(trimmed) : .notANumber(trimmed)
        }
        guard !number.isNegative else { throw .negative(trimmed) }
        guard let unit else { throw .unitMissing(trimmed) }
        guard let known = MeasurementUnit(rawValue: unit) else { throw .unknownUnit(unit) }
        if known == .percent, number > ExactDecimal(100) { throw .percentOver100(trimmed) }
        value = .number(qualifier: qualifier, value: number, unit: known)
    }

    /// Outcomes when every comma-separated word is in the closed vocabulary.
    private static func outcomes(_ text: String) -> [QualitativeOutcome]? {
        let words = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
        let outcomes = words.compactMap(QualitativeOutcome.init(rawValue:))
        return outcomes.count == words.count ? outcomes : nil
    }

    /// The SQL qualifier: '=', '<' or '>'; nil for outcomes.
    public var sqlQualifier: String? {
        guard case .number(let qualifier, _, _) = value else { return nil }
        return switch qualifier {
        case .exact: "="
        case .below: "<"
        case .above: ">"
        }
    }

    public var number: ExactDecimal? {
        if case .number(_, let value, _) = value { value } else { nil }
    }

    public var unit: MeasurementUnit? {
        if case .number(_, _, let unit) = value { unit } else { nil }
    }

    public var outcomeWords: [String]? {
        if case .outcomes(let outcomes) = value { outcomes.map(\.rawValue) } else { nil }
    }

    /// As a report prints it: `<0.05 ng/mL`, `98.2 %`, `positive, positive`.
    public var display: String {
        switch value {
        case .number(let qualifier, let number, let unit):
            (qualifier == .below ? "<" : qualifier == .above ? ">" : "") + number.description + " " + unit.rawValue
        case .outcomes(let outcomes):
            outcomes.map(\.rawValue).joined(separator: ", ")
        }
    }
}

/// Why a typed result was refused, with the fix; never guessed at.
public enum ResultEntryError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case notANumber(String)
    case decimalComma(String)
    case negative(String)
    case unitMissing(String)
    case unitInValue(String)
    case unknownUnit(String)
    case unitOnOutcome(String)
    case percentOver100(String)

    public var description: String {
        let units = MeasurementUnit.allCases.map(\.rawValue).joined(separator: ", ")
        let outcomes = QualitativeOutcome.allCases.map(\.rawValue).joined(separator: ", ")
        return switch self {
        case .empty:
            "the result is empty; fix: type the value (e.g. 98.2 --unit %) or the outcome (e.g. no_growth)"
        case .notANumber(let text):
            "\"\(text)\" is neither a decimal nor an outcome; fix: digits with at most one decimal point "
                + "(no exponent, no letters such as O for 0, no NaN or Infinity), optionally after < or >; "
                + "or outcomes from: \(outcomes)"
        case .decimalComma(let text):
            "\"\(text)\" uses a decimal comma; fix: write the decimal point, e.g. \(text.replacing(",", with: "."))"
        case .negative(let text):
            "\"\(text)\" is negative; fix: no QC quantity is below zero; check the value"
        case .unitMissing(let text):
            "\(text) has no unit; fix: give --unit, one of: \(units)"
        case .unitInValue(let text):
            "\"\(text)\" carries its unit in the value; fix: give the number alone and the unit with --unit %"
        case .unknownUnit(let unit):
            "unknown unit \"\(unit)\"; fix: one of: \(units)"
        case .unitOnOutcome(let text):
            "\(text) is an outcome and takes no unit; fix: leave out --unit"
        case .percentOver100(let text):
            "\(text) % is over 100 %; fix: check the value"
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (Foundation-free).
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
