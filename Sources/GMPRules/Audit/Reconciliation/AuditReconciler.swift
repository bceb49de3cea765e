import SystemCrypto

/// Checks the tables against the audit trail: replays every row event, in `seq` order,
/// into the rows the trail says each table holds, then compares the rows the tables do
/// hold. Also recomputes, at each signature's event, the content hash of the signed
/// record as the trail shows it then.
///
/// The chain proves the trail; this proves the tables. Someone who switches the audit
/// trigger off (a superuser can) and changes a row leaves a row that no event wrote;
/// one who also re-hashes the signature on it leaves a signature whose event does not
/// hash the signed content. Rows are compared as PostgreSQL prints `to_jsonb(row)`, the
/// same text the row trigger records, so equal rows compare equal byte for byte.
///
/// A pure state machine, fed by the caller (no I/O). Memory grows with the rows the
/// tables hold (their text), not with the length of the trail.
///
///     var reconciler = AuditReconciler(tables: tables)
///     for event in trail { reconciler.consume(event) }          // in seq order
///     for table in tables { for row in rows(table) { reconciler.compare(row, in: table.name) } }
///     let outcome = reconciler.finish()
public struct AuditReconciler {
    /// A table whose row trigger records whole rows (`gmp_audit.record_change`).
    public struct Table: Sendable, Hashable {
        /// Schema-qualified, as the trail names it (`gmp.lot`).
        public let name: String
        /// The column the trigger files events under (its argument; the record key).
        public let keyColumn: String
        /// The primary key's columns, to name a row in a finding.
        public let primaryKey: [String]
        /// Columns added after rows existed, with the value those rows read as (raw JSON
        /// text; PostgreSQL's `attmissingval`). A row last written before the column was
        /// added has no such field in its event.
        public let missingValues: [String: String]

        public init(name: String, keyColumn: String, primaryKey: [String], missingValues: [String: String] = [:]) {
            self.name = name
            self.keyColumn = keyColumn
            self.primaryKey = primaryKey
            self.missingValues = missingValues
        }

        /// A row with every field that reads as absent left out: a null, and an added
        /// column's value for the rows that predate it. A row written before a column was
        /// added (its event lacks the field) then equals the row as it reads now. Any other
        /// change still shows: a value where the event had none, or none where it had one.
        func comparable(_ row: String) -> String {
            guard let fields = JSONObjectText(row) else { return row }
            return fields.fields.filter { $0.value != "null" && missingValues[$0.name] != $0.value }
                .map { $0.name + "\u{0}" + $0.value }.joined(separator: "\u{1}")
        }
    }

    /// A row's text as the replay holds it: how many identical rows, and the last event
    /// that wrote one.
    struct Replayed {
        var count: Int
        var seq: Int64
    }

    /// A signature whose signed record is not a replayed table (an audit event, for a
    /// review): its content is checked by ``checkDeferredSignature(_:content:)``.
    public struct DeferredSignature: Sendable, Hashable {
        public let signatureID: String
        public let seq: Int64
        public let table: String
        public let key: String
        public let contentHash: [UInt8]
    }

    /// What the reconciliation found, with its figures.
    public struct Outcome: Sendable {
        public let findings: [ReconciliationFinding]
        /// Tables compared.
        public let tables: Int
        /// Rows read from the tables.
        public let rowsChecked: Int
        /// Row events replayed.
        public let eventsReplayed: Int
        /// Signatures whose content hash was recomputed.
        public let signaturesChecked: Int
        public var isConsistent: Bool { findings.isEmpty }

        /// The same with `more` findings after these.
        public func adding(_ more: [ReconciliationFinding]) -> Outcome {
            Outcome(findings: findings + more, tables: tables, rowsChecked: rowsChecked, eventsReplayed: eventsReplayed,
                    signaturesChecked: signaturesChecked)
        }
    }

    public static let signatureTable = "gmp.signature"

