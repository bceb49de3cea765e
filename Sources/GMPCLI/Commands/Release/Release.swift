import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp release`: lot disposition.
struct Release: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Check a lot against its release criteria; release, reject, hold, or release exceptionally.",
        discussion: """
            'gmp release check LOT' shows every criterion with its limit, result and verdict, \
            donor eligibility, open deviations and anything else that blocks; it exits 0 when \
            the lot can be released and 65 when it cannot, naming each blocker.

            Every disposition is signed, and the database re-checks its conditions when it \
            commits: a release needs QA, no blocker, and a signer who neither recorded, \
            performed nor verified any of the lot's results; the signature covers the whole \
            release package (every result and verification, the specification version, the \
            evaluation, deviations and the donor determination). An exceptional release is \
            the director's, for a lot whose only blockers are failed criteria or donor \
            eligibility, with the treating physician's request and acceptance; it is never \
            shown as a plain release. Two people deciding at once: one disposition, one refusal.
            """,
        subcommands: [ReleaseCheckCommand.self, ReleaseApprove.self, ReleaseReject.self, RejectionRecordCommand.self, ReleaseHold.self,
                      ReleaseExceptional.self])
}

/// `gmp release check LOT`.
struct ReleaseCheckCommand: GMPCommand {
    static let path = "release check"
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Evaluate a lot against its specification; exit 0 if releasable, 65 if not.",
        discussion: """
            Examples:
              gmp release check G1234260000014
              gmp release check G1234260000014 --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        let (json, check) = try connection.transaction(.repeatableRead, readOnly: true) { db in
            let disposition = Disposition(db)
            let json = try disposition.checkJSON(din)
            return (json, try ReleaseText.decode(json))
        }
        try context.output.serverDocument(json)
        context.output.data(ReleaseText.report(check, din: din, style: context.output.stdoutStyle).joined(separator: "\n"))
        guard check.releasable else {
            throw Refusal(action: "release of lot \(din.eyeReadable)", reasons: check.problems,
                          fix: check.fix)
        }
    }
}


extension ReleaseCheckCommand: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([.globalOptions, .argument { $0.lot = $1 }])
}
