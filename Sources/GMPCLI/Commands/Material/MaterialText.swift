import GMPRecords
import GMPRules
import PostgresClient

/// How material lots and their traces read in a terminal and in CSV.
enum MaterialText {
    static func summary(_ m: MaterialDocument.Lot) -> [String] {
        var lines = [
            "material lot   \(m.id)  \(m.status)\(m.usableNow ? "" : " (not usable now)")",
            "type           \(m.type) — \(m.name) (\(m.category))",
            "supplier       \(m.supplier), lot \(m.supplierLot)",
            "received       \(m.quantity) \(m.unit) at \(m.receivedAt) by \(m.receivedBy): \(m.receiptCondition)",
            "expires        \(m.expiresOn)" + (m.daysAfterOpening.map { ", \($0) day(s) after opening" } ?? ""),
            "opened         \(m.openedAt ?? "not yet")" + (m.openedAt == nil ? "" : ", use by \(m.useBy)"),
            "certificate    sha256 \(m.certificateSha256)",
            "storage        \(m.storageCondition)",
        ]
        for d in m.dispositions {
            lines.append("\(d.decision.padding(15))\(d.decidedAt) by \(d.decidedBy)" + (d.reason.map { ": \($0)" } ?? "")
                         + (d.signatureIntact == false ? " (SIGNATURE BROKEN)" : ""))
        }
        return lines
    }

    static func consumption(_ c: MaterialDocument.Consumption) -> String {
        let lot = (try? DonationIdentificationNumber(stored: c.lot).eyeReadable) ?? c.lot
        let by = c.step.map { "step \($0)" } ?? c.test.map { "QC \($0) (result \(c.resultId ?? 0))" } ?? ""
        return "  \(c.usedAt)  \(lot)  \(c.quantity) \(c.unit)  \(by) [\(c.recordedBy)]"
    }

    static func trace(_ id: String, format: TraceFormat, _ context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let materials = Materials(connection)
        if context.output.json {
            try context.output.serverDocument(try materials.traceJSON(id))
            return
        }
        let t = try materials.trace(id)
        if format.csv {
            var out = CSV.line(["material_lot", "material_status", "lot", "stage", "status", "via", "consumed",
                                            "unit", "state", "where", "consignee"])
            for l in t.lots {
                let head = [t.material.id, t.material.status, l.din + l.checkCharacter, l.stage, l.status, l.via ?? "",
                            l.consumed ? "true" : "false"]
                let units = l.whereabouts ?? []
                if units.isEmpty { out += CSV.line(head + ["", "", "", ""]) }
                for u in units {
                    out += CSV.line(head + [u.unit, u.state, u.description, u.consignee ?? ""])
                }
            }
            format.write(out)
            return
        }
        var lines = summary(t.material)
        lines.append("consumed       \(t.consumptions.count) time(s)")
        lines += t.consumptions.map(consumption)
        lines.append("lots reached   \(t.lots.count)")
        for l in t.lots {
            let eye = (try? DonationIdentificationNumber(stored: l.din).eyeReadable) ?? l.din
            lines.append("  \(eye)  \(l.stage.padding(18))\(l.status.padding(11))"
                         + (l.consumed ? "consumed it" : "made from \(l.via ?? "?")"))
            for u in l.whereabouts ?? [] { lines.append("    \(u.unit)  \(u.description)") }
        }
        context.output.data(lines.joined(separator: "\n"))
    }
}
