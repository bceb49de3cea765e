/// The connection was lost while COMMIT was under way: the server may have recorded the
/// transaction or not, and the client cannot tell. Never reported as "nothing was
/// committed" — running the work again could record it twice.
///
/// `transactionID` is the transaction's id (`txid_current_if_assigned()`, read just before
/// COMMIT); once the server answers again, `txid_status(transactionID)` says whether it
/// committed (PostgreSQL keeps that for recent transactions exactly for this case).
public struct CommitOutcomeUnknown: Error, Sendable, CustomStringConvertible {
    public let transactionID: Int64
    /// The failure COMMIT met.
    public let cause: PostgresError

    public init(transactionID: Int64, cause: PostgresError) {
        self.transactionID = transactionID
        self.cause = cause
    }

    public var description: String {
        "the connection was lost while transaction \(transactionID) was committing; whether it was recorded is unknown (\(cause.message))"
    }
}
