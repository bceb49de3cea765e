import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp qc`: QC results, recorded as typed and judged by the database at once.
struct QC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qc",
        abstract: "Record, verify, correct and invalidate QC results.",
        discussion: """
            A result is judged against the lot's specification the moment it is recorded; \
            an out-of-specification (OOS) result is flagged at once and opens an OOS \
            investigation on the lot. Results are never edited or deleted:
              correct     a typing error: a new result pointing at the original, with a reason
              verify      a second person reviews the result (e-signature, meaning "reviewed")
              invalidate  QA sets a result aside for an assignable cause (e-signature)
              confirm     the analyst named on a result someone else recorded confirms it \
            as their own (e-signature, meaning "performed"); until then it does not count
            A retest is recorded like any result, and is allowed only after an OOS or an \
            invalidated result, up to the specification's maximum; an OOS that stands keeps \
            the criterion failed whatever a retest shows.
            """,
        subcommands: [QCRecord.self, QCCorrect.self, QCVerify.self, QCConfirm.self, QCInvalidate.self, QCList.self])
}

/// The value options shared by record and correct.
struct ResultValueOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "The result as measured: 98.2, <0.05 (below the limit of detection), >1000, or outcomes such as no_growth or positive,positive,positive (one per part).",
        valueName: "value"))
    var value: String
    @Option(help: ArgumentHelp("The unit of a number: %, cells, 10^6 cells, EU/mL, ng/mL, nm, particles/mL …", valueName: "unit"))
    var unit: String?
    @Option(help: ArgumentHelp("The test method (SOP, pharmacopoeia chapter).", valueName: "text")) var method: String
    @Option(help: ArgumentHelp("The instrument used.", valueName: "text")) var instrument: String?
    @Option(help: ArgumentHelp("The account that performed the test (default: you); another person confirms it with gmp qc confirm.",
                               valueName: "id")) var analyst: String?
    @Option(help: ArgumentHelp("When the test was performed, ISO 8601 (default: now).", valueName: "time")) var at: String?
    @Option(help: ArgumentHelp("A note kept with the result.", valueName: "text")) var note: String?

    func entry() throws -> ResultEntry {
        do {
            return try ResultEntry(value, unit: unit)
        } catch {
            // "the result is empty" names the result itself; the others name the value typed.
            let problem = String(error.description.prefix { $0 != ";" })
            throw Failure(exitCode: .usage, problem: error == .empty ? problem : "result \(problem)",
                          fix: String(error.description.split(separator: "; fix: ", maxSplits: 1).last ?? ""))
        }
    }

    func provenance() throws -> QCResults.Provenance {
        var time: Timestamp?
        if let at {
            guard let parsed = Timestamp(iso8601: at) else {
                throw Failure(exitCode: .usage, problem: "--at \(at) is not a time",
                              fix: "give ISO 8601 with a zone, e.g. 2026-11-30T14:05:00Z")
            }
            time = parsed
        }
        return QCResults.Provenance(method: method, instrument: instrument, analyst: analyst, performedAt: time, note: note)
    }
}

/// What record and correct print.
struct RecordedDocument: Encodable {
    let lot: String
    let test: String
    let result: QCResults.Recorded
    let value: String
}

enum RecordedText {
    static func report(_ context: CommandContext, lot: DonationIdentificationNumber, test: String, entry: ResultEntry,
                       _ recorded: QCResults.Recorded) throws {
        try context.output.document(RecordedDocument(lot: lot.eyeReadable, test: test, result: recorded, value: entry.display))
        let attempt = recorded.attempt > 1 ? " (retest \(recorded.attempt - 1))" : ""
        if recorded.verdict == "fail" {
            context.output.data("""
                result \(recorded.id): \(test) \(entry.display) against \(recorded.limitText)\(attempt): \(context.output.stdoutStyle.red("OUT OF SPECIFICATION"))
                OOS investigation \(recorded.deviationId ?? "?") opened on lot \(lot.eyeReadable); the result is kept as recorded
                """)
        } else {
            context.output.data("result \(recorded.id): \(test) \(entry.display) against \(recorded.limitText)\(attempt): \(context.output.stdoutStyle.green("pass")); "
                                + "a second person verifies it: gmp qc verify \(recorded.id)")
        }
        if let warning = recorded.warning { context.output.warning(warning) }
        if let analyst = recorded.awaitingAnalyst {
            context.output.note("result \(recorded.id) names \(analyst) as its analyst: it counts for release once "
                                + "\(analyst) confirms it (gmp qc confirm \(recorded.id))")
        }
    }
}

/// `gmp qc record LOT TEST VALUE --unit … --method …`.
struct QCRecord: GMPCommand {
    static let path = "qc record"
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Record a QC result; it is judged against the lot's specification at once (QC, operators).",
        discussion: """
            A test a procedure in force covers names it (--procedure checks it); the analyst must \
            be qualified on it (gmp training matrix).

            Examples:
              gmp qc record G1234260000014 viability 95.2 --unit % --method "7-AAD flow cytometry"
              gmp qc record G1234260000014 endotoxin 12 --unit EU/mL --method "Ph. Eur. 2.6.14" --analyst jlee
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Argument(help: ArgumentHelp("The test code in the lot's specification (gmp spec show).", valueName: "test")) var test: String
    @OptionGroup var result: ResultValueOptions
    @OptionGroup var material: MaterialOptions
    @OptionGroup var equipment: EquipmentOptions
    @OptionGroup var procedure: ProcedureOption

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let entry = try result.entry()
        let provenance = try result.provenance()
        let uses = try material.uses()
        let used = try equipment.ids()
        let connection = try context.connect(startingEmbedded: false)
        let recorded = try connection.transaction(WriteIsolation.lockedRows) { db in
            try Procedures(db).name(procedure.procedure)
            let recorded = try QCResults(db).record(entry, test: test, on: din, provenance)
            try Materials(db).consume(uses, by: .result(recorded.id))
            try EquipmentRegister(db).use(used, by: .result(recorded.id))
            return recorded
        }
        try RecordedText.report(context, lot: din, test: test, entry: entry, recorded)
    }
}

/// `gmp qc correct RESULT VALUE --reason …`.
struct QCCorrect: GMPCommand {
    static let path = "qc correct"
    static let configuration = CommandConfiguration(
        commandName: "correct",
        abstract: "Correct a typing error: a new result replaces the original, which is kept (never an OOS result).",
        discussion: """
            Examples:
              gmp qc correct 17 94.8 --unit % --method "7-AAD flow cytometry" --reason "transcription error: 98.4 typed for 94.8"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The result to correct.", valueName: "result-id")) var resultID: Int64
    @OptionGroup var result: ResultValueOptions
    @Option(help: ArgumentHelp("Why (required).", valueName: "text")) var reason: String

    func execute(in context: CommandContext) throws {
        let entry = try result.entry()
        let provenance = try result.provenance()
        let connection = try context.connect(startingEmbedded: false)
        let (din, test, recorded) = try connection.transaction(WriteIsolation.lockedRows) { db in
            let results = QCResults(db)
            guard let original = try results.result(resultID) else {
                throw Failure(exitCode: .refused, problem: "no QC result \(resultID)", fix: "gmp qc list LOT shows its results")
            }
            let din = try DonationIdentificationNumber(stored: original.din)
            return (din, original.test, try results.record(entry, test: original.test, on: din, provenance,
                                                           corrects: resultID, reason: reason))
        }
        try RecordedText.report(context, lot: din, test: test, entry: entry, recorded)
    }
}

/// `gmp qc verify RESULT…` (a second person, signed "reviewed").
struct QCVerify: GMPCommand {
    static let path = "qc verify"
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify results as the second person, with your e-signature (not their recorder or analyst).",
        discussion: """
            Examples:
              gmp qc verify 17 18 19 --statement "checked against the raw data"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The results to verify; one signature each, one password.", valueName: "result-id"))
    var results: [Int64]
    @Option(help: ArgumentHelp("Your statement, signed with each verification.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        guard !results.isEmpty else { throw Failure(exitCode: .usage, problem: "no result given", fix: "gmp qc verify RESULT-ID…") }
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.requireGrant(connection, function: "gmp.verify_result(uuid, bigint, text)",
                                      refusal: "verify results", fix: "QC or QA people verify results")
        let intent = SigningIntent(record: "verification of QC result(s) \(results.map(String.init).joined(separator: ", "))",
                                   meaning: .reviewed, statement: statement)
        let password = try PasswordReader.forSignature(account: connection.userName, signing: intent, fromStandardInput: passwordStdin)
        // One signature per result, each in its own transaction: a refusal stops there,
        // and the results before it stay verified (the output lists them).
        var signatures: [SignedDocument] = []
        for id in results {
            let signature: Int64
            do {
                signature = try SignatureCeremony(connection).sign(password: password, isolation: WriteIsolation.lockedRows) { db, challenge in
                    try QCResults.verify(on: db, challenge: challenge, result: id, statement: statement)
                }
            } catch {
                signatures.forEach { context.output.note("signed: \(connection.userName) reviewed \($0.record)") }
                throw error
            }
            signatures.append(SignedDocument(record: "result \(id)", signature: signature, signer: connection.userName,
                                             meaning: SignatureMeaning.reviewed.rawValue))
        }
        try context.output.document(signatures)
        context.output.data(signatures.map { "signed: \(connection.userName) reviewed \($0.record) (signature \($0.signature))" }
            .joined(separator: "\n"))
    }
}

/// `gmp qc confirm RESULT` (the named analyst, signed "performed").
struct QCConfirm: GMPCommand {
    static let path = "qc confirm"
    static let configuration = CommandConfiguration(
        commandName: "confirm",
        abstract: "Confirm, as the analyst it names, a result someone else recorded, with your e-signature.",
        discussion: """
            A result recorded in another person's name counts for release only once that person confirms it.

            Examples:
              gmp qc confirm 17 --statement "I performed this test and this is my result"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The result.", valueName: "result-id")) var resultID: Int64
    @Option(help: ArgumentHelp("Your statement, signed with the confirmation.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.runAndReport(connection, function: "gmp.confirm_result(uuid, bigint, text)",
                                      refusal: "confirm results", fix: "the analyst (operator, QC or QA) confirms their own result",
                                      signing: SigningIntent(record: "QC result \(resultID), as yours", meaning: .performed,
                                                             statement: statement ?? "I performed this test and this is my result"),
                                      passwordStdin: passwordStdin, record: "result \(resultID)",
                                      done: "confirmed performing result \(resultID)", isolation: WriteIsolation.lockedRows,
                                      in: context) { db, challenge in
            try QCResults.confirm(on: db, challenge: challenge, result: resultID, statement: statement)
        }
    }
}

/// `gmp qc invalidate RESULT --cause …` (QA, signed).
struct QCInvalidate: GMPCommand {
    static let path = "qc invalidate"
    static let configuration = CommandConfiguration(
        commandName: "invalidate",
        abstract: "Set a result aside for an assignable laboratory cause, with your e-signature (QA).",
        discussion: """
            The result stays in the record, marked invalidated; a retest may follow if the specification allows one.

            Examples:
              gmp qc invalidate 17 --cause "pipette out of calibration (CAL-0042)"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The result.", valueName: "result-id")) var resultID: Int64
    @Option(help: ArgumentHelp("The assignable cause found (required).", valueName: "text")) var cause: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.runAndReport(connection, function: "gmp.invalidate_result(uuid, bigint, text)",
                                      refusal: "invalidate results", fix: "QA approves an invalidation",
                                      signing: SigningIntent(record: "invalidation of QC result \(resultID)", meaning: .approved,
                                                             statement: cause),
                                      passwordStdin: passwordStdin, record: "result \(resultID)",
                                      done: "invalidated result \(resultID)", isolation: WriteIsolation.lockedRows,
                                      in: context) { db, challenge in
            try QCResults.invalidate(on: db, challenge: challenge, result: resultID, cause: cause)
        }
    }
}

/// `gmp qc list LOT`.
struct QCList: GMPCommand {
    static let path = "qc list"
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a lot's results, corrections and verifications.",
        discussion: """
            Examples:
              gmp qc list G1234260000014
              gmp qc list G1234260000014 --json
              gmp qc list G1234260000014 --csv --bom > results.csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String

    func validate() throws { try format.requireOne(json: options.json) }

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in try QCResults(db).list(din) }
        if format.csv {
            format.write(header: ["id", "lot", "din", "test", "attempt", "result", "verdict", "analyst", "recorded_by", "performed_at",
                                  "corrects", "corrected_by", "verified_by", "invalidated_by", "deviation", "awaiting_analyst"],
                         rows: rows.map { r in
                [String(r.id), r.lot, r.din, r.test, String(r.attempt), r.result, r.verdict, r.analyst, r.recordedBy, r.performedAt.iso8601,
                 r.corrects.map(String.init) ?? "", r.correctedBy.map(String.init) ?? "", r.verifiedBy ?? "", r.invalidatedBy ?? "",
                 r.deviationId ?? "", r.awaitingAnalyst ? "true" : "false"]
            })
            return
        }
        try context.output.document(rows)
        let table = rows.map { r in
            var state: [String] = []
            if let by = r.correctedBy { state.append("corrected by \(by)") }
            if let by = r.invalidatedBy { state.append("invalidated by \(by)") }
            if r.awaitingAnalyst { state.append("awaiting \(r.analyst)'s confirmation") }
            state.append(r.verifiedBy.map { "verified by \($0)" } ?? "unverified")
            return [String(r.id), r.test, "#\(r.attempt)", r.result, r.verdict, r.analyst, state.joined(separator: ", ")]
        }
        let style = context.output.stdoutStyle
        context.output.data(table.isEmpty ? "no results for lot \(din.eyeReadable) yet"
            : textTable(header: ["RESULT", "TEST", "TRY", "VALUE", "VERDICT", "ANALYST", "STATE"], rows: table) { column, cell in
                column == 4 ? style.verdict(cell) : cell
            })
    }
}
