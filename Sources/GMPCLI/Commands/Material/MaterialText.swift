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
    static func consumptions(_ consumptions: [MaterialDocument.Consumption], to page: inout TextPage, names: inout LotNames) {
        page.line("consumed       \(consumptions.count) time(s)")
        guard !consumptions.isEmpty else { return }
        page.table(header: ["USED (UTC)", "LOT", "QUANTITY", "UNIT", "BY", "RECORDED BY"], rows: consumptions.map { c in
            [c.usedAt, names(c.lot), c.quantity, c.unit,
             c.step.map { "step \($0)" } ?? c.test.map { "QC \($0) (result \(c.resultId ?? 0))" } ?? "", c.recordedBy]
        }, rightAligned: [2])
    }

    /// The lots a material lot reached, then every unit of them with where it is now
    /// (`units`: the unit and its whereabouts a row).
    static func reached(_ lots: [MaterialDocument.ReachedLot], units: TableCells, to page: inout TextPage, names: inout LotNames) {
        page.line("lots reached   \(lots.count)")
        guard !lots.isEmpty else { return }
        page.table(header: ["LOT", "STAGE", "PRODUCT", "STATUS", "HOW"], rows: lots.map { l in
            [names(l.din), l.stage, l.productKind, l.status,
             l.consumed ? "consumed it" : "made from \(l.via ?? "?")"]
        })
        if units.count > 0 {
            page.line("units          \(units.count)")
            page.table(header: ["UNIT", "WHERE"], cells: units)
        }
    }

    /// Each lot's id as printed, made once a lot: the consumptions and the lots reached
    /// name mostly the same lots, and a DIN's check character costs ~10 k instructions (issue 14).
    struct LotNames {
        private var made: [String: String] = [:]

        mutating func callAsFunction(_ din: String) -> String {
            if let name = made[din] { return name }
            let name = (try? DonationIdentificationNumber(stored: din).eyeReadable) ?? din
            made[din] = name
            return name
        }
    }

    static func trace(_ id: String, format: TraceFormat, _ context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let materials = Materials(connection)
        if context.output.json {
            try materials.withTraceJSON(id) { try context.output.serverDocument(bytes: $0) }
            return
        }
        if format.csv {
            let t = try materials.trace(id)
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
        let page = try materials.withTraceJSON(id) { bytes in
            // The units' cells written into one buffer as they are read, each whereabouts
            // straight from its parts' bytes in the document (issue 14): about 50 bytes a
            // unit, some 110 bytes of the document.
            var units = TableCells(columns: 2, bytes: bytes.count / 2)
            var lines = TraceDocument.WhereaboutsLines()
            let t = try MaterialDocument.Trace(documentBytes: bytes, units: { unit in
                units.append(unit.unit)
                lines.withLine(of: unit) { units.append($0) }
            }, restart: { units = TableCells(columns: 2) })
            // One buffer for the whole page, about 70 bytes a unit's line (issue 14).
            var page = TextPage(capacity: 4_096 + 80 * (t.consumptions.count + t.lots.count + units.count))
            page.lines(summary(t.material))
            var names = LotNames()
            consumptions(t.consumptions, to: &page, names: &names)
            reached(t.lots, units: units, to: &page, names: &names)
            return page
        }
        context.output.data(page)
    }
}
