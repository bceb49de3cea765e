import PostgresClient

/// `gmp todo`: the signed-in person's work, by their roles (sql/code/21_work_queues.sql,
/// gmp.work_queue).
public struct WorkQueue {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// One thing to do. `item` is what the command doing it takes.
    public struct Item: ListRow {
        public let queue: String
        public let item: String
        public let summary: String
        public let since: Timestamp?
        public let dueOn: String?
    }

    /// Lots and material lots expiring within `withinDays` days count as work.
    public func items(withinDays: Int) throws -> [Item] {
        try connection.query("SELECT * FROM gmp.work_queue(\(withinDays)::integer)").map { row in
            Item(queue: try row.decode("queue"), item: try row.decode("item"), summary: try row.decode("summary"),
                 since: try row.decode("since"), dueOn: try row.decode("due_on", as: CalendarDate?.self)?.description)
        }
    }
}
