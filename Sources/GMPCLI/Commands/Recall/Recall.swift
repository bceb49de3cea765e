#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp recall`: recall and lookback as signed records (issue 17).
struct RecallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall",
        abstract: "Recalls: open (signed), notify, acknowledge, dispose, close (signed), show, list, report, lookback.",
        discussion: """
            QA opens a recall for a donor (a late reactive result or new information), a \
            material lot (a supplier's recall), a product lot, or a result after release. In \
            one transaction every lot it reached that is not final goes on hold and every \
            unit is listed: those still here are held, shipped ones are listed by consignee. \
            While it is open no unit of those lots ships and no such lot is released, \
            whoever writes. Each consignee is notified and acknowledges, saying what became \
            of each unit (returned units re-enter custody as recalled); each held unit gets \
            a disposition; then QA closes it, signed.

            Examples:
              gmp recall open --material-lot MAT26-00001 --reason "supplier recall R-2026-14"
              gmp recall notify RCL26-00001 --consignee "City Clinic" --method phone \\
                  --contact "Dr A. Clinician"
              gmp recall acknowledge RCL26-00001 --consignee "City Clinic" \\
                  --by "Dr A. Clinician" --returned G123426000001-001
              gmp recall dispose RCL26-00001 G123426000002-001 --as cleared \\
                  --reason "not exposed: made before the medium was opened"
              gmp recall close RCL26-00001 --summary "all units accounted for"
              gmp recall report RCL26-00001 --pdf recall.pdf
              gmp recall lookback D000123 --csv
            """,
        subcommands: [RecallOpen.self, RecallNotify.self, RecallAcknowledge.self, RecallDispose.self, RecallClose.self,
                      RecallShow.self, RecallList.self, RecallReport.self, RecallLookback.self])
}

struct RecallOpen: GMPCommand {
    static let path = "recall open"
    static let configuration = CommandConfiguration(
        commandName: "open", abstract: "Open a recall and hold everything its cause reached, with your e-signature (QA).",
        discussion: "Name exactly one cause: --donor, --material-lot, --lot or --post-release-result (with --result)." + "\n\nExamples:\n  gmp recall open --material-lot MAT26-00007 --reason \"supplier recall notice BLS-2026-07\"\n  gmp recall open --donor D26-000002 --reason \"late reactive HBV NAT result\"")

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("A donor found reactive or with new information (their newborns included).", valueName: "code"))
    var donor: String?
    @Option(help: ArgumentHelp("A material lot its supplier recalled.", valueName: "material-lot")) var materialLot: String?
    @Option(help: ArgumentHelp("A product lot.", valueName: "din")) var lot: String?
    @Option(help: ArgumentHelp("A released lot with a result after its release.", valueName: "din"))
    var postReleaseResult: String?
    @Option(help: ArgumentHelp("The result's id, for --post-release-result.", valueName: "id")) var result: Int64?
    @Option(help: ArgumentHelp("Why: the notice, the finding (required; signed).", valueName: "text")) var reason: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    struct Document: Encodable {
        let id: String
        let cause: String
        let subject: String
        let signature: Int64
        let signer: String
        let meaning: String
        let lots: Int
        let heldLots: Int
        let units: Int
        let shippedUnits: Int
        let consignees: [String]
    }

    func validate() throws {
        let named = [donor, materialLot, lot, postReleaseResult].compactMap { $0 }
        guard named.count == 1 else {
            throw ValidationError("name exactly one cause: --donor, --material-lot, --lot or --post-release-result")
        }
        if result != nil && postReleaseResult == nil { throw ValidationError("--result goes with --post-release-result") }
    }

    func cause() throws -> (Recalls.Cause, String) {
        if let donor { return (.donor, donor) }
        if let materialLot { return (.materialLot, materialLot) }
        let keyed = lot ?? postReleaseResult ?? ""
        let din = try DonationIdentificationNumber(keyed: keyed)
        return (lot != nil ? .productLot : .postReleaseResult, din.value)
    }

    func execute(in context: CommandContext) throws {
        let (cause, subject) = try cause()
        let connection = try context.connect(startingEmbedded: false)
        let opened = try SignedAction.run(connection, function: "gmp.open_recall(uuid, text, text, bigint, text)",
                                          refusal: "open recalls", fix: "QA opens recalls",
                                          signing: SigningIntent(record: "recall of \(cause.rawValue.replacing("_", with: " ")) \(subject): "
                                                                     + "every lot and unit it reached held", meaning: .held, statement: reason),
                                          passwordStdin: passwordStdin) { db, challenge in
            try Recalls.open(on: db, challenge: challenge, cause: cause, subject: subject, result: result,
                             description: reason)
        }
        let doc = try Recalls(connection).document(opened.id)
        let shipped = doc.units.filter(\.shipped)
        try context.output.document(Document(
            id: opened.id, cause: cause.rawValue, subject: subject, signature: opened.signature, signer: connection.userName,
            meaning: SignatureMeaning.held.rawValue, lots: doc.lots.count, heldLots: doc.lots.filter(\.held).count,
            units: doc.units.count, shippedUnits: shipped.count, consignees: doc.consignees.map(\.consignee)))
        var lines = ["signed: \(connection.userName) opened recall \(opened.id) (signature \(opened.signature), held)",
                     "lots reached   \(doc.lots.count), \(doc.lots.filter(\.held).count) held"]
        lines += RecallText.lots(doc.lots)
        lines.append("units          \(doc.units.count): \(doc.units.count - shipped.count) held here, \(shipped.count) shipped")
        for c in doc.consignees { lines.append("  \(c.consignee): \(c.units.joined(separator: ", "))") }
        context.output.data(lines.joined(separator: "\n"))
    }
}

