import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

/// Several statements in one round trip (libpq's pipeline mode), each as if sent alone.
///
/// A statement sent alone outside a transaction block runs in its own implicit
/// transaction, and its error stops nothing else. Here each statement is followed by its
/// own sync point, so each is still its own implicit transaction (or joins the block an
/// explicit `BEGIN` opened, as alone): a failure of one is that one's result, and the
/// next still runs. Only the waiting is shared: the client sends them all, then reads the
/// answers (issue 18: every round trip of a cold command is paid in its start-up).
extension PostgresConnection {
    /// Runs `queries` in one round trip, in order, after any deferred statements
    /// (``sendWithNextStatement(_:handler:)``). One result per query, in order; a lost
    /// connection is the failure of every query it left unanswered. For a few short
    /// statements: all are sent before any answer is read (blocking mode), so together
    /// they must fit the socket's buffers, as a handful of statements always do.
    public func pipeline(_ queries: [SQLQuery]) -> [Result<QueryResult, any Error>] {
        let pending = deferredStatements
        deferredStatements = []
        let results = runPipelined(pending.map(\.query) + queries)
        for (statement, result) in zip(pending, results) { statement.handler(result) }
        return Array(results.dropFirst(pending.count))
    }

    /// Sends `query` with the next statement of this connection, in the same round trip,
    /// before it and in its own implicit transaction (as if sent alone first), and hands
    /// its result to `handler` then. A statement that cannot share a round trip (a script,
    /// a COPY) sends it alone first; ``sendDeferredStatements()`` sends it when no other
    /// statement follows.
    public func sendWithNextStatement(_ query: SQLQuery, handler: @escaping (Result<QueryResult, any Error>) -> Void) {
        deferredStatements.append(DeferredStatement(query: query, handler: handler))
    }

    /// Sends the statements still waiting for a next one (the connection's last use).
    public func sendDeferredStatements() {
        guard !deferredStatements.isEmpty, isConnected else { return }
        _ = pipeline([])
    }

    /// The statements in one round trip; one by one when one of them cannot be sent (its
    /// error is then its own result) or pipeline mode is not available. Inside a
    /// transaction block the sync points end nothing, so there too the statements run as
    /// they would one after another.
    private func runPipelined(_ queries: [SQLQuery]) -> [Result<QueryResult, any Error>] {
        if queries.count < 2 || queries.contains(where: { unsendable($0) != nil }) || PQenterPipelineMode(handle) != 1 {
            return queries.map { query in Result { try self.runAlone(query) } }
        }
        defer { PQexitPipelineMode(handle) }
        let started = ContinuousClock.now
        var sent = 0
        for query in queries {
            let queued = query.sql.withCString { sql in
                withOptionalCStrings(query.bindings) { values in
                    PQsendQueryParams(handle, sql, Int32(query.bindings.count), nil, values, nil, nil, 0)
                }
            }
            guard queued == 1, PQpipelineSync(handle) == 1 else { break }
            sent += 1
        }
        var results: [Result<QueryResult, any Error>] = []
        var answer: OpaquePointer?
        var emptyInARow = 0
        // Each statement's answer: its result, a NULL, then the result of its sync point.
        while results.count < sent {
            guard let result = PQgetResult(handle) else {
                emptyInARow += 1
                if !isConnected || emptyInARow > 1 { break }
                continue
            }
            emptyInARow = 0
            if PQresultStatus(result) == PGRES_PIPELINE_SYNC {
                PQclear(result)
                let query = queries[results.count]
                logTiming(query.sql, parameters: query.bindings.count, result: answer, since: started)
                results.append(Result { try checked(answer, bindings: query.bindings) })
                answer = nil
            } else if answer == nil {
                answer = result
            } else {
                PQclear(result)   // a statement has one result; anything more is dropped
            }
        }
        if let answer { PQclear(answer) }
        // What a lost connection left unanswered.
        let lost = connectionFailure()
        return results + Array(repeating: .failure(lost), count: queries.count - results.count)
    }
}

/// A statement waiting to travel with the connection's next one.
struct DeferredStatement {
    let query: SQLQuery
    let handler: (Result<QueryResult, any Error>) -> Void
}
