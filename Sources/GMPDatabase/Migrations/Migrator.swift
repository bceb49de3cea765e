import Logging
import PostgresClient

/// Applies the shipped migrations, forward only, and reports the schema's state.
///
/// Each migration runs with its ledger row in one transaction, under a transaction-level
/// advisory lock, so two gmp processes migrating at once apply each file exactly once.
/// The ledger is re-read under the lock before every step; an edited applied file or a
/// version this binary does not know stops everything before any change.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    /// The advisory-lock key that serialises migrators: "gmp-migr" in ASCII.
    static let lockKey: Int64 = 0x676d_702d_6d69_6772

    public init(migrations: [Migration] = Migration.shipped) {
        self.migrations = migrations
    }

    /// Reads the ledger (read-only; a database never migrated has version 0).
    public func status(on connection: PostgresConnection) throws -> SchemaStatus {
        SchemaStatus(applied: try SchemaLedger.read(on: connection), shipped: migrations)
    }

    /// What a migration run did, and where the schema stands after it.
    public struct Outcome: Sendable {
        /// The migrations this run applied, in order.
        public let applied: [Migration]
        /// The schema as the last step read it under the lock: nothing pending.
        public let status: SchemaStatus
    }

    /// Applies every pending migration in order. `willApply` is called before each one
    /// (for progress output).
    @discardableResult
    public func migrate(on connection: PostgresConnection,
                        willApply: (Migration) -> Void = { _ in }) throws -> Outcome {
        var applied: [Migration] = []
        while true {
            switch try applyNext(on: connection, willApply: willApply) {
            case .applied(let migration): applied.append(migration)
            case .upToDate(let status): return Outcome(applied: applied, status: status)
            }
        }
    }

    private enum Step {
        case applied(Migration)
        case upToDate(SchemaStatus)
    }

    /// One step: lock, check the ledger, apply the lowest pending migration if any.
    private func applyNext(on connection: PostgresConnection, willApply: (Migration) -> Void) throws -> Step {
        // READ COMMITTED: each statement sees what the previous lock holder committed.
        try connection.transaction(.readCommitted, retry: .never) { db in
            try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
            try SchemaLedger.create(on: db)
            let status = SchemaStatus(applied: try SchemaLedger.read(on: db), shipped: migrations)
            try status.requireConsistent()
            guard let next = status.pending.first else { return .upToDate(status) }
            willApply(next)
            // The audit trail records schema changes with this as their reason.
            try db.execute("SELECT set_config('gmp.reason', \("schema migration " + next.fileName), true)")
            try db.execute(script: SQLScript(shippedWithBinary: next.sql))
            try SchemaLedger.record(next, on: db)
            db.logger.info("applied migration \(next.fileName)")
            return .applied(next)
        }
    }
}
