import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp donor determine CODE --outcome …`: the director's signed determination.
struct DonorDetermine: GMPCommand {
    static let path = "donor determine"
    static let configuration = CommandConfiguration(
        commandName: "determine",
        abstract: "Determine a donor's eligibility for a recovery, with your e-signature (directors).",
        discussion: """
            eligible: refused unless every required test is nonreactive inside its specimen \
            window; the refusal names each missing or failing item. ineligible: any \
            reactive result, or your judgement (say why in --statement). exempt: \
            autologous donors only (21 CFR 1271.90).

            Your password is asked for now (or read with --password-stdin) and checked by \
            the server; the signature (meaning "determined") covers the determination and \
            the results it rests on.

            Examples:
              gmp donor determine D26-000001 --outcome eligible --statement "screening and history reviewed"
              gmp donor determine D26-000002 --collection T26-000002 --outcome ineligible --password-stdin < password.txt
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The donor code.", completion: ObjectCompletion.donors) var donor: String
    @Option(help: "eligible, ineligible or exempt.") var outcome: EligibilityOutcome
    @Option(help: ArgumentHelp("The recovery (default: the donor's only collection).", valueName: "id")) var collection: String?
    @Option(help: ArgumentHelp("Your statement, signed with the determination.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    struct Document: Encodable {
        let donor: String
        let collection: String
        let outcome: String
        let determination: Int64
        let signer: String
        let meaning: String
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        guard try Privileges.mayExecute("gmp.determine_eligibility(uuid, text, text, text, text)", on: connection) else {
            throw Failure(exitCode: .permissionDenied,
                          problem: "permission denied: \(connection.userName) may not determine donor eligibility",
                          fix: "a director determines eligibility (21 CFR 1271.50)")
        }
        let registry = DonorRegistry(connection)
        let recovery = try collection ?? {
            let all = try registry.collections(of: donor)
            guard all.count == 1 else {
                throw Failure(exitCode: .usage,
                              problem: all.isEmpty ? "donor \(donor) has no tissue collection to determine eligibility for"
                                                   : "donor \(donor) has \(all.count) collections (\(all.joined(separator: ", ")))",
                              fix: all.isEmpty ? "record the collection first: gmp tissue collect" : "name one with --collection ID")
            }
            return all[0]
        }()
        if outcome == .eligible {
            // Said before the password is asked for; the database checks again when signing.
            let problems = try registry.eligibilityProblems(donor: donor, collection: recovery)
            guard problems.isEmpty else {
                throw Refusal(action: "eligible determination of donor \(donor) for \(recovery)", reasons: problems,
                              fix: "record the missing results (gmp donor screen), or determine the donor ineligible")
            }
        }
        let intent = SigningIntent(record: "donor \(donor), recovery \(recovery): \(outcome.rawValue)", meaning: .determined,
                                   statement: statement)
        let password = try PasswordReader.forSignature(account: connection.userName, signing: intent, fromStandardInput: passwordStdin)
        let id = try SignatureCeremony(connection).sign(password: password, isolation: WriteIsolation.lockedRows) { db, challenge in
            try DonorRegistry.determine(on: db, challenge: challenge, donor: donor, collection: recovery,
                                        outcome: outcome, statement: statement)
        }
        try context.output.document(Document(donor: donor, collection: recovery, outcome: outcome.rawValue,
                                             determination: id, signer: connection.userName, meaning: "determined"))
        context.output.data("signed: \(connection.userName) determined donor \(donor) \(outcome.rawValue) for \(recovery) (determination \(id))")
    }
}
