import GMPRecords
import GMPRules

/// Text lines for shipments, shared by ship list and ship show.
enum ShipText {
    /// ship list's table, fitted to the terminal.
    static func table(_ rows: [Shipments.Row]) -> String {
        textTable(header: ["SHIPMENT", "STATUS", "UNITS", "CONSIGNEE", "SHIPPER", "RECEIVER", "NEED"],
                  rows: rows.map { [$0.id, $0.status, String($0.units), $0.consignee, $0.shipper, $0.receiver, $0.urgent ? "URGENT" : ""] },
                  rightAligned: [2])
    }

    static func report(_ d: ShipmentDocument) -> [String] {
        var lines = [
            "shipment       \(d.id)  \(d.status.uppercased())" + (d.urgent ? "  URGENT NEED" : ""),
            "consignee      \(d.consignee), \(d.consigneeAddress)",
            "receiver       \(d.receiver) (alone confirms receipt)",
            "shipper        \(d.shipperId); qualification: \(d.shipperQualification)",
        ]
        if let need = d.urgentNeed { lines.append("urgent need    \(need); physician: \(d.physician ?? "?")") }
        lines.append("created        \(d.createdAt) by \(d.createdBy)")
        if let at = d.packedAt { lines.append("packed         \(at) by \(d.packedBy ?? "?")") }
        if let at = d.dispatchedAt { lines.append("dispatched     \(at) by \(d.dispatchedBy ?? "?") to \(d.courier ?? "?")") }
        if let at = d.receivedAt { lines.append("received       \(at) by \(d.receivedBy ?? "?"): \(d.condition ?? "")") }
        lines.append("units          \(d.units.count)")
        for u in d.units {
            lines.append("  \(u.unit)  \(u.container) \(u.volumeMl) mL  \(u.stage.replacing("_", with: " ")), "
                         + "lot \(u.lotStatus.replacing("_", with: " ")), expires \(u.expiresOn)  \(u.state.replacing("_", with: " "))")
            if !u.openExcursions.isEmpty {
                lines.append("      OPEN EXCURSION \(u.openExcursions.joined(separator: ", ")): not to be used before QA's assessment")
            }
            let statements = d.labelStatements(for: u)
            if !statements.isEmpty { lines.append("      label: " + statements.joined(separator: " | ")) }
        }
        if !d.signoffs.isEmpty {
            // Part 11 §11.50: printed name, time and meaning with every signature shown.
            lines.append("signatures     \(d.signoffs.count)")
            lines += indentedTable(header: ["MEANING", "SIGNED (UTC)", "SIGNER", "STEP", "SIGNATURE"], rows: d.signoffs.map { s in
                [s.meaning ?? "UNSIGNED", s.signedAt ?? "?", "\(s.printedName ?? "?") (\(s.signer ?? "?"))", s.step,
                 (s.intact ?? false) ? "intact" : "BROKEN: the signed record changed"]
            })
        }
        return lines
    }
}
