/// A schema that this binary refuses to migrate or run against.
public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An applied migration's file was edited after it was applied.
    case changedAfterApply(applied: AppliedMigration, shipped: Migration)
    /// The database has versions this binary does not ship.
    case databaseNewerThanBinary(unknown: [AppliedMigration], latestKnown: Int)

    public var problem: String {
        switch self {
        case .changedAfterApply(let applied, let shipped):
            return "migration \(shipped.fileName) differs from the one applied on \(applied.appliedAt.iso8601) "
                + "(database sha256 \(applied.checksum.prefix(12))…, this gmp \(shipped.checksum.prefix(12))…)"
        case .databaseNewerThanBinary(let unknown, let latestKnown):
            let versions = unknown.map { "V\($0.version) \($0.name)" }.joined(separator: ", ")
            return "the database schema is newer than this gmp (it has \(versions); this gmp knows up to V\(latestKnown))"
        }
    }

    public var fix: String {
        switch self {
        case .changedAfterApply:
            return "restore the original file; an applied migration is never edited: write a new migration instead"
        case .databaseNewerThanBinary:
            return "use the gmp release that applied those migrations, or a newer one"
        }
    }

    public var description: String { "\(problem); fix: \(fix)" }
}
