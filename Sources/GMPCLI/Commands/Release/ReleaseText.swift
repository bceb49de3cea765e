import GMPRecords
import GMPRules

/// The check as text: one line per criterion, then eligibility, deviations and verdict.
enum ReleaseText {
    static func decode(_ json: String) throws -> ReleaseCheck {
        try ReleaseCheck(jsonText: json)
    }

    /// `style` colours the verdicts (PASS, FAIL, RELEASABLE) when colour is on.
    static func report(_ check: ReleaseCheck, din: DonationIdentificationNumber, style: Style = Style(enabled: false)) -> [String] {
        var lines = ["lot            \(din.eyeReadable)  (\(check.lot.stage), \(check.lot.productKind); \(check.status))"]
        if let spec = check.specification {
            lines.append("specification  \(spec.id)  \(spec.title)" + (spec.approvedBy.map { "  (approved by \($0))" } ?? ""))
        } else {
            lines.append("specification  NONE ASSIGNED")
        }
        if let dose = check.dose, dose.maxDoseMlPerKgH != nil {
            lines.append("dose           M = " + dose.summary)
        }
        if !check.evaluation.isEmpty {
            lines.append("")
            let rows = check.evaluation.map { e -> [String] in
                let counted = e.results.filter(\.counted)
                let shown = counted.isEmpty ? (e.results.last.map { e.display($0) + " (set aside)" } ?? "—")
                                            : counted.map(e.display).joined(separator: "; ")
                return [e.test, e.limitText + (e.unit.map { " " + $0 } ?? ""), shown, e.verdict.uppercased()]
            }
            let table = textTable(header: ["TEST", "LIMIT", "RESULT", "VERDICT"], rows: rows) { column, cell in
                column == 3 ? style.verdict(cell) : cell
            }
            lines += table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        lines.append("")
        lines.append("eligibility    " + (check.eligibility.map { "\($0.outcome) (determination \($0.determinationId)"
                                                                  + ($0.signedBy.map { ", signed by \($0)" } ?? "") + ")" }
                                            ?? "NOT DETERMINED"))
        let open = check.deviations.filter { $0.status == "open" }
        lines.append("deviations     " + (open.isEmpty ? "none open" : open.map { "\($0.id) open: \($0.title)" }.joined(separator: "; ")))
        // QA's review of the executed batch record (docs/batch-record.md), when it is missing or out of date.
        lines += check.blockers.filter { $0.kind == "batch_record_review" }.map { "batch record   " + $0.problem }
        lines.append("package        sha256 \(check.packageSha256)")
        lines.append(style.verdict(check.releasable ? "RELEASABLE: QA may release it (gmp release approve \(din.keyed))" : verdict(check)))
        return lines
    }

    /// Why not: the lot's status when that alone stands in the way (a released lot has no
    /// blocker, yet is not releasable again), else the count of blockers listed above.
    static func verdict(_ check: ReleaseCheck) -> String {
        let status = check.statusProblem.map { check.fix.hasPrefix("none") ? "\($0): a final disposition is never changed" : $0 }
        guard !check.blockers.isEmpty else { return "NOT RELEASABLE: " + (status ?? "no reason given") }
        return "NOT RELEASABLE: \(check.blockers.count) blocker(s)" + (status.map { "; " + $0 } ?? "")
    }
}
