import PostgresClient

/// The table that records which migrations a database has: `gmp_meta.schema_migrations`.
///
/// The migrator creates it before the first migration (it must exist to record that
/// one); V0001 then makes it append-only.
enum SchemaLedger {
    static let creation = SQLScript(shippedWithBinary: """
        CREATE SCHEMA IF NOT EXISTS gmp_meta;
        CREATE TABLE IF NOT EXISTS gmp_meta.schema_migrations (
            version    integer     PRIMARY KEY CHECK (version > 0),
            name       text        NOT NULL CHECK (name ~ '^[a-z0-9_]+$'),
            checksum   text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
            applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            applied_by text        NOT NULL DEFAULT session_user
        );
        """)

    static func create(on connection: PostgresConnection) throws {
        try connection.execute(script: creation)
    }

    /// The ledger's rows; none when the ledger does not exist yet.
    static func read(on connection: PostgresConnection) throws -> [AppliedMigration] {
        try applied(from: Result { try connection.query(reading) })
    }

    /// The statement that reads the ledger. Without `ORDER BY`: ``applied(from:)`` sorts
    /// the rows by version, as the server did, without the ordering operator's and sort's
    /// first look-ups in a fresh backend (~0.15 ms of its CPU on every cold command that
    /// checks the schema; issue 18, docs/benchmarks.md "The ledgers read without sorting").
    static let reading: SQLQuery = """
        SELECT version, name, checksum, applied_at, applied_by
        FROM gmp_meta.schema_migrations
        """

    /// The ledger's rows as `COPY` writes them (binary), for a round trip that needs no
    /// planning of them (``applied(fromCopy:)``; issue 18, docs/benchmarks.md "The ledgers
    /// copied"). The same columns as ``reading``, in its order.
    static let copying: SQLQuery = """
        COPY gmp_meta.schema_migrations (version, name, checksum, applied_at, applied_by) TO STDOUT (FORMAT binary)
        """

    /// The migrations applied, from the output of ``copying``, sorted by version.
    static func applied(fromCopy bytes: [UInt8]) throws -> [AppliedMigration] {
        var migrations: [AppliedMigration] = []
        try CopiedRows.each(in: bytes, fields: 5) { row in
            migrations.append(AppliedMigration(
                version: Int(try CopiedRows.required(row.int32(at: 0), row, 0)),
                name: try CopiedRows.required(row.string(at: 1), row, 1),
                checksum: try CopiedRows.required(row.string(at: 2), row, 2),
                appliedAt: Timestamp(microsecondsSinceEpoch: try CopiedRows.required(row.timestampMicrosecondsSince1970(at: 3), row, 3)),
                appliedBy: try CopiedRows.required(row.string(at: 4), row, 4)))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// The migrations applied, from the answer to ``reading``.
    static func applied(from answer: Result<QueryResult, any Error>) throws -> [AppliedMigration] {
        let rows: QueryResult
        do {
            rows = try answer.get()
        } catch let error as PostgresError where error.sqlState == "42P01" || error.sqlState == "3F000" {
            // undefined_table / invalid_schema_name: never migrated. One round trip in
            // the common case instead of probing first.
            return []
        }
        return try rows.map { row in
            AppliedMigration(
                version: try row.decode("version"),
                name: try row.decode("name"),
                checksum: try row.decode("checksum"),
                appliedAt: try row.decode("applied_at"),
                appliedBy: try row.decode("applied_by"))
        }.sorted { $0.version < $1.version }
    }

    static func record(_ migration: Migration, on connection: PostgresConnection) throws {
        try connection.execute("""
            INSERT INTO gmp_meta.schema_migrations (version, name, checksum)
            VALUES (\(migration.version), \(migration.name), \(migration.checksum))
            """)
    }
}
