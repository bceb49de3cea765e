import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp db transaction TOKEN`: whether a transaction committed, for when the connection was
/// lost during COMMIT and gmp could not tell.
struct DbTransaction: GMPCommand {
    static let path = "db transaction"
    static let configuration = CommandConfiguration(
        commandName: "transaction",
        abstract: "Say whether a transaction committed: the check after a connection lost during COMMIT.",
        discussion: """
            When the connection to the server is lost while a command commits, gmp cannot \
            know whether its record was kept, and says so with a token, the transaction's \
            id and the request id gmp stored with the work (exit 69), instead of claiming \
            nothing changed. Once the server answers, this asks it: committed (the receipt \
            stored with the work is there: do not run the command again), not recorded \
            (nothing was kept: run it again), or still in progress.

            A bare transaction id (from gmp before receipts, or a database not migrated to \
            them) is answered by PostgreSQL's txid_status alone; after a server crash that \
            answer may belong to another transaction that was given the same id, which \
            the output says.

            Examples:
              gmp db transaction 48213:6f1c2a9e-5b0d-4c57-9a51-0e1f3c7d2b84
              gmp db transaction 48213 --json
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: ArgumentHelp("The token the error named: ID:REQUEST, or a bare transaction id.", valueName: "token"))
    var token: TransactionToken

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        // A standby may not yet have replayed the commit, or its receipt: its "not
        // recorded" could be wrong.
        guard !connection.isHotStandby else {
            throw Failure(exitCode: .unavailable,
                          problem: "the database server is a hot standby: it may not have replayed the transaction's commit yet",
                          fix: "ask the primary: \(Failure.writeToPrimaryFix)")
        }
        let outcome = try TransactionOutcome.ask(about: token, on: connection)
        try context.output.document(TransactionDocument(outcome))
        let line = switch outcome.status {
        case .committed: "transaction \(token) committed: its record is kept; do not run the command again"
        case .aborted: "transaction \(token) was not recorded: nothing of it was kept; run the command again"
        case .inProgress: "transaction \(token) is still in progress; ask again in a moment"
        case .unknown: "transaction \(token) is too old for the server to say; look for its record (gmp audit report)"
        }
        context.output.data(line)
        if !outcome.exact {
            context.output.warning("answered by transaction id alone: after a server crash this may be another transaction's answer; the ID:REQUEST token a lost COMMIT names is exact")
        }
    }
}

extension TransactionToken: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// The `--json` document of `db transaction`.
struct TransactionDocument: Encodable {
    let transaction: Int64
    /// The request id of the commit receipt asked about; null for a bare transaction id.
    let request: String?
    /// committed, aborted, in progress or unknown (the last only for a bare id).
    let status: String
    /// true when the receipt answered; false when txid_status did (a bare id).
    let exact: Bool

    init(_ outcome: TransactionOutcome) {
        transaction = outcome.token.transactionID
        request = outcome.token.requestID?.uuidString.lowercased()
        status = outcome.status.rawValue
        exact = outcome.exact
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(transaction, forKey: .transaction)
        try container.encode(request, forKey: .request)
        try container.encode(status, forKey: .status)
        try container.encode(exact, forKey: .exact)
    }

    private enum CodingKeys: String, CodingKey { case transaction, request, status, exact }
}
