import GMPRules
import Testing

/// Issue 18: the reconciliation on digests. The digest replay settles the keys that
/// agree and leaves the rest to the text merge; together they must find exactly what
/// the in-memory replay finds, and a digest that is not the digest of the event's text
/// (a server that lies) must be caught by the keyed sum, even where it would make a
/// tampered row look settled.
@Suite("Key-ordered digest replay: settled keys, the rest by text, and no digest taken on trust")
struct KeyOrderedDigestReplayTests {
    typealias Event = KeyOrderedReconcilerTests.Event
    static let key = Array(repeating: UInt8(7), count: 32)

    enum Item { case event(Event), move(Event), signature(Event), row(String) }
    typealias Entry = (table: String, key: String?, seq: Int64, kind: Int32, item: Item)

    /// The stream in key order, as the merge statements send it, and the chain pass's digest.
    static func stream(_ trail: [Event], _ tables: [String: [String]],
                       definitions: [AuditReconciler.Table]) -> (items: [Entry], chain: ReplayDigest, unknown: Set<String>) {
        let byName = Dictionary(uniqueKeysWithValues: definitions.map { ($0.name, $0) })
        var items: [Entry] = []
        var chain = ReplayDigest(key: key)
        var unknown: Set<String> = []
        for event in trail where ["INSERT", "UPDATE", "DELETE"].contains(event.action) {
            guard let definition = byName[event.table] else {
                if event.table != "gmp.reading" { unknown.insert(event.table) }
                continue
            }
            chain.addEvent(seq: event.seq, action: event.action, table: event.table, recordKey: event.key,
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
        return (items, chain, unknown)
    }

    static func withBytes<T>(_ text: String?, _ body: (UnsafeRawBufferPointer?) throws -> T) rethrows -> T {
        guard var text else { return try body(nil) }
        return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }

    /// The digest pass, with `lie` changing the image the server hashes for an event's new
    /// values; returns the replay (not finished when `finish` is false).
    static func digestPass(_ items: [Entry], definitions: [AuditReconciler.Table],
                           lie: (Event) -> String? = { $0.new }) throws -> KeyOrderedDigestReplay {
        let names = definitions.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let byName = Dictionary(uniqueKeysWithValues: definitions.map { ($0.name, $0) })
        var replay = KeyOrderedDigestReplay(tables: names, digestKey: key)
        for entry in items {
            let index = names.firstIndex(of: entry.table)!
            var action: String?, oldKey: String?, old: RowDigest?, new: RowDigest?, seq: Int64? = entry.seq
            switch entry.item {
            case .event(let event):
                action = event.action
                oldKey = event.action == "UPDATE" ? event.old.flatMap { JSONObjectText($0)?.text(byName[event.table]!.keyColumn) } : nil
                old = event.old.map(RowDigest.init(of:))
                new = lie(event).map(RowDigest.init(of:))
            case .move(let event):
                old = event.old.map(RowDigest.init(of:))
            case .signature:
                break
            case .row(let text):
                seq = nil
                new = RowDigest(of: text)
            }
            try withBytes(entry.key) { keyBytes in
                try withBytes(action) { actionBytes in
                    try withBytes(oldKey) { oldKeyBytes in
                        try replay.item(table: index, key: keyBytes, seq: seq, kind: entry.kind, action: actionBytes,
                                        oldKey: oldKeyBytes, old: old, new: new)
                    }
                }
            }
        }
        try replay.finish()
        return replay
    }

    /// Both passes, as `gmp audit verify` runs them: the digest pass, its proof against
    /// the chain pass, then the text merge of the keys it left.
    static func twoPasses(_ trail: [Event], _ tables: [String: [String]], definitions: [AuditReconciler.Table],
                          currentHashes: [String: String] = [:]) throws -> (AuditReconciler.Outcome, KeyOrderedDigestReplay) {
        let (items, chain, unknown) = stream(trail, tables, definitions: definitions)
        let digests = try digestPass(items, definitions: definitions)
        #expect(digests.events == chain, "the digest stream held the events the chain pass hashed")
        let left = Set(digests.unsettled)
        var merge = KeyOrderedReconciler(tables: definitions, checksSignatures: definitions.contains { $0.name == "gmp.signature" },
                                         digestKey: key, partial: true)
        for entry in items where left.contains(KeyOrderedDigestReplay.Key(table: entry.table, key: entry.key)) {
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
        #expect(merge.events == digests.unsettledEvents && merge.movesSeen == digests.unsettledMoves,
                "the text merge read exactly the keys the digest pass left")
        return (try merge.finish(unknownTables: unknown, settled: digests.settled), digests)
    }

    @Test("every kind of difference: the same findings, order and figures as the in-memory replay; agreeing keys settled by digest")
    func sameFindings() throws {
        let definitions = [KeyOrderedReconcilerTests.lot, KeyOrderedReconcilerTests.step]
        let expected = KeyOrderedReconcilerTests.inMemory(KeyOrderedReconcilerTests.trail, KeyOrderedReconcilerTests.tables,
                                                          definitions: definitions)
        let (outcome, digests) = try Self.twoPasses(KeyOrderedReconcilerTests.trail, KeyOrderedReconcilerTests.tables,
                                                    definitions: definitions)
        #expect(outcome.findings == expected.findings)
        #expect((outcome.tables, outcome.rowsChecked, outcome.eventsReplayed)
                    == (expected.tables, expected.rowsChecked, expected.eventsReplayed))
        // Only the keys with a difference (and L6, whose row has a column added since) are read as text.
        let left = Set(digests.unsettled.map { "\($0.table) \($0.key ?? "-")" })
        #expect(left.isSuperset(of: ["gmp.lot L1", "gmp.lot L2", "gmp.lot L4", "gmp.lot L6", "gmp.lot L99", "gmp.step A6"]), "\(left)")
        #expect(left.count < 10 && digests.settled.rowsChecked > 40, "\(left)")
    }

    @Test("signatures: every signed key and the signature table are read as text, and checked as before")
    func signatures() throws {
        let step = KeyOrderedReconcilerTests.step
        let rows = [KeyOrderedReconcilerTests.step(1, "A1", "passage"), KeyOrderedReconcilerTests.step(2, "A1", "passage")]
        let hash = RecordContentHash.hash(table: "gmp.step", key: "A1", content: RecordContentHash.content(of: rows))
        let hex = hash.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        func signature(_ hex: String) -> String {
            #"{"id": 7, "record_key": "A1", "content_hash": "\\x\#(hex)", "record_table": "gmp.step"}"#
        }
        var trail = rows.enumerated().map { Event(seq: Int64($0.offset + 1), action: "INSERT", table: "gmp.step", key: "A1", old: nil, new: $0.element) }
        trail.append(Event(seq: 3, action: "INSERT", table: "gmp.signature", key: "A1", old: nil, new: signature(hex)))
        trail.append(Event(seq: 4, action: "INSERT", table: "gmp.step", key: "B1", old: nil, new: KeyOrderedReconcilerTests.step(5, "B1", "x")))
        let wrong = String(repeating: "0", count: 64)
        let tables = ["gmp.step": rows + [KeyOrderedReconcilerTests.step(5, "B1", "x")], "gmp.signature": [signature(wrong)]]
        let definitions = [step, KeyOrderedReconcilerTests.signatures]
        let (outcome, digests) = try Self.twoPasses(trail, tables, definitions: definitions, currentHashes: ["7": "\\x" + wrong])
        #expect(outcome.findings == KeyOrderedReconcilerTests.inMemory(trail, tables, definitions: definitions).findings)
        #expect(outcome.findings.contains(ReconciliationFinding(table: "gmp.step", key: "A1", kind: .signatureContent(signatureID: "7", seq: 3))))
        #expect(Set(digests.unsettled.map { "\($0.table) \($0.key ?? "-")" }) == ["gmp.signature A1", "gmp.step A1"])
        #expect(outcome.signaturesChecked == 1 && outcome.rowsChecked == 4)
    }

    @Test("a server that hashes a tampered image for an event settles the key, but its events are not the chain pass's")
    func lyingDigest() throws {
        let definitions = [KeyOrderedReconcilerTests.lot]
        let trail = [Event(seq: 1, action: "INSERT", table: "gmp.lot", key: "L1", old: nil, new: KeyOrderedReconcilerTests.lot("L1", "quarantine")),
                     Event(seq: 2, action: "UPDATE", table: "gmp.lot", key: "L1", old: KeyOrderedReconcilerTests.lot("L1", "quarantine"),
                           new: KeyOrderedReconcilerTests.lot("L1", "rejected"))]
        // The row was released with its triggers off.
        let tables = ["gmp.lot": [KeyOrderedReconcilerTests.lot("L1", "released")]]
        let (items, chain, _) = Self.stream(trail, tables, definitions: definitions)
        let honest = try Self.digestPass(items, definitions: definitions)
        #expect(honest.unsettled == [.init(table: "gmp.lot", key: "L1")] && honest.events == chain)
        let lying = try Self.digestPass(items, definitions: definitions) { event in
            event.seq == 2 ? KeyOrderedReconcilerTests.lot("L1", "released") : event.new
        }
        #expect(lying.unsettled.isEmpty, "the lie makes the key look settled")
        #expect(lying.events != chain, "but the keyed sum tells")
    }

    @Test("a digest stream out of key or seq order is refused")
    func order() throws {
        var replay = KeyOrderedDigestReplay(tables: ["gmp.lot"], digestKey: Self.key)
        let digest = RowDigest(of: "{}")
        #expect(throws: KeyOrderedReconciler.OrderError.self) {
            try Self.withBytes("INSERT") { action in
                try Self.withBytes("B") { try replay.item(table: 0, key: $0, seq: 1, kind: 0, action: action, oldKey: nil, old: nil, new: digest) }
                try Self.withBytes("A") { try replay.item(table: 0, key: $0, seq: 2, kind: 0, action: action, oldKey: nil, old: nil, new: digest) }
            }
        }
        var seqs = KeyOrderedDigestReplay(tables: ["gmp.lot"], digestKey: Self.key)
        #expect(throws: KeyOrderedReconciler.OrderError.self) {
            try Self.withBytes("INSERT") { action in
                try Self.withBytes("A") { try seqs.item(table: 0, key: $0, seq: 2, kind: 0, action: action, oldKey: nil, old: nil, new: digest) }
                try Self.withBytes("A") { try seqs.item(table: 0, key: $0, seq: 1, kind: 0, action: action, oldKey: nil, old: nil, new: digest) }
            }
        }
    }
}
