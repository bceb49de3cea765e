import GMPRules
import Testing

/// The bounded reconciliation (issue 18): the trail and the tables merged in key order
/// must find exactly what the in-memory replay finds, every kind of difference, with
/// many tables' and keys' events interleaved in the trail.
@Suite("Key-ordered reconciler: the same findings in bounded memory")
struct KeyOrderedReconcilerTests {
    static let lot = AuditReconciler.Table(name: "gmp.lot", keyColumn: "din", primaryKey: ["din"],
                                           missingValues: ["flag": "false"])
    static let step = AuditReconciler.Table(name: "gmp.step", keyColumn: "din", primaryKey: ["id"])
    static let signatures = AuditReconciler.Table(name: "gmp.signature", keyColumn: "record_key", primaryKey: ["id"])

    struct Event {
        let seq: Int64
        let action: String
        let table: String
        let key: String?
        let old: String?
        let new: String?
    }

    static func lot(_ din: String, _ status: String) -> String { #"{"din": "\#(din)", "status": "\#(status)"}"# }
    static func step(_ id: Int, _ din: String, _ note: String) -> String { #"{"id": \#(id), "din": "\#(din)", "note": "\#(note)"}"# }

    /// Interleaved events of three tables, with every kind of difference and a step moved
    /// from one lot to another (an update that changes the record key).
    static let trail: [Event] = {
        var events: [Event] = []
        func add(_ action: String, _ table: String, _ key: String?, _ old: String?, _ new: String?) {
            events.append(Event(seq: Int64(events.count + 1), action: action, table: table, key: key, old: old, new: new))
        }
        for number in 1...30 {
            let din = "A\(number % 7)"
            add("INSERT", "gmp.lot", "L\(number)", nil, lot("L\(number)", "quarantine"))
            add("INSERT", "gmp.step", din, nil, step(number, din, "passage"))
            if number % 3 == 0 {
                add("UPDATE", "gmp.lot", "L\(number)", lot("L\(number)", "quarantine"), lot("L\(number)", "released"))
            }
        }
        // A step moved to another lot.
        add("UPDATE", "gmp.step", "A2", step(3, "A3", "passage"), step(3, "A2", "moved"))
        // A silent change overwritten later: old values the replay never had.
        add("UPDATE", "gmp.lot", "L4", lot("L4", "on_hold"), lot("L4", "rejected"))
        // A deleted lot.
        add("DELETE", "gmp.lot", "L5", lot("L5", "quarantine"), nil)
        // Events of a table the database lacks, and of one not replayed.
        add("INSERT", "gmp.gone", "1", nil, "{}")
        add("INSERT", "gmp.reading", "1", nil, "{}")
        // Two identical rows under one key (no primary key would tell them apart).
        add("INSERT", "gmp.step", "A6", nil, step(99, "A6", "twin"))
        add("INSERT", "gmp.step", "A6", nil, step(99, "A6", "twin"))
        return events
    }()

    /// The tables now: L1 changed, L2 gone, an unexplained L99, L6 read with a column
    /// added since its last event (its default: no difference), one twin step gone.
    static let tables: [String: [String]] = {
        var lots: [String] = []
        for number in 1...30 where number != 5 {
            let status = number == 4 ? "rejected" : number % 3 == 0 ? "released" : "quarantine"
            switch number {
            case 1: lots.append(lot("L1", "released"))
            case 2: continue
            case 6: lots.append(#"{"din": "L6", "flag": false, "status": "released"}"#)
            default: lots.append(lot("L\(number)", status))
            }
        }
        lots.append(lot("L99", "released"))
        var steps: [String] = []
        for number in 1...30 {
            steps.append(number == 3 ? step(3, "A2", "moved") : step(number, "A\(number % 7)", "passage"))
        }
        steps.append(step(99, "A6", "twin"))
        return ["gmp.lot": lots, "gmp.step": steps]
    }()

    static func inMemory(_ trail: [Event], _ tables: [String: [String]], definitions: [AuditReconciler.Table]) -> AuditReconciler.Outcome {
        var reconciler = AuditReconciler(tables: definitions, notReplayed: ["gmp.reading"])
        for event in trail {
            reconciler.consume(seq: event.seq, action: event.action, table: event.table, recordKey: event.key,
                               oldValues: event.old, newValues: event.new)
        }
        for (table, rows) in tables.sorted(by: { $0.key < $1.key }) {
            for row in rows { reconciler.compare(row, in: table) }
        }
        return reconciler.finish()
    }

    /// The stream the merge statement sends: per table and key (byte order, no key
    /// last), the events by seq, a moved row's old values under its old key, the
    /// signatures on the record, then the rows.
    static func merged(_ trail: [Event], _ tables: [String: [String]], definitions: [AuditReconciler.Table],
                       currentHashes: [String: String] = [:]) throws -> AuditReconciler.Outcome {
        enum Item { case event(Event), move(Event), signature(Event), row(String) }
        let byName = Dictionary(uniqueKeysWithValues: definitions.map { ($0.name, $0) })
        var items: [(table: String, key: String?, seq: Int64, kind: Int, item: Item)] = []
        var chainDigest = ReplayDigest(key: Array(repeating: 7, count: 32))
        var unknown: Set<String> = []
        for event in trail where ["INSERT", "UPDATE", "DELETE"].contains(event.action) {
            guard let definition = byName[event.table] else {
                if event.table != "gmp.reading" { unknown.insert(event.table) }
                continue
            }
            chainDigest.addEvent(seq: event.seq, action: event.action, table: event.table, recordKey: event.key,
                                 oldValues: event.old, newValues: event.new)
            items.append((event.table, event.key, event.seq, 0, .event(event)))
            if event.action == "UPDATE", let old = event.old,
               let oldKey = JSONObjectText(old)?.text(definition.keyColumn), oldKey != event.key {
                items.append((event.table, oldKey, event.seq, 1, .move(event)))
            }
            if event.table == "gmp.signature", event.action == "INSERT", let values = event.new.flatMap(JSONObjectText.init),
               let table = values.text("record_table"), byName[table] != nil {
                items.append((table, values.text("record_key"), event.seq, 2, .signature(event)))
            }
        }
        for (table, rows) in tables {
            for row in rows { items.append((table, JSONObjectText(row)?.text(byName[table]!.keyColumn), .max, 3, .row(row))) }
        }
        items.sort { a, b in
            if a.table != b.table { return a.table.utf8.lexicographicallyPrecedes(b.table.utf8) }
            if a.key != b.key {
                guard let left = a.key else { return false }
                guard let right = b.key else { return true }
                return left.utf8.lexicographicallyPrecedes(right.utf8)
            }
            return (a.seq, a.kind) < (b.seq, b.kind)
        }
        var merge = KeyOrderedReconciler(tables: definitions, checksSignatures: byName["gmp.signature"] != nil,
                                         digestKey: Array(repeating: 7, count: 32))
        for entry in items {
            switch entry.item {
            case .event(let event):
                try merge.event(table: event.table, seq: event.seq, action: event.action, recordKey: event.key,
                                oldValues: event.old, newValues: event.new)
            case .move(let event):
                try merge.removal(table: entry.table, key: entry.key, seq: event.seq, oldValues: event.old!)
            case .signature(let event):
                let id = JSONObjectText(event.new!)!.text("id")!
                try merge.signature(table: entry.table, key: entry.key, seq: event.seq, signatureValues: event.new!,
                                    currentHash: currentHashes[id])
            case .row(let row):
                try merge.row(table: entry.table, key: entry.key, text: row)
            }
        }
        #expect(merge.events == chainDigest, "the stream held the events the chain pass digested")
        return try merge.finish(unknownTables: unknown)
    }

    @Test("every kind of difference, many tables and keys interleaved: the same findings, in the same order, and figures")
    func sameFindings() throws {
        let definitions = [Self.lot, Self.step]
        let expected = Self.inMemory(Self.trail, Self.tables, definitions: definitions)
        let outcome = try Self.merged(Self.trail, Self.tables, definitions: definitions)
        #expect(Set(expected.findings.map(\.problem)) == ["event_does_not_follow", "table_missing", "row_differs",
                                                          "row_missing", "row_not_in_trail"])
        #expect(outcome.findings.map(\.description) == expected.findings.map(\.description))
        #expect(outcome.findings == expected.findings)
        #expect((outcome.tables, outcome.rowsChecked, outcome.eventsReplayed)
                    == (expected.tables, expected.rowsChecked, expected.eventsReplayed))
    }

