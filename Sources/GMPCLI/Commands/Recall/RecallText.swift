#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRecords
import GMPRules

/// How recalls and lookbacks read in a terminal and in CSV.
enum RecallText {
    /// The database's notification methods (gmp.recall_notification).
    static let methods = ["phone", "email", "fax", "letter", "courier", "in_person"]
    /// What QA records for a unit held in the facility (gmp.dispose_recall_unit).
    static let heldDispositions = ["discarded", "rejected", "cleared"]

    static func eye(_ din: String) -> String {
        (try? DonationIdentificationNumber(stored: din).eyeReadable) ?? din
    }

    static func text(_ r: RecallDocument.Recall) -> [String] {
        var lines = [
            "recall         \(r.id)  \(r.status)",
            "cause          \(r.cause.replacing("_", with: " ")) \(r.subject)"
                + (r.resultId.map { ", result \($0)" } ?? "")
                + ((r.newborns ?? []).isEmpty ? "" : " (newborns \((r.newborns ?? []).joined(separator: ", ")))"),
            "description    \(r.description)",
            "opened         \(r.openedAt) by \(r.openedBy)",
        ]
        for s in r.signatures {
            lines.append("signed         \(s.meaning) by \(s.printedName) (\(s.signer)) at \(s.signedAt)"
                         + (s.intact == false ? " (SIGNATURE BROKEN)" : ""))
        }
        lines.append("lots           \(r.lots.count), \(r.lots.filter(\.held).count) held")
        lines += lots(r.lots)
        let held = r.units.filter { !$0.shipped }
        lines.append("units here     \(held.count)")
        if !held.isEmpty {
            lines += indentedTable(header: ["UNIT", "AT OPENING", "NOW", "DISPOSITION"], rows: held.map {
                [$0.unit, $0.stateAtOpen, $0.state, $0.disposition ?? "none yet"]
            })
        }
        lines.append("consignees     \(r.consignees.count)")
        for c in r.consignees {
            lines.append("  \(c.consignee): \(c.units.count) unit(s)")
            for n in c.notifications {
                lines.append("    notified  \(n.notifiedAt) by \(n.method), \(n.contact) [\(n.recordedBy)]")
            }
            if let a = c.acknowledgement {
                lines.append("    acknowledged \(a.acknowledgedAt) by \(a.acknowledgedBy) [\(a.recordedBy)]")
            } else {
                lines.append("    not acknowledged")
            }
            for u in r.units where u.consignee == c.consignee && u.shipped {
                lines.append("    \(u.unit)  \(u.disposition ?? "no answer yet")")
            }
        }
        if let closure = r.closure {
            lines.append("closed         \(closure.closedAt) by \(closure.closedBy): \(closure.summary)")
        } else {
            lines.append("outstanding    \(r.outstanding.isEmpty ? "nothing: QA may close it (gmp recall close)" : "")")
            lines += r.outstanding.map { "  \($0)" }
        }
        return lines
    }

    /// The lots a recall reached: a table, fitted to the terminal.
    static func lots(_ lots: [RecallDocument.Lot]) -> [String] {
        lots.isEmpty ? [] : indentedTable(header: ["LOT", "STAGE", "AT OPENING", "NOW", "HELD"], rows: lots.map {
            [eye($0.din), $0.stage, $0.statusAtOpen, $0.status, $0.held ? "held" : ""]
        })
    }

    static func csv(_ r: RecallDocument.Recall) -> String {
        var out = CSVReportWriter.line(["recall", "status", "cause", "subject", "unit", "lot", "state_at_open", "state",
                                        "shipped", "shipment", "consignee", "notified", "acknowledged", "disposition"])
        for u in r.units {
            let c = r.consignees.first { $0.consignee == u.consignee }
            out += CSVReportWriter.line([r.id, r.status, r.cause, r.subject, u.unit, u.lot, u.stateAtOpen, u.state,
                                         u.shipped ? "true" : "false", u.shipment ?? "", u.consignee ?? "",
                                         c?.notifications.first?.notifiedAt ?? "", c?.acknowledgement?.acknowledgedAt ?? "",
                                         u.disposition ?? ""])
        }
        return out
    }

    static func text(_ l: RecallDocument.Lookback) -> [String] {
        var lines = ["donor          \(l.donor)" + (l.birthMother.map { " (birth mother \($0))" } ?? "")
                     + (l.newborns.isEmpty ? "" : " (newborns \(l.newborns.joined(separator: ", ")))")]
        lines.append("lots           \(l.lots.count)")
        if !l.lots.isEmpty {
            lines += indentedTable(header: ["LOT", "STAGE", "STATUS", "DONOR", "OPEN RECALLS"], rows: l.lots.map {
                [eye($0.din), $0.stage, $0.status, $0.donor, $0.openRecalls.joined(separator: ", ")]
            })
        }
        lines.append("consignees     \(l.consignees.count)")
        for c in l.consignees {
            lines.append("  \(c.consignee)")
            lines += c.units.map { "    \($0.unit)  \($0.state)  shipment \($0.shipment)" + ($0.receivedAt.map { ", received \($0)" } ?? "") }
        }
        lines.append("still here     \(l.inFacility.count) unit(s)")
        return lines
    }

