import CLibPQ
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// How strictly a transaction is isolated from concurrent ones.
public enum IsolationLevel: Sendable {
    case readCommitted, repeatableRead, serializable
}

/// How often a transaction is retried after a serialization failure or deadlock.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// The upper bound of the random pause before retry n is n × this many milliseconds.
    public var backoffMilliseconds: Int

    public init(maxAttempts: Int, backoffMilliseconds: Int) {
        self.maxAttempts = max(1, maxAttempts)
        self.backoffMilliseconds = max(0, backoffMilliseconds)
    }

    public static let standard = RetryPolicy(maxAttempts: 5, backoffMilliseconds: 20)
    public static let never = RetryPolicy(maxAttempts: 1, backoffMilliseconds: 0)
}

extension PostgresConnection {
    /// Runs `body` in one transaction: committed if it returns, rolled back if anything
    /// throws. A serialization failure or deadlock (40001, 40P01) re-runs the whole
    /// body — so it must not have effects outside the database — up to the policy's
    /// limit, then throws ``TransactionRetryExhausted``.
    public func transaction<T>(_ isolation: IsolationLevel = .serializable,
                               readOnly: Bool = false,
                               retry: RetryPolicy = .standard,
                               _ body: (PostgresConnection) throws -> T) throws -> T {
        // A connection an earlier statement lost (the server stopped) is a lost connection,
        // with nothing of this transaction begun: not a misuse reported as an internal error.
        guard isConnected else { throw connectionFailure() }
        guard PQtransactionStatus(handle) == PQTRANS_IDLE else {
            throw ClientError(.misuse, "a transaction is already open on this connection; transactions do not nest")
        }
        var attempt = 1
        while true {
            do {
                try begin(isolation, readOnly: readOnly)
                let value = try body(self)
                let committed = try commit(readOnly: readOnly)
                if let token = committed.token, !runningAfterWriteCommit { committedWriteTransactions.append(token) }
                if !readOnly && committed.runAfterCommit { runAfterWriteCommit() }
                return value
            } catch let error as CommitReceiptsUnavailable {
                // A database without receipts (not migrated to them): the attempt is run
                // again, not counted, without one; the outcome is then asked by id alone.
                rollbackIfOpen()
                logger.debug("no commit receipts on this database; asking by transaction id only: \(error.cause)")
                commitReceipts = nil
            } catch {
                rollbackIfOpen()
                guard let failure = error as? PostgresError, failure.isTransient else { throw error }
                guard attempt < retry.maxAttempts else {
                    throw TransactionRetryExhausted(attempts: attempt, lastError: failure)
                }
                logger.debug("transaction attempt \(attempt) conflicted (SQLSTATE \(failure.sqlState)); retrying")
                pause(upTo: attempt * retry.backoffMilliseconds)
                attempt += 1
            }
        }
    }

    private func begin(_ isolation: IsolationLevel, readOnly: Bool) throws {
        // A standby refuses SERIALIZABLE (0A000), which gmp's writes use: such a write is
        // refused before it begins, as the write it is (25006, naming the fix); a read gets
        // REPEATABLE READ, the snapshot a standby gives (docs/high-availability.md). Other
        // transactions meet the server's own 25006 at their first write.
        if isolation == .serializable, isHotStandby {
            guard readOnly else { throw PostgresError.writeOnHotStandby(endpoint) }
            try execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return
        }
        switch (isolation, readOnly) {
        case (.readCommitted, false): try execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        case (.readCommitted, true): try execute("BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY")
        case (.repeatableRead, false): try execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        case (.repeatableRead, true): try execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        case (.serializable, false): try execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        case (.serializable, true): try execute("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY")
        }
    }

    /// COMMIT. When the connection is lost during it and the transaction wrote anything,
    /// the outcome is unknown: that is said (``CommitOutcomeUnknown``, with the token to ask
    /// about), never "nothing was committed". The statement just before COMMIT reads the
    /// transaction's id and, with ``commitReceipts``, stores a fresh request id with it in
    /// the same round trip (one per read-write transaction, as before receipts existed);
    /// `pg_current_xact_id_if_assigned` assigns no id itself. The transactions
    /// ``afterWriteCommit`` runs write no receipt: their outcome is never the user's question.
    /// Returns the token of a transaction that wrote (nil when it wrote nothing), and whether
    /// ``afterWriteCommit`` is to run after it (the receipt statement's answer, issue 19).
    private func commit(readOnly: Bool) throws -> (token: TransactionToken?, runAfterCommit: Bool) {
        let receipt = readOnly ? (token: nil, runAfterCommit: false) : try transactionToken()
        do {
            try execute("COMMIT")
        } catch let error as PostgresError where error.kind == .connectionLost {
            guard let token = receipt.token else { throw error }
            throw CommitOutcomeUnknown(transaction: token, cause: error)
        }
        return receipt
    }

    private func transactionToken() throws -> (token: TransactionToken?, runAfterCommit: Bool) {
        guard let receipts = commitReceipts, !runningAfterWriteCommit else {
            let id: Int64? = try query("SELECT txid_current_if_assigned() AS id")[0].decode("id")
            return (id.map { TransactionToken(transactionID: $0, requestID: nil) }, true)
        }
        let requestID = UUID()
        do {
            let result = try query(receipts.statement(requestID))
            let id: Int64? = try result[0].decode("id")
            // Asked in the same round trip: whether the work after the commit is needed.
            let needed: Bool? = result.columns.contains(CommitReceipts.afterCommitColumn)
                ? try result[0].decode(CommitReceipts.afterCommitColumn) : nil
            return (id.map { TransactionToken(transactionID: $0, requestID: requestID) }, needed ?? true)
        } catch let error as PostgresError where receipts.unavailableStates.contains(error.sqlState) {
            throw CommitReceiptsUnavailable(cause: error)
        }
    }

    /// Runs ``afterWriteCommit`` once, not for the transactions it runs itself.
    private func runAfterWriteCommit() {
        guard let hook = afterWriteCommit else { return }
        afterWriteCommit = nil
        runningAfterWriteCommit = true
        defer { afterWriteCommit = hook; runningAfterWriteCommit = false }
        do {
            try hook(self)
        } catch {
            logger.debug("after the commit: \(error)")
        }
    }

    /// Rolls back whatever is open; a lost connection has rolled back already.
    private func rollbackIfOpen() {
        let status = PQtransactionStatus(handle)
        guard status == PQTRANS_INTRANS || status == PQTRANS_INERROR else { return }
        do { try execute("ROLLBACK") } catch { logger.warning("rollback failed: \(error)") }
    }

    /// Sleeps a random time so that two conflicting sessions do not retry in lockstep.
    private func pause(upTo milliseconds: Int) {
        guard milliseconds > 0 else { return }
        usleep(UInt32(Int.random(in: milliseconds / 2...milliseconds) * 1000))
    }
}

/// The database has no commit receipts: ``CommitReceipts/unavailableStates``.
private struct CommitReceiptsUnavailable: Error {
    let cause: PostgresError
}
