import GMPRules
import PostgresClient

/// What the chain pass gathers for the reconciliation (issue 18): per compared table, a
/// keyed digest of the row events it hashed (for the key-ordered merge's proof) and the
/// links of its record histories (``RecordLinks``); and the tables the trail writes that
/// the database lacks. Nothing here grows with the trail.
struct ReconciliationTally {
    /// The compared tables; indexes into it name them in the links and sums.
    let tables: [AuditTrail.AuditedTable]
    let skipped: [AuditReconciliation.SkippedTable]
    let digestKey: [UInt8]
    private let index: [String: Int]
    private let notReplayed: Set<String>
    private let signatureTable: Int?
    private(set) var events: [ReplayDigest]
    private(set) var links: RecordLinks
    private(set) var unknownTables: Set<String> = []
    /// The last table name seen and its index (nil: not compared), so that a run of one
    /// table's events costs a byte comparison, not a string each.
    private var lastName: [UInt8] = []
    private var lastIndex: Int?
    /// For a checkpoint's tables digest (``AuditTrail/verify(checkpoints:reconcile:since:recordSnapshot:tablesDigestAt:tablesDigestAtEnd:tablesDigestInKeyOrder:replayInMemoryUpTo:openSecondConnection:progress:)``'s `tablesDigestInKeyOrder`): the record
    /// tables' images the chain pass's events wrote, and those they removed, as
    /// ``ReplayDigest/addRow(table:image:)`` items; their difference is what the tables hold.
    private(set) var images: (written: ReplayDigest, removed: ReplayDigest)?
    /// Per compared table, whether a tables digest holds it (``TablesDigestStream/holds(_:)``).
    private let hashed: [Bool]
    /// The last chained event's seq, and whether any pending event followed.
    private(set) var lastSeq: Int64 = 0
    private(set) var sawPending = false

    init(tables: [AuditTrail.AuditedTable], skipped: [AuditReconciliation.SkippedTable], hashesTables: Bool = false) {
        self.tables = tables
        self.skipped = skipped
        digestKey = ReplayDigest.randomKey()
        index = Dictionary(tables.enumerated().map { ($1.table.name, $0) }, uniquingKeysWith: { first, _ in first })
        notReplayed = Set(skipped.map(\.table))
        events = Array(repeating: ReplayDigest(key: digestKey), count: tables.count)
        links = RecordLinks(tableCount: tables.count, digestKey: digestKey)
        hashed = tables.map { TablesDigestStream.holds($0.table.name) }
        images = hashesTables ? (ReplayDigest(key: digestKey), ReplayDigest(key: digestKey)) : nil
        signatureTable = index[AuditReconciler.signatureTable]
        // A signature's content is hashed from texts: the merge checks that table.
        if let signatureTable { links.requireMerge(table: signatureTable) }
    }

    /// One event of the chain pass (`prevSeq`: the database's `prev_seq`), or a pending one
    /// (`pending`: it has no `prev_seq` yet, so its table takes the merge), in any order.
    mutating func consume(_ event: AuditEventBytes, prevSeq: Int64?, pending: Bool = false) {
        if pending { sawPending = true } else { lastSeq = event.seq }
        guard Self.isRowAction(event.action) else { return }
        if !event.tableName.elementsEqual(lastName) {
            lastName = Array(event.tableName)
            let name = String(decoding: lastName, as: UTF8.self)
            lastIndex = index[name]
            if lastIndex == nil, !notReplayed.contains(name) { unknownTables.insert(name) }
        }
        guard let table = lastIndex else { return }
        let old = event.oldValues.map(RowDigest.init(of:))
        let new = event.newValues.map(RowDigest.init(of:))
        events[table].addEvent(seq: event.seq, action: event.action, table: event.tableName, recordKey: event.recordKey,
                               old: old, new: new)
        links.event(table: table, seq: event.seq, recordKey: event.recordKey, prevSeq: prevSeq, old: old, new: new)
        if pending { links.requireMerge(table: table) }
        if images != nil, hashed[table] {
            // As ``AuditReconciler`` replays: an insert writes its new image, a delete
            // removes its old one, an update both.
            event.tableName.withUnsafeBytes { name in
                if let new, !event.action.elementsEqual("DELETE".utf8) { images!.written.addRow(table: name, image: new) }
                if let old, !event.action.elementsEqual("INSERT".utf8) { images!.removed.addRow(table: name, image: old) }
            }
        }
        // A signed record's content is hashed from texts: its table takes the merge.
        if table == signatureTable, let newValues = event.newValues, event.action.elementsEqual("INSERT".utf8),
           let signed = JSONObjectText(String(decoding: newValues, as: UTF8.self))?.text("record_table"),
           let signedTable = index[signed] {
            links.requireMerge(table: signedTable)
        }
    }

