import GMPRules
import Testing

/// Issue 18: the link check. A table's history settles only when there is a pairing of
/// every image an event left with the event (after it) or row that found it, under the
/// same key: what the replay in `seq` order accepts. `prev_seq` and the server's last seq
/// are hints: a wrong one makes the sums differ, never a tampered history agree.
@Suite("Record links: each key's history checked as links in any order, no hint trusted")
struct RecordLinksTests {
    static let key = Array(repeating: UInt8(9), count: 32)

    /// One event: seq, action, key, old and new image (texts), prev_seq.
    struct Event {
        let seq: Int64
        let key: String
        let old: String?
        let new: String?
        let prev: Int64?
    }

    /// Feeds `events` (in the order given) and the rows now (key, last seq, text) into links.
    static func links(_ events: [Event], rows: [(key: String, last: Int64?, text: String)]) -> RecordLinks {
        var links = RecordLinks(tableCount: 1, digestKey: key)
        for event in events {
            var recordKey = event.key
            recordKey.withUTF8 { bytes in
                links.event(table: 0, seq: event.seq, recordKey: UnsafeRawBufferPointer(bytes), prevSeq: event.prev,
                            old: event.old.map(RowDigest.init(of:)), new: event.new.map(RowDigest.init(of:)))
            }
        }
        for row in rows {
            var recordKey = row.key
            recordKey.withUTF8 { bytes in
                links.liveRow(table: 0, key: UnsafeRawBufferPointer(bytes), lastSeq: row.last, image: RowDigest(of: row.text))
            }
        }
        return links
    }

    /// I1(a) U2(a→b) D3(b) I4(c) U5(c→d) on key k, row d now; another key's insert.
    static let history = [
        Event(seq: 1, key: "k", old: nil, new: "a", prev: nil),
        Event(seq: 2, key: "k", old: "a", new: "b", prev: 1),
        Event(seq: 3, key: "k", old: "b", new: nil, prev: 2),
        Event(seq: 4, key: "k", old: nil, new: "c", prev: nil),
        Event(seq: 5, key: "k", old: "c", new: "d", prev: 4),
        Event(seq: 6, key: "m", old: nil, new: "x", prev: nil),
    ]

    @Test("an untouched history settles, in any order of its events")
    func untouched() {
        let rows: [(key: String, last: Int64?, text: String)] = [("m", 6, "x"), ("k", 5, "d")]
        #expect(Self.links(Self.history, rows: rows).settles(table: 0))
        #expect(Self.links(Array(Self.history.reversed()), rows: Array(rows.reversed())).settles(table: 0))
    }

    @Test("a row changed, deleted or added outside the trail, or a key with no events, does not settle")
    func rowsTampered() {
        #expect(!Self.links(Self.history, rows: [("m", 6, "x"), ("k", 5, "e")]).settles(table: 0), "row changed")
        #expect(!Self.links(Self.history, rows: [("m", 6, "x")]).settles(table: 0), "row deleted")
        #expect(!Self.links(Self.history, rows: [("m", 6, "x"), ("k", 5, "d"), ("k", 5, "d")]).settles(table: 0), "row added")
        #expect(!Self.links(Self.history, rows: [("m", 6, "x"), ("k", 5, "d"), ("n", nil, "y")]).settles(table: 0),
                "a key with no events")
        // The server may not point the row at an earlier image either: it was found already.
        #expect(!Self.links(Self.history, rows: [("m", 6, "x"), ("k", 4, "c")]).settles(table: 0))
    }

    @Test("a broken link, a dropped middle event, a missing or impossible prev_seq do not settle")
    func brokenLinks() {
        let rows: [(key: String, last: Int64?, text: String)] = [("m", 6, "x"), ("k", 5, "d")]
        var broken = Self.history
        broken[4] = Event(seq: 5, key: "k", old: "z", new: "d", prev: 4)
        #expect(!Self.links(broken, rows: rows).settles(table: 0), "old image is not what event 4 left")
        #expect(!Self.links(Self.history.filter { $0.seq != 2 }, rows: rows).settles(table: 0), "event 2 dropped")
        for prev: Int64? in [nil, 0, 5, 6] {
            var forged = Self.history
            forged[4] = Event(seq: 5, key: "k", old: "c", new: "d", prev: prev)
            #expect(!Self.links(forged, rows: rows).settles(table: 0), "prev_seq \(prev.map(String.init) ?? "NULL")")
        }
    }

    /// A row changed outside the trail twice, so that the images balance: a→b before
    /// U4 and b→a before U6. Every image left is found once; only the order tells, and a
    /// forged prev_seq cannot pair an event with an image left after it.
    @Test("two silent changes that balance the images are caught whatever prev_seq says")
    func balancedTampering() {
        // I1(a) U2(a→b) U3(b→a) [a→b] U4(b→c) U5(c→b) [b→a] U6(a→d), row d: images
        // left {a, b, a, c, b, d} and found {a, b, b, c, a, d} are the same multiset.
        let images: [(seq: Int64, old: String?, new: String)] = [
            (1, nil, "a"), (2, "a", "b"), (3, "b", "a"), (4, "b", "c"), (5, "c", "b"), (6, "a", "d"),
        ]
        // Every assignment of earlier events as prev_seq.
        func assignments(_ index: Int) -> [[Int64?]] {
            guard index < images.count else { return [[]] }
            let choices: [Int64?] = images[index].old == nil ? [nil] : (1..<images[index].seq).map { Optional($0) }
            return assignments(index + 1).flatMap { rest in choices.map { [$0] + rest } }
        }
        var tried = 0
        for prevs in assignments(0) {
            let events = zip(images, prevs).map { Event(seq: $0.seq, key: "k", old: $0.old, new: $0.new, prev: $1) }
            for last in Int64(1)...6 {
                tried += 1
                #expect(!Self.links(events, rows: [("k", last, "d")]).settles(table: 0), "prev \(prevs), last \(last)")
            }
        }
        #expect(tried > 500)
    }

    @Test("a table the merge must check never settles; keys are compared byte for byte")
    func requireMergeAndKeys() {
        var links = Self.links(Self.history, rows: [("m", 6, "x"), ("k", 5, "d")])
        links.requireMerge(table: 0)
        #expect(!links.settles(table: 0))
        #expect(!Self.links(Self.history, rows: [("m", 6, "x"), ("K", 5, "d")]).settles(table: 0))
    }
}
