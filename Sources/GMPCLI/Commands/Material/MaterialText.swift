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
            "manufacturer   \(m.manufacturer ?? "not recorded (received before V0037)")",
            "received       \(m.quantity) \(m.unit) at \(m.receivedAt) by \(m.receivedBy): \(m.receiptCondition)",
            "expires        \(m.expiresOn)" + (m.daysAfterOpening.map { ", \($0) day(s) after opening" } ?? ""),
            "opened         \(m.openedAt ?? "not yet")" + (m.openedAt == nil ? "" : ", use by \(m.useBy)"),
            "certificate    sha256 \(m.certificateSha256)",
            "storage        \(m.storageCondition)",
        ]
        if !m.dispositions.isEmpty {
            lines.append("dispositions")
            lines += indentedTable(header: ["DECISION", "DECIDED (UTC)", "BY", "SIGNATURE", "REASON"], rows: m.dispositions.map { d in
                [d.decision, d.decidedAt, d.decidedBy, d.signatureIntact == false ? "BROKEN" : d.signatureId == nil ? "-" : "intact",
                 d.reason ?? ""]
            })
        }
        return lines
    }

    /// The consumptions of a material lot, under their heading: a table, fitted to the terminal.
    static func consumptions(_ consumptions: [MaterialDocument.Consumption]) -> [String] {
        ["consumed       \(consumptions.count) time(s)"] + (consumptions.isEmpty ? [] : indentedTable(
            header: ["USED (UTC)", "LOT", "QUANTITY", "UNIT", "BY", "RECORDED BY"],
            rows: consumptions.map { c in
                [c.usedAt, (try? DonationIdentificationNumber(stored: c.lot).eyeReadable) ?? c.lot, c.quantity, c.unit,
                 c.step.map { "step \($0)" } ?? c.test.map { "QC \($0) (result \(c.resultId ?? 0))" } ?? "", c.recordedBy]
            }, rightAligned: [2]))
    }

    /// The lots a material lot reached, then every unit of them with where it is now.
    static func reached(_ lots: [MaterialDocument.ReachedLot]) -> [String] {
        var lines = ["lots reached   \(lots.count)"]
        guard !lots.isEmpty else { return lines }
        lines += indentedTable(header: ["LOT", "STAGE", "PRODUCT", "STATUS", "HOW"], rows: lots.map { l in
            [(try? DonationIdentificationNumber(stored: l.din).eyeReadable) ?? l.din, l.stage, l.productKind, l.status,
             l.consumed ? "consumed it" : "made from \(l.via ?? "?")"]
        })
        let units = lots.flatMap { $0.whereabouts ?? [] }
        if !units.isEmpty {
            lines.append("units          \(units.count)")
            lines += indentedTable(header: ["UNIT", "WHERE"], rows: units.map { [$0.unit, $0.description] })
        }
        return lines
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
            var out = CSV.line(["material_lot", "material_status", "lot", "stage", "product", "status", "via", "consumed",
                                "unit", "state", "where", "consignee"])
            for l in t.lots {
                let head = [t.material.id, t.material.status, l.din + l.checkCharacter, l.stage, l.productKind, l.status, l.via ?? "",
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
        let lines = summary(t.material) + consumptions(t.consumptions) + reached(t.lots)
        context.output.data(lines.joined(separator: "\n"))
    }
}
