#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp training`: training records signed by trainer and trainee, and the matrix.
struct Training: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training",
        abstract: "Training on procedures: record (the trainer), acknowledge (the trainee), matrix.",
        discussion: """
            The trainer records that a person was trained on a procedure version, signing \
            "performed"; the trainer is qualified on that version or holds the qa role. The \
            trainee then acknowledges it with their own signature ("reviewed"). Only a record \
            signed by both qualifies. See gmp help training.

            Examples:
              gmp training record olga SOP-MFG-004
              gmp training acknowledge 12            (as olga)
              gmp training matrix
              gmp training matrix --sop SOP-MFG-004 --missing
              gmp training matrix --person olga --csv
            """,
        subcommands: [TrainingRecord.self, TrainingAcknowledge.self, TrainingMatrix.self])
}

struct TrainingRecord: GMPCommand {
    static let path = "training record"
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Record that a person was trained on CODE[@VERSION], signed by you as the trainer.",
        discussion: """
            Without @VERSION: the latest registered version (train on a revision before it takes \
            effect). The trainee then runs gmp training acknowledge ID.

            Examples:
              gmp training record olga SOP-MFG-004
              gmp training record olga SOP-MFG-004@2 --at 2026-12-03T09:00:00Z --note "practical on BSC-01"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The trainee's account id.", valueName: "person")) var person: String
    @Argument(help: ArgumentHelp("The procedure, CODE or CODE@VERSION.", valueName: "procedure")) var procedure: String
    @Option(help: ArgumentHelp("When the training took place (default: now).", valueName: "time")) var at: TimeArgument?
    @Option(help: ArgumentHelp("A note, signed with the record.", valueName: "text")) var note: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func validate() throws {
        if ProcedureReference(parsing: procedure) == nil {
            throw ValidationError("\"\(procedure)\" is not CODE or CODE@VERSION (e.g. SOP-MFG-004@2)")
        }
    }

    func execute(in context: CommandContext) throws {
        guard let reference = ProcedureReference(parsing: procedure) else { return }
        let connection = try context.connect(startingEmbedded: false)
        let id = try SignedAction.run(
            connection, function: "gmp.record_training(uuid, text, text, integer, timestamp with time zone, text)",
            refusal: "record training", fix: "a trainer qualified on the procedure, or QA, records it",
            signing: SigningIntent(record: "training of \(person) on \(reference)", meaning: .performed, statement: note),
            passwordStdin: passwordStdin) { db, challenge in
            try TrainingRecords.record(trainee: person, on: reference, trainedAt: at?.timestamp, note: note, db: db,
                                       challenge: challenge)
        }
        let record = try TrainingRecords(connection).record(id)
        try context.output.document(record)
        context.output.data("signed: \(connection.userName) trained \(person) on \(reference.code) version \(record?.version ?? 0) "
                            + "(training \(id)); it qualifies once \(person) signs it: gmp training acknowledge \(id)")
    }
}

struct TrainingAcknowledge: GMPCommand {
    static let path = "training acknowledge"
    static let configuration = CommandConfiguration(
        commandName: "acknowledge", abstract: "Acknowledge your own training, with your signature: from then on it qualifies.",
        discussion: """
            Examples:
              gmp training acknowledge 12
              gmp training acknowledge 12 --statement "read, understood, practised under supervision"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The training record's id.", valueName: "training-id")) var id: Int64
    @Option(help: ArgumentHelp("What you sign (default: trained on it, read and understood).", valueName: "text"))
    var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let signature = try SignedAction.run(
            connection, function: "gmp.acknowledge_training(uuid, bigint, text)",
            refusal: "acknowledge training", fix: "the trainee acknowledges their own training",
            signing: SigningIntent(record: "training \(id)", meaning: .reviewed, statement: statement),
            passwordStdin: passwordStdin) { db, challenge in
            try TrainingRecords.acknowledge(id, statement: statement, db: db, challenge: challenge)
        }
        let record = try TrainingRecords(connection).record(id)
        try context.output.document(record)
        context.output.data("signed: \(connection.userName) acknowledged training \(id)"
                            + (record.map { " on \($0.code) version \($0.version)" } ?? "") + " (signature \(signature))")
    }
}

struct TrainingMatrix: GMPCommand {
    static let path = "training matrix"
    static let configuration = CommandConfiguration(
        commandName: "matrix", abstract: "Who may do what now: people × procedures, each qualified, lapsed or not trained.",
        discussion: """
            People: active accounts holding the operator, qc or qa role. A cell reads qualified \
            (vN), within the retraining window of a revision, awaiting the trainee's signature, \
            lapsed, or not trained. --missing (with --sop) lists only those who may not work under it.

            Examples:
              gmp training matrix
              gmp training matrix --sop SOP-MFG-004 --missing
              gmp training matrix --person olga --json
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("One procedure.", valueName: "code")) var sop: String?
    @Option(help: ArgumentHelp("One person.", valueName: "id")) var person: String?
    @Flag(help: "Only those not qualified (with --sop): who has not signed it.") var missing = false
    @OptionGroup var format: TraceFormat

    func validate() throws {
        try format.requireOne(json: options.json)
        if missing && sop == nil { throw ValidationError("--missing goes with --sop CODE") }
        if let sop, !ProcedureReference.isCode(sop) { throw ValidationError("\"\(sop)\" is not a procedure code") }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        var cells = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try TrainingRecords(db).matrix(procedure: sop, person: person)
        }
        if missing {
            cells = cells.filter { QualificationState(rawValue: $0.state)?.mayWork != true }
        }
        let rows = cells.map { c in
            [c.person, c.fullName, c.code, c.version.map(String.init) ?? "", c.state,
             QualificationState(rawValue: c.state)?.text(version: c.version, trainedVersion: c.trainedVersion,
                                                         windowEndsOn: c.windowEndsOn) ?? c.state]
        }
        if format.csv {
            format.write(header: ["person", "full_name", "procedure", "version", "state", "reads"], rows: rows)
            return
        }
        try context.output.document(cells)
        if cells.isEmpty {
            context.output.data(missing ? "everyone is qualified on \(sop ?? "it")" : "no procedures or no people to show (gmp sop list)")
            return
        }
        context.output.data(textTable(header: ["person", "name", "procedure", "version", "state", "reads"], rows: rows))
    }
}