    /// The keyed digest of the row events of `tables` (indexes).
    func events(of tables: [Int]) -> ReplayDigest {
        var sum = events.first?.empty ?? ReplayDigest(key: digestKey)
        for table in tables { sum.add(events[table]) }
        return sum
    }

    private static func isRowAction(_ action: UnsafeRawBufferPointer) -> Bool {
        action.elementsEqual("INSERT".utf8) || action.elementsEqual("UPDATE".utf8) || action.elementsEqual("DELETE".utf8)
    }
}

extension AuditTrail {
    /// Reads the audited tables and pins the row text, before the trail is streamed.
    /// `hashingTables`: the settled reconciliation also hashes the record tables as the
    /// trail replays them at its last event, as a checkpoint signs them
    /// (``AuditReconciliation/tablesDigests``), in bounded memory (issue 18).
    func startTally(hashingTables: Bool = false) throws -> ReconciliationTally {
        try pinRowText()
        let all = try auditedTables()
        return ReconciliationTally(tables: all.filter { $0.recordsRows && $0.readable },
                                   skipped: Self.skippedTables(all), hashesTables: hashingTables)
    }

    /// Settles the reconciliation (issue 18). `links`: the chain pass's links with the
    /// rows' (``linkRows(tables:digestKey:)``, read in the same snapshot); every compared
    /// table they settle (``RecordLinks``) is done. The others are merged in key order on
    /// this connection: digests first (``digestReplay(tables:digestKey:)``; that stream
    /// must hold exactly the row events of those tables the chain pass hashed), then the
    /// keys they could not settle (findings, rows that differ only in a field added since,
    /// signed records) read with their texts in one COPY in key order (``KeyOrderedReconciler``,
    /// one key's rows held at a time); that stream must hold exactly those keys' events and
    /// moved rows as the digest stream did.
    func settleReconciliation(_ tally: ReconciliationTally, links: RecordLinks, seconds: Double,
                              progress: (VerificationProgress) -> Void) throws -> AuditReconciliation {
        let clock = ContinuousClock()
        let start = clock.now
        var linked = KeyOrderedDigestReplay.Settled()
        var remaining: [Int] = []
        for (index, table) in tally.tables.enumerated() {
            guard links.settles(table: index) else {
                remaining.append(index)
                continue
            }
            linked.eventsReplayed += links.tables[index].events
            linked.rowsChecked += links.tables[index].rows
            if links.tables[index].rows > 0 { linked.tables.insert(table.table.name) }
        }
        let merged = remaining.map { tally.tables[$0] }
        let digests = try digestReplay(tables: merged, digestKey: tally.digestKey)
        var reconciliation = try mergeReconciliation(tally, tables: merged, events: tally.events(of: remaining),
                                                     digests: digests, linked: linked, seconds: 0,
                                                     hashingTables: tally.images != nil, progress: progress)
        reconciliation.seconds = seconds + (clock.now - start).seconds
        reconciliation.linkedTables = tally.tables.count - remaining.count
        return reconciliation
    }

