import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp batch-record`: the executed batch record of a lot and QA's review of it (issue 15).
struct BatchRecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch-record",
        abstract: "Print a lot's executed batch record (text, --json, --html, --pdf); QA reviews it before release.",
        discussion: """
            The batch record shows every step in order with its performer (printed name), \
            passage data, the material lots consumed and the equipment used; the deviations and \
            temperature excursions touching the lot; the QC summary; the units and their \
            custody; and every signature on these records with its manifestation. \
            'gmp lot record LOT' prints the same.

            A lot made under a master batch record is released only after QA's review, signed \
            "reviewed" over the record's SHA-256; any later change to what it covers (a step, a \
            result, a deviation, a custody event) breaks the review and blocks release again.

            Examples:
              gmp batch-record G1234260000014
              gmp batch-record G1234260000014 --pdf batch-record.pdf
              gmp batch-record review G1234260000014 --statement "record complete and consistent"
            """,
        subcommands: [BatchRecordShow.self, BatchRecordReview.self],
        defaultSubcommand: BatchRecordShow.self)
}

/// The options of a printed batch record: `gmp batch-record [show] LOT` and `gmp lot record LOT`.
struct BatchRecordPrintOptions: ParsableArguments {
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("Also write a printable HTML page here.", valueName: "file"), completion: .file(extensions: ["html"]))
    var html: String?
    @Option(help: ArgumentHelp("Also write a PDF here (A4, weasyprint).", valueName: "file"), completion: .file(extensions: ["pdf"]))
    var pdf: String?

    /// Reads the record (after chaining pending events, as it names its newest event) and
    /// writes it in every form asked for.
    func print(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        context.chainPendingEvents(on: connection)
        let json = try connection.transaction(.repeatableRead, readOnly: true) { db in try BatchRecords(db).documentJSON(din) }
        let record = try BatchRecord.decode(json: json)
        try context.output.serverDocument(json)
        try PrintedFile.write({ BatchRecordRendering.html(record) }, html: html, pdf: pdf, in: context)
        context.output.data(BatchRecordRendering.text(record))
    }
}

struct BatchRecordShow: GMPCommand {
    static let path = "batch-record show"
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a lot's executed batch record (the default: gmp batch-record LOT).",
        discussion: """
            --json: the server's document; content_sha256 is what QA's review signs. \
            --html/--pdf: an A4 page for an inspector, the lot on every page. --pdf needs weasyprint.

            Examples:
              gmp batch-record show G1234260000014
              gmp batch-record G1234260000014 --html record.html --pdf record.pdf
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var printing: BatchRecordPrintOptions

    func execute(in context: CommandContext) throws {
        try printing.print(in: context)
    }
}

/// `gmp lot record LOT` (and `gmp batch record LOT`): the same page as `gmp batch-record LOT`.
struct LotRecord: GMPCommand {
    static let path = "lot record"
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Print a lot's executed batch record (as gmp batch-record LOT).",
        discussion: """
            QA reviews it with gmp batch-record review LOT.

            Examples:
              gmp lot record G1234260000014
              gmp batch record G1234260000014 --pdf batch-record.pdf
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var printing: BatchRecordPrintOptions

    func execute(in context: CommandContext) throws {
        try printing.print(in: context)
    }
}

struct BatchRecordReview: GMPCommand {
    static let path = "batch-record review"
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Review a lot's executed batch record with your e-signature (QA; not a person who performed its steps).",
        discussion: """
            Signs "reviewed" over the SHA-256 of the batch record as it is read now (shown \
            before the password is asked for); refused if it changes before the signature.

            Examples:
              gmp batch-record review G1234260000014 --statement "steps, materials, deviations and QC complete"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("Your statement, signed with the review.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.requireGrant(connection, function: "gmp.review_batch_record(uuid, text, text, text)",
                                      refusal: "review batch records", fix: "QA reviews batch records")
        let json = try connection.transaction(.repeatableRead, readOnly: true) { db in try BatchRecords(db).documentJSON(din) }
        let record = try BatchRecord.decode(json: json)
        let signature = try SignedAction.sign(
            connection,
            signing: SigningIntent(record: "the batch record of lot \(record.lot.eyeReadable) (SHA-256 \(record.contentSha256))",
                                   meaning: .reviewed, statement: statement),
            passwordStdin: passwordStdin) { db, challenge in
            try BatchRecords.review(on: db, challenge: challenge, lot: din, contentSha256: record.contentSha256,
                                    statement: statement)
        }
        try context.output.document(Reviewed(record: record.lot.keyedId, signature: signature, signer: connection.userName,
                                             meaning: SignatureMeaning.reviewed.rawValue,
                                             contentSha256: record.contentSha256))
        context.output.data("signed: \(connection.userName) reviewed the batch record of lot \(record.lot.eyeReadable) "
                            + "(signature \(signature), SHA-256 \(record.contentSha256))")
    }

    /// What the review reports: the signed document plus the hash it covers.
    struct Reviewed: Encodable {
        let record: String
        let signature: Int64
        let signer: String
        let meaning: String
        let contentSha256: String
    }
}
