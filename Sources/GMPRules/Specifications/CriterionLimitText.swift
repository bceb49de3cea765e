import PostgresClient

extension Criterion {
    /// The limit as printed on reports and the Certificate of Analysis, derived from the
    /// same ``rule`` that ``verdict(for:dose:)`` evaluates (peers printed one specification
    /// and evaluated another). Numbers appear exactly as written; the unit is printed
    /// separately.
    ///
    /// "≥ 95", "≤ 2", "≥ 45 and < 60.5", "no_growth", "negative or not_detected",
    /// "osteogenic, adipogenic, chondrogenic: positive", "< LOD, LOD ≤ 50",
    /// "≤ 25 (K/M = 5 / 0.2)"; without a dose, "≤ K/M, K = 5 (intrathecal 0.2)".
    public func limitText(dose: EndotoxinDose?) -> String {
        switch rule {
        case .lower(let bound):
            "\(bound.inclusive ? "≥" : ">") \(bound.value)"
        case .upper(let bound):
            "\(bound.inclusive ? "≤" : "<") \(bound.value)"
        case .window(let lower, let upper):
            "\(lower.inclusive ? "≥" : ">") \(lower.value) and \(upper.inclusive ? "≤" : "<") \(upper.value)"
        case .qualitative(let accept, let parts):
            (parts.map { $0.joined(separator: ", ") + ": " } ?? "") + accept.map(\.rawValue).joined(separator: " or ")
        case .notDetected(let limit):
            "< LOD, LOD ≤ \(limit)"
        case .endotoxinDose(let k, let kIntrathecal):
            Self.endotoxinLimitText(k: k, kIntrathecal: kIntrathecal, dose: dose)
        }
    }

    /// Digits printed after the point when K/M does not terminate (5 / 0.3 = 16.6666…).
    private static let printedQuotientDigits = 4

    private static func endotoxinLimitText(k: ExactDecimal, kIntrathecal: ExactDecimal?, dose: EndotoxinDose?) -> String {
        let m = dose?.maxDoseMlPerKgPerHour
        let limitK = dose?.intrathecal == true ? kIntrathecal : k
        guard let m, let limitK,
              let (quotient, exact) = limitK.truncatedQuotient(dividedBy: m, maxFractionDigits: printedQuotientDigits),
              !m.isNegative else {
            // No usable dose (or no K for the route): the formula, which is what applies.
            return "≤ K/M, K = \(k)" + (kIntrathecal.map { " (intrathecal \($0))" } ?? "")
        }
        // A truncated quotient is marked, never presented as the exact limit.
        return "≤ \(quotient)\(exact ? "" : "…") (K/M = \(limitK) / \(m))"
    }
}
