#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp sop`: controlled procedures, their versions and what each covers.
struct Sop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sop",
        abstract: "Controlled procedures (SOPs): register, revise, list, show (QA approves, signed).",
        discussion: """
            A procedure covers manufacturing step kinds and QC test codes (--covers, repeatable); \
            one procedure covers a step or test. Once a version is in force, a step or result it \
            covers names it and is refused when its performer, analyst or verifier is not \
            qualified on that version (gmp training). A revision lapses the qualifications on the \
            version before it after its retraining window (--retrain-within DAYS). Steps and tests \
            no procedure covers are recorded as before. See gmp help training.

            Examples:
              gmp sop register SOP-MFG-004 --title "Isolation of MSC from tissue" \\
                  --effective 2026-12-01 --retrain-within 30 --covers isolation
              gmp sop register SOP-QC-012 --title "Endotoxin (LAL)" --effective 2026-12-01 --covers endotoxin
              gmp sop revise SOP-MFG-004 --effective 2027-01-15
              gmp sop list --csv
              gmp sop show SOP-MFG-004 --json
            """,
        subcommands: [SopRegister.self, SopRevise.self, SopList.self, SopShow.self])
}

/// What `gmp sop register` and `gmp sop revise` share.
struct SopVersionOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The procedure's code: SOP-MFG-004.", valueName: "code")) var code: String
    @Option(help: ArgumentHelp("The date this version takes effect, YYYY-MM-DD.", valueName: "date")) var effective: CalendarDate
    @Option(help: ArgumentHelp("Days, after a revision takes effect, that training on the version before still qualifies.",
                               valueName: "days"))
    var retrainWithin: Int?
    @Option(help: ArgumentHelp("A step kind or QC test code the procedure covers (repeat for more).", valueName: "kind|test"))
    var covers: [String] = []
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func validate() throws {
        guard ProcedureReference.isCode(code) else {
            throw ValidationError("\"\(code)\" is not a procedure code: use upper-case letters and digits in groups, e.g. SOP-MFG-004")
        }
        if let days = retrainWithin, !(0...366).contains(days) {
            throw ValidationError("--retrain-within is 0 to 366 days")
        }
        for item in covers where ProcedureCoverage(parsing: item) == nil {
            throw ValidationError("--covers \"\(item)\" is neither a step kind nor a test code (lower-case letters, digits, _)")
        }
    }

    /// Approves the version, signed "approved" by QA, and reports it.
    func approve(title: String?, revision: Bool, in context: CommandContext) throws {
        let version = Procedures.NewVersion(code: code, title: title, effectiveOn: effective, retrainWithinDays: retrainWithin,
                                            covers: covers.compactMap(ProcedureCoverage.init(parsing:)))
        let connection = try context.connect(startingEmbedded: false)
        let function = revision ? "gmp.revise_procedure(uuid, text, text, date, integer, text[], text[])"
                                : "gmp.register_procedure(uuid, text, text, date, integer, text[], text[])"
        let number = try SignedAction.run(
            connection, function: function, refusal: "approve procedures", fix: "QA registers and revises procedures",
            signing: SigningIntent(record: "procedure \(code)" + (revision ? " (next version)" : " version 1")
                                   + ", effective \(effective)", meaning: .approved, statement: title),
            passwordStdin: passwordStdin) { db, challenge in
            try Procedures.approve(version, revision: revision, on: db, challenge: challenge)
        }
        let approved = try Procedures(connection).versions(of: code).first { $0.version == number }
        try context.output.document(approved)
        context.output.data("signed: \(connection.userName) approved \(code) version \(number), effective \(effective)"
                            + (approved.map { $0.covers.isEmpty ? "; it covers nothing yet (--covers)" : "; covers \($0.covers.joined(separator: ", "))" } ?? ""))
    }
}

struct SopRegister: GMPCommand {
    static let path = "sop register"
    static let configuration = CommandConfiguration(
        commandName: "register", abstract: "Register a procedure's first version, signed \"approved\" (QA).",
        discussion: """
            Examples:
              gmp sop register SOP-MFG-004 --title "Isolation of MSC from tissue" --effective 2026-12-01 --covers isolation
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var version: SopVersionOptions
    @Option(help: ArgumentHelp("Its title.", valueName: "text")) var title: String

    func execute(in context: CommandContext) throws {
        try version.approve(title: title, revision: false, in: context)
    }
}

struct SopRevise: GMPCommand {
    static let path = "sop revise"
    static let configuration = CommandConfiguration(
        commandName: "revise", abstract: "Approve a procedure's next version (N+1), signed \"approved\" (QA).",
        discussion: """
            Effective today or later, after the version before it. The title, retraining window and \
            coverage carry over; --covers adds to what the procedure covers.

            Examples:
              gmp sop revise SOP-MFG-004 --effective 2027-01-15 --retrain-within 30
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var version: SopVersionOptions
    @Option(help: ArgumentHelp("A new title.", valueName: "text")) var title: String?

    func execute(in context: CommandContext) throws {
        try version.approve(title: title, revision: true, in: context)
    }
}

struct SopList: GMPCommand {
    static let path = "sop list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Every procedure version: effective date, window, what it covers, in force now.",
        discussion: """
            Examples:
              gmp sop list
              gmp sop list --csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat

    func validate() throws {
        try format.requireOne(json: options.json)
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let versions = try connection.transaction(.repeatableRead, readOnly: true) { db in try Procedures(db).versions() }
        let rows = versions.map { v in
            [v.code, String(v.version), v.title, v.effectiveOn, String(v.retrainWithinDays), v.inForce ? "yes" : "no",
             v.covers.joined(separator: " ")]
        }
        if format.csv {
            format.write(header: ["code", "version", "title", "effective_on", "retrain_within_days", "in_force", "covers"],
                         rows: rows)
            return
        }
        try context.output.document(versions)
        context.output.data(versions.isEmpty ? "no procedures registered (gmp sop register)"
            : textTable(header: ["code", "version", "title", "effective", "retrain days", "in force", "covers"], rows: rows))
    }
}

struct SopShow: GMPCommand {
    static let path = "sop show"
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "One procedure: its versions, approvals and coverage.",
        discussion: """
            Examples:
              gmp sop show SOP-MFG-004
              gmp sop show SOP-MFG-004 --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The procedure's code.", valueName: "code")) var code: String

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let versions = try Procedures(connection).versions(of: code)
        guard let latest = versions.last else {
            throw Failure(exitCode: .refused, problem: "no procedure \(code)", fix: "gmp sop list shows the registered procedures")
        }
        try context.output.document(versions)
        var lines = ["\(latest.code): \(latest.title)", "covers: " + (latest.covers.isEmpty ? "nothing" : latest.covers.joined(separator: ", "))]
        lines += versions.map { v in
            "  version \(v.version)  effective \(v.effectiveOn)  retrain within \(v.retrainWithinDays) days  "
                + "approved by \(v.approvedBy) at \(v.approvedAt)" + (v.inForce ? "  (in force)" : "")
        }
        context.output.data(lines.joined(separator: "\n"))
    }
}

/// The `--procedure CODE` option of `gmp lot step` and `gmp qc record`.
struct ProcedureOption: ParsableArguments {
    @Option(help: ArgumentHelp("The procedure followed; the database names it when left out, and refuses one that does not cover the step or test.",
                               valueName: "code"))
    var procedure: String?

    func validate() throws {
        if let procedure, !ProcedureReference.isCode(procedure) {
            throw ValidationError("\"\(procedure)\" is not a procedure code (e.g. SOP-MFG-004; gmp sop list)")
        }
    }
}
