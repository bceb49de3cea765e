import Logging
import PostgresClient

/// Applies the shipped migrations, forward only, then the code files that changed, and
/// reports the schema's state.
///
/// Each migration runs with its ledger row in one transaction, holding a lock on the
/// ledger that only a migrator takes, so two gmp processes migrating at once apply each
/// file exactly once and no other session can stall them.
/// The ledger is re-read under the lock before every step; an edited applied file or a
/// version this binary does not know stops everything before any change. The changed
/// code files apply together, each with its row in `gmp_meta.code_applied`, in the
/// transaction of the last migration (or in one of their own when only code changed):
/// the rules in force are never half of one release and half of another, nor older than
/// the schema they run on.
public struct Migrator: Sendable {
    public let migrations: [Migration]
    public let code: [CodeFile]
    /// Whether to bind the audit trail's C twins when the server has them (``NativeAudit``).
    public let nativeAudit: Bool

    /// The advisory-lock key that serialises the first migration of a database, before
    /// its ledger exists: "gmp-migr" in ASCII.
    static let lockKey: Int64 = 0x676d_702d_6d69_6772

    /// `code` is applied only once every migration is; a test that ships migrations of
    /// its own passes `code: []`.
    public init(migrations: [Migration] = Migration.shipped, code: [CodeFile] = CodeFile.shipped,
                nativeAudit: Bool = NativeAudit.wantedByEnvironment) {
        self.migrations = migrations
        self.code = code
        self.nativeAudit = nativeAudit
    }

    /// Reads the ledgers (read-only; a database never migrated has version 0), both in
    /// one round trip (issue 18), each in its own implicit transaction: called outside a
    /// transaction block (the code ledger of a schema older than it is a missing table,
    /// whose error is then that statement's alone).
    public func status(on connection: PostgresConnection) throws -> SchemaStatus {
        try status(on: connection, alongWith: []).status
    }

    /// The status, and the answers to `others`, sent in the same round trip after the
    /// ledgers' readings.
    ///
    /// The ledgers are copied (`COPY … TO STDOUT`, not planned: ~1 M instructions less of a
    /// fresh backend; docs/benchmarks.md "The ledgers copied"), all in one simple query
    /// and one transaction, when nothing else must travel in a transaction of its own
    /// (a login watch waiting for the next statement) and `others` bind no values.
    /// Where that round trip fails (a database not migrated yet, or before the code
    /// ledger; a statement of `others` refused), or cannot be used, the ledgers are read
    /// by `SELECT`, each statement its own transaction in one pipeline, and any failure is
    /// that statement's answer, as before.
    public func status(on connection: PostgresConnection, alongWith others: [SQLQuery]) throws
        -> (status: SchemaStatus, others: [Result<QueryResult, any Error>]) {
        if !connection.hasStatementsWaiting, others.allSatisfy(\.bindings.isEmpty),
           let answers = try? connection.copyRoundTrip([SchemaLedger.copying, CodeLedger.copying] + others),
           case .copied(let schemaRows) = answers[0], case .copied(let codeRows) = answers[1] {
            let applied = try SchemaLedger.applied(fromCopy: schemaRows)
            let version = applied.last?.version ?? 0
            let status = SchemaStatus(applied: applied, shipped: migrations,
                                      appliedCode: version >= CodeLedger.introducedIn ? try CodeLedger.applied(fromCopy: codeRows) : [],
                                      shippedCode: code)
            return (status, answers.dropFirst(2).map { answer -> Result<QueryResult, any Error> in
                if case .rows(let rows) = answer { return .success(rows) }
                return .failure(ClientError(.misuse, "a statement sent with the ledgers answered with a COPY"))
            })
        }
        let results = connection.pipeline([SchemaLedger.reading, CodeLedger.reading] + others)
        let applied = try SchemaLedger.applied(from: results[0])
        let version = applied.last?.version ?? 0
        let status = SchemaStatus(applied: applied, shipped: migrations,
                                  appliedCode: version >= CodeLedger.introducedIn ? try CodeLedger.applied(from: results[1].get()) : [],
                                  shippedCode: code)
        return (status, Array(results.dropFirst(2)))
    }

    /// What a migration run did, and where the schema stands after it.
    public struct Outcome: Sendable {
        /// The migrations this run applied, in order.
        public let applied: [Migration]
        /// The code files this run applied, in order.
        public let appliedCode: [CodeFile]
        /// The schema as the last step read it under the lock: nothing pending.
        public let status: SchemaStatus
    }

