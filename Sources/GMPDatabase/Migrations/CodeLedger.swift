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

    /// The ledger's rows as `COPY` writes them (binary), for a round trip that needs no
    /// planning of them (``applied(fromCopy:)``; issue 18, docs/benchmarks.md "The ledgers
    /// copied"). The same columns as ``reading``, in its order.
    static let copying: SQLQuery = """
        COPY gmp_meta.code_applied (id, file, checksum, schema_version, applied_at, applied_by) TO STDOUT (FORMAT binary)
        """

    /// The last application of each code file (the highest `id`), ordered by file name,
    /// from the rows of ``reading``.
    static func applied(from rows: QueryResult) throws -> [AppliedCode] {
        try latest(of: rows.map { row in
            (id: try row.decode("id", as: Int.self), AppliedCode(
                fileName: try row.decode("file"),
                checksum: try row.decode("checksum"),
                schemaVersion: try row.decode("schema_version"),
                appliedAt: try row.decode("applied_at"),
                appliedBy: try row.decode("applied_by")))
        })
    }

    /// As ``applied(from:)``, from the output of ``copying``.
    static func applied(fromCopy bytes: [UInt8]) throws -> [AppliedCode] {
        var applications: [(id: Int, AppliedCode)] = []
        try CopiedRows.each(in: bytes, fields: 6) { row in
            applications.append((id: Int(try CopiedRows.required(row.int64(at: 0), row, 0)), AppliedCode(
                fileName: try CopiedRows.required(row.string(at: 1), row, 1),
                checksum: try CopiedRows.required(row.string(at: 2), row, 2),
                schemaVersion: Int(try CopiedRows.required(row.int32(at: 3), row, 3)),
                appliedAt: Timestamp(microsecondsSinceEpoch: try CopiedRows.required(row.timestampMicrosecondsSince1970(at: 4), row, 4)),
                appliedBy: try CopiedRows.required(row.string(at: 5), row, 5))))
        }
        return latest(of: applications)
    }

    /// Each file's application of the highest `id`, ordered by file name (ASCII, by the
    /// table's check), as the server ordered them. Searches of a few dozen names, not a
    /// Dictionary (issue 18, SchemaStatus).
    private static func latest(of applications: [(id: Int, AppliedCode)]) -> [AppliedCode] {
        var latest: [(id: Int, AppliedCode)] = []
        for application in applications {
            if let known = latest.firstIndex(where: { $0.1.fileName == application.1.fileName }) {
                if latest[known].id < application.id { latest[known] = application }
            } else {
                latest.append(application)
            }
        }
        return latest.map(\.1).sorted { $0.fileName < $1.fileName }
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