struct RecallNotify: GMPCommand {
    static let path = "recall notify"
    static let configuration = CommandConfiguration(
        commandName: "notify", abstract: "Record that a consignee was told of the recall: whom, how, when (QA).",
        discussion: "Methods: \(RecallText.methods.joined(separator: ", "))." + "\n\nExamples:\n  gmp recall notify RCL26-00001 --consignee \"City Hospital, Cell Therapy Unit\" --method phone --contact \"Morgan Lee\"")

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The recall.", valueName: "recall")) var recall: String
    @Option(help: ArgumentHelp("The consignee, as the recall lists it.", valueName: "name")) var consignee: String
    @Option(help: ArgumentHelp("How they were told.", valueName: "method")) var method: String
    @Option(help: ArgumentHelp("Whom at the consignee.", valueName: "name")) var contact: String
    @Option(help: ArgumentHelp("When (default: now).", valueName: "time")) var at: TimeArgument?
    @Option(help: ArgumentHelp("What they were asked to do.", valueName: "text")) var note: String?

    struct Document: Encodable {
        let recall: String
        let consignee: String
        let notification: Int64
    }

    func execute(in context: CommandContext) throws {
        guard RecallText.methods.contains(method) else {
            throw Failure(exitCode: .usage, problem: "\"\(method)\" is not a notification method",
                          fix: "use \(RecallText.methods.joined(separator: ", "))")
        }
        let connection = try context.connect(startingEmbedded: false)
        let id = try connection.transaction { db in
            try Recalls(db).notify(recall: recall, consignee: consignee, method: method, contact: contact, at: at?.timestamp,
                                   note: note)
        }
        try context.output.document(Document(recall: recall, consignee: consignee, notification: id))
        context.output.data("recorded notification \(id): \(consignee) told of \(recall) by \(method) (\(contact))")
    }
}

struct RecallAcknowledge: GMPCommand {
    static let path = "recall acknowledge"
    static let configuration = CommandConfiguration(
        commandName: "acknowledge",
        abstract: "Record a consignee's acknowledgement and what became of every unit shipped to them (QA).",
        discussion: "Every unit shipped to the consignee is named once, with --returned, --destroyed or --administered. "
            + "A returned unit re-enters custody as recalled, in your hands.\n\nExamples:\n"
            + "  gmp recall acknowledge RCL26-00001 --consignee \"City Hospital, Cell Therapy Unit\" --by \"Morgan Lee\" --returned G123426000001-001")

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The recall.", valueName: "recall")) var recall: String
    @Option(help: ArgumentHelp("The consignee, as the recall lists it.", valueName: "name")) var consignee: String
    @Option(help: ArgumentHelp("Who at the consignee acknowledged.", valueName: "name")) var by: String
    @Option(help: ArgumentHelp("When (default: now).", valueName: "time")) var at: TimeArgument?
    @Option(help: ArgumentHelp("A unit they returned (repeat).", valueName: "unit"), completion: ObjectCompletion.units) var returned: [String] = []
    @Option(help: ArgumentHelp("A unit they destroyed (repeat).", valueName: "unit"), completion: ObjectCompletion.units) var destroyed: [String] = []
    @Option(help: ArgumentHelp("A unit already administered (repeat).", valueName: "unit"), completion: ObjectCompletion.units) var administered: [String] = []
    @Option(help: ArgumentHelp("A note.", valueName: "text")) var note: String?