    private let tables: [String: Table]
    /// table → record key → row text → replayed rows with that text.
    private var state: [String: [String?: [String: Replayed]]] = [:]
    /// Rows read from a table that the replay does not hold, per table.
    private var unmatched: [String: [String]] = [:]
    private var compared: Set<String> = []
    private var findings: [ReconciliationFinding] = []
    private var eventsReplayed = 0
    private var rowsChecked = 0
    /// Signatures on records this reconciler does not replay (audit events).
    public private(set) var deferredSignatures: [DeferredSignature] = []
    /// Per signature id: the signature as its event recorded it, and the hash of the
    /// content the trail shows it signed (nil: the trail has no such record).
    private var signedContent: [String: (signature: DeferredSignature, computed: [UInt8]?)] = [:]
    /// Per signature id: the content hash the signature row holds now.
    private var currentSignatureHash: [String: [UInt8]] = [:]
    /// Tables the trail writes that are not among `tables`.
    private var unknownTables: Set<String> = []

    /// Tables whose events are known not to hold whole rows (a statement-level or
    /// redacting audit trigger) or that the caller cannot read: their events are skipped.
    private let notReplayed: Set<String>

    /// `tables` are replayed and compared; events of `notReplayed` are skipped; row events
    /// of any other table are reported as a table the database lacks.
    public init(tables: [Table], notReplayed: Set<String> = []) {
        self.tables = Dictionary(tables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.notReplayed = notReplayed
    }

    /// Whether events on `table` are replayed (a row-audited table).
    public func replays(_ table: String) -> Bool { tables[table] != nil }

    // MARK: - Replay

    /// Replays one event, in seq order. Schema changes and events of `notReplayed` tables
    /// are skipped; row events of any other table the reconciler does not know are reported.
    public mutating func consume(seq: Int64, action: String, table: String, recordKey: String?,
                                 oldValues: String?, newValues: String?) {
        guard let definition = tables[table] else {
            if ["INSERT", "UPDATE", "DELETE"].contains(action), !notReplayed.contains(table) {
                unknownTables.insert(table)
            }
            return
        }
        switch action {
        case "INSERT":
            if let newValues { add(newValues, key: recordKey, table: table, seq: seq) }
        case "UPDATE":
            if let oldValues {
                remove(oldValues, key: Self.key(of: oldValues, column: definition.keyColumn), table: table, seq: seq)
            }
            if let newValues { add(newValues, key: recordKey, table: table, seq: seq) }
        case "DELETE":
            if let oldValues { remove(oldValues, key: recordKey, table: table, seq: seq) }
        default:
            return
        }
        eventsReplayed += 1
        if table == Self.signatureTable, action == "INSERT", let newValues {
            checkSignature(JSONObjectText(newValues), seq: seq)
        }
    }

    private mutating func add(_ row: String, key: String?, table: String, seq: Int64) {
        state[table, default: [:]][key, default: [:]][row, default: Replayed(count: 0, seq: seq)].count += 1
        state[table]![key]![row]!.seq = seq
    }

    private mutating func remove(_ row: String, key: String?, table: String, seq: Int64) {
        var stored = row
        if state[table]?[key]?[row] == nil, let definition = tables[table] {
            // Old values printed after a column was added, of a row last written before.
            let comparable = definition.comparable(row)
            stored = state[table]?[key]?.keys.first { definition.comparable($0) == comparable } ?? row
        }
        guard var replayed = state[table]?[key]?[stored] else {
            findings.append(ReconciliationFinding(table: table, key: key, kind: .eventDoesNotFollow(seq: seq)))
            return
        }
        replayed.count -= 1
        state[table]![key]![stored] = replayed.count > 0 ? replayed : nil
        if state[table]![key]!.isEmpty { state[table]![key] = nil }
    }

    /// At a signature's own event: the signed record's rows as the replay holds them now
    /// are what was signed; their content hash is what the signature must store, in the
    /// trail and in the table (checked in ``finish()``).
    private mutating func checkSignature(_ signature: JSONObjectText?, seq: Int64) {
        guard let signature, let table = signature.text("record_table"), let key = signature.text("record_key"),
              let id = signature.text("id") else {
            findings.append(ReconciliationFinding(table: Self.signatureTable, key: nil,
                                                  kind: .signatureContent(signatureID: "?", seq: seq)))
            return
        }
        let stored = signature.text("content_hash").flatMap(RecordContentHash.bytes(ofByteaText:)) ?? []
        let signed = DeferredSignature(signatureID: id, seq: seq, table: table, key: key, contentHash: stored)
        guard tables[table] != nil else {
            deferredSignatures.append(signed)
            return
        }
        let rows = (state[table]?[key] ?? [:]).flatMap { Array(repeating: $0.key, count: $0.value.count) }
        signedContent[id] = (signed, rows.isEmpty ? nil : RecordContentHash.hash(
            table: table, key: key, content: RecordContentHash.content(of: rows)))
    }

    /// Gives a deferred signature its record's content (jsonb text of the record's rows
    /// as an array), read by the caller from a source the chain proves.
    public mutating func checkDeferredSignature(_ signature: DeferredSignature, content: String?) {
        signedContent[signature.signatureID] = (signature, content.map {
            RecordContentHash.hash(table: signature.table, key: signature.key, content: $0)
        })
    }

    // MARK: - The record tables as replayed

    /// The record tables (schema `gmp`) as the replay holds them now, hashed: what a v2
    /// checkpoint signs (``TablesDigestStream``, fed every row sorted here, in memory).
    /// Call between events (before any ``compare(_:in:)``).
    public func tablesDigest() -> AuditCheckpoint.TablesDigest {
        var stream = TablesDigestStream()
        for table in state.keys.filter(TablesDigestStream.holds).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            var texts: [String] = []
            for (_, byText) in state[table] ?? [:] {
                for (text, replayed) in byText { texts += Array(repeating: text, count: replayed.count) }
            }
            texts.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            // Sorted here: the stream's order check cannot fail.
            for text in texts { try? stream.row(table: table, text: text) }
        }
        return stream.finish()
    }