    @Test("an untouched trail agrees, the moved row included")
    func consistent() throws {
        let trail = Self.trail.filter { $0.seq <= 71 }
        var tables: [String: [String]] = ["gmp.lot": [], "gmp.step": []]
        var memory = AuditReconciler(tables: [Self.lot, Self.step])
        for event in trail {
            memory.consume(seq: event.seq, action: event.action, table: event.table, recordKey: event.key,
                           oldValues: event.old, newValues: event.new)
            if event.action == "UPDATE", event.table == "gmp.step" { tables["gmp.step"]!.removeAll { $0 == event.old } }
            if event.action == "UPDATE", event.table == "gmp.lot" { tables["gmp.lot"]!.removeAll { $0 == event.old } }
            if let new = event.new { tables[event.table]!.append(new) }
        }
        let outcome = try Self.merged(trail, tables, definitions: [Self.lot, Self.step])
        #expect(outcome.isConsistent, "\(outcome.findings)")
        #expect(outcome.rowsChecked == 60 && outcome.eventsReplayed == 71)
    }

    @Test("a signature is checked against its record's rows at its own event, in the trail and in the table")
    func signatures() throws {
        let rows = [Self.step(1, "A1", "passage"), Self.step(2, "A1", "passage")]
        let hash = RecordContentHash.hash(table: "gmp.step", key: "A1", content: RecordContentHash.content(of: rows))
        let hex = hash.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let wrong = String(repeating: "0", count: 64)
        func signature(_ hex: String) -> String {
            #"{"id": 7, "record_key": "A1", "content_hash": "\\x\#(hex)", "record_table": "gmp.step"}"#
        }
        func run(trailHash: String, tableHash: String, laterStep: Bool) throws -> ([ReconciliationFinding], [ReconciliationFinding]) {
            var trail = rows.enumerated().map { Event(seq: Int64($0.offset + 1), action: "INSERT", table: "gmp.step", key: "A1", old: nil, new: $0.element) }
            trail.append(Event(seq: 3, action: "INSERT", table: "gmp.signature", key: "A1", old: nil, new: signature(trailHash)))
            var steps = rows
            if laterStep {
                // A step added after the signature is not what was signed.
                trail.append(Event(seq: 4, action: "INSERT", table: "gmp.step", key: "A1", old: nil, new: Self.step(3, "A1", "later")))
                steps.append(Self.step(3, "A1", "later"))
            }
            let tables = ["gmp.step": steps, "gmp.signature": [signature(tableHash)]]
            let definitions = [Self.step, Self.signatures]
            let merged = try Self.merged(trail, tables, definitions: definitions, currentHashes: ["7": "\\x" + tableHash])
            return (merged.findings, Self.inMemory(trail, tables, definitions: definitions).findings)
        }
        let mismatch = ReconciliationFinding(table: "gmp.step", key: "A1", kind: .signatureContent(signatureID: "7", seq: 3))
        for laterStep in [false, true] {
            let (sound, soundInMemory) = try run(trailHash: hex, tableHash: hex, laterStep: laterStep)
            #expect(sound.isEmpty && soundInMemory.isEmpty, "\(sound)")
            let (rehashed, rehashedInMemory) = try run(trailHash: hex, tableHash: wrong, laterStep: laterStep)
            #expect(rehashed.contains(mismatch) && rehashed == rehashedInMemory)
            let (forged, forgedInMemory) = try run(trailHash: wrong, tableHash: wrong, laterStep: laterStep)
            #expect(forged.contains(mismatch) && forged == forgedInMemory)
        }
    }

