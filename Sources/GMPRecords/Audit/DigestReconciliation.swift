import Dispatch
import GMPRules
import PostgresClient

/// The reconciliation's digest pass (issue 18), for the tables the link check did not
/// settle: the trail and those tables merged in key order as in
/// ``AuditTrail/mergeReconciliation(_:tables:events:digests:linked:seconds:progress:)``,
/// but the server sends each row image as its SHA-256 (`pg_catalog.sha256`), not its
/// text, and the client replays digests (``KeyOrderedDigestReplay``).
extension AuditTrail {
    /// Streams the digest merge from this connection's transaction (its snapshot) into a
    /// replay. `tables`: the compared tables; `digestKey`: the run's key.
    func digestReplay(tables: [AuditedTable], digestKey: [UInt8]) throws -> KeyOrderedDigestReplay {
        let ordered = Self.streamOrder(tables)
        var replay = KeyOrderedDigestReplay(tables: ordered.map(\.table.name), digestKey: digestKey)
        guard !ordered.isEmpty else {
            try replay.finish()
            return replay
        }
        try pinRowText()
        _ = try connection.execute("""
            SELECT set_config('gmp.reconcile_tables', \(Self.comparedTablesJSON(ordered)), true),
            """ + Self.wholeTrailSettings)
        let signatures = ordered.contains { $0.table.name == AuditReconciler.signatureTable }
        var decoder = CopyBinaryDecoder(expectedFieldCount: 8)
        var failure: Error?
        _ = try connection.copyOut(try Self.digestStatement(ordered, signatures: signatures)) { chunk in
            try decoder.feed(chunk) { row in
                guard failure == nil else { return }
                do {
                    guard let table = try row.int32(at: 0), let kind = try row.int32(at: 3) else {
                        throw ClientError(.decoding, "the digest stream sent an item without table or kind")
                    }
                    func digest(_ index: Int) throws -> RowDigest? {
                        guard let bytes = row.bytes(at: index) else { return nil }
                        guard let digest = RowDigest(bytes: bytes) else {
                            throw ClientError(.decoding, "the digest stream sent a digest of \(bytes.count) bytes")
                        }
                        return digest
                    }
                    try replay.item(table: Int(table), key: row.bytes(at: 1), seq: try row.int64(at: 2), kind: kind,
                                    action: row.bytes(at: 4), oldKey: row.bytes(at: 5), old: try digest(6), new: try digest(7))
                } catch {
                    failure = error
                }
            }
        }
        try decoder.finish()
        if let failure { throw failure }
        try replay.finish()
        return replay
    }

    /// The compared tables in the streams' order: names in byte order.
    static func streamOrder(_ tables: [AuditedTable]) -> [AuditedTable] {
        tables.sorted { $0.table.name.utf8.lexicographicallyPrecedes($1.table.name.utf8) }
    }

    /// `WITH compared`: the tables a merge compares (setting `gmp.reconcile_tables`), with
    /// each one's index `ti` in that list. Shared by the digest and the link merges.
    static let withComparedTables: SQLQuery = """
        WITH compared AS (
            SELECT (c.value ->> 'oid')::oid AS oid, c.value ->> 'name' AS table_name, c.value ->> 'key' AS key_column,
                   (c.ordinality - 1)::int4 AS ti
            FROM pg_catalog.jsonb_array_elements(pg_catalog.current_setting('gmp.reconcile_tables')::jsonb)
                 WITH ORDINALITY AS c(value, ordinality)
        )
        """

