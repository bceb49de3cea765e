import SystemCrypto
import GMPRules
import PostgresClient

/// What `gmp audit verify` reads to reconcile from a v3 checkpoint (issue 18,
/// ``IncrementalReconciliation``; docs/audit-trail.md, "Incremental reconciliation from a
/// checkpoint"): the snapshot's identity, the keys touched since, the count of the rows
/// older than the checkpoint's snapshot, and the touched keys' rows. Only pg_catalog
/// functions, schema-qualified; every statement in the verification's snapshot.
extension AuditTrail {
    /// Where a checkpoint's incremental reconciliation starts: its event and snapshot.
    public struct IncrementalBase: Sendable {
        public let seq: Int64
        public let snapshot: AuditCheckpoint.Snapshot
        /// ``IncrementalReconciliation/maximumXidAge`` but in tests of the guard.
        public let maximumXidAge: UInt64
        /// ``IncrementalReconciliation/maximumTouchedKeys`` but in tests of the guard.
        public let maximumTouchedKeys: Int

        public init(seq: Int64, snapshot: AuditCheckpoint.Snapshot,
                    maximumXidAge: UInt64 = IncrementalReconciliation.maximumXidAge,
                    maximumTouchedKeys: Int = IncrementalReconciliation.maximumTouchedKeys) {
            self.seq = seq
            self.snapshot = snapshot
            self.maximumXidAge = maximumXidAge
            self.maximumTouchedKeys = maximumTouchedKeys
        }
    }

    /// This transaction's snapshot as a v3 checkpoint records it, and its xmax (the next
    /// transaction id); nil when the verifier may not read the cluster's identity
    /// (`pg_control_system`, for superusers and those granted it). Without
    /// `renderingDigest`, its schema is left empty (the caller takes it elsewhere).
    func snapshotState(tables: [AuditedTable],
                       renderingDigest withDigest: Bool = true) throws -> (snapshot: AuditCheckpoint.Snapshot, xmax: UInt64)? {
        let allowed: Bool = try connection.query("""
            SELECT pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE') AS allowed
            """)[0].decode("allowed")
        guard allowed else { return nil }
        let row = try connection.query("""
            SELECT (pg_catalog.pg_control_system()).system_identifier::text AS cluster,
                   pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text AS xmin,
                   pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text AS xmax
            """)[0]
        guard let cluster = UInt64(try row.decode("cluster", as: String.self)),
              let xmin = UInt64(try row.decode("xmin", as: String.self)),
              let xmax = UInt64(try row.decode("xmax", as: String.self)) else {
            throw ClientError(.decoding, "the server sent a snapshot that is not three whole numbers")
        }
        return (AuditCheckpoint.Snapshot(cluster: cluster, xmin: xmin, schema: withDigest ? try renderingDigest(tables) : []), xmax)
    }

