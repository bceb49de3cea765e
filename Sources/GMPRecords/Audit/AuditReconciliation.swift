import GMPRules
import PostgresClient

/// Reading what the reconciliation compares: which tables are audited row by row, and
/// their rows as the row trigger prints them. The comparison itself is
/// ``AuditReconciler``'s, here in the client.
extension AuditTrail {
    /// An audited table as the catalog describes it.
    struct AuditedTable {
        /// The table's oid, to tell its rows apart in one stream.
        let oid: Int64
        let schema: String
        let relation: String
        let table: AuditReconciler.Table
        /// Its audit trigger records whole rows (`gmp_audit.record_change`, or its C twin
        /// `record_change_native`: the same rows); otherwise it is
        /// statement-level or redacted, and its events are not rows.
        let recordsRows: Bool
        /// Whether the person verifying may read it.
        let readable: Bool
    }

    /// Every table with an `audit` trigger, with its key column and primary key.
    func auditedTables() throws -> [AuditedTable] {
        try connection.query("""
            SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS relation,
                   (p.proname IN ('record_change', 'record_change_native') AND pn.nspname = 'gmp_audit') AS records_rows,
                   convert_from(substring(t.tgargs FROM 1 FOR greatest(position('\\x00'::bytea IN t.tgargs) - 1, 0)),
                                'UTF8') AS key_column,
                   coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                             FROM pg_catalog.pg_index i
                             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                             WHERE i.indrelid = c.oid AND i.indisprimary), '') AS primary_key,
                   pg_catalog.has_table_privilege(c.oid, 'SELECT') AS readable,
                   coalesce((SELECT pg_catalog.jsonb_object_agg(a.attname, pg_catalog.to_jsonb(a.attmissingval) -> 0)
                             FROM pg_catalog.pg_attribute a
                             WHERE a.attrelid = c.oid AND a.atthasmissing AND NOT a.attisdropped), '{}')::text AS missing
            FROM pg_catalog.pg_trigger t
            JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
            JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
            WHERE t.tgname = 'audit' AND NOT t.tgisinternal
              AND n.nspname IN ('gmp', 'gmp_audit', 'gmp_meta', 'gmp_private')
            ORDER BY 2, 3
            """).map { row in
            let schema: String = try row.decode("schema")
            let relation: String = try row.decode("relation")
            let primaryKey: String = try row.decode("primary_key")
            let missing = JSONObjectText(try row.decode("missing", as: String.self))?.fields ?? []
            return AuditedTable(
                oid: try row.decode("oid"), schema: schema, relation: relation,
                table: AuditReconciler.Table(name: "\(schema).\(relation)", keyColumn: try row.decode("key_column"),
                                             primaryKey: primaryKey.split(separator: ",").map(String.init),
                                             missingValues: Dictionary(missing.map { ($0.name, $0.value) },
                                                                       uniquingKeysWith: { first, _ in first })),
                recordsRows: try row.decode("records_rows"), readable: try row.decode("readable"))
        }
    }

    /// Makes this transaction print rows exactly as the row trigger does (it pins these
    /// settings too), so that an unchanged row reads as the same text.
    func pinRowText() throws {
        try connection.execute("SELECT set_config('TimeZone', 'UTC', true), set_config('IntervalStyle', 'postgres', true), set_config('bytea_output', 'hex', true), set_config('extra_float_digits', '1', true)")
    }

    /// Streams every row of `table` as `to_jsonb(row)` text, in constant memory per row.
    /// `ONLY`: a table inheriting from it is not its rows.
    func streamRows(of table: AuditedTable, _ body: (String) -> Void) throws {
        guard let schema = SQLIdentifier(table.schema), let relation = SQLIdentifier(table.relation) else {
            throw ClientError(.unsendableValue, "table \(table.table.name) has a name gmp does not quote")
        }
        var decoder = CopyBinaryDecoder(expectedFieldCount: 1)
        _ = try connection.copyOut("""
            COPY (SELECT pg_catalog.to_jsonb(t.*) FROM ONLY \(identifier: schema).\(identifier: relation) AS t) TO STDOUT (FORMAT binary)
            """) { chunk in
            try decoder.feed(chunk) { row in
                if let text = try row.jsonbText(at: 0) { body(String(decoding: text, as: UTF8.self)) }
            }
        }
        try decoder.finish()
    }