    // MARK: - Comparing the tables

    /// Compares one row of `table` as it is now (`to_jsonb(row)` text), after the whole
    /// trail has been consumed.
    public mutating func compare(_ row: String, in table: String) {
        guard let definition = tables[table] else { return }
        compared.insert(table)
        rowsChecked += 1
        if table == Self.signatureTable, let fields = JSONObjectText(row), let id = fields.text("id") {
            currentSignatureHash[id] = fields.text("content_hash").flatMap(RecordContentHash.bytes(ofByteaText:)) ?? []
        }
        let key = Self.key(of: row, column: definition.keyColumn)
        if var replayed = state[table]?[key]?[row] {
            replayed.count -= 1
            state[table]![key]![row] = replayed.count > 0 ? replayed : nil
        } else {
            unmatched[table, default: []].append(row)
        }
    }

    /// The findings: rows left over on either side, paired by primary key where one row
    /// has a counterpart (a changed row), and tables the trail writes that are gone.
    public mutating func finish() -> Outcome {
        for table in unknownTables.sorted() {
            findings.append(ReconciliationFinding(table: table, key: nil, kind: .tableMissing))
        }
        // A signature is sound when the trail's record of it and the row now both store
        // the hash of what the trail shows was signed.
        for (id, entry) in signedContent.sorted(by: { $0.value.signature.seq < $1.value.signature.seq }) {
            let current = currentSignatureHash[id]
            if entry.computed == nil || entry.computed != entry.signature.contentHash
                || (current != nil && current != entry.computed) {
                findings.append(ReconciliationFinding(
                    table: entry.signature.table, key: entry.signature.key,
                    kind: .signatureContent(signatureID: id, seq: entry.signature.seq)))
            }
        }
        let signaturesChecked = signedContent.count
        for name in tables.keys.sorted() {
            guard let definition = tables[name] else { continue }
            var leftOver: [(row: String, seq: Int64)] = []
            for (_, rows) in state[name] ?? [:] {
                for (row, replayed) in rows where replayed.count > 0 {
                    leftOver += Array(repeating: (row, replayed.seq), count: replayed.count)
                }
            }
            // Rows that differ only in fields that read as absent (a column added since
            // their last event) are the same row.
            var current: [String: [String]] = [:]
            for row in unmatched[name] ?? [] { current[definition.comparable(row), default: []].append(row) }
            leftOver.removeAll { trail in
                let comparable = definition.comparable(trail.row)
                guard current[comparable]?.popLast() != nil else { return false }
                if current[comparable]!.isEmpty { current[comparable] = nil }
                return true
            }
            findings += Self.pair(trail: leftOver, table: current.values.flatMap { $0 }, definition: definition)
        }
        return Outcome(findings: findings, tables: compared.count, rowsChecked: rowsChecked,
                       eventsReplayed: eventsReplayed, signaturesChecked: signaturesChecked)
    }

