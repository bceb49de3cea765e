import PostgresClient

/// A row of the migration ledger: a migration as the database recorded it.
public struct AppliedMigration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let checksum: String
    public let appliedAt: Timestamp
    /// The authenticated database user who applied it.
    public let appliedBy: String

    public init(version: Int, name: String, checksum: String, appliedAt: Timestamp, appliedBy: String) {
        self.version = version
        self.name = name
        self.checksum = checksum
        self.appliedAt = appliedAt
        self.appliedBy = appliedBy
    }
}

/// Why this binary must not run against a database's schema.
public enum SchemaProblem: Sendable, Equatable {
    /// An applied migration differs from the file this binary ships for that version.
    case changedAfterApply(applied: AppliedMigration, shipped: Migration)
    /// The database holds a version this binary does not know: it is newer than the binary.
    case unknownVersion(AppliedMigration)
}

/// Where a database's schema stands against the migrations this binary ships.
///
/// Computed without I/O from the ledger rows, so the rules are unit-tested on their own.
/// A code file whose text differs from the one last applied is pending, not a problem:
/// code files are edited in place, and the database keeps every version applied.
public struct SchemaStatus: Sendable, Equatable {
    public let applied: [AppliedMigration]
    public let pending: [Migration]
    /// The latest application of each code file.
    public let appliedCode: [AppliedCode]
    /// Shipped code files never applied, or applied with other text: `gmp db migrate`
    /// applies them after the pending migrations.
    public let pendingCode: [CodeFile]
    public let problems: [SchemaProblem]
    /// The highest migration this binary knows.
    public let latestKnownVersion: Int

    public init(applied: [AppliedMigration], shipped: [Migration],
                appliedCode: [AppliedCode] = [], shippedCode: [CodeFile] = []) {
        // Searches of a few dozen rows, not a Dictionary or a Set: each of those was a scan
        // of every protocol-conformance record in the binary on `gmp db status` (issue 18).
        var problems: [SchemaProblem] = []
        for row in applied.sorted(by: { $0.version < $1.version }) {
            if let file = shipped.first(where: { $0.version == row.version }) {
                if file.checksum != row.checksum || file.name != row.name {
                    problems.append(.changedAfterApply(applied: row, shipped: file))
                }
            } else {
                problems.append(.unknownVersion(row))
            }
        }
        self.applied = applied.sorted { $0.version < $1.version }
        pending = shipped.filter { file in !applied.contains { $0.version == file.version } }.sorted { $0.version < $1.version }
        self.problems = problems
        self.appliedCode = appliedCode
        pendingCode = shippedCode.filter { file in appliedCode.last { $0.fileName == file.fileName }?.checksum != file.checksum }
        latestKnownVersion = shipped.map { $0.version }.max() ?? 0
    }

    /// The highest applied version; 0 for an empty database.
    public var currentVersion: Int { applied.last?.version ?? 0 }

    public var isUpToDate: Bool { pending.isEmpty && pendingCode.isEmpty && problems.isEmpty }

    /// Throws the first problem as a ``MigrationError``; passes when there is none.
    public func requireConsistent() throws(MigrationError) {
        guard let first = problems.first else { return }
        switch first {
        case .changedAfterApply(let applied, let shipped):
            throw .changedAfterApply(applied: applied, shipped: shipped)
        case .unknownVersion:
            let unknown = problems.compactMap { problem -> AppliedMigration? in
                if case .unknownVersion(let row) = problem { return row }
                return nil
            }
            throw .databaseNewerThanBinary(unknown: unknown, latestKnown: latestKnownVersion)
        }
    }
}
