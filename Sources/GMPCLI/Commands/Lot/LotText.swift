import GMPRules

/// Text lines for a lot, shared by lot show, trace lot and trace donor.
enum LotText {
    static func summary(_ lot: TraceDocument.Lot) -> [String] {
        var lines = [
            "lot            \(lot.eyeReadable)  (\(lot.stage), \(lot.productKind), \(lot.intendedUse))",
            "status         \(lot.status)",
            "donor          \(lot.donor), collection \(lot.collection)" + (lot.parent.map { ", parent \($0)" } ?? ""),
            "eligibility    \(lot.eligibility ?? "NOT DETERMINED")"
                + (lot.reactiveTests.isEmpty ? "" : "; reactive: " + lot.reactiveTests.joined(separator: ", ")),
            "expires        \(lot.expiresOn)",
        ]
        if let units = lot.units { lines.append("units          \(units) × \(lot.unitVolumeMl ?? "?") mL") }
        if lot.consentWithdrawn { lines.append("WARNING        the donor has withdrawn consent") }
        return lines
    }

    /// The steps under their heading: a table, fitted to the terminal.
    static func steps(_ steps: [TraceDocument.Step]) -> [String] {
        steps.isEmpty ? ["steps          none yet"]
            : ["steps          \(steps.count)"] + indentedTable(header: ["PERFORMED (UTC)", "STEP", "DETAIL", "BY"], rows: steps.map { s in
                [s.performedAt, s.kind, detail(s), s.performedBy]
            })
    }

    private static func detail(_ s: TraceDocument.Step) -> String {
        var detail: [String] = []
        if let p = s.passage { detail.append("P\(p)") }
        if let c = s.cellCount { detail.append("\(c) cells") }
        if let v = s.viabilityPercent { detail.append("\(v) % viable") }
        if let d = s.populationDoublings { detail.append("\(d) PD (cumulative \(s.cumulativeDoublings ?? "?"))") }
        if let u = s.units { detail.append("\(u) units × \(s.unitVolumeMl ?? "?") mL") }
        if let n = s.note { detail.append(n) }
        return detail.joined(separator: ", ")
    }

    /// The label statements the rules require for this lot now.
    static func labelFacts(_ lot: TraceDocument.Lot) -> LabelFacts {
        LabelFacts(status: lot.status, intendedUse: lot.intendedUse, eligibility: lot.eligibility,
                   reactiveAgents: lot.reactiveTests)
    }
}
