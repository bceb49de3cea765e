import GMPRules
import PostgresClient

/// The rows' side of the link check (issue 18, ``RecordLinks``): every row of every
/// compared table as the SHA-256 of its text, with the seq of its key's last event. No
/// event image is rendered and nothing is sorted: the chain pass has hashed the events,
/// and each key's last seq comes from one ordered read of the `event_record_seq` index
/// joined by hash to the rows, not from one index probe per row (docs/benchmarks.md).
extension AuditTrail {
    /// Streams the compared tables' rows from this connection's transaction (its snapshot)
    /// into links. `tables`: the compared tables, in the tally's order (the indexes the
    /// links use); `digestKey`: the run's key.
    func linkRows(tables: [AuditedTable], digestKey: [UInt8]) throws -> RecordLinks {
        var links = RecordLinks(tableCount: tables.count, digestKey: digestKey)
        guard !tables.isEmpty else { return links }
        try pinRowText()
        _ = try connection.execute("""
            SELECT set_config('gmp.reconcile_tables', \(Self.comparedTablesJSON(tables)), true),
            """ + Self.linkRowsSettings)
        var decoder = CopyBinaryDecoder(expectedFieldCount: 4)
        var failure: Error?
        _ = try connection.copyOut(try Self.linkRowsStatement(tables)) { chunk in
            try decoder.feed(chunk) { row in
                guard failure == nil else { return }
                do {
                    guard let table = try row.int32(at: 0), tables.indices.contains(Int(table)),
                          let bytes = row.bytes(at: 3), let image = RowDigest(bytes: bytes) else {
                        throw ClientError(.decoding, "the row stream sent a row without its table or digest")
                    }
                    links.liveRow(table: Int(table), key: row.bytes(at: 1), lastSeq: try row.int64(at: 2), image: image)
                } catch {
                    failure = error
                }
            }
        }
        try decoder.finish()
        if let failure { throw failure }
        return links
    }

    /// The rows' read's settings, local to its transaction: `jit` off (its ~80 branches
    /// compile for longer than they run); `work_mem` so that a million keys' last seqs hash
    /// in memory; no parallel workers: each would build its own copy of that hash, and on
    /// two cores the chain pass runs alongside.
    static let linkRowsSettings: SQLQuery = """
        set_config('jit', 'off', true), set_config('work_mem', '128MB', true),
        set_config('max_parallel_workers_per_gather', '0', true)
        """

    /// Columns: table index (in the setting `gmp.reconcile_tables`), the row's key, the seq
    /// of the last chained event on that key (NULL for none), the SHA-256 of the row's
    /// text. In no particular order. Only pg_catalog functions, schema-qualified.
    ///
    /// The last seqs (`last`) are one backward read of `event_record_seq` (table, key, seq)
    /// keeping each key's first entry, hash-joined to the rows: at a million rows that
    /// costs the server about a fifth less than a correlated probe of the index per row,
    /// whose per-row start-up, not its comparisons, was the cost (docs/benchmarks.md,
    /// "Verification at scale"). Only a proposal either way: ``RecordLinks`` trusts no seq.
    static func linkRowsStatement(_ tables: [AuditedTable]) throws -> SQLQuery {
        var statement: SQLQuery = """
            COPY (
            """ + Self.withComparedTables + """
            , live AS (

            """
        for (index, table) in tables.enumerated() {
            guard let schema = SQLIdentifier(table.schema), let relation = SQLIdentifier(table.relation) else {
                throw ClientError(.unsendableValue, "table \(table.table.name) has a name gmp does not quote")
            }
            if index > 0 { statement.append("    UNION ALL\n") }
            statement.append("""
                    SELECT x.tableoid AS oid, pg_catalog.to_jsonb(x.*) AS j FROM ONLY \(identifier: schema).\(identifier: relation) AS x

                """)
        }
        statement.append("""
            ), last AS (
                SELECT DISTINCT ON (e.table_name, e.record_key) e.table_name, e.record_key, e.seq
                FROM gmp_audit.event e
                ORDER BY e.table_name DESC, e.record_key DESC, e.seq DESC
            )
            SELECT c.ti, k.k, l.seq, pg_catalog.sha256(pg_catalog.convert_to(r.j::text, 'UTF8'))
            FROM live r JOIN compared c USING (oid) CROSS JOIN LATERAL (SELECT r.j ->> c.key_column AS k) k
            LEFT JOIN last l ON l.table_name = c.table_name AND l.record_key = k.k
            ) TO STDOUT (FORMAT binary)
            """)
        return statement
    }
}