    /// The content a signature on audit events covers: each event's row as jsonb, read
    /// from the events the chain verification has just proved. As in
    /// `gmp_rules.record_content`, an event written before V0032 is read without the write
    /// order it never had, so reviews signed before the upgrade stay intact, and without
    /// prev_seq, which no review signs (a verification hint outside the event's hash).
    func auditEventContent(seqs: [Int64]) throws -> [String: String] {
        guard !seqs.isEmpty else { return [:] }
        let list = "{" + seqs.map(String.init).joined(separator: ",") + "}"
        var content: [String: String] = [:]
        for row in try connection.query("""
            SELECT e.seq::text AS key,
                   ((CASE WHEN j.row->'write_order' = 'null'::jsonb THEN j.row - 'write_order' ELSE j.row END)
                    - 'prev_seq')::text AS row
            FROM gmp_audit.event e CROSS JOIN LATERAL (SELECT pg_catalog.to_jsonb(e.*) AS row) j
            WHERE e.seq = ANY(\(list)::bigint[])
            """) {
            content[try row.decode("key")] = RecordContentHash.content(of: [try row.decode("row")])
        }
        return content
    }
}

/// A reconciliation under way: the replay fed by the verification's pass over the trail.
struct ReconciliationRun {
    var reconciler: AuditReconciler
    let tables: [AuditTrail.AuditedTable]
    let skipped: [AuditReconciliation.SkippedTable]
    /// Events after which the record tables are hashed, and the digests taken.
    let digestAt: Set<Int64>
    var digests: [Int64: AuditCheckpoint.TablesDigest] = [:]
    init(reconciler: AuditReconciler, tables: [AuditTrail.AuditedTable], skipped: [AuditReconciliation.SkippedTable],
         digestAt: Set<Int64>) {
        self.reconciler = reconciler
        self.tables = tables
        self.skipped = skipped
        self.digestAt = digestAt
    }

    /// From a checkpoint (issue 18): only the images under touched keys are replayed.
    var incremental: IncrementalReconciliation? {
        guard var plan else { return nil }
        for (table, images) in zip(known, uncounted) where images != 0 {
            plan.countUntouched(table: table.name, images: images)
        }
        return plan
    }
    private var plan: IncrementalReconciliation?
    /// Each compared table's key column, by name (set with ``incremental``).
    private(set) var keyColumns: [String: String] = [:]

    /// Replays from now on only the images under `plan`'s touched keys (issue 18).
    mutating func route(by plan: IncrementalReconciliation) {
        self.plan = plan
        keyColumns = AuditTrail.AuditedTable.keyColumns(of: tables)
        (known, uncounted, last) = ([], [], nil)
    }

    /// A table the trail names, as the events route by it: its name made a String once,
    /// whether it is replayed, and from a checkpoint its touched keys by bytes.
    struct KnownTable {
        let bytes: [UInt8]
        let name: String
        let replayed: Bool
        let touched: TouchedKeyBytes?
    }
    /// The tables met so far, and per table the images counted under untouched keys that
    /// ``plan`` has not added yet (``incremental`` adds them).
    private var known: [KnownTable] = []
    private var uncounted: [Int64] = []
    /// The last event's table, in ``known``.
    private var last: Int?

    mutating func digestNow(at seq: Int64) {
        digests[seq] = reconciler.tablesDigest()
    }

    /// The table named `bytes`, in ``known`` (added when new).
    private mutating func knownTable(_ bytes: UnsafeRawBufferPointer) -> Int {
        if let index = known.firstIndex(where: { $0.bytes.withUnsafeBytes { $0.equals(bytes) } }) { return index }
        let name = String(decoding: bytes, as: UTF8.self)
        let replayed = reconciler.replays(name)
        known.append(KnownTable(bytes: Array(bytes), name: name, replayed: replayed,
                                touched: replayed ? plan.map { TouchedKeyBytes($0.touched[name] ?? []) } : nil))
        uncounted.append(0)
        return known.count - 1
    }

    /// From a checkpoint, an insert or a delete up to the checkpoint's event under an
    /// untouched key, told by its bytes: counted (as ``IncrementalReconciliation/route(seq:table:recordKey:oldKey:hasOld:hasNew:)``
    /// counts it) without a String. False when the event takes the general route.
    private mutating func countedUntouched(_ event: AuditEventBytes, table: Int) -> Bool {
        guard let touched = known[table].touched, event.seq <= plan!.checkpointSeq,
              event.action.equals(UnsafeRawBufferPointer(Self.insert))
                || event.action.equals(UnsafeRawBufferPointer(Self.delete)),
              touched.contains(event.recordKey) == false else { return false }
        uncounted[table] += (event.newValues != nil ? 1 : 0) - (event.oldValues != nil ? 1 : 0)
        return true
    }

    private static let insert: StaticString = "INSERT"
    private static let delete: StaticString = "DELETE"

