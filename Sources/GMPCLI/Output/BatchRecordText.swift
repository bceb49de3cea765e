import GMPRules

/// The executed batch record as text (`gmp batch-record LOT`); the printable page is in
/// BatchRecordHTML.swift. Times in UTC, as on every printed record.
enum BatchRecordRendering {
    private typealias C = CertificateRendering

    static func text(_ r: BatchRecord) -> String {
        var lines = [
            "BATCH RECORD  lot \(r.lot.eyeReadable)   status \(r.status.replacing("_", with: " "))",
            "product        \(product(r))",
            "donor          \(r.lot.donorCode)   collection \(r.lot.collectionId)   parent \(r.lot.parentDin ?? "—")   expires \(r.lot.expiresOn)",
            "specification  \(r.specification.map { "\($0.id) \($0.title)" } ?? "none assigned")",
            "master record  \(master(r))",
            "steps (\(r.steps.count))",
        ]
        for (n, s) in r.steps.enumerated() {
            lines.append("  \(n + 1). \(C.utc(s.performedAt))  \(s.kind)  by \(s.performerName) (\(s.performedBy))"
                         + (stepData(s).map { "  \($0)" } ?? ""))
            lines += s.materials.map { "       material  \(material($0))" }
            lines += s.equipment.map { "       equipment \(equipment($0))" }
            lines += s.executionLines(time: C.utc).map { "       \($0)" }
            if let note = s.note { lines.append("       note      \(note)") }
        }
        lines.append("deviations" + (r.deviations.isEmpty ? "     none" : ""))
        lines += r.deviations.map { "  \(deviation($0))" }
        lines.append("excursions" + (r.excursions.isEmpty ? "     none" : ""))
        lines += r.excursions.map { "  \(excursion($0))" }
        lines.append("QC" + (r.qc.isEmpty ? "             no specification assigned" : ""))
        lines += r.qc.map { "  \($0.verdict.uppercased().padding(10)) \($0.name): \(counted($0)) (limit \(C.withUnit($0.limit, $0.unit)))" }
        lines.append("units (\(r.units.count))")
        lines += r.units.map { "  \($0.unit)  \($0.state.replacing("_", with: " "))  \($0.holder ?? "—")" }
        lines.append("custody" + (r.custody.isEmpty ? "        none" : ""))
        lines += r.custody.map { "  \(C.utc($0.at))  \($0.unit)  \(custody($0))" }
        lines.append("signatures" + (r.signatures.isEmpty ? "     none" : ""))
        lines += r.signatures.map { "  \(signature($0))" }
        lines += r.dispositions.map { "disposition    \(disposition($0))" }
        lines += [
            "review         \(reviewState(r))",
            "record SHA-256 \(r.contentSha256)",
            "audit          " + (r.audit.map { "newest event seq \($0.seq), hash \($0.hash) (gmp audit verify)" } ?? "no chained event yet"),
        ]
        return lines.joined(separator: "\n")
    }

    static func product(_ r: BatchRecord) -> String {
        "\(ProductNames.name(stage: r.lot.stage, productKind: r.lot.productKind)), \(r.lot.intendedUse)"
    }

    static func master(_ r: BatchRecord) -> String {
        r.masterRecord.map { "\($0.code) version \($0.version)" } ?? "none (not made under a master batch record)"
    }

    /// The step's own values: passage data, cell counts, units filled; nil when it has none.
    static func stepData(_ s: BatchRecord.Step) -> String? {
        var parts: [String] = []
        if let p = s.passageNumber { parts.append("passage \(p)") }
        if let c = s.cellCount { parts.append("\(c) cells") }
        if let v = s.viabilityPercent { parts.append("\(v)% viable") }
        if let d = s.populationDoublings { parts.append("PD \(d)") }
        if let d = s.cumulativeDoublings { parts.append("cumulative PD \(d)") }
        if let u = s.units { parts.append("\(u) units" + (s.unitVolumeMl.map { " × \($0) mL" } ?? "")) }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    static func material(_ m: BatchRecord.Material) -> String {
        "\(m.materialLot) (\(m.type)\(m.supplierLot.map { ", supplier lot \($0)" } ?? "")\(m.expiresOn.map { ", expires \($0)" } ?? "")): \(m.quantity) \(m.unit)"
    }

    static func equipment(_ e: BatchRecord.Equipment) -> String { "\(e.equipment) (\(e.kind.replacing("_", with: " ")), \(e.name))" }

    static func deviation(_ d: BatchRecord.Deviation) -> String {
        "\(d.id) (\(d.kind.replacing("_", with: " ")), \(d.status)): \(d.title)"
            + (d.outcome.map { ". Outcome: \($0)" } ?? "")
            + (d.closedBy.map { " (closed by \($0)\(d.closedAt.map { " at \(C.utc($0))" } ?? ""))" } ?? "")
    }

    static func excursion(_ x: BatchRecord.Excursion) -> String {
        "\(x.id) \(x.device) \(C.utc(x.startedAt)), peak \(x.peakCelsius) °C over \(x.limitCelsius) °C, \(x.status); units "
            + x.units.joined(separator: ", ") + (x.assessment.map { ". Assessed by \(x.assessedBy ?? "?"): \($0)" } ?? "")
    }

    /// The counted result (the one the verdict stands on) with analyst and verifier.
    static func counted(_ c: BatchRecord.Criterion) -> String {
        guard let result = c.results.last(where: \.counted) ?? c.results.last else { return "no result" }
        return C.withUnit(result.result ?? "—", result.resultUnit ?? c.unit)
            + "; analyst \(BatchRecord.person(result.analyst, result.analystName))"
            + (result.verifiedBy.map { ", verified by \(BatchRecord.person($0, result.verifierName))" } ?? ", not verified")
            + (c.results.count > 1 ? "; \(c.results.count) results recorded" : "")
    }

    static func custody(_ e: BatchRecord.CustodyEvent) -> String {
        "\(e.action.replacing("_", with: " ")) → \(e.state.replacing("_", with: " ")), \(e.holder ?? "—")"
            + (e.transferId.map { ", transfer \($0)" } ?? "") + (e.shipment.map { ", shipment \($0)" } ?? "")
            + (e.reason.map { ": \($0)" } ?? "") + " (recorded by \(e.recordedBy))"
    }

    static func signature(_ s: BatchRecord.Signature) -> String {
        "\(s.printedName) (\(s.signer)), \(C.utc(s.signedAt)), meaning: \(s.meaning); \(s.recordTable) \(s.recordKey)"
            + " (signature \(s.id))"
    }

    static func disposition(_ d: BatchRecord.Disposition) -> String {
        "\(d.decision.replacing("_", with: " ")) by \(d.printedName ?? d.decidedBy) (\(d.decidedBy)), "
            + "\(C.utc(d.signedAt ?? d.decidedAt)), meaning: \(d.meaning ?? "—")"
    }

    /// Whether QA's newest review covers the record as it is now.
    static func reviewState(_ r: BatchRecord) -> String {
        guard let review = r.latestReview else {
            return r.masterRecord == nil ? "not reviewed (not required: not made under a master batch record)"
                : "NOT REVIEWED: release waits for QA's review (gmp batch-record review \(r.lot.keyedId))"
        }
        let who = "\(review.printedName ?? review.reviewedBy) (\(review.reviewedBy)), \(C.utc(review.signedAt ?? review.reviewedAt)), "
            + "meaning: \(review.meaning ?? "—")"
        return review.current ? "reviewed by \(who); the record is unchanged since"
            : "CHANGED since the review by \(who); review again"
    }
}
