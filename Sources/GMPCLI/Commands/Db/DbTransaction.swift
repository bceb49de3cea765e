import ArgumentParser
import PostgresClient

/// `gmp db transaction ID`: whether a transaction committed, for when the connection was
/// lost during COMMIT and gmp could not tell.
struct DbTransaction: GMPCommand {
    static let path = "db transaction"
    static let configuration = CommandConfiguration(
        commandName: "transaction",
        abstract: "Say whether a transaction committed: the check after a connection lost during COMMIT.",
        discussion: """
            When the connection to the server is lost while a command commits, gmp cannot \
            know whether its record was kept, and says so with the transaction's id (exit \
            69) instead of claiming nothing changed. Once the server answers, this asks it \
            (PostgreSQL's txid_status): committed (the record is there: do not run the \
            command again), aborted (nothing was kept: run it again), in progress, or \
            unknown for a transaction too old for the server to remember.

            Example:
              gmp db transaction 48213
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: ArgumentHelp("The transaction id the error named.", valueName: "id"))
    var id: Int64

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let status: String? = try connection.query("SELECT txid_status(\(id)::bigint) AS status")[0].decode("status")
        let outcome = status ?? "unknown"
        try context.output.document(TransactionDocument(transaction: id, status: outcome))
        let line = switch outcome {
        case "committed": "transaction \(id) committed: its record is kept; do not run the command again"
        case "aborted": "transaction \(id) aborted: nothing of it was kept; run the command again"
        case "in progress": "transaction \(id) is still in progress; ask again in a moment"
        default: "transaction \(id) is too old for the server to say; look for its record (gmp audit report)"
        }
        context.output.data(line)
    }
}

/// The `--json` document of `db transaction`.
struct TransactionDocument: Encodable {
    let transaction: Int64
    /// committed, aborted, in progress or unknown.
    let status: String
}