    /// Applies every pending migration in order, then every changed code file.
    /// `willApply` is called with each file's name before it is applied (for progress).
    @discardableResult
    public func migrate(on connection: PostgresConnection,
                        willApply: (String) -> Void = { _ in }) throws -> Outcome {
        var applied: [Migration] = []
        var appliedCode: [CodeFile] = []
        while true {
            switch try applyNext(on: connection, willApply: willApply) {
            case .applied(let migration, let files):
                if let migration { applied.append(migration) }
                appliedCode += files
            case .upToDate(let status):
                // Last, once the schema and code are in place: the native audit code,
                // created and bound or unbound as wanted (nothing recorded when already so).
                try connection.transaction(.readCommitted, retry: .never) { db in
                    try lockLedger(on: db)
                    try NativeAudit.bind(wanted: nativeAudit, on: db)
                }
                return Outcome(applied: applied, appliedCode: appliedCode, status: status)
            }
        }
    }

    private enum Step {
        /// A migration (nil when only code changed) and the code files applied with it.
        case applied(Migration?, code: [CodeFile])
        case upToDate(SchemaStatus)
    }

    private func readStatus(on connection: PostgresConnection) throws -> SchemaStatus {
        let applied = try SchemaLedger.read(on: connection)
        return SchemaStatus(applied: applied, shipped: migrations,
                            appliedCode: try CodeLedger.read(on: connection, schemaVersion: applied.last?.version ?? 0),
                            shippedCode: code)
    }

    /// One step: lock, check the ledgers, apply the lowest pending migration if any (with
    /// the changed code files when it is the last), else every changed code file.
    private func applyNext(on connection: PostgresConnection, willApply: (String) -> Void) throws -> Step {
        // READ COMMITTED: each statement sees what the previous lock holder committed.
        try connection.transaction(.readCommitted, retry: .never) { db in
            try lockLedger(on: db)
            let status = try readStatus(on: db)
            try status.requireConsistent()
            if let next = status.pending.first {
                willApply(next.fileName)
                // The audit trail records schema changes with this as their reason.
                try db.execute("SELECT set_config('gmp.reason', \("schema migration " + next.fileName), true)")
                try db.execute(script: SQLScript(shippedWithBinary: next.sql))
                try SchemaLedger.record(next, on: db)
                db.logger.info("applied migration \(next.fileName)")
                guard status.pending.count == 1 else { return .applied(next, code: []) }
                // The last migration and the code written for it commit together: there is
                // no moment when the schema is new and the rules are old.
                let after = try readStatus(on: db)
                try apply(after.pendingCode, schemaVersion: after.currentVersion, on: db, willApply: willApply)
                return .applied(next, code: after.pendingCode)
            }
            guard !status.pendingCode.isEmpty else { return .upToDate(status) }
            try apply(status.pendingCode, schemaVersion: status.currentVersion, on: db, willApply: willApply)
            return .applied(nil, code: status.pendingCode)
        }
    }

    /// Serialises migrators on the ledger itself: SHARE ROW EXCLUSIVE conflicts with
    /// itself, and no gmp role can take a lock that conflicts with it (they may only read
    /// the ledger), so nobody can stall `gmp db migrate` by holding a lock, as anyone could
    /// with an advisory key. Only the very first migration, before the ledger exists and
    /// before any gmp role does, serialises on the advisory key, so that two creators do
    /// not race on `CREATE SCHEMA IF NOT EXISTS`.
    private func lockLedger(on db: PostgresConnection) throws {
        let exists: Bool = try db.query("SELECT to_regclass('gmp_meta.schema_migrations') IS NOT NULL AS e")[0].decode("e")
        if !exists {
            try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
            try SchemaLedger.create(on: db)
        }
        try db.execute("LOCK TABLE gmp_meta.schema_migrations IN SHARE ROW EXCLUSIVE MODE")
    }

    /// Applies code files in order, each with its row in `gmp_meta.code_applied`.
    private func apply(_ files: [CodeFile], schemaVersion: Int, on db: PostgresConnection,
                       willApply: (String) -> Void) throws {
        for file in files {
            willApply(file.fileName)
            try db.execute("SELECT set_config('gmp.reason', \("code file " + file.fileName + " sha256 " + file.checksum), true)")
            try db.execute(script: SQLScript(shippedWithBinary: file.sql))
            try CodeLedger.record(file, schemaVersion: schemaVersion, on: db)
            db.logger.info("applied code file \(file.fileName)")
        }
        // A SECURITY DEFINER function a changed file created goes to gmp_definer, even when
        // 99_privileges.sql (which does it too) did not change (issue 20).
        let canGiveOwner: Bool = try db.query("""
            SELECT to_regprocedure('gmp_meta.give_definers_their_owner()') IS NOT NULL AS available
            """)[0].decode("available")
        if !files.isEmpty && canGiveOwner {
            try db.execute("SELECT gmp_meta.give_definers_their_owner()")
        }
    }
}
