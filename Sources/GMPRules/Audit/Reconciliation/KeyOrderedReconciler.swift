/// The reconciliation of ``AuditReconciler`` in bounded memory: the same findings, with
/// the same messages, from the trail and the tables merged in key order.
///
/// The caller streams, table by table (byte order) and within a table record key by
/// record key (byte order, no key last), each key's events in `seq` order, the
/// signatures on that key's record at their own `seq`, then the key's rows as the table
/// holds them now. Only one key's rows are held at a time, plus the rows that disagree
/// (the findings' material), so memory no longer grows with the tables.
///
///     var merge = KeyOrderedReconciler(tables: tables, checksSignatures: true)
///     for item in stream { try merge.event(…) / merge.removal(…) / merge.signature(…) / merge.row(…) }
///     let outcome = try merge.finish(unknownTables: …)
///
/// The order is checked as it arrives (a table or key out of order, or a key that is not
/// the one the item itself names, is an ``OrderError``): a group split in two would
/// otherwise replay as two histories.
public struct KeyOrderedReconciler {
    /// The stream did not arrive in the order the merge needs, or named an item's key
    /// other than its content does.
    public struct OrderError: Error, Sendable, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// A signature on an audit event (not a replayed table), checked after the merge by
    /// ``checkDeferred(_:content:currentHash:)`` with content read from the trail.
    public typealias DeferredSignature = AuditReconciler.DeferredSignature

    private let tables: [String: AuditReconciler.Table]
    private let checksSignatures: Bool
    /// Fed only the keys a ``KeyOrderedDigestReplay`` could not settle: a move's two
    /// halves may then lie on either side, and are checked by that replay instead.
    private let partial: Bool

    // The group being merged.
    private var table: String?
    private var key: String??
    private var lastSeq: Int64 = .min
    /// Row text → replayed rows with that text (this key only).
    private var state: [String: AuditReconciler.Replayed] = [:]
    /// Rows of this key in the table that the replay does not hold.
    private var unmatched: [String] = []

    // The table being merged: rows left over from its keys, paired when it ends.
    private var trailLeft: [(row: String, seq: Int64)] = []
    private var tableLeft: [String] = []

    private var replayFindings: [(seq: Int64, finding: ReconciliationFinding)] = []
    private var signatureFindings: [(seq: Int64, finding: ReconciliationFinding)] = []
    private var tableFindings: [ReconciliationFinding] = []
    private var compared: Set<String> = []
    private var eventsReplayed = 0
    private var rowsChecked = 0
    private var signaturesChecked = 0
    /// Signatures whose record is not a replayed table, from the signature table's events.
    public private(set) var deferredSignatures: [DeferredSignature] = []
    /// Whether a replayed row was matched by its comparable text (a field added since its
    /// last event) rather than byte for byte: the replay then holds texts the tables do
    /// not, and a checkpoint's tables digest must come from the replay itself.
    public private(set) var matchedAbsentFields = false

    /// Keyed digests of what the stream held (``ReplayDigest``): the row events (to
    /// compare with the chain pass), the second halves of key-changing updates, and the
    /// signature items, each against what the events say should be there.
    public private(set) var events: ReplayDigest
    private var movesExpected: ReplayDigest
    /// The second halves of key-changing updates the stream held.
    public private(set) var movesSeen: ReplayDigest
    private var signaturesExpected: ReplayDigest
    private var signaturesSeen: ReplayDigest

