/// The key-ordered reconciliation on digests (issue 18): the same merge as
/// ``KeyOrderedReconciler``, but every row image arrives as its ``RowDigest``, computed
/// by the server, instead of its text. Most keys agree exactly (every removal finds its
/// row, and what is left is what the table holds): such a key is settled here. A key
/// that does not (a finding, or a row that differs only in a field added since), every
/// key of the signature table and every key with a signature on it (the signed content
/// is hashed from texts) is left to ``KeyOrderedReconciler``, which reads those keys'
/// texts: ``unsettled`` names them.
///
/// The server's digests are not trusted: every event enters ``events`` as the chain
/// pass's does (``ReplayDigest/addEvent(_:)``, from the texts it hashed), so the sums
/// are equal only if every digest is the digest of that event's text. The events of the
/// keys left to the text merge are summed apart (``unsettledEvents``, ``unsettledMoves``)
/// so that the text merge can be proved to have read exactly them.
///
/// Stream order and columns as ``KeyOrderedReconciler``'s: per table (by index into
/// `tables`, which the caller sorts in byte order) and record key (byte order, no key
/// last): the key's row events by `seq` (kind 0), the old halves of updates that moved a
/// row here from this key (kind 1), signatures on the record (kind 2), then the key's
/// rows now (kind 3).
public struct KeyOrderedDigestReplay {
    /// A table and record key the text merge must read.
    public struct Key: Hashable, Sendable {
        public let table: String
        public let key: String?

        public init(table: String, key: String?) {
            self.table = table
            self.key = key
        }
    }

    /// What the digest replay found in agreement, for the figures.
    public struct Settled: Sendable {
        public var eventsReplayed = 0
        public var rowsChecked = 0
        /// Tables with at least one row compared.
        public var tables: Set<String> = []

        public init() {}
    }

    private let tables: [String]
    private let tableBytes: [[UInt8]]
    private let signatureTable: Int?

    // The group being replayed.
    private var table = -1
    private var key: [UInt8]? = nil
    private var inGroup = false
    private var lastSeq: Int64 = .min
    /// Row digest → replayed rows with that image (this key only; a handful at most).
    private var state: [(digest: RowDigest, count: Int)] = []
    private var agrees = true
    private var groupEvents: ReplayDigest
    private var groupMoves: ReplayDigest
    private var groupEventCount = 0
    private var groupRowCount = 0

    /// Every row event the stream held, to compare with the chain pass's.
    public private(set) var events: ReplayDigest
    /// The row events and moved halves of the keys left to the text merge.
    public private(set) var unsettledEvents: ReplayDigest
    public private(set) var unsettledMoves: ReplayDigest
    private var movesExpected: ReplayDigest
    private var movesSeen: ReplayDigest
    public private(set) var unsettled: [Key] = []
    public private(set) var settled = Settled()

    /// `tables`: the compared tables' names, in the stream's (byte) order.
    public init(tables: [String], digestKey: [UInt8]) {
        self.tables = tables
        tableBytes = tables.map { Array($0.utf8) }
        signatureTable = tables.firstIndex(of: AuditReconciler.signatureTable)
        let empty = ReplayDigest(key: digestKey)
        (groupEvents, groupMoves, events, unsettledEvents, unsettledMoves, movesExpected, movesSeen)
            = (empty, empty, empty, empty, empty, empty, empty)
    }