    static func csv(_ l: RecallDocument.Lookback) -> String {
        var out = CSVReportWriter.line(["donor", "unit", "lot", "lot_donor", "state", "consignee", "shipment", "received_at"])
        for c in l.consignees {
            for u in c.units {
                out += CSVReportWriter.line([l.donor, u.unit, u.lot, u.donor, u.state, c.consignee, u.shipment, u.receivedAt ?? ""])
            }
        }
        for u in l.inFacility {
            out += CSVReportWriter.line([l.donor, u.unit, u.lot, "", u.state, "", "", ""])
        }
        return out
    }
}

/// The printable recall report: one self-contained HTML page (no external resources),
/// every value from the document escaped.
extension RecallText {
    /// Prints a recall or a lookback the one way `show` and `lookback` share: `--json` as
    /// the server wrote it, `--csv` one row per unit, or the text report.
    static func print<Document>(in context: CommandContext, format: TraceFormat, json: () throws -> String,
                                decoded: () throws -> Document, csv: (Document) -> String,
                                text: (Document) -> [String]) throws {
        if context.output.json {
            try context.output.serverDocument(try json())
            return
        }
        let doc = try decoded()
        if format.csv {
            format.write(csv(doc))
            return
        }
        context.output.data(text(doc).joined(separator: "\n"))
    }
}

enum RecallHTML {
    static func page(_ r: RecallDocument.Recall) -> String {
        let e = CertificateRendering.escape
        let signatures = r.signatures.map {
            "<tr><td>\(e($0.meaning))</td><td>\(e($0.printedName)) (\(e($0.signer)))</td><td>\(e($0.signedAt))</td>"
                + "<td>\($0.intact == false ? "BROKEN" : "intact")</td></tr>"
        }.joined()
        let lots = r.lots.map {
            "<tr><td>\(e(RecallText.eye($0.din)))</td><td>\(e($0.stage))</td><td>\(e($0.statusAtOpen))</td>"
                + "<td>\(e($0.status))</td><td>\($0.held ? "on hold" : "final: kept its status")</td></tr>"
        }.joined()
        let units = r.units.map {
            "<tr><td>\(e($0.unit))</td><td>\(e($0.stateAtOpen))</td><td>\(e($0.state))</td><td>\(e($0.consignee ?? "in facility"))</td>"
                + "<td>\(e($0.disposition ?? "—"))\($0.dispositionReason.map { ": " + e($0) } ?? "")</td></tr>"
        }.joined()
        let consignees = r.consignees.map { c in
            let told = c.notifications.map { "\(e($0.notifiedAt)) by \(e($0.method)) to \(e($0.contact))" }.joined(separator: "<br>")
            let ack = c.acknowledgement.map {
                "\(e($0.acknowledgedAt)) by \(e($0.acknowledgedBy))" + ($0.note.map { "<br>" + e($0) } ?? "")
            } ?? "not acknowledged"
            return "<tr><td>\(e(c.consignee))</td><td>\(c.units.count)</td><td>\(told.isEmpty ? "not notified" : told)</td><td>\(ack)</td></tr>"
        }.joined()
        let status = r.closure.map { "Closed \(e($0.closedAt)) by \(e($0.closedBy)): \(e($0.summary))" }
            ?? "Open. Outstanding: " + (r.outstanding.isEmpty ? "nothing" : r.outstanding.map(e).joined(separator: "; "))
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>Recall \(e(r.id))</title>
            <style>
            @page { size: A4; margin: 18mm 15mm; @bottom-right { content: "page " counter(page) " of " counter(pages); font-size: 8pt; } }
            body { font-family: sans-serif; font-size: 9.5pt; }
            h1 { font-size: 15pt; } h2 { font-size: 11pt; margin-top: 14pt; }
            table { border-collapse: collapse; width: 100%; } td, th { border: 0.5pt solid #888; padding: 2pt 4pt; text-align: left; }
            </style></head><body>
            <h1>Recall \(e(r.id)) — \(e(r.status))</h1>
            <p>Cause: \(e(r.cause.replacing("_", with: " "))) \(e(r.subject))\(r.resultId.map { ", result \($0)" } ?? "")<br>
            Why: \(e(r.description))<br>Opened \(e(r.openedAt)) by \(e(r.openedBy)).</p>
            <p>\(status)</p>
            <h2>Signatures</h2><table><tr><th>meaning</th><th>signer</th><th>signed at (UTC)</th><th>content</th></tr>\(signatures)</table>
            <h2>Lots (\(r.lots.count))</h2><table><tr><th>lot</th><th>stage</th><th>at opening</th><th>now</th><th>by the opening</th></tr>\(lots)</table>
            <h2>Consignees (\(r.consignees.count))</h2><table><tr><th>consignee</th><th>units</th><th>notified</th><th>acknowledged</th></tr>\(consignees)</table>
            <h2>Units (\(r.units.count))</h2><table><tr><th>unit</th><th>at opening</th><th>now</th><th>where at opening</th><th>disposition</th></tr>\(units)</table>
            </body></html>
            """
    }
}
