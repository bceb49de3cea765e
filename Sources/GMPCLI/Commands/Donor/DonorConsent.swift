import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp donor consent CODE`: records consent.
struct DonorConsent: GMPCommand {
    static let path = "donor consent"
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Record a donor's consent: date, scope and who took it (operators, directors).",
        discussion: """
            Examples:
              gmp donor consent D26-000001 --given-on 2026-11-30 --scope "allogeneic MSC manufacture" --taken-by "Dr Ray Chen, donor physician"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The donor code (for a newborn, the birth mother's consent may be recorded on her code).", completion: ObjectCompletion.donors) var donor: String
    @Option(help: ArgumentHelp("The date the donor consented, YYYY-MM-DD.", valueName: "date")) var givenOn: CalendarDate
    @Option(help: ArgumentHelp("What the donor consented to.", valueName: "text")) var scope: String
    @Option(help: ArgumentHelp("Who took the consent (name and role).", valueName: "text")) var takenBy: String

    struct Document: Encodable {
        let donor: String
        let consent: Int64
        let givenOn: String
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let id = try connection.transaction(WriteIsolation.lockedRows) { db in
            try DonorRegistry(db).recordConsent(donor: donor, givenOn: givenOn, scope: scope, takenBy: takenBy)
        }
        try context.output.document(Document(donor: donor, consent: id, givenOn: givenOn.description))
        context.output.data("\(donor): consent \(id) recorded (given \(givenOn))")
    }
}

/// `gmp donor withdraw-consent CODE`: the withdrawal blocks new collections and shows on
/// every lot of the donor.
struct DonorWithdrawConsent: GMPCommand {
    static let path = "donor withdraw-consent"
    static let configuration = CommandConfiguration(
        commandName: "withdraw-consent",
        abstract: "Record that a donor withdrew consent: no new collection, and every lot shows it.",
        discussion: """
            Examples:
              gmp donor withdraw-consent D26-000001 --on 2026-12-02 --reason "donor withdrew by letter of 2 December"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The donor code.", completion: ObjectCompletion.donors) var donor: String
    @Option(help: ArgumentHelp("The date the donor withdrew, YYYY-MM-DD.", valueName: "date")) var on: CalendarDate
    @Option(help: ArgumentHelp("Why, for the audit trail (required).", valueName: "text")) var reason: String

    struct Document: Encodable {
        let donor: String
        let withdrawnOn: String
        let consentsWithdrawn: Int
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let count = try connection.transaction(WriteIsolation.lockedRows) { db in
            try DonorRegistry(db).withdrawConsent(donor: donor, on: on, reason: reason)
        }
        try context.output.document(Document(donor: donor, withdrawnOn: on.description, consentsWithdrawn: count))
        context.output.data("\(donor): consent withdrawn on \(on); no new collection will be accepted")
    }
}