    /// One item of the stream. `key`: the record key it is filed under; `oldKey`: for an
    /// update (kind 0), the key its old values name; digests nil for NULL images.
    public mutating func item(table: Int, key: UnsafeRawBufferPointer?, seq: Int64?, kind: Int32,
                              action: UnsafeRawBufferPointer?, oldKey: UnsafeRawBufferPointer?,
                              old: RowDigest?, new: RowDigest?) throws {
        guard tables.indices.contains(table) else {
            throw KeyOrderedReconciler.OrderError(description: "the digest stream names table \(table), which is not compared")
        }
        try enter(table: table, key: key, seq: kind == 3 ? .max : (seq ?? .min))
        switch kind {
        case 0:
            guard let seq, let action else { break }
            let name = tableBytes[table]
            name.withUnsafeBytes { groupEvents.addEvent(seq: seq, action: action, table: $0, recordKey: key, old: old, new: new) }
            groupEventCount += 1
            switch action.count {
            case 6 where action.elementsEqual("INSERT".utf8):
                if let new { add(new) }
            case 6 where action.elementsEqual("UPDATE".utf8):
                if let old {
                    if Self.same(oldKey, key) { remove(old) } else { movesExpected.addMove(seq: seq, old: old) }
                }
                if let new { add(new) }
            case 6 where action.elementsEqual("DELETE".utf8):
                if let old { remove(old) }
            default:
                throw KeyOrderedReconciler.OrderError(description: "the digest stream holds a non-row event (\(seq))")
            }
            return
        case 1:
            guard let seq, let old else { break }
            movesSeen.addMove(seq: seq, old: old)
            groupMoves.addMove(seq: seq, old: old)
            remove(old)
            return
        case 2:
            agrees = false
            return
        case 3:
            guard let new else { break }
            groupRowCount += 1
            remove(new)
            return
        default:
            break
        }
        throw KeyOrderedReconciler.OrderError(description: "the digest stream sent an incomplete item of kind \(kind)")
    }

    /// Ends the stream. Throws when the moved halves are not those its updates moved.
    public mutating func finish() throws {
        closeGroup()
        guard movesSeen == movesExpected else {
            throw KeyOrderedReconciler.OrderError(description: "the trail stream's moved rows are not those its updates moved")
        }
    }

    // MARK: - Groups

    private mutating func enter(table newTable: Int, key newKey: UnsafeRawBufferPointer?, seq: Int64) throws {
        if inGroup, newTable == table, Self.same(newKey, key) {
            guard seq >= lastSeq else {
                throw KeyOrderedReconciler.OrderError(description: "\(tables[table]): event \(seq) after \(lastSeq)")
            }
            lastSeq = seq
            return
        }
        if inGroup {
            guard newTable > table || (newTable == table && Self.precedes(key, newKey)) else {
                throw KeyOrderedReconciler.OrderError(description: "\(tables[newTable]): a key out of order in the digest stream")
            }
            closeGroup()
        }
        inGroup = true
        table = newTable
        key = newKey.map { Array($0) }
        lastSeq = seq
        agrees = newTable != signatureTable
    }

    private mutating func closeGroup() {
        guard inGroup else { return }
        defer {
            state.removeAll(keepingCapacity: true)
            groupEvents = groupEvents.empty
            groupMoves = groupMoves.empty
            groupEventCount = 0
            groupRowCount = 0
            inGroup = false
        }
        events.add(groupEvents)
        if agrees, state.isEmpty {
            settled.eventsReplayed += groupEventCount
            settled.rowsChecked += groupRowCount
            if groupRowCount > 0 { settled.tables.insert(tables[table]) }
            return
        }
        unsettledEvents.add(groupEvents)
        unsettledMoves.add(groupMoves)
        unsettled.append(Key(table: tables[table], key: key.map { String(decoding: $0, as: UTF8.self) }))
    }

    private mutating func add(_ digest: RowDigest) {
        if let index = state.firstIndex(where: { $0.digest == digest }) {
            state[index].count += 1
        } else {
            state.append((digest, 1))
        }
    }

    /// Removes one row with this image; a key whose removal finds none is not settled.
    private mutating func remove(_ digest: RowDigest) {
        guard let index = state.firstIndex(where: { $0.digest == digest }) else {
            agrees = false
            return
        }
        state[index].count -= 1
        if state[index].count == 0 { state.remove(at: index) }
    }

    private static func same(_ a: UnsafeRawBufferPointer?, _ b: [UInt8]?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (a?, b?): return a.elementsEqual(b)
        default: return false
        }
    }

    private static func same(_ a: UnsafeRawBufferPointer?, _ b: UnsafeRawBufferPointer?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (a?, b?): return a.elementsEqual(b)
        default: return false
        }
    }

    /// Byte order of keys, no key last.
    private static func precedes(_ a: [UInt8]?, _ b: UnsafeRawBufferPointer?) -> Bool {
        guard let a else { return false }
        guard let b else { return true }
        return a.lexicographicallyPrecedes(b)
    }
}
