import PostgresClient

/// The connections a command opened, so that a failure after one of them committed a
/// write is not reported as "nothing was committed" (issue 18: `gmp unit place` read
/// the unit's place back after its commit; a connection lost then claimed nothing was
/// kept, and running the command again would have recorded a second placement).
final class CommittedWork {
    private(set) var connections: [PostgresConnection] = []

    func track(_ connection: PostgresConnection) -> PostgresConnection {
        connections.append(connection)
        return connection
    }

    /// The read-write transactions the command's connections committed, in order.
    var transactions: [TransactionToken] { connections.flatMap(\.committedWriteTransactions) }
}
