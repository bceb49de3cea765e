import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// What every disposition prints.
struct DispositionDocument: Encodable {
    let lot: String
    let status: String
    let signature: Int64
    let signer: String
    let meaning: String
    let packageSha256: String?
}

/// The steps every disposition takes: the grant first, then (for a release) the check,
/// shown to the signer before the password is asked for, then the signature over the
/// package exactly as shown.
enum DispositionRun {
    static func run(_ context: CommandContext, lot: String, passwordStdin: Bool, refusal: String, fix: String,
                    decision: (ReleaseCheck) throws -> Disposition.Decision) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        let check = try connection.transaction(.repeatableRead, readOnly: true) { db in try Disposition(db).check(din) }
        let chosen = try decision(check)
        try SignedAction.requireGrant(connection, function: chosen.function, refusal: refusal, fix: fix)
        if case .release = chosen {
            context.output.data(ReleaseText.report(check, din: din, style: context.output.stdoutStyle).joined(separator: "\n"))
            guard check.releasable else {
                throw Refusal(action: "release of lot \(din.eyeReadable)", reasons: check.problems,
                              fix: check.fix)
            }
        }
        if case .exceptional = chosen {
            context.output.data(ReleaseText.report(check, din: din, style: context.output.stdoutStyle).joined(separator: "\n"))
            guard !check.releasable else {
                throw Failure(exitCode: .refused, problem: "lot \(din.eyeReadable) meets its release criteria",
                              fix: "QA releases it normally: gmp release approve \(din.keyed)")
            }
        }
        let signature = try SignedAction.sign(
            connection, signing: SigningIntent(record: "lot \(din.eyeReadable): \(chosen.status.rawValue)", meaning: chosen.meaning,
                                               statement: chosen.statement),
            passwordStdin: passwordStdin, isolation: WriteIsolation.lockedRows) { db, challenge in
            try Disposition.decide(chosen, on: db, challenge: challenge, lot: din)
        }
        let released: Bool = if case .release = chosen { true } else { false }
        try context.output.document(DispositionDocument(
            lot: din.eyeReadable, status: chosen.status.rawValue, signature: signature, signer: connection.userName,
            meaning: chosen.meaning.rawValue, packageSha256: released || chosen.status == .exceptionallyReleased ? check.packageSha256 : nil))
        context.output.data("signed: \(connection.userName) \(chosen.meaning.rawValue) lot \(din.eyeReadable) "
                            + "(signature \(signature)); status \(chosen.status.rawValue.uppercased())"
                            + (released ? "; certificate: gmp coa \(din.keyed)" : ""))
    }
}

struct ReleaseApprove: GMPCommand {
    static let path = "release approve"
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Release a lot with your e-signature (QA; not a person who recorded or verified its results).",
        discussion: """
            Examples:
              gmp release approve G1234260000014 --statement "batch record and QC results reviewed"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("Your statement, signed with the release.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        try DispositionRun.run(context, lot: lot, passwordStdin: passwordStdin, refusal: "release lots",
                               fix: "QA releases lots") { check in .release(packageSha256: check.packageSha256, statement: statement) }
    }
}

struct ReleaseReject: GMPCommand {
    static let path = "release reject"
    static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "Reject a lot with your e-signature (QA). Final.",
        discussion: """
            Examples:
              gmp release reject G1234260000014 --reason "endotoxin 40 EU/mL over the 25 EU/mL limit; OOS confirmed"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("Why, signed with the rejection (required).", valueName: "text")) var reason: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        try DispositionRun.run(context, lot: lot, passwordStdin: passwordStdin, refusal: "reject lots",
                               fix: "QA rejects lots") { _ in .reject(reason: reason) }
    }
}

struct ReleaseHold: GMPCommand {
    static let path = "release hold"
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Hold a lot pending an investigation, with your e-signature (QA).",
        discussion: """
            The hold is lifted with 'gmp lot unhold' once its reason is resolved.

            Examples:
              gmp release hold G1234260000014 --reason "deviation DEV26-00001 under investigation"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("Why, signed with the hold (required).", valueName: "text")) var reason: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        try DispositionRun.run(context, lot: lot, passwordStdin: passwordStdin, refusal: "hold lots",
                               fix: "QA holds lots") { _ in .hold(reason: reason) }
    }
}

struct ReleaseExceptional: GMPCommand {
    static let path = "release exceptional"
    static let configuration = CommandConfiguration(
        commandName: "exceptional",
        abstract: "Release a lot that fails its criteria for one patient, with your e-signature (director).",
        discussion: """
            FACT-JACIE D11.1.2, EU ATMP GMP 11.5: only for failed criteria or donor \
            eligibility (every result recorded and verified, every deviation closed), at the \
            treating physician's documented request, with their acceptance of the risk, your \
            risk justification and who was notified. It is recorded and shown as an \
            exceptional release, never as a release, and has no Certificate of Analysis.

            Examples:
              gmp release exceptional G1234260000014 --physician "Dr A. Patel" --request "letter REQ-7, 2026-12-01" --acceptance "risk evaluation accepted, signed 2026-12-02" --justification "no alternative therapy" --notified "sponsor and authority, 2026-12-02"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Option(help: ArgumentHelp("The treating physician.", valueName: "name")) var physician: String
    @Option(help: ArgumentHelp("The physician's documented request (reference, date).", valueName: "text")) var request: String
    @Option(help: ArgumentHelp("The physician's acceptance of the risk evaluation.", valueName: "text")) var acceptance: String
    @Option(help: ArgumentHelp("Your risk justification.", valueName: "text")) var justification: String
    @Option(help: ArgumentHelp("Who was notified (sponsor, competent authority) and when.", valueName: "text")) var notified: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let exceptional = Disposition.ExceptionalRelease(physician: physician, request: request, acceptance: acceptance,
                                                         justification: justification, notified: notified)
        try DispositionRun.run(context, lot: lot, passwordStdin: passwordStdin, refusal: "release lots exceptionally",
                               fix: "the director authorizes an exceptional release") { check in
            .exceptional(packageSha256: check.packageSha256, exceptional)
        }
    }
}

extension Disposition.Decision {
    /// The signer's own words recorded with the decision, shown before signing.
    var statement: String? {
        switch self {
        case .release(_, let statement): statement
        case .reject(let reason), .hold(let reason): reason
        case .exceptional(_, let exceptional): exceptional.justification
        }
    }
}
