/// The connection was lost while COMMIT was under way: the server may have recorded the
/// transaction or not, and the client cannot tell. Never reported as "nothing was
/// committed" — running the work again could record it twice.
///
/// `transaction` names it: its id (read just before COMMIT) and, where the database keeps
/// commit receipts (``CommitReceipts``), the request id stored with the work. Once the
/// server answers again, the receipt's presence says whether it committed, exactly; the id
/// alone (`txid_status`) can answer for another transaction after a server crash.
public struct CommitOutcomeUnknown: Error, Sendable, CustomStringConvertible {
    public let transaction: TransactionToken
    /// The failure COMMIT met.
    public let cause: PostgresError

    public init(transaction: TransactionToken, cause: PostgresError) {
        self.transaction = transaction
        self.cause = cause
    }

    /// The transaction's id.
    public var transactionID: Int64 { transaction.transactionID }

    public var description: String {
        "the connection was lost while transaction \(transactionID) was committing; whether it was recorded is unknown (\(cause.message))"
    }
}