    struct Document: Encodable {
        let recall: String
        let consignee: String
        let acknowledgement: Int64
        let returned: [String]
        let destroyed: [String]
        let administered: [String]
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let id = try connection.transaction { db in
            try Recalls(db).acknowledge(recall: recall, consignee: consignee, by: by, at: at?.timestamp, returned: returned,
                                        destroyed: destroyed, administered: administered, note: note)
        }
        try context.output.document(Document(recall: recall, consignee: consignee, acknowledgement: id, returned: returned,
                                             destroyed: destroyed, administered: administered))
        context.output.data("recorded acknowledgement \(id) of \(recall) by \(by) (\(consignee)): "
                            + "\(returned.count) returned, \(destroyed.count) destroyed, \(administered.count) administered")
    }
}

struct RecallDispose: GMPCommand {
    static let path = "recall dispose"
    static let configuration = CommandConfiguration(
        commandName: "dispose", abstract: "Record what became of a unit the recall held here (QA).",
        discussion: "discarded: the unit was discarded (gmp unit discard); rejected: its lot was rejected; "
            + "cleared: it is not affected, with --reason.\n\nExamples:\n  gmp recall dispose RCL26-00001 G123426000001-002 --as discarded")

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The recall.", valueName: "recall")) var recall: String
    @Argument(help: ArgumentHelp("The unit.", valueName: "unit"), completion: ObjectCompletion.units) var unit: String
    @Option(name: .customLong("as"), help: ArgumentHelp("discarded, rejected or cleared.", valueName: "disposition"))
    var disposition: String
    @Option(help: ArgumentHelp("Why (required for cleared).", valueName: "text")) var reason: String?

    struct Document: Encodable {
        let recall: String
        let unit: String
        let disposition: String
        let id: Int64
    }

    func execute(in context: CommandContext) throws {
        guard RecallText.heldDispositions.contains(disposition) else {
            throw Failure(exitCode: .usage, problem: "\"\(disposition)\" is not a disposition of a held unit",
                          fix: "use \(RecallText.heldDispositions.joined(separator: ", "))")
        }
        let connection = try context.connect(startingEmbedded: false)
        let id = try connection.transaction { db in
            try Recalls(db).dispose(recall: recall, unit: unit, disposition: disposition, reason: reason)
        }
        try context.output.document(Document(recall: recall, unit: unit, disposition: disposition, id: id))
        context.output.data("recorded: unit \(unit) \(disposition) under \(recall)")
    }
}

struct RecallClose: GMPCommand {
    static let path = "recall close"
    static let configuration = CommandConfiguration(
        commandName: "close", abstract: "Close a recall, with your e-signature (QA).",
        discussion: "Refused while a consignee has not acknowledged or a held unit has no disposition." + "\n\nExamples:\n  gmp recall close RCL26-00001 --summary \"clinic notified and acknowledged; units returned and discarded\"")

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The recall.", valueName: "recall")) var recall: String
    @Option(help: ArgumentHelp("The closing summary (signed).", valueName: "text")) var summary: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let signature = try SignedAction.run(connection, function: "gmp.close_recall(uuid, text, text)",
                                             refusal: "close recalls", fix: "QA closes recalls",
                                             signing: SigningIntent(record: "closure of recall \(recall.uppercased())", meaning: .approved,
                                                                    statement: summary),
                                             passwordStdin: passwordStdin) { db, challenge in
            try Recalls.close(on: db, challenge: challenge, recall: recall, summary: summary)
        }
        try context.output.document(SignedDocument(record: recall, signature: signature, signer: connection.userName,
                                                   meaning: SignatureMeaning.approved.rawValue))
        context.output.data("signed: \(connection.userName) closed recall \(recall) (signature \(signature))")
    }
}

