import GMPRecords
import GMPRules
import PostgresClient

/// How equipment and its records read in a terminal.
enum EquipmentText {
    static func summary(_ e: EquipmentDocument.Equipment) -> [String] {
        var lines = [
            "equipment      \(e.id)  \(e.status.replacingOccurrences(of: "_", with: " "))"
                + (e.unusableBecause.map { " (not usable now: \($0))" } ?? ""),
            "kind           \(e.kind) — \(e.name)" + (e.storageDevice.map { " (storage device \($0))" } ?? ""),
            "calibration    every \(e.calibrationIntervalDays.map { "\($0) day(s)" } ?? "- (not required)"), "
                + "next due \(e.calibrationDueAt ?? "-")",
            "maintenance    every \(e.maintenanceIntervalDays.map { "\($0) day(s)" } ?? "- (not required)"), "
                + "next due \(e.maintenanceDueAt ?? "-")",
            "registered     \(e.registeredAt) by \(e.registeredBy)",
        ]
        for c in e.statusChanges {
            lines.append("\(c.status.replacingOccurrences(of: "_", with: " ").padding(15))\(c.changedAt) by \(c.changedBy): "
                         + c.reason + (c.signatureIntact == false ? " (SIGNATURE BROKEN)" : ""))
        }
        lines.append("records        \(e.services.count)")
        lines += e.services.map { "  " + service($0) }
        lines.append("used           \(e.uses.count) time(s)")
        lines += e.uses.map(use)
        return lines
    }

    static func service(_ s: EquipmentDocument.Service) -> String {
        let tolerance = s.asFound.map { found in
            " found \(found.replacingOccurrences(of: "_", with: " ")), left \((s.asLeft ?? "").replacingOccurrences(of: "_", with: " "))"
        } ?? ""
        return "\(s.kind) \(s.id)  \(s.performedAt) by \(s.performedBy)\(tolerance); next due \(s.dueAt)"
            + (s.reference.map { "  [\($0)]" } ?? "") + (s.signatureIntact == false ? " (SIGNATURE BROKEN)" : "")
    }

    static func use(_ u: EquipmentDocument.Use) -> String {
        let lot = (try? DonationIdentificationNumber(stored: u.lot).eyeReadable) ?? u.lot
        let by = u.step.map { "step \($0)" } ?? u.test.map { "QC \($0) (result \(u.resultId ?? 0))" } ?? ""
        return "  \(u.usedAt)  \(lot)  \(by) [\(u.recordedBy)]"
    }

    /// What `gmp equipment calibrate|maintain` reports; for a calibration found out of
    /// tolerance, the uses and lots it calls into question and the deviations it opened.
    static func recorded(_ s: EquipmentDocument.Service, signer: String) -> [String] {
        var lines = ["signed: \(signer) performed \(service(s)) (signature \(s.signatureId ?? 0))"]
        guard let uses = s.affectedUses, let lots = s.affectedLots else { return lines }
        lines.append("found out of tolerance: \(uses.count) step(s) and QC result(s) since the last good calibration")
        lines += uses.map(use)
        lines.append("lots affected  \(lots.count)")
        for l in lots {
            let eye = (try? DonationIdentificationNumber(stored: l.din).eyeReadable) ?? l.din
            let made = l.via.map { ", made from \((try? DonationIdentificationNumber(stored: $0).eyeReadable) ?? $0)" } ?? ""
            lines.append("  \(eye)  \(l.status.padding(11))"
                         + (l.deviation.map { "deviation \($0) opened" } ?? "no deviation: its record is closed (consider a recall)")
                         + made)
        }
        return lines
    }
}
