import PostgresClient

extension CommitReceipts {
    /// gmp's receipts: `gmp_meta.write_commit_receipt` (sql/code/01_audit.sql, V0038). A
    /// database not migrated to them has no such function (42883) or, from an older
    /// migration run, no table (42P01); a login outside the gmp roles may not call it (42501).
    /// The same statement asks whether the audit events are due for chaining
    /// (`gmp_audit.chain_due`, issue 19): the chaining after the commit
    /// (``AuditTrail/chainIfDue()``) is sent only when they are.
    public static let gmp = CommitReceipts(unavailableStates: ["42883", "42P01", "3F000", "42501"]) { request in
        "SELECT gmp_meta.write_commit_receipt(\(request)) AS id, gmp_audit.chain_due() AS after_commit"
    }
}

/// Whether a transaction committed, asked after its COMMIT lost the connection
/// (`gmp db transaction`, docs/errors.md).
public struct TransactionOutcome: Sendable, Equatable {
    public enum Status: String, Sendable {
        case committed
        case aborted
        case inProgress = "in progress"
        /// Asked by id alone, of a transaction too old for the server to remember.
        case unknown
    }

    public let token: TransactionToken
    public let status: Status
    /// Whether the answer is certain: from the commit receipt. An answer from the id alone
    /// (`txid_status`) may be another transaction's after a server crash.
    public let exact: Bool

    /// Asks the server. With a request id the receipt decides: present, the work committed;
    /// absent, it did not, unless the id is still running (then it is asked again later).
    /// The id's status is read first and the receipt after, in a later snapshot: a
    /// transaction that finished in between is seen with its receipt, never as not recorded.
    public static func ask(about token: TransactionToken, on connection: PostgresConnection) throws -> TransactionOutcome {
        let id = token.transactionID
        // An id at or past the next one to be handed out was lost in a crash (the server
        // recovered its counter from a WAL that never held it): txid_status refuses it.
        let status: String? = try connection.query("""
            SELECT CASE WHEN \(id)::bigint >= txid_snapshot_xmax(txid_current_snapshot()) THEN 'not begun'
                        ELSE txid_status(\(id)::bigint) END AS status
            """)[0].decode("status")
        guard let request = token.requestID else {
            let answer: Status = switch status {
            case "committed": .committed
            case "in progress": .inProgress
            case "aborted", "not begun": .aborted
            default: .unknown
            }
            return TransactionOutcome(token: token, status: answer, exact: false)
        }
        let kept: Bool = try connection.query("""
            SELECT EXISTS (SELECT FROM gmp_meta.commit_receipt WHERE request_id = \(request)) AS kept
            """)[0].decode("kept")
        let answer: Status = kept ? .committed : status == "in progress" ? .inProgress : .aborted
        return TransactionOutcome(token: token, status: answer, exact: true)
    }
}