    /// SHA-256 of everything that decides how the compared tables' rows print as
    /// `to_jsonb` besides the tuples themselves: each table's name, key column and
    /// columns (name, type, typmod, dropped, generated, the added columns' missing values),
    /// and every type they reach through domains, arrays and composites (output function,
    /// enum labels, casts to json or jsonb).
    /// `jit` is set off for the rest of the transaction first: the recursive part's estimate
    /// (≈ 140,000 rows for ≈ 10) passes `jit_above_cost`, and compiling the query cost the
    /// server ≈ 0.7 s for a query that runs in ≈ 10 ms (issue 18).
    func renderingDigest(_ tables: [AuditedTable]) throws -> [UInt8] {
        let oids = "{" + tables.map { String($0.oid) }.joined(separator: ",") + "}"
        _ = try connection.execute("SELECT set_config('jit', 'off', true)")
        let server: String = try connection.query("""
            WITH RECURSIVE cols AS (
                SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, a.attisdropped, a.attgenerated,
                       a.atthasmissing, pg_catalog.to_jsonb(a.attmissingval)::text AS missing
                FROM pg_catalog.pg_attribute a WHERE a.attrelid = ANY (\(oids)::oid[]) AND a.attnum > 0
            ), types(oid) AS (
                SELECT DISTINCT c.atttypid FROM cols c
                UNION
                SELECT x.oid FROM types t JOIN pg_catalog.pg_type ty ON ty.oid = t.oid
                CROSS JOIN LATERAL (SELECT ty.typbasetype UNION ALL SELECT ty.typelem UNION ALL
                                    SELECT a.atttypid FROM pg_catalog.pg_attribute a
                                    WHERE a.attrelid = ty.typrelid AND a.attnum > 0) x(oid)
                WHERE x.oid <> 0
            )
            SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(coalesce(
                       pg_catalog.string_agg(s.line, E'\\n' ORDER BY s.line COLLATE "C"), ''), 'UTF8')), 'hex') AS digest
            FROM (
                SELECT pg_catalog.concat_ws(' ', 'column', c.attrelid, c.attnum, c.attname, c.atttypid, c.atttypmod,
                                            c.attisdropped, c.attgenerated, c.atthasmissing, c.missing)
                FROM cols c
                UNION ALL
                SELECT pg_catalog.concat_ws(' ', 'type', ty.oid, ty.typname, ty.typtype, ty.typoutput::oid, ty.typbasetype,
                                            ty.typelem, ty.typrelid, ty.typcategory, ty.typtypmod,
                    (SELECT pg_catalog.string_agg(e.enumlabel::text, ',' ORDER BY e.enumsortorder)
                     FROM pg_catalog.pg_enum e WHERE e.enumtypid = ty.oid),
                    (SELECT pg_catalog.string_agg(pg_catalog.concat_ws(':', k.casttarget, k.castfunc, k.castmethod), ','
                                                  ORDER BY k.casttarget)
                     FROM pg_catalog.pg_cast k
                     WHERE k.castsource = ty.oid AND k.casttarget IN ('pg_catalog.json'::pg_catalog.regtype,
                                                                      'pg_catalog.jsonb'::pg_catalog.regtype)))
                FROM types t JOIN pg_catalog.pg_type ty ON ty.oid = t.oid
            ) s(line)
            """)[0].decode("digest")
        var sha256 = SHA256()
        sha256.update(data: Array("gmp-rendering-v1\n\(server)\n".utf8))
        for table in tables {
            sha256.update(data: Array("\(table.oid) \(table.table.name) \(table.table.keyColumn)\n".utf8))
        }
        return Array(sha256.finalize())
    }

    /// "This row's `xmin` does not precede the checkpoint snapshot's": its age (`age(xmin)`,
    /// this transaction's next id minus it, modulo 2^32, as an int4) at most the age of the
    /// xmin's low 32 bits (setting `gmp.incremental_xmin`), taken once per statement. Every
    /// tuple written since the snapshot is such (the guard keeps them within 2^31 of it; were
    /// the xmin's age past 2^31, every row would count as written since); an older one read
    /// so is only read. `age` is a subtraction where the text round trip of the xid
    /// (`xmin::text::int8`) and a setting's lookup per row cost the server ~0.1 s per
    /// million rows (issue 18).
    static let writtenSince: SQLQuery = """
        (pg_catalog.age(t.xmin) <= (SELECT CASE WHEN d.d >= 0 THEN d.d ELSE 2147483647 END
                                    FROM pg_catalog.age(pg_catalog.current_setting('gmp.incremental_xmin')::xid) AS d(d)))
        """

    /// The keys the events after the checkpoint and the pending ones file images under:
    /// one read of those events. Nil when they are more than the shortcut takes. They are
    /// all the chain pass's routing needs for the events after the checkpoint; the rows
    /// written since only add keys whose every event is the checkpoint's or earlier.
    func keysOfEventsSince(_ base: IncrementalBase, tables: [AuditedTable]) throws -> IncrementalReconciliation? {
        var plan = IncrementalReconciliation(checkpointSeq: base.seq)
        let keyColumns = AuditedTable.keyColumns(of: tables)
        for row in try connection.query("""
            SELECT e.table_name, e.record_key, CASE WHEN e.action = 'UPDATE' THEN e.old_values::text END AS old_values,
                   e.new_values ->> 'record_table' AS signed_table, e.new_values ->> 'record_key' AS signed_key
            FROM gmp_audit.event e WHERE e.seq > \(base.seq) AND e.action IN ('INSERT', 'UPDATE', 'DELETE')
            UNION ALL
            SELECT p.table_name, p.record_key, CASE WHEN p.action = 'UPDATE' THEN p.old_values::text END,
                   p.new_values ->> 'record_table', p.new_values ->> 'record_key'
            FROM gmp_audit.pending_event p WHERE p.action IN ('INSERT', 'UPDATE', 'DELETE')
            """) {
            let table: String = try row.decode("table_name")
            plan.touch(table: table, key: try row.decode("record_key", as: String?.self))
            if let old = try row.decode("old_values", as: String?.self), let column = keyColumns[table] {
                plan.touch(table: table, key: AuditReconciler.key(of: old, column: column))
            }
            if table == AuditReconciler.signatureTable, let signed = try row.decode("signed_table", as: String?.self) {
                plan.touch(table: signed, key: try row.decode("signed_key", as: String?.self))
            }
        }
        // Too much changed for the shortcut: nil, and the caller reconciles in full.
        return plan.touchedCount <= base.maximumTouchedKeys ? plan : nil
    }