    /// The merge statement of ``mergeStatement(_:signatures:)`` with digests for
    /// texts and each table named by its index in the setting `gmp.reconcile_tables`
    /// (whose order is the stream's): columns table index, key, seq, kind, action, the
    /// key an update's old values name, old digest, new digest. Only pg_catalog functions,
    /// schema-qualified. The signatures (kind 2) come without content: a signed key is
    /// read again with its texts.
    static func digestStatement(_ tables: [AuditedTable], signatures: Bool) throws -> SQLQuery {
        var statement: SQLQuery = """
            COPY (
            """ + Self.withComparedTables + """
            ,
            """ + Self.trailOfRowEvents + """
            , items AS (
                SELECT c.ti, v.k, t.seq, v.kind, v.action, v.old_key, d.old_digest, v.new_digest
                FROM trail t JOIN compared c USING (table_name)
                CROSS JOIN LATERAL (
                    SELECT pg_catalog.sha256(pg_catalog.convert_to(t.old_values::text, 'UTF8')) AS old_digest,
                           CASE WHEN t.action = 'UPDATE' THEN t.old_values ->> c.key_column END AS old_key) d
                CROSS JOIN LATERAL (
                    SELECT 0 AS kind, t.record_key AS k, t.action, d.old_key,
                           pg_catalog.sha256(pg_catalog.convert_to(t.new_values::text, 'UTF8')) AS new_digest
                    UNION ALL
                    SELECT 1, d.old_key, NULL, NULL, NULL
                    WHERE t.action = 'UPDATE' AND t.old_values IS NOT NULL AND d.old_key IS DISTINCT FROM t.record_key) v

            """
        if signatures {
            statement.append("""
                UNION ALL
                SELECT c.ti, t.new_values ->> 'record_key', t.seq, 2, NULL, NULL, NULL, NULL
                FROM trail t JOIN compared c ON c.table_name = t.new_values ->> 'record_table'
                WHERE t.table_name = 'gmp.signature' AND t.action = 'INSERT'

                """)
        }
        for table in tables {
            guard let schema = SQLIdentifier(table.schema), let relation = SQLIdentifier(table.relation) else {
                throw ClientError(.unsendableValue, "table \(table.table.name) has a name gmp does not quote")
            }
            statement.append("""
                UNION ALL
                SELECT c.ti, r.j ->> c.key_column, NULL, 3, NULL, NULL, NULL,
                       pg_catalog.sha256(pg_catalog.convert_to(r.j::text, 'UTF8'))
                FROM (SELECT x.tableoid AS oid, pg_catalog.to_jsonb(x.*) AS j
                      FROM ONLY \(identifier: schema).\(identifier: relation) AS x OFFSET 0) r JOIN compared c USING (oid)

                """)
        }
        statement.append("""
            )
            SELECT ti, k, seq, kind, action, old_key, old_digest, new_digest FROM items
            ORDER BY ti, k COLLATE "C" NULLS LAST, seq NULLS LAST, kind
            ) TO STDOUT (FORMAT binary)
            """)
        return statement
    }

    /// The keys the text merge must read, as a transaction-local setting (COPY takes no
    /// parameters): a JSON array of [table, key] pairs, key null for no key.
    static func unsettledKeysJSON(_ keys: [KeyOrderedDigestReplay.Key]) -> String {
        "[" + keys.map { "[\(JSONStringEscape.quoted($0.table)),\($0.key.map(JSONStringEscape.quoted) ?? "null")]" }
            .joined(separator: ",") + "]"
    }
}

/// The rows' side of the link check (``AuditTrail/linkRows(tables:digestKey:)``) on a
/// second connection, importing the chain pass's snapshot, run on a thread of its own
/// while the chain pass runs (issue 18): the verification then takes the longer of the
/// two instead of their sum. The connection belongs to that thread until ``wait()`` returns.
final class SecondPass<Output>: @unchecked Sendable {
    private let connection: PostgresConnection
    private let snapshot: SQLSnapshotID
    private let body: (AuditTrail) throws -> Output
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Output, Error>?
    /// Whether the snapshot was imported: before that, a failure only means the pass
    /// must run on the first connection instead.
    private var imported = false

    init(connection: PostgresConnection, snapshot: SQLSnapshotID, body: @escaping (AuditTrail) throws -> Output) {
        self.connection = connection
        self.snapshot = snapshot
        self.body = body
    }

    /// Starts the pass; the snapshot is imported on the new thread, so the exporting
    /// transaction must stay open until ``wait()`` returns.
    func start() {
        DispatchQueue(label: "gmp.verify.second-pass").async { [self] in
            result = Result {
                try connection.transaction(.repeatableRead, readOnly: true, retry: .never) { db in
                    _ = try db.execute("SET TRANSACTION SNAPSHOT \(snapshot: snapshot)")
                    imported = true
                    return try body(AuditTrail(db))
                }
            }
            done.signal()
        }
    }

    /// The pass's output, once it has ended; nil when the snapshot could not be imported.
    func wait() throws -> Output? {
        done.wait()
        if case .failure(let error) = result, !imported {
            connection.logger.debug("the pass runs after the chain pass: \(error)")
            return nil
        }
        return try result!.get()
    }
}