    /// `tables` are compared; signatures are checked when `checksSignatures` (the
    /// signature table is among them). `digestKey` keys the stream's digests. `partial`:
    /// the stream holds only the keys a ``KeyOrderedDigestReplay`` left to it (every key of
    /// the signature table and of every signed record among them).
    public init(tables: [AuditReconciler.Table], checksSignatures: Bool, digestKey: [UInt8], partial: Bool = false) {
        self.tables = Dictionary(tables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.checksSignatures = checksSignatures
        self.partial = partial
        events = ReplayDigest(key: digestKey)
        movesExpected = ReplayDigest(key: digestKey)
        movesSeen = ReplayDigest(key: digestKey)
        signaturesExpected = ReplayDigest(key: digestKey)
        signaturesSeen = ReplayDigest(key: digestKey)
    }

    // MARK: - The stream

    /// A row event of `table`, filed under its record key. When an update moved the row
    /// to another key, its old values are removed by ``removal(table:key:seq:oldValues:)``
    /// in the old key's group instead.
    public mutating func event(table: String, seq: Int64, action: String, recordKey: String?,
                               oldValues: String?, newValues: String?) throws {
        guard let definition = tables[table] else { throw OrderError(description: "the trail stream holds \(table), which is not compared") }
        try enter(table: table, key: recordKey, seq: seq)
        events.addEvent(seq: seq, action: action, table: table, recordKey: recordKey,
                        oldValues: oldValues, newValues: newValues)
        eventsReplayed += 1
        switch action {
        case "INSERT":
            if let newValues { add(newValues, seq: seq) }
        case "UPDATE":
            if let oldValues {
                if AuditReconciler.key(of: oldValues, column: definition.keyColumn) == recordKey {
                    remove(oldValues, table: table, seq: seq)
                } else {
                    movesExpected.addMove(seq: seq, oldValues: oldValues)
                }
            }
            if let newValues { add(newValues, seq: seq) }
        case "DELETE":
            if let oldValues { remove(oldValues, table: table, seq: seq) }
        default:
            throw OrderError(description: "the trail stream holds a \(action) event (\(seq)), not a row event")
        }
        if checksSignatures, table == AuditReconciler.signatureTable, action == "INSERT", let newValues {
            expectSignature(newValues, seq: seq)
        }
    }

    /// The old values of an update that moved a row from key `key` to another.
    public mutating func removal(table: String, key: String?, seq: Int64, oldValues: String) throws {
        guard let definition = tables[table], AuditReconciler.key(of: oldValues, column: definition.keyColumn) == key else {
            throw OrderError(description: "event \(seq)'s old values are not filed under \(table) \(key ?? "(no key)")")
        }
        try enter(table: table, key: key, seq: seq)
        movesSeen.addMove(seq: seq, oldValues: oldValues)
        remove(oldValues, table: table, seq: seq)
    }

    /// A signature (its event's new values, `seq`) on the record this group replays: the
    /// rows replayed so far are what it signed. `currentHash` is the content hash its row
    /// in the signature table holds now (bytea text), nil when the row is gone.
    public mutating func signature(table: String, key: String?, seq: Int64, signatureValues: String,
                                   currentHash: String?) throws {
        let fields = JSONObjectText(signatureValues)
        guard checksSignatures, tables[table] != nil, let fields, fields.text("record_table") == table,
              fields.text("record_key") == key, let id = fields.text("id") else {
            throw OrderError(description: "signature event \(seq) is not filed under its record \(table) \(key ?? "(no key)")")
        }
        try enter(table: table, key: key, seq: seq)
        signaturesSeen.addSignature(seq: seq, values: signatureValues)
        signaturesChecked += 1
        let stored = fields.text("content_hash").flatMap(RecordContentHash.bytes(ofByteaText:)) ?? []
        let rows = state.flatMap { Array(repeating: $0.key, count: $0.value.count) }
        let computed = rows.isEmpty ? nil : RecordContentHash.hash(table: table, key: key ?? "",
                                                                   content: RecordContentHash.content(of: rows))
        let current = currentHash.map { RecordContentHash.bytes(ofByteaText: $0) ?? [] }
        if computed == nil || computed != stored || (current != nil && current != computed) {
            signatureFindings.append((seq, ReconciliationFinding(table: table, key: key,
                                                                  kind: .signatureContent(signatureID: id, seq: seq))))
        }
    }

    /// A row of `table` as it is now (`to_jsonb(row)` text), after its key's events.
    public mutating func row(table: String, key: String?, text: String) throws {
        guard let definition = tables[table], AuditReconciler.key(of: text, column: definition.keyColumn) == key else {
            throw OrderError(description: "a row of \(table) is not filed under its key \(key ?? "(no key)")")
        }
        try enter(table: table, key: key, seq: .max)
        compared.insert(table)
        rowsChecked += 1
        if var replayed = state[text] {
            replayed.count -= 1
            state[text] = replayed.count > 0 ? replayed : nil
        } else {
            unmatched.append(text)
        }
    }

    /// A signature on a record that is not replayed, checked with content the caller reads
    /// from the trail (an audit event's row) and the hash its row holds now.
    public mutating func checkDeferred(_ signature: DeferredSignature, content: String?, currentHash: [UInt8]?) {
        signaturesChecked += 1
        let computed = content.map { RecordContentHash.hash(table: signature.table, key: signature.key, content: $0) }
        if computed == nil || computed != signature.contentHash || (currentHash != nil && currentHash != computed) {
            signatureFindings.append((signature.seq, ReconciliationFinding(
                table: signature.table, key: signature.key, kind: .signatureContent(signatureID: signature.signatureID, seq: signature.seq))))
        }
    }

    /// The findings, in ``AuditReconciler``'s order: events that do not follow, tables
    /// the database lacks, signatures, then each table's rows. Throws when the stream's
    /// second halves of moves or its signatures are not the ones its events call for.
    /// `settled`: what a ``KeyOrderedDigestReplay`` found in agreement, counted in the figures.
    public mutating func finish(unknownTables: Set<String>,
                                settled: KeyOrderedDigestReplay.Settled = .init()) throws -> AuditReconciler.Outcome {
        closeTable()
        guard partial || movesSeen == movesExpected else {
            throw OrderError(description: "the trail stream's moved rows are not those its updates moved")
        }
        guard signaturesSeen == signaturesExpected else {
            throw OrderError(description: "the trail stream's signatures are not those the signature events record")
        }
        var findings = replayFindings.sorted { $0.seq < $1.seq }.map(\.finding)
        findings += unknownTables.sorted().map { ReconciliationFinding(table: $0, key: nil, kind: .tableMissing) }
        findings += signatureFindings.sorted { $0.seq < $1.seq }.map(\.finding)
        findings += tableFindings
        return AuditReconciler.Outcome(findings: findings, tables: compared.union(settled.tables).count,
                                       rowsChecked: rowsChecked + settled.rowsChecked,
                                       eventsReplayed: eventsReplayed + settled.eventsReplayed,
                                       signaturesChecked: signaturesChecked)
    }

    // MARK: - Groups

    /// Moves to the group (`table`, `key`) at `seq`, closing the one before; the stream
    /// must only move forward.
    private mutating func enter(table name: String, key newKey: String?, seq: Int64) throws {
        if name == table, let key, key == newKey {
            guard seq >= lastSeq else { throw OrderError(description: "\(name) \(newKey ?? "(no key)"): event \(seq) after \(lastSeq)") }
            lastSeq = seq
            return
        }
        if name == table, let key {
            guard Self.precedes(key, newKey) else {
                throw OrderError(description: "\(name): key \(newKey ?? "(no key)") after \(key ?? "(no key)")")
            }
            closeGroup()
        } else {
            if let table {
                guard table.utf8.lexicographicallyPrecedes(name.utf8) else {
                    throw OrderError(description: "table \(name) after \(table)")
                }
            }
            closeTable()
            table = name
        }
        key = .some(newKey)
        lastSeq = seq
    }

    /// Byte order of keys, no key last.
    private static func precedes(_ a: String?, _ b: String?) -> Bool {
        guard let a else { return false }
        guard let b else { return true }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private mutating func add(_ row: String, seq: Int64) {
        state[row, default: AuditReconciler.Replayed(count: 0, seq: seq)].count += 1
        state[row]!.seq = seq
    }

    private mutating func remove(_ row: String, table name: String, seq: Int64) {
        var stored = row
        if state[row] == nil, let definition = tables[name] {
            // Old values printed after a column was added, of a row last written before.
            let comparable = definition.comparable(row)
            stored = state.keys.first { definition.comparable($0) == comparable } ?? row
            if state[stored] != nil { matchedAbsentFields = true }
        }
        guard var replayed = state[stored] else {
            replayFindings.append((seq, ReconciliationFinding(table: name, key: key ?? nil, kind: .eventDoesNotFollow(seq: seq))))
            return
        }
        replayed.count -= 1
        state[stored] = replayed.count > 0 ? replayed : nil
    }

    /// Rows of the key left on either side: those that differ only in fields that read
    /// as absent are the same row; the rest wait for the table's end, to be paired.
    private mutating func closeGroup() {
        defer {
            state = [:]
            unmatched = []
        }
        guard let table, let definition = tables[table] else { return }
        var leftOver: [(row: String, seq: Int64)] = []
        for (row, replayed) in state where replayed.count > 0 {
            leftOver += Array(repeating: (row, replayed.seq), count: replayed.count)
        }
        guard !leftOver.isEmpty || !unmatched.isEmpty else { return }
        let (trail, current) = Self.matchComparable(trail: leftOver, table: unmatched, definition: definition)
        if trail.count < leftOver.count { matchedAbsentFields = true }
        trailLeft += trail
        tableLeft += current
    }

    private mutating func closeTable() {
        closeGroup()
        key = nil
        guard let table, let definition = tables[table] else { return }
        let (trail, current) = Self.matchComparable(trail: trailLeft, table: tableLeft, definition: definition)
        if trail.count < trailLeft.count { matchedAbsentFields = true }
        tableFindings += AuditReconciler.pair(trail: trail, table: current, definition: definition)
        trailLeft = []
        tableLeft = []
        self.table = nil
    }

    /// Trail rows and table rows with the same comparable text cancel out.
    static func matchComparable(trail: [(row: String, seq: Int64)], table: [String],
                                definition: AuditReconciler.Table) -> ([(row: String, seq: Int64)], [String]) {
        var current: [String: [String]] = [:]
        for row in table { current[definition.comparable(row), default: []].append(row) }
        var trail = trail
        trail.removeAll { entry in
            let comparable = definition.comparable(entry.row)
            guard current[comparable]?.popLast() != nil else { return false }
            if current[comparable]!.isEmpty { current[comparable] = nil }
            return true
        }
        return (trail, current.values.flatMap { $0 })
    }

    /// From a signature event in the signature table: the item the stream must hold for
    /// it under its record, or, for a record that is not replayed, a deferred check.
    private mutating func expectSignature(_ values: String, seq: Int64) {
        guard let fields = JSONObjectText(values), let recordTable = fields.text("record_table"),
              let recordKey = fields.text("record_key"), let id = fields.text("id") else {
            replayFindings.append((seq, ReconciliationFinding(table: AuditReconciler.signatureTable, key: nil,
                                                               kind: .signatureContent(signatureID: "?", seq: seq))))
            return
        }
        if tables[recordTable] != nil {
            signaturesExpected.addSignature(seq: seq, values: values)
        } else {
            let stored = fields.text("content_hash").flatMap(RecordContentHash.bytes(ofByteaText:)) ?? []
            deferredSignatures.append(DeferredSignature(signatureID: id, seq: seq, table: recordTable, key: recordKey,
                                                        contentHash: stored))
        }
    }
}