    /// Merges `tables` (a subset of the compared tables) in key order from the digest pass
    /// (``digestReplay(tables:digestKey:)``, run in the same snapshot), whose stream must
    /// hold exactly `events`, the row events of those tables the chain pass hashed. The
    /// keys it could not settle are read with their texts and merged. `linked`: what the
    /// link check settled, added to the figures. `hashingTables`: the tables' digest at the
    /// last event too, when they agree (``hashTables(_:progress:)``).
    func mergeReconciliation(_ tally: ReconciliationTally, tables: [AuditedTable], events: ReplayDigest,
                             digests: KeyOrderedDigestReplay, linked: KeyOrderedDigestReplay.Settled = .init(),
                             seconds: Double, hashingTables: Bool = false,
                             progress: (VerificationProgress) -> Void) throws -> AuditReconciliation {
        let clock = ContinuousClock()
        let start = clock.now
        guard digests.events == events else {
            throw KeyOrderedReconciler.OrderError(
                description: "the trail read in key order (\(digests.events.count) row events) is not the trail the chain pass hashed "
                    + "(\(events.count)): preserve this database as evidence and inform QA")
        }
        let checksSignatures = tables.contains { $0.table.name == AuditReconciler.signatureTable }
        var merge = KeyOrderedReconciler(tables: tables.map(\.table), checksSignatures: checksSignatures,
                                         digestKey: tally.digestKey, partial: true)
        if !digests.unsettled.isEmpty {
            _ = try connection.execute("""
                SELECT set_config('gmp.reconcile_tables', \(Self.comparedTablesJSON(tables)), true),
                       set_config('gmp.reconcile_keys', \(Self.unsettledKeysJSON(digests.unsettled)), true),
                """ + Self.wholeTrailSettings)
            var rows = 0
            var decoder = CopyBinaryDecoder(expectedFieldCount: 9)
            var failure: Error?
            _ = try connection.copyOut(try Self.mergeStatement(tables, signatures: checksSignatures)) { chunk in
                try decoder.feed(chunk) { row in
                    guard failure == nil else { return }
                    rows += 1
                    if rows & 0xFFFF == 0 { progress(.rows(rows, table: row.string(at: 0) ?? "")) }
                    do { try Self.feed(row, into: &merge) } catch { failure = error }
                }
            }
            try decoder.finish()
            if let failure { throw failure }
            guard merge.events == digests.unsettledEvents, merge.movesSeen == digests.unsettledMoves else {
                throw KeyOrderedReconciler.OrderError(
                    description: "the trail read again for \(digests.unsettled.count) record keys (\(merge.events.count) row events) "
                        + "is not what the key-ordered read held for them (\(digests.unsettledEvents.count)): "
                        + "preserve this database as evidence and inform QA")
            }
            try checkDeferredSignatures(&merge)
        }
        var settled = digests.settled
        settled.eventsReplayed += linked.eventsReplayed
        settled.rowsChecked += linked.rowsChecked
        settled.tables.formUnion(linked.tables)
        let outcome = try merge.finish(unknownTables: tally.unknownTables, settled: settled)
        var tablesDigests: [Int64: AuditCheckpoint.TablesDigest] = [:]
        if hashingTables, outcome.isConsistent, !tally.sawPending, !merge.matchedAbsentFields {
            tablesDigests[tally.lastSeq] = try hashTables(tally, progress: progress)
        }
        let elapsed = clock.now - start
        return AuditReconciliation(
            outcome: outcome, skippedTables: tally.skipped,
            seconds: seconds + Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            tablesDigests: tablesDigests)
    }

    /// The record tables' digest at the last chained event (``TablesDigestStream``), from
    /// their rows as the server sorts them, in bounded memory (issue 18). Only when the
    /// tables agree with the trail, no event is pending and every row matched its replay
    /// byte for byte: the rows are then the replayed texts. Proved so: the rows' images
    /// and those the events removed add up to those the events wrote, as the chain pass
    /// summed them from the texts it hashed. Nil when they do not (the caller then replays
    /// in memory).
    func hashTables(_ tally: ReconciliationTally, progress: (VerificationProgress) -> Void) throws -> AuditCheckpoint.TablesDigest? {
        guard let images = tally.images else { return nil }
        _ = try connection.execute("SELECT " + Self.wholeTrailSettings)
        var stream = TablesDigestStream(digestKey: tally.digestKey)
        var rows = 0
        for table in tally.tables.filter({ TablesDigestStream.holds($0.table.name) })
            .sorted(by: { $0.table.name.utf8.lexicographicallyPrecedes($1.table.name.utf8) }) {
            guard let schema = SQLIdentifier(table.schema), let relation = SQLIdentifier(table.relation) else {
                throw ClientError(.unsendableValue, "table \(table.table.name) has a name gmp does not quote")
            }
            let name = Array(table.table.name.utf8)
            var decoder = CopyBinaryDecoder(expectedFieldCount: 1)
            _ = try connection.copyOut("""
                COPY (SELECT r.j FROM (SELECT pg_catalog.to_jsonb(t.*)::text AS j
                                       FROM ONLY \(identifier: schema).\(identifier: relation) AS t) r
                      ORDER BY r.j COLLATE "C") TO STDOUT (FORMAT binary)
                """) { chunk in
                try decoder.feed(chunk) { row in
                    rows += 1
                    if rows & 0xFFFF == 0 { progress(.rows(rows, table: table.table.name)) }
                    guard let text = row.bytes(at: 0) else {
                        throw ClientError(.decoding, "a row of \(table.table.name) read as NULL for the tables' digest")
                    }
                    try stream.row(table: name, text: text)
                }
            }
            try decoder.finish()
        }
        guard var made = stream.rows else { return nil }
        made.add(images.removed)
        guard made == images.written else {
            connection.logger.debug("the rows read for the tables' digest are not those the trail leaves: replayed in memory")
            return nil
        }
        return stream.finish()
    }

