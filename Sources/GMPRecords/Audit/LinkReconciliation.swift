import GMPRules
import PostgresClient

/// The rows' side of the link check (issue 18, ``RecordLinks``): every row of every
/// compared table as the SHA-256 of its text, with the seq of its key's last event. No
/// event image is rendered and nothing is sorted: the chain pass has hashed the events.
extension AuditTrail {
    /// Streams the compared tables' rows from this connection's transaction (its snapshot)
    /// into links. `tables`: the compared tables, in the tally's order (the indexes the
    /// links use); `digestKey`: the run's key.
    func linkRows(tables: [AuditedTable], digestKey: [UInt8]) throws -> RecordLinks {
        var links = RecordLinks(tableCount: tables.count, digestKey: digestKey)
        guard !tables.isEmpty else { return links }
        try pinRowText()
        _ = try connection.execute("""
            SELECT set_config('gmp.reconcile_tables', \(Self.comparedTablesJSON(tables)), true), set_config('jit', 'off', true)
            """)
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

    /// Columns: table index (in the setting `gmp.reconcile_tables`), the row's key, the seq
    /// of the last chained event on that key (one probe of `event_record_seq`; NULL for
    /// none), the SHA-256 of the row's text. In no particular order. Only pg_catalog
    /// functions, schema-qualified.
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
            )
            SELECT c.ti, k.k,
                   (SELECT e.seq FROM gmp_audit.event e WHERE e.table_name = c.table_name AND e.record_key = k.k
                    ORDER BY e.seq DESC LIMIT 1),
                   pg_catalog.sha256(pg_catalog.convert_to(r.j::text, 'UTF8'))
            FROM live r JOIN compared c USING (oid) CROSS JOIN LATERAL (SELECT r.j ->> c.key_column AS k) k
            ) TO STDOUT (FORMAT binary)
            """)
        return statement
    }
}
