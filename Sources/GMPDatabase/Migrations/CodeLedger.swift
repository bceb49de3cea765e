import PostgresClient

/// The record of code-file applications: `gmp_meta.code_applied` (V0019).
///
/// Each row holds the file's full text, so the database alone can show what was applied;
/// the table is append-only and audited.
enum CodeLedger {
    /// The migration that creates the table.
    static let introducedIn = 19

    /// The latest application of each file; none at a schema version before the table's.
    /// (Asked by version, not by trying: a failed query would abort the migrator's
    /// transaction.)
    static func read(on connection: PostgresConnection, schemaVersion: Int) throws -> [AppliedCode] {
        guard schemaVersion >= introducedIn else { return [] }
        return try applied(from: connection.query(reading))
    }

    /// The statement that reads the ledger: every application (without the text), of
    /// which ``applied(from:)`` keeps each file's last. Not `DISTINCT ON (file) … ORDER BY
    /// file, id DESC`: that sort's first look-ups (the ordering operators, the sort support
    /// of text) cost a fresh backend ~0.2 ms of CPU on every cold command that checks the
    /// schema, for a table of a few rows per release (issue 18, docs/benchmarks.md "The
    /// ledgers read without sorting").
    static let reading: SQLQuery = """
        SELECT id, file, checksum, schema_version, applied_at, applied_by
        FROM gmp_meta.code_applied
        """

    /// The last application of each code file (the highest `id`), ordered by file name,
    /// from the rows of ``reading``.
    static func applied(from rows: QueryResult) throws -> [AppliedCode] {
        // Searches of a few dozen names, not a Dictionary (issue 18, SchemaStatus).
        var latest: [(file: String, id: Int, row: Int)] = []
        for (position, row) in rows.enumerated() {
            let file: String = try row.decode("file")
            let id: Int = try row.decode("id")
            if let known = latest.firstIndex(where: { $0.file == file }) {
                if latest[known].id < id { latest[known] = (file, id, position) }
            } else {
                latest.append((file, id, position))
            }
        }
        // By name, as the server ordered them (file names are ASCII, by the table's check).
        return try latest.sorted { $0.file < $1.file }.map { entry in
            let row = rows[entry.row]
            return AppliedCode(
                fileName: entry.file,
                checksum: try row.decode("checksum"),
                schemaVersion: try row.decode("schema_version"),
                appliedAt: try row.decode("applied_at"),
                appliedBy: try row.decode("applied_by"))
        }
    }

    static func record(_ file: CodeFile, schemaVersion: Int, on connection: PostgresConnection) throws {
        try connection.execute("""
            INSERT INTO gmp_meta.code_applied (file, checksum, source, schema_version)
            VALUES (\(file.fileName), \(file.checksum), \(file.sql), \(schemaVersion))
            """)
    }
}

/// The latest application of one code file, as the database recorded it.
public struct AppliedCode: Sendable, Equatable {
    public let fileName: String
    public let checksum: String
    /// The schema version the database had when it was applied.
    public let schemaVersion: Int
    public let appliedAt: Timestamp
    /// The authenticated database user who applied it.
    public let appliedBy: String

    public init(fileName: String, checksum: String, schemaVersion: Int, appliedAt: Timestamp, appliedBy: String) {
        self.fileName = fileName
        self.checksum = checksum
        self.schemaVersion = schemaVersion
        self.appliedAt = appliedAt
        self.appliedBy = appliedBy
    }
}
