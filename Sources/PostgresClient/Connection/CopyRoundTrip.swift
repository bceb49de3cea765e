import CLibPQ

/// Statements that include a `COPY … TO STDOUT`, in one round trip (issue 18).
///
/// A `COPY` of a table is not planned: the server reads the table without the planner's
/// first look-ups (its indexes opened, its columns' widths asked of the statistics), which
/// a `SELECT` of the same rows pays in a fresh backend. libpq's pipeline mode carries no
/// `COPY`, so these go as one simple-protocol query: one implicit transaction for all of
/// them, the first error ending them all (docs/benchmarks.md, "The ledgers copied").
extension PostgresConnection {
    /// What one statement of ``copyRoundTrip(_:)`` answered.
    public enum CopyRoundTripAnswer {
        /// A query's rows.
        case rows(QueryResult)
        /// The whole output of a `COPY … TO STDOUT`.
        case copied([UInt8])
    }

    /// Whether statements wait to travel with the next one, each in its own implicit
    /// transaction (``sendWithNextStatement(_:handler:)``): ``copyRoundTrip(_:)`` cannot
    /// carry them, ``pipeline(_:)`` does.
    public var hasStatementsWaiting: Bool { !deferredStatements.isEmpty }

    /// Runs `statements` (no bound parameters; `COPY … TO STDOUT` among them) in one round
    /// trip and one implicit transaction, and returns one answer per statement, in order.
    /// The first statement that fails ends the round trip: its error is thrown and no
    /// answer is returned. Refused while statements wait to travel with the next one.
    public func copyRoundTrip(_ statements: [SQLQuery]) throws -> [CopyRoundTripAnswer] {
        guard deferredStatements.isEmpty, statements.allSatisfy(\.bindings.isEmpty) else {
            throw ClientError(.misuse, "a COPY round trip takes no bound parameters and no statement waiting for the next one")
        }
        let sql = statements.map(\.sql).joined(separator: ";\n")
        let started = ContinuousClock.now
        guard PQsendQuery(handle, sql) == 1 else { throw connectionFailure() }
        var answers: [CopyRoundTripAnswer] = []
        var failure: (any Error)?
        var copyEnding = false
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            if status == PGRES_COPY_OUT {
                PQclear(result)
                var bytes: [UInt8] = []
                while true {
                    var buffer: UnsafeMutablePointer<CChar>?
                    let length = PQgetCopyData(handle, &buffer, 0)
                    if length < 0 { break }   // -1: the COPY's end; -2: its failure, the next result's
                    if let buffer {
                        bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                        PQfreemem(buffer)
                    }
                }
                answers.append(.copied(bytes))
                copyEnding = true   // the COPY's own result follows: "COPY n", or its error
            } else if status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK {
                if copyEnding {
                    PQclear(result)
                } else {
                    answers.append(.rows(try checked(result, bindings: [])))   // rows: never throws
                }
                copyEnding = false
            } else if status == PGRES_COPY_IN || status == PGRES_COPY_BOTH {
                PQclear(result)
                abandonCopy(status, reason: "only COPY TO STDOUT travels in a COPY round trip")
                failure = failure ?? ClientError(.misuse, "only COPY TO STDOUT travels in a COPY round trip")
            } else {
                let error = serverError(from: result)
                PQclear(result)
                failure = failure ?? (isConnected ? error : connectionFailure(cause: error.message))
                copyEnding = false
            }
        }
        if logger.logLevel <= .debug {
            logger.debug("SQL \(statements.count) statement(s) in one simple query, \(answers.count) answered in \(Self.milliseconds(since: started))")
        }
        if let failure { throw failure }
        guard answers.count == statements.count else { throw connectionFailure() }
        return answers
    }
}