    /// Rows that differ, named by primary key: a trail row and a table row with the same
    /// key are one changed row; the rest are missing or unexplained rows.
    static func pair(trail: [(row: String, seq: Int64)], table: [String], definition: Table) -> [ReconciliationFinding] {
        func identity(_ fields: JSONObjectText?) -> String? {
            guard let fields, !definition.primaryKey.isEmpty else { return nil }
            return definition.primaryKey.map { "\($0)=\(fields.text($0) ?? "null")" }.joined(separator: ",")
        }
        var current: [String: [JSONObjectText?]] = [:]
        var anonymous: [String] = []
        for row in table {
            let fields = JSONObjectText(row)
            if let id = identity(fields) { current[id, default: []].append(fields) } else { anonymous.append(row) }
        }
        var found: [ReconciliationFinding] = []
        for (row, seq) in trail.sorted(by: { $0.seq < $1.seq }) {
            let fields = JSONObjectText(row)
            let id = identity(fields)
            if let id, var candidates = current[id], let counterpart = candidates.first {
                candidates.removeFirst()
                current[id] = candidates.isEmpty ? nil : candidates
                found.append(ReconciliationFinding(table: definition.name, key: id,
                                                   kind: .rowDiffers(fields: differences(fields, counterpart, definition), lastSeq: seq)))
            } else {
                found.append(ReconciliationFinding(table: definition.name,
                                                   key: id ?? fields?.text(definition.keyColumn),
                                                   kind: .rowMissing(lastSeq: seq)))
            }
        }
        for id in current.keys.sorted() {
            for _ in current[id]! {
                found.append(ReconciliationFinding(table: definition.name, key: id, kind: .rowNotInTrail))
            }
        }
        for row in anonymous {
            found.append(ReconciliationFinding(table: definition.name,
                                               key: JSONObjectText(row)?.text(definition.keyColumn), kind: .rowNotInTrail))
        }
        return found
    }

    /// The fields that differ, leaving out those that read as absent on both sides.
    static func differences(_ trail: JSONObjectText?, _ table: JSONObjectText?,
                            _ definition: Table) -> [ReconciliationFinding.FieldDifference] {
        let trailFields = trail?.fields ?? []
        let tableFields = table?.fields ?? []
        var names = trailFields.map(\.name)
        for field in tableFields where !names.contains(field.name) { names.append(field.name) }
        return names.compactMap { name in
            let before = trail?.raw(name)
            let now = table?.raw(name)
            func present(_ value: String?) -> String? {
                value == "null" || value == definition.missingValues[name] ? nil : value
            }
            return present(before) == present(now) ? nil : .init(name: name, trail: before, table: now)
        }
    }

    /// The record key a row is filed under: its key column as `->>` prints it.
    public static func key(of row: String, column: String) -> String? {
        JSONObjectText(row)?.text(column)
    }
}