    /// Replays one event from the COPY row (texts copied only for replayed tables).
    mutating func consume(_ event: AuditEventBytes) {
        defer { if !digestAt.isEmpty, digestAt.contains(event.seq) { digestNow(at: event.seq) } }
        // The table's name made a String once, not per event.
        let index = last.flatMap { known[$0].bytes.withUnsafeBytes { $0.equals(event.tableName) } ? $0 : nil }
            ?? knownTable(event.tableName)
        last = index
        if countedUntouched(event, table: index) { return }
        let table = known[index].name
        let action = String(decoding: event.action, as: UTF8.self)
        guard known[index].replayed else {
            reconciler.consume(seq: event.seq, action: action, table: table, recordKey: nil, oldValues: nil, newValues: nil)
            return
        }
        func text(_ bytes: UnsafeRawBufferPointer?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
        guard plan != nil, ["INSERT", "UPDATE", "DELETE"].contains(action) else {
            reconciler.consume(seq: event.seq, action: action, table: table, recordKey: text(event.recordKey),
                               oldValues: text(event.oldValues), newValues: text(event.newValues))
            return
        }
        // From a checkpoint: each image under a touched key is replayed, the others counted.
        let recordKey = text(event.recordKey)
        let oldValues = text(event.oldValues)
        let oldKey = action == "UPDATE" ? oldValues.flatMap { AuditReconciler.key(of: $0, column: keyColumns[table] ?? "") }
                                        : recordKey
        let route = plan!.route(seq: event.seq, table: table, recordKey: recordKey, oldKey: oldKey,
                                hasOld: event.oldValues != nil, hasNew: event.newValues != nil)
        // A signature up to the checkpoint was checked when it was signed; its row is
        // replayed here because another signature filed under the same key was touched.
        let checkedAtCheckpoint = event.seq <= plan!.checkpointSeq && table == AuditReconciler.signatureTable
        if route.old == (event.oldValues != nil) && route.new == (event.newValues != nil) && !checkedAtCheckpoint {
            if route.old || route.new {
                reconciler.consume(seq: event.seq, action: action, table: table, recordKey: recordKey,
                                   oldValues: oldValues, newValues: text(event.newValues))
            }
        } else if route.old || route.new {
            // One half of an update that moved its row between keys, or a signature
            // checked at the checkpoint: as an update with only that image (never an
            // insert, which would check the signature).
            reconciler.consume(seq: event.seq, action: "UPDATE", table: table, recordKey: recordKey,
                               oldValues: route.old ? oldValues : nil, newValues: route.new ? text(event.newValues) : nil)
        }
    }
}

extension AuditTrail {
    /// Reads the audited tables and pins the row text, before the trail is streamed.
    func startReconciliation(digestAt: Set<Int64>) throws -> ReconciliationRun {
        try pinRowText()
        let all = try auditedTables()
        let compared = all.filter { $0.recordsRows && $0.readable }
        let skipped = Self.skippedTables(all)
        return ReconciliationRun(reconciler: AuditReconciler(tables: compared.map(\.table),
                                                             notReplayed: Set(skipped.map(\.table))),
                                 tables: compared, skipped: skipped, digestAt: digestAt)
    }

    /// The audited tables not compared, with why.
    static func skippedTables(_ all: [AuditedTable]) -> [AuditReconciliation.SkippedTable] {
        all.filter { !($0.recordsRows && $0.readable) }.map {
            AuditReconciliation.SkippedTable(
                table: $0.table.name,
                reason: !$0.readable ? "you may not read it" : "its audit events do not hold whole rows")
        }
    }

    /// Compares every row of every compared table with the replay, then the signatures
    /// on audit events, in the verification's snapshot.
    /// Without `readingRows`, the caller has compared the rows already.
    func finishReconciliation(_ run: ReconciliationRun, readingRows: Bool = true,
                              progress: (VerificationProgress) -> Void) throws -> AuditReconciliation {
        let clock = ContinuousClock()
        let start = clock.now
        var run = run
        var rows = 0
        for table in run.tables where readingRows {
            progress(.rows(rows, table: table.table.name))
            try streamRows(of: table) { row in
                run.reconciler.compare(row, in: table.table.name)
                rows += 1
                if rows & 0xFFFF == 0 { progress(.rows(rows, table: table.table.name)) }
            }
        }
        let deferred = run.reconciler.deferredSignatures
        let events = try auditEventContent(seqs: deferred.filter { $0.table == "gmp_audit.event" }.compactMap { Int64($0.key) })
        for signature in deferred {
            run.reconciler.checkDeferredSignature(signature, content: signature.table == "gmp_audit.event" ? events[signature.key] : nil)
        }
        let elapsed = clock.now - start
        return AuditReconciliation(
            outcome: run.reconciler.finish(), skippedTables: run.skipped,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            tablesDigests: run.digests)
    }
}

extension AuditTrail.AuditedTable {
    /// Each table's key column, by the table's name.
    static func keyColumns(of tables: [Self]) -> [String: String] {
        Dictionary(tables.map { ($0.table.name, $0.table.keyColumn) }, uniquingKeysWith: { first, _ in first })
    }
}