struct RecallShow: GMPCommand {
    static let path = "recall show"
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "A recall: cause, signatures, lots, units, consignees, what is outstanding.",
        discussion: "CSV: one row per unit. --json: the server's document."
            + "\n\nExamples:\n  gmp recall show RCL26-00001\n  gmp recall show RCL26-00001 --csv --bom > recall.csv")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: ArgumentHelp("The recall.", valueName: "recall")) var recall: String

    func validate() throws {
        if format.csv && options.json { throw ValidationError("choose one of --csv and --json") }
    }

    func execute(in context: CommandContext) throws {
        let recalls = Recalls(try context.connect(startingEmbedded: false))
        try RecallText.print(in: context, format: format, json: { try recalls.documentJSON(recall) },
                             decoded: { try recalls.document(recall) }, csv: RecallText.csv, text: RecallText.text)
    }
}

struct RecallList: GMPCommand {
    static let path = "recall list"
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the recalls, newest first.",
        discussion: "Examples:\n  gmp recall list\n  gmp recall list --csv --bom > recalls.csv")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat

    func validate() throws {
        if format.csv && options.json { throw ValidationError("choose one of --csv and --json") }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in try Recalls(db).list() }
        if format.csv {
            var out = CSVReportWriter.line(["id", "cause", "subject", "opened_at", "opened_by", "status", "lots", "held_lots",
                                            "units", "shipped_units", "consignees", "acknowledged"])
            for r in rows {
                out += CSVReportWriter.line([r.id, r.cause, r.subject, r.openedAt.description, r.openedBy, r.status,
                                             "\(r.lots)", "\(r.heldLots)", "\(r.units)", "\(r.shippedUnits)",
                                             "\(r.consignees)", "\(r.acknowledged)"])
            }
            format.write(out)
            return
        }
        try context.output.document(rows)
        context.output.data(rows.isEmpty ? "no recalls" : textTable(
            header: ["RECALL", "STATUS", "CAUSE", "SUBJECT", "OPENED (UTC)", "LOTS", "UNITS", "ACKNOWLEDGED"],
            rows: rows.map { r in
                [r.id, r.status, r.cause.replacing("_", with: " "), r.subject, r.openedAt.iso8601, String(r.lots),
                 "\(r.units) (\(r.shippedUnits) shipped)", "\(r.acknowledged) of \(r.consignees)"]
            }, rightAligned: [5]))
    }
}

struct RecallReport: GMPCommand {
    static let path = "recall report"
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "A printable recall report: --html FILE, --pdf FILE (weasyprint).",
        discussion: "--pdf needs weasyprint (apt-get install -y weasyprint)." + "\n\nExamples:\n  gmp recall report RCL26-00001 --html recall.html --pdf recall.pdf")

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The recall.", valueName: "recall")) var recall: String
    @Option(help: ArgumentHelp("Write a printable HTML page here.", valueName: "file"), completion: .file(extensions: ["html"]))
    var html: String?
    @Option(help: ArgumentHelp("Write a PDF here (weasyprint).", valueName: "file"), completion: .file(extensions: ["pdf"]))
    var pdf: String?

    func validate() throws {
        if html == nil && pdf == nil { throw ValidationError("give --html FILE, --pdf FILE or both") }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let doc = try connection.transaction(.repeatableRead, readOnly: true) { db in try Recalls(db).document(recall) }
        let page = RecallHTML.page(doc)
        if let html {
            try PrintedFile.write(page, to: html)
            context.output.note("wrote \(html)")
        }
        if let pdf {
            try PDFConverter.convert(html: page, to: pdf)
            context.output.note("wrote \(pdf)")
        }
        if context.output.json { try context.output.serverDocument(try Recalls(connection).documentJSON(recall)) }
    }
}

struct RecallLookback: GMPCommand {
    static let path = "recall lookback"
    static let configuration = CommandConfiguration(
        commandName: "lookback",
        abstract: "A donor's lookback: every unit from their (and their newborns') tissue, by consignee.",
        discussion: "CSV: one row per unit. --json: the server's document."
            + "\n\nExamples:\n  gmp recall lookback D26-000002\n  gmp recall lookback D26-000002 --json")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: ArgumentHelp("The donor code.", valueName: "donor")) var donor: String

    func validate() throws {
        if format.csv && options.json { throw ValidationError("choose one of --csv and --json") }
    }

    func execute(in context: CommandContext) throws {
        let recalls = Recalls(try context.connect(startingEmbedded: false))
        try RecallText.print(in: context, format: format, json: { try recalls.lookbackJSON(donor) },
                             decoded: { try recalls.lookback(donor) }, csv: RecallText.csv, text: RecallText.text)
    }
}