    /// Sets `gmp.incremental_xmin` (``writtenSince``) for this transaction, and `jit` off:
    /// at 10,000,000 rows the scans' estimates pass `jit_above_cost`, and compiling costs
    /// more than the scans' expressions save.
    func setIncrementalXmin(_ base: IncrementalBase) throws {
        _ = try connection.execute("""
            SELECT set_config('gmp.incremental_xmin', \(String(base.snapshot.xmin & 0xFFFF_FFFF)), true),
                   set_config('jit', 'off', true)
            """)
    }

    /// `plan` with the keys of the rows written since the checkpoint's snapshot touched
    /// too, and per compared table how many of its rows are older: one scan per table
    /// that renders nothing but the key column of the rows written since. Nil when the
    /// keys are then more than the shortcut takes. Runs on the second connection
    /// alongside the chain pass, or on this one (issue 18).
    func touchRowsWrittenSince(_ plan: IncrementalReconciliation, base: IncrementalBase,
                               tables: [AuditedTable]) throws -> (plan: IncrementalReconciliation, olderRows: [String: Int64])? {
        var plan = plan
        try setIncrementalXmin(base)
        var olderRows: [String: Int64] = [:]
        for table in tables {
            let (schema, relation, key) = try Self.identifiers(table)
            let isSignature = table.table.name == AuditReconciler.signatureTable
            // Only the rows written since are grouped; the older ones are all the rows but
            // those (grouping every row cost the server ~3x the scan at 1,000,000 rows).
            var statement: SQLQuery = "WITH w AS MATERIALIZED (SELECT pg_catalog.to_jsonb(t.\(identifier: key)) #>> '{}' AS k, "
            statement.append(isSignature ? "t.record_table::text AS signed_table, t.record_key::text AS signed_key"
                                         : "NULL::text AS signed_table, NULL::text AS signed_key")
            statement.append(" FROM ONLY \(identifier: schema).\(identifier: relation) AS t WHERE " + Self.writtenSince)
            statement.append("""
                ) SELECT true AS since, w.k, w.signed_table, w.signed_key, count(*) AS n FROM w GROUP BY 2, 3, 4
                UNION ALL SELECT false, NULL, NULL, NULL,
                    (SELECT count(*) FROM ONLY \(identifier: schema).\(identifier: relation)) - (SELECT count(*) FROM w)
                """)
            for row in try connection.query(statement) {
                if try row.decode("since", as: Bool.self) {
                    plan.touch(table: table.table.name, key: try row.decode("k", as: String?.self))
                    if let signed = try row.decode("signed_table", as: String?.self) {
                        plan.touch(table: signed, key: try row.decode("signed_key", as: String?.self))
                    }
                } else {
                    olderRows[table.table.name, default: 0] += try row.decode("n", as: Int64.self)
                }
            }
            guard plan.touchedCount <= base.maximumTouchedKeys else { return nil }
        }
        return (plan, olderRows)
    }

    static func identifiers(_ table: AuditedTable) throws -> (SQLIdentifier, SQLIdentifier, SQLIdentifier) {
        guard let schema = SQLIdentifier(table.schema), let relation = SQLIdentifier(table.relation),
              let key = SQLIdentifier(table.table.keyColumn) else {
            throw ClientError(.unsendableValue, "table \(table.table.name) has a name gmp does not quote")
        }
        return (schema, relation, key)
    }

    /// A touched key's row, read ahead on the second connection (issue 18).
    struct TouchedRow: Sendable {
        let table: String
        let text: String
        /// Its `xmin` does not precede the checkpoint snapshot's (``writtenSince``).
        let writtenSince: Bool
    }

    /// Compares the touched keys' rows (`touchedRows` when read ahead, else read here)
    /// with the replay of their events, checks the count of every other key's rows, then
    /// the signatures on audit events.
    func finishIncrementalReconciliation(_ run: ReconciliationRun, olderRows: [String: Int64], touchedRows: [TouchedRow]? = nil,
                                         progress: (VerificationProgress) -> Void) throws -> AuditReconciliation {
        guard let plan = run.incremental else { return try finishReconciliation(run, progress: progress) }
        if let seq = plan.unlisted.first {
            throw ClientError(.decoding, "event \(seq), after the checkpoint, was not among the changes the server listed")
        }
        let clock = ContinuousClock()
        let start = clock.now
        var run = run
        var unchanged = olderRows
        func compare(_ row: TouchedRow) {
            run.reconciler.compare(row.text, in: row.table)
            if !row.writtenSince { unchanged[row.table, default: 0] -= 1 }
        }
        if let touchedRows {
            touchedRows.forEach(compare)
        } else {
            try readTouchedRows(plan, tables: run.tables, progress: progress, compare)
        }
        var reconciliation = try finishReconciliation(run, readingRows: false, progress: progress)
        reconciliation.outcome = reconciliation.outcome.adding(plan.countFindings(unchangedRows: unchanged))
        reconciliation.incrementalFrom = plan.checkpointSeq
        reconciliation.seconds += (clock.now - start).seconds
        return reconciliation
    }

