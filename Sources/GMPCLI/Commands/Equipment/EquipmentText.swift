import GMPRecords
import GMPRules
import PostgresClient

/// How equipment and its records read in a terminal.
enum EquipmentText {
    static func summary(_ e: EquipmentDocument.Equipment) -> [String] {
        var lines = [
            "equipment      \(e.id)  \(e.status.replacing("_", with: " "))"
                + (e.unusableBecause.map { " (not usable now: \($0))" } ?? ""),
            "kind           \(e.kind) — \(e.name)" + (e.storageDevice.map { " (storage device \($0))" } ?? ""),
            "calibration    every \(e.calibrationIntervalDays.map { "\($0) day(s)" } ?? "- (not required)"), "
                + "next due \(e.calibrationDueAt ?? "-")",
            "maintenance    every \(e.maintenanceIntervalDays.map { "\($0) day(s)" } ?? "- (not required)"), "
                + "next due \(e.maintenanceDueAt ?? "-")",
            "registered     \(e.registeredAt) by \(e.registeredBy)",
        ]
        if !e.statusChanges.isEmpty {
            lines.append("status changes \(e.statusChanges.count)")
            lines += indentedTable(header: ["STATUS", "CHANGED (UTC)", "BY", "SIGNATURE", "REASON"], rows: e.statusChanges.map { c in
                [c.status.replacing("_", with: " "), c.changedAt, c.changedBy, signature(c.signatureId, c.signatureIntact),
                 c.reason]
            })
        }
        lines.append("records        \(e.services.count)")
        if !e.services.isEmpty {
            lines += indentedTable(header: ["RECORD", "ID", "PERFORMED (UTC)", "BY", "TOLERANCE", "NEXT DUE", "SIGNATURE", "REFERENCE"],
                                   rows: e.services.map { s in
                [s.kind, String(s.id), s.performedAt, s.performedBy, tolerance(s), s.dueAt, signature(s.signatureId, s.signatureIntact),
                 s.reference ?? ""]
            }, rightAligned: [1])
        }
        lines.append("used           \(e.uses.count) time(s)")
        lines += uses(e.uses)
        return lines
    }

    private static func signature(_ id: Int64?, _ intact: Bool?) -> String {
        intact == false ? "BROKEN" : id == nil ? "-" : "intact"
    }

    /// "found in tolerance, left in tolerance" for a calibration; empty for maintenance.
    private static func tolerance(_ s: EquipmentDocument.Service) -> String {
        s.asFound.map { found in
            "found \(found.replacing("_", with: " ")), left \((s.asLeft ?? "").replacing("_", with: " "))"
        } ?? ""
    }

    /// Uses of equipment by steps and QC results: a table, fitted to the terminal.
    static func uses(_ uses: [EquipmentDocument.Use]) -> [String] {
        uses.isEmpty ? [] : indentedTable(header: ["USED (UTC)", "LOT", "BY", "RECORDED BY"], rows: uses.map { u in
            [u.usedAt, (try? DonationIdentificationNumber(stored: u.lot).eyeReadable) ?? u.lot,
             u.step.map { "step \($0)" } ?? u.test.map { "QC \($0) (result \(u.resultId ?? 0))" } ?? "", u.recordedBy]
        })
    }

    static func service(_ s: EquipmentDocument.Service) -> String {
        let found = tolerance(s)
        return "\(s.kind) \(s.id)  \(s.performedAt) by \(s.performedBy)\(found.isEmpty ? "" : " " + found); next due \(s.dueAt)"
            + (s.reference.map { "  [\($0)]" } ?? "") + (s.signatureIntact == false ? " (SIGNATURE BROKEN)" : "")
    }

    /// What `gmp equipment calibrate|maintain` reports; for a calibration found out of
    /// tolerance, the uses and lots it calls into question and the deviations it opened.
    static func recorded(_ s: EquipmentDocument.Service, signer: String) -> [String] {
        var lines = ["signed: \(signer) performed \(service(s)) (signature \(s.signatureId ?? 0))"]
        guard let uses = s.affectedUses, let lots = s.affectedLots else { return lines }
        lines.append("found out of tolerance: \(uses.count) step(s) and QC result(s) since the last good calibration")
        lines += Self.uses(uses)
        lines.append("lots affected  \(lots.count)")
        guard !lots.isEmpty else { return lines }
        func eye(_ din: String) -> String { (try? DonationIdentificationNumber(stored: din).eyeReadable) ?? din }
        lines += indentedTable(header: ["LOT", "STATUS", "DEVIATION", "MADE FROM"], rows: lots.map { l in
            [eye(l.din), l.status, l.deviation.map { "deviation \($0) opened" } ?? "no deviation: its record is closed (consider a recall)",
             l.via.map(eye) ?? ""]
        })
        return lines
    }
}