    @Test("a stream out of key order, or an item under a key it does not name, is refused, not replayed as two histories")
    func order() {
        var merge = KeyOrderedReconciler(tables: [Self.lot], checksSignatures: false, digestKey: Array(repeating: 1, count: 32))
        #expect(throws: KeyOrderedReconciler.OrderError.self) {
            try merge.event(table: "gmp.lot", seq: 2, action: "INSERT", recordKey: "B", oldValues: nil, newValues: Self.lot("B", "x"))
            try merge.event(table: "gmp.lot", seq: 1, action: "INSERT", recordKey: "A", oldValues: nil, newValues: Self.lot("A", "x"))
        }
        var other = KeyOrderedReconciler(tables: [Self.lot], checksSignatures: false, digestKey: Array(repeating: 1, count: 32))
        #expect(throws: KeyOrderedReconciler.OrderError.self) {
            try other.row(table: "gmp.lot", key: "A", text: Self.lot("B", "x"))
        }
    }

    @Test("the keyed digest tells two sets of events apart and ignores their order; another key gives another digest")
    func digest() {
        func digest(_ key: UInt8, _ seqs: [Int64], note: String = "n") -> ReplayDigest {
            var digest = ReplayDigest(key: Array(repeating: key, count: 32))
            for seq in seqs { digest.addEvent(seq: seq, action: "INSERT", table: "gmp.lot", recordKey: "A", oldValues: nil, newValues: note) }
            return digest
        }
        #expect(digest(1, [1, 2, 3]) == digest(1, [3, 1, 2]))
        #expect(digest(1, [1, 2, 3]) != digest(1, [1, 2]))
        #expect(digest(1, [1, 2, 3]) != digest(1, [1, 2, 3], note: "m"))
        #expect(digest(1, [1, 2]) != digest(2, [1, 2]))
    }
}
