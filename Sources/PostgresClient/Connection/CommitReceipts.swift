#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How a read-write transaction leaves proof of its own commit, so that a COMMIT whose
/// answer was lost can be looked up later without guessing.
///
/// Before each COMMIT the client makes a fresh request id (a random UUID) and runs
/// ``statement``, in the same round trip that reads the transaction's id: the database
/// stores the request id with the transaction (only when it has an id, that is when it
/// wrote) and returns the id. The receipt commits or rolls back with the work, so "the
/// receipt is there" means exactly "the work committed". A transaction id alone cannot say
/// that: after a server crash, an id whose commit never reached the disk is handed out again
/// (issue 19), and `txid_status` then answers for someone else's transaction.
///
/// The same statement may also answer whether ``PostgresConnection/afterWriteCommit`` needs
/// to run after this COMMIT (column ``afterCommitColumn``): gmp asks there whether the
/// audit events are due for chaining, so that a write that is not due sends nothing after
/// its commit (issue 19).
public struct CommitReceipts: Sendable {
    /// Given the request id: the statement that stores the receipt when the transaction has
    /// an id, and returns that id as column `id` (bigint; NULL when it wrote nothing) and,
    /// optionally, a boolean column ``afterCommitColumn``.
    public let statement: @Sendable (UUID) -> SQLQuery
    /// The statement's optional boolean column: false when ``PostgresConnection/afterWriteCommit``
    /// need not run after this COMMIT (without the column, or NULL, it runs).
    public static let afterCommitColumn = "after_commit"
    /// SQLSTATEs of ``statement`` meaning this database keeps no receipts (not migrated to
    /// them yet, or a role that may not write them): the transaction is run again without
    /// one, and the connection stops writing them.
    public let unavailableStates: Set<String>

    public init(unavailableStates: Set<String>, statement: @escaping @Sendable (UUID) -> SQLQuery) {
        self.statement = statement
        self.unavailableStates = unavailableStates
    }
}

/// What a user copies to ask whether a transaction committed: its id and, when the
/// database kept a receipt, the request id stored with it, written `48213:6f1c…` (a bare
/// `48213` when there is no receipt; such an answer comes from `txid_status` alone).
public struct TransactionToken: Sendable, Hashable, CustomStringConvertible {
    /// The transaction's id with its epoch (`txid_current()`), always positive.
    public let transactionID: Int64
    /// The request id of its commit receipt; nil when no receipt was written.
    public let requestID: UUID?

    public init(transactionID: Int64, requestID: UUID?) {
        self.transactionID = transactionID
        self.requestID = requestID
    }

    /// Reads `ID` or `ID:UUID`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let id = Int64(parts[0]), id > 0,
              parts[0].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if parts.count == 2 {
            guard let request = UUID(uuidString: String(parts[1])) else { return nil }
            self.init(transactionID: id, requestID: request)
        } else {
            self.init(transactionID: id, requestID: nil)
        }
    }

    /// The token as the user copies it, lower-case like PostgreSQL prints a uuid.
    public var description: String {
        guard let requestID else { return String(transactionID) }
        return "\(transactionID):\(requestID.uuidString.lowercased())"
    }
}
