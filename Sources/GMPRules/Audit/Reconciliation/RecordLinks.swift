/// The reconciliation's link check (issue 18): each table's record histories checked as
/// links, in any order, in bounded memory, from the chain pass itself, so that the trail
/// need not be read and sorted a second time. docs/audit-trail.md, "Links", proves it.
///
/// Per table, two keyed multiset digests (``ReplayDigest``, the run's random key):
/// - *produced*: for every row event with new values, the link (its `seq`, its record
///   key, the digest of its new image);
/// - *consumed*: for every update or delete, the link (`prev_seq`, its record key, the
///   digest of its old image), where `prev_seq` is the event the database says came
///   before it on that key (V0040; the chain pass reads it with the event); and for every
///   row of the table now (``liveRow(table:key:lastSeq:image:)``), the link (the seq
///   the server says is its key's last event, its key, the digest of the row's text).
///
/// The table is settled when both are equal and every update and delete named an earlier
/// event: then there is a one-to-one pairing of every image an event left with the one
/// event or row that found it, under the same key, the finder after the leaver, which
/// is exactly what replaying the key's events in `seq` order and comparing what is left
/// with the rows would accept (``KeyOrderedDigestReplay``). Neither `prev_seq` nor the
/// server's last seq is trusted: a wrong one only makes the sums differ. A table that
/// is not settled (a finding, an event chained before V0040, an update that moved its
/// row to another key, a row that differs only in a field added since, a signed record)
/// goes to the key-ordered merge, which gives the findings. Signatures are never settled
/// here: their content is hashed from texts (``requireMerge(table:)``).
public struct RecordLinks: Sendable {
    /// One table's sums and figures.
    public struct TableLinks: Sendable {
        public fileprivate(set) var produced: ReplayDigest
        public fileprivate(set) var consumed: ReplayDigest
        /// No update or delete lacked an earlier event, and nothing else asked for the merge.
        public fileprivate(set) var linked = true
        public fileprivate(set) var events = 0
        public fileprivate(set) var rows = 0
    }

    public private(set) var tables: [TableLinks]

    /// `tableCount`: the compared tables, by index; `digestKey`: the run's key.
    public init(tableCount: Int, digestKey: [UInt8]) {
        let empty = ReplayDigest(key: digestKey)
        tables = Array(repeating: TableLinks(produced: empty, consumed: empty), count: tableCount)
    }

    /// A row event of table `table` as the chain pass hashed it: `old` and `new` are the
    /// digests of its images (nil for none), `prevSeq` the seq the database gives as the
    /// previous event on its key.
    public mutating func event(table: Int, seq: Int64, recordKey: UnsafeRawBufferPointer?, prevSeq: Int64?,
                               old: RowDigest?, new: RowDigest?) {
        tables[table].events += 1
        if let new { tables[table].produced.addLink(seq: seq, recordKey: recordKey, image: new) }
        guard let old else { return }
        guard let prevSeq, prevSeq > 0, prevSeq < seq else {
            tables[table].linked = false
            return
        }
        tables[table].consumed.addLink(seq: prevSeq, recordKey: recordKey, image: old)
    }

    /// A row of table `table` now: its key, the seq the server gives as its key's last
    /// event (nil for none: it can then pair with no event), and the digest of its text.
    public mutating func liveRow(table: Int, key: UnsafeRawBufferPointer?, lastSeq: Int64?, image: RowDigest) {
        tables[table].rows += 1
        tables[table].consumed.addLink(seq: lastSeq ?? 0, recordKey: key, image: image)
    }

    /// Leaves `table` to the key-ordered merge whatever its sums say (signatures, pending
    /// events, which have no `prev_seq` yet).
    public mutating func requireMerge(table: Int) {
        tables[table].linked = false
    }

    /// Adds another pass's links (the rows, read on a second session) to these.
    public mutating func add(_ other: RecordLinks) {
        precondition(other.tables.count == tables.count, "links of other tables")
        for index in tables.indices {
            tables[index].produced.add(other.tables[index].produced)
            tables[index].consumed.add(other.tables[index].consumed)
            tables[index].linked = tables[index].linked && other.tables[index].linked
            tables[index].events += other.tables[index].events
            tables[index].rows += other.tables[index].rows
        }
    }

    /// Whether `table`'s history and rows agree without the merge.
    public func settles(table: Int) -> Bool {
        tables[table].linked && tables[table].produced == tables[table].consumed
    }
}