    /// Every row under a key `plan` touched, in this snapshot: one COPY per table. The rows
    /// are those whose key renders as a touched key (`to_jsonb(key) #>> '{}'`); for an
    /// integer or text key column they are first looked up by the key's value, by its index
    /// where it has one (``touchedKeysByValue(_:type:)``), and that test only rechecks them:
    /// rendering every row's key cost the server ≈ 1.5 s per million rows (issue 18).
    func readTouchedRows(_ plan: IncrementalReconciliation, tables: [AuditedTable],
                         progress: (VerificationProgress) -> Void = { _ in }, _ body: (TouchedRow) -> Void) throws {
        var rows = 0
        for table in tables {
            guard let keys = plan.touched[table.table.name], !keys.isEmpty else { continue }
            progress(.rows(rows, table: table.table.name))
            let (schema, relation, key) = try Self.identifiers(table)
            let listed = keys.compactMap { $0 }
            let type: Int64? = try connection.query("""
                SELECT set_config('gmp.touched_keys', \(Self.jsonArray(listed)), true),
                       (SELECT a.atttypid::int8 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = \(table.oid)::oid AND a.attname = \(table.table.keyColumn) AND NOT a.attisdropped) AS type
                """)[0].decode("type")
            let byValue = try touchedKeysByValue(listed, type: type)
            var statement: SQLQuery = "COPY (SELECT pg_catalog.to_jsonb(t.*), CASE WHEN "
            statement.append(Self.writtenSince)
            statement.append(" THEN 1 ELSE 0 END::int4 FROM ONLY \(identifier: schema).\(identifier: relation) AS t WHERE (")
            if let byValue {
                statement.append("t.\(identifier: key) IN (SELECT ")
                statement.append(byValue)
                statement.append(") AND ")
            }
            statement.append("""
                (pg_catalog.to_jsonb(t.\(identifier: key)) #>> '{}') IN
                      (SELECT pg_catalog.jsonb_array_elements_text(pg_catalog.current_setting('gmp.touched_keys')::jsonb)))
                """)
            if keys.contains(nil) { statement.append(" OR t.\(identifier: key) IS NULL") }
            statement.append(") TO STDOUT (FORMAT binary)")
            var decoder = CopyBinaryDecoder(expectedFieldCount: 2)
            _ = try connection.copyOut(statement) { chunk in
                try decoder.feed(chunk) { row in
                    guard let text = try row.jsonbText(at: 0) else { return }
                    body(TouchedRow(table: table.table.name, text: String(decoding: text, as: UTF8.self),
                                    writtenSince: try row.int32(at: 1) != 0))
                    rows += 1
                }
            }
            try decoder.finish()
        }
    }

    /// The touched keys as values of the key column's type, for a lookup by its index: a
    /// select list over the setting `gmp.touched_ints` (set here: the keys that are an
    /// integer as `to_jsonb` prints one, the others match no row of an integer column) or
    /// `gmp.touched_keys` (a text column's key prints as itself). Nil for other types.
    private func touchedKeysByValue(_ keys: [String], type: Int64?) throws -> SQLQuery? {
        switch type {
        case 20?, 21?, 23?: // int8, int2, int4: compared as int8 (the btree family spans them)
            let integers = keys.filter { key in Int64(key).map { String($0) == key } ?? false }
            _ = try connection.execute("SELECT set_config('gmp.touched_ints', \(Self.jsonArray(integers)), true)")
            return "x::int8 FROM pg_catalog.jsonb_array_elements_text(pg_catalog.current_setting('gmp.touched_ints')::jsonb) AS x"
        case 25?: // text
            return "pg_catalog.jsonb_array_elements_text(pg_catalog.current_setting('gmp.touched_keys')::jsonb)"
        default:
            return nil
        }
    }

    /// `strings` as a JSON array's text.
    private static func jsonArray(_ strings: [String]) -> String {
        "[" + strings.map(JSONStringEscape.quoted).joined(separator: ",") + "]"
    }
}
