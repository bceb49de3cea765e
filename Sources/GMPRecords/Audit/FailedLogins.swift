import PostgresClient

/// Failed logins, read from the server's log (issue 20, item 2).
///
/// PostgreSQL 15 runs no SQL at login: a wrong password is seen only in the server's
/// jsonlog (SQLSTATE 28P01). `gmp_audit.record_failed_logins()` reads the lines written
/// since the database last read, records each failure of a gmp account as a
/// `login_failed` security event and locks the account after five in a row
/// (docs/signatures.md, "Logins"). gmp calls it on every connection, unless the server's
/// background worker (extension/gmp_chainer) calls it every few hundred milliseconds.
public enum FailedLogins {
    /// Reads the log lines written since the last read and records what they show.
    /// On a hot standby nothing is read or recorded (it takes no writes): the primary's
    /// log is the one watched, by every command run against the primary.
    /// - Returns: the failed logins recorded now.
    @discardableResult
    public static func record(on connection: PostgresConnection) throws -> Int {
        if connection.isHotStandby { return 0 }
        return try recorded(by: connection.query(statement))
    }

    /// As ``record(on:)``, sent in the same round trip as the connection's next statement
    /// and before it, as its own transaction (`PostgresConnection.sendWithNextStatement`):
    /// a cold command pays no round trip of its own for the watch (issue 18). `report`
    /// gets the failed logins recorded, or why none could be read. Nothing is sent where
    /// the server watches itself (``watchedByServer(_:)``).
    public static func recordWithNextStatement(on connection: PostgresConnection,
                                               report: @escaping (Result<Int, any Error>) -> Void) {
        if connection.isHotStandby || watchedByServer(connection) { return }
        connection.sendWithNextStatement(statement) { result in
            report(Result { try recorded(by: result.get()) })
        }
    }

    /// The parameter the server reports at login (extension/gmp_chainer): "on" when its
    /// background worker watches this database's logins, successfully, every few hundred
    /// milliseconds. No client can set it (the server refuses a startup option naming it).
    public static let serverWatchParameter = "gmp_chainer.login_watch_active"

    /// Whether the server watches this database's logins itself, so that a command need
    /// not (issue 18): learnt from the login's parameter reports, with no statement.
    public static func watchedByServer(_ connection: PostgresConnection) -> Bool {
        connection.parameterStatus(serverWatchParameter) == "on"
    }

    private static let statement: SQLQuery = "SELECT gmp_audit.record_failed_logins() AS n"

    private static func recorded(by result: QueryResult) throws -> Int {
        try result[0].decode("n", as: Int.self)
    }

    /// One reason failed logins are not seen (`blocking`) or not slowed.
    public struct WatchProblem: Sendable, Equatable {
        public let problem: String
        public let blocking: Bool
    }

    /// What in the server's configuration keeps failed logins from being seen or slowed;
    /// nil when the schema does not have the check yet.
    public static func watchProblems(on connection: PostgresConnection) throws -> [WatchProblem]? {
        let available: Bool = try connection.query("""
            SELECT to_regprocedure('gmp_audit.login_watch_problems()') IS NOT NULL AS available
            """)[0].decode("available")
        guard available else { return nil }
        return try connection.query("SELECT problem, blocking FROM gmp_audit.login_watch_problems()").map {
            WatchProblem(problem: try $0.decode("problem"), blocking: try $0.decode("blocking"))
        }
    }
}