    /// One item of the merge stream (columns as in ``mergeStatement(_:signatures:)``).
    private static func feed(_ row: CopyBinaryRow, into merge: inout KeyOrderedReconciler) throws {
        guard let table = row.string(at: 0), let kind = try row.int32(at: 3) else {
            throw ClientError(.decoding, "the reconciliation stream sent an item without table or kind")
        }
        let key = row.string(at: 1)
        switch kind {
        case 0:
            guard let seq = try row.int64(at: 2), let action = row.string(at: 4) else { break }
            try merge.event(table: table, seq: seq, action: action, recordKey: row.string(at: 5),
                            oldValues: row.string(at: 6), newValues: row.string(at: 7))
            return
        case 1:
            guard let seq = try row.int64(at: 2), let old = row.string(at: 6) else { break }
            try merge.removal(table: table, key: key, seq: seq, oldValues: old)
            return
        case 2:
            guard let seq = try row.int64(at: 2), let values = row.string(at: 7) else { break }
            try merge.signature(table: table, key: key, seq: seq, signatureValues: values, currentHash: row.string(at: 8))
            return
        case 3:
            guard let text = row.string(at: 7) else { break }
            try merge.row(table: table, key: key, text: text)
            return
        default:
            break
        }
        throw ClientError(.decoding, "the reconciliation stream sent an incomplete item of kind \(kind) for \(table)")
    }

    /// Signatures on audit events (reviews): their content is the event's row as the
    /// trail holds it, and the hash their row holds now.
    private func checkDeferredSignatures(_ merge: inout KeyOrderedReconciler) throws {
        let deferred = merge.deferredSignatures
        guard !deferred.isEmpty else { return }
        let events = try auditEventContent(seqs: deferred.filter { $0.table == "gmp_audit.event" }.compactMap { Int64($0.key) })
        let ids = "{" + deferred.compactMap { Int64($0.signatureID).map(String.init) }.joined(separator: ",") + "}"
        var current: [String: [UInt8]] = [:]
        for row in try connection.query("""
            SELECT s.id::text AS id, s.content_hash::text AS hash FROM ONLY gmp.signature s WHERE s.id = ANY(\(ids)::bigint[])
            """) {
            current[try row.decode("id")] = RecordContentHash.bytes(ofByteaText: try row.decode("hash")) ?? []
        }
        for signature in deferred {
            merge.checkDeferred(signature, content: signature.table == "gmp_audit.event" ? events[signature.key] : nil,
                                currentHash: current[signature.signatureID])
        }
    }

    /// The settings of a statement that reads the whole trail and every audited row at once
    /// (the merges), local to the transaction: `work_mem` so that small tables sort in
    /// memory; `jit` off because the statement's ~80 branches (one per audited table) give
    /// JIT hundreds of functions to compile, about 5 s of server CPU at a million events
    /// against 7 s for the work itself, which it never wins back (docs/benchmarks.md,
    /// "Verification at scale", issue 18).
    static let wholeTrailSettings: SQLQuery = "set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"

    /// The compared tables for the merge statement (COPY takes no parameters, so they
    /// travel as a transaction-local setting): oid, name and key column of each.
    static func comparedTablesJSON(_ tables: [AuditedTable]) -> String {
        func quoted(_ text: String) -> String {
            var out = "\""
            for character in text {
                if character == "\"" || character == "\\" { out.append("\\") }
                out.append(character)
            }
            return out + "\""
        }
        return "[" + tables.map { "{\"oid\":\($0.oid),\"name\":\(quoted($0.table.name)),\"key\":\(quoted($0.table.keyColumn))}" }
            .joined(separator: ",") + "]"
    }

    /// The row events of the compared tables (the `compared` CTE before it) as one snapshot
    /// holds them: the chained events and, after them in the order they will be chained,
    /// the pending ones. Both reconciliation reads (the digests and the texts) take their
    /// rows from it. The chained ones through `event_record_seq` by table name (issue 18):
    /// the merge reads only the events of the tables the links left to it (signed
    /// records, the signatures), not the whole trail.
    static let trailOfRowEvents: SQLQuery = """
        trail AS NOT MATERIALIZED (
            SELECT e.seq, e.action, e.table_name, e.record_key, e.old_values, e.new_values
            FROM gmp_audit.event e WHERE e.action IN ('INSERT', 'UPDATE', 'DELETE')
              AND e.table_name = ANY (ARRAY(SELECT c.table_name FROM compared c))
            UNION ALL
            SELECT p.seq, p.action, p.table_name, p.record_key, p.old_values, p.new_values
            FROM (SELECT h.seq + row_number() OVER (ORDER BY p.write_order) AS seq, p.action, p.table_name,
                         p.record_key, p.old_values, p.new_values
                  FROM gmp_audit.pending_event p CROSS JOIN gmp_audit.chain_head h) p
            WHERE p.action IN ('INSERT', 'UPDATE', 'DELETE')
        )
        """

    /// One stream: per compared table and record key (byte order, no key last), the row
    /// events by seq (kind 0; an update that moved its row to another key also gives its
    /// old values under the old key, kind 1), the signatures on that record at their own
    /// seq (kind 2, with the hash the signature's row holds now), then the table's rows
    /// filed under that key (kind 3). Pending events follow the chain as they will be
    /// chained (seq after the head, in write order). Only the keys in the setting
    /// `gmp.reconcile_keys` (``unsettledKeysJSON(_:)``).
    static func mergeStatement(_ tables: [AuditedTable], signatures: Bool) throws -> SQLQuery {
        var statement: SQLQuery = """
            COPY (
            WITH compared AS (
                SELECT (c ->> 'oid')::oid AS oid, c ->> 'name' AS table_name, c ->> 'key' AS key_column
                FROM pg_catalog.jsonb_array_elements(pg_catalog.current_setting('gmp.reconcile_tables')::jsonb) c
            ), keys AS MATERIALIZED (
                SELECT k.value ->> 0 AS table_name, coalesce(k.value ->> 1, '') AS k, (k.value ->> 1) IS NULL AS no_key
                FROM pg_catalog.jsonb_array_elements(pg_catalog.current_setting('gmp.reconcile_keys')::jsonb) k
            ),
            """ + Self.trailOfRowEvents + """
            , items AS (
                SELECT t.table_name, v.k, t.seq, v.kind, t.action, t.record_key, v.old_values, v.new_values,
                       NULL::text AS current_hash
                FROM trail t JOIN compared c USING (table_name)
                -- Only the events filed under a wanted key or moving a row from one, before
                -- any text is rendered.
                CROSS JOIN LATERAL (SELECT t.old_values ->> c.key_column AS old_key) o
                CROSS JOIN LATERAL (
                    SELECT 0 AS kind, t.record_key AS k, t.old_values::text AS old_values, t.new_values::text AS new_values
                    UNION ALL
                    SELECT 1, o.old_key, t.old_values::text, NULL
                    WHERE t.action = 'UPDATE' AND t.old_values IS NOT NULL AND o.old_key IS DISTINCT FROM t.record_key) v
                WHERE (t.table_name, coalesce(t.record_key, ''), t.record_key IS NULL) IN (SELECT * FROM keys)
                   OR (t.action = 'UPDATE' AND (t.table_name, coalesce(o.old_key, ''), o.old_key IS NULL) IN (SELECT * FROM keys))

            """
        if signatures {
            statement.append("""
                UNION ALL
                SELECT t.new_values ->> 'record_table', t.new_values ->> 'record_key', t.seq, 2, t.action, t.record_key,
                       NULL, t.new_values::text, s.content_hash::text
                FROM trail t JOIN compared c ON c.table_name = t.new_values ->> 'record_table'
                LEFT JOIN ONLY gmp.signature s ON s.id::text = t.new_values ->> 'id'
                WHERE t.table_name = 'gmp.signature' AND t.action = 'INSERT'

                """)
        }
        for table in tables {
            guard let schema = SQLIdentifier(table.schema), let relation = SQLIdentifier(table.relation) else {
                throw ClientError(.unsendableValue, "table \(table.table.name) has a name gmp does not quote")
            }
            statement.append("""
                UNION ALL
                SELECT c.table_name, r.j ->> c.key_column, NULL, 3, NULL, NULL, NULL, r.j::text, NULL
                FROM (SELECT x.tableoid AS oid, pg_catalog.to_jsonb(x.*) AS j
                      FROM ONLY \(identifier: schema).\(identifier: relation) AS x OFFSET 0) r JOIN compared c USING (oid)
                WHERE (c.table_name, coalesce(r.j ->> c.key_column, ''), (r.j ->> c.key_column) IS NULL) IN (SELECT * FROM keys)

                """)
        }
        statement.append("""
            )
            SELECT table_name, k, seq, kind, action, record_key, old_values, new_values, current_hash FROM items
            WHERE (table_name, coalesce(k, ''), k IS NULL) IN (SELECT * FROM keys)
            ORDER BY table_name COLLATE "C", k COLLATE "C" NULLS LAST, seq NULLS LAST, kind
            ) TO STDOUT (FORMAT binary)
            """)
        return statement
    }
}
