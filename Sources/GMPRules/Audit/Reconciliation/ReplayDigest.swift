import Crypto

/// The SHA-256 of a row image (the jsonb text of a row, as the trail records it and as
/// `to_jsonb(row)::text` prints it): 32 bytes held inline, so a key's replay state costs
/// no allocation per row. The server computes the same with
/// `pg_catalog.sha256(pg_catalog.convert_to(image, 'UTF8'))`; the client never trusts
/// that for an event's image without folding it into a ``ReplayDigest`` whose other side
/// it computed itself from the texts the chain pass hashed.
public struct RowDigest: Hashable, Sendable {
    let limbs: (UInt64, UInt64, UInt64, UInt64)

    /// The digest of `text` (its UTF-8 bytes).
    public init(of text: UnsafeRawBufferPointer) {
        self.init(SHA256.hash(data: text))
    }

    public init(of text: String) {
        var text = text
        self = text.withUTF8 { RowDigest(of: UnsafeRawBufferPointer($0)) }
    }

    /// 32 bytes as the server sent them; nil for any other length.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 32 else { return nil }
        func limb(_ index: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[index * 8 + $1]) }
        }
        limbs = (limb(0), limb(1), limb(2), limb(3))
    }

    private init(_ digest: SHA256Digest) {
        self = digest.withUnsafeBytes { RowDigest(bytes: $0)! }
    }

    public static func == (lhs: RowDigest, rhs: RowDigest) -> Bool { lhs.limbs == rhs.limbs }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(limbs.0)
        hasher.combine(limbs.1)
    }
}

/// A keyed digest of a multiset of trail items: the sum, mod 2^256, of HMAC-SHA-256 of
/// each item under a key drawn at random for one verification. Two passes over the trail
/// in different orders (by `seq` for the chain, by record key for the reconciliation)
/// held the same items exactly when their digests are equal: no one who wrote the
/// database beforehand knows the key, so no one can make two different sets agree. It
/// proves that the second pass replayed the events the chain pass hashed, even if an
/// index or a query plan returned something else the second time.
///
/// An item is a tag byte, `seq` (8 bytes, big-endian) and its fields, each as in audit
/// encoding v1 (4-byte big-endian length then the bytes; NULL is ff ff ff ff). A row
/// image enters as its ``RowDigest`` (32 bytes), never as its text (issue 18): the
/// second pass may then receive the server's digests instead of the texts, and the sum
/// proves every one of them is the digest of the text the chain pass hashed.
public struct ReplayDigest: Equatable, Sendable {
    private let key: SymmetricKey
    /// The MAC keyed once: each item starts from a copy, which spares the two block
    /// compressions of the key pads per item (a third of an event's items' cost).
    private let keyed: HMAC<SHA256>
    private var limbs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// Items added.
    public private(set) var count = 0

    public init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
        keyed = HMAC<SHA256>(key: self.key)
    }

    /// A fresh random key for one verification.
    public static func randomKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    public static func == (lhs: ReplayDigest, rhs: ReplayDigest) -> Bool {
        lhs.count == rhs.count && lhs.limbs == rhs.limbs
    }

    /// Adds every item of `other` (a digest under the same key): the digest of the union.
    public mutating func add(_ other: ReplayDigest) {
        var carry: Bool
        (limbs.0, carry) = limbs.0.addingReportingOverflow(other.limbs.0)
        (limbs.1, carry) = Self.add(limbs.1, other.limbs.1, carry)
        (limbs.2, carry) = Self.add(limbs.2, other.limbs.2, carry)
        (limbs.3, _) = Self.add(limbs.3, other.limbs.3, carry)
        count += other.count
    }

    /// An empty digest under the same key.
    public var empty: ReplayDigest {
        var copy = self
        copy.limbs = (0, 0, 0, 0)
        copy.count = 0
        return copy
    }

    /// A row event as the chain pass reads it from the COPY (jsonb as text, hashed here).
    public mutating func addEvent(_ event: AuditEventBytes) {
        addEvent(seq: event.seq, action: event.action, table: event.tableName, recordKey: event.recordKey,
                 old: event.oldValues.map(RowDigest.init(of:)), new: event.newValues.map(RowDigest.init(of:)))
    }

    /// A row event with its images as digests (the second pass's digest stream).
    public mutating func addEvent(seq: Int64, action: UnsafeRawBufferPointer, table: UnsafeRawBufferPointer,
                                  recordKey: UnsafeRawBufferPointer?, old: RowDigest?, new: RowDigest?) {
        var mac = keyed
        Self.head(tag: UInt8(ascii: "E"), seq: seq, into: &mac)
        Self.length(action.count, into: &mac)
        mac.update(data: action)
        Self.length(table.count, into: &mac)
        mac.update(data: table)
        Self.length(recordKey?.count, into: &mac)
        if let recordKey { mac.update(data: recordKey) }
        Self.image(old, into: &mac)
        Self.image(new, into: &mac)
        accumulate(mac)
    }

    /// A row event as the reconciliation's text stream reads it (images hashed here).
    public mutating func addEvent(seq: Int64, action: String, table: String, recordKey: String?,
                                  oldValues: String?, newValues: String?) {
        var action = action, table = table, recordKey = recordKey
        action.withUTF8 { action in
            table.withUTF8 { table in
                func add(_ key: UnsafeRawBufferPointer?) {
                    addEvent(seq: seq, action: UnsafeRawBufferPointer(action), table: UnsafeRawBufferPointer(table),
                             recordKey: key, old: oldValues.map(RowDigest.init(of:)), new: newValues.map(RowDigest.init(of:)))
                }
                if recordKey == nil { add(nil) } else { recordKey!.withUTF8 { add(UnsafeRawBufferPointer($0)) } }
            }
        }
    }

    /// The old values of an update that moved its row to another key.
    public mutating func addMove(seq: Int64, old: RowDigest) {
        var mac = keyed
        Self.head(tag: UInt8(ascii: "M"), seq: seq, into: &mac)
        Self.image(old, into: &mac)
        accumulate(mac)
    }

    public mutating func addMove(seq: Int64, oldValues: String) {
        addMove(seq: seq, old: RowDigest(of: oldValues))
    }

    /// A link of a record's history (issue 18, ``RecordLinks``): the image `image` that
    /// the event `seq` left under `recordKey`, either as that event wrote it or as the next
    /// event on the key (or the row now) found it.
    public mutating func addLink(seq: Int64, recordKey: UnsafeRawBufferPointer?, image: RowDigest) {
        var mac = keyed
        Self.head(tag: UInt8(ascii: "L"), seq: seq, into: &mac)
        Self.length(recordKey?.count, into: &mac)
        if let recordKey { mac.update(data: recordKey) }
        Self.image(image, into: &mac)
        accumulate(mac)
    }

    /// A signature event's new values, filed under its record.
    public mutating func addSignature(seq: Int64, values: String) {
        var mac = keyed
        Self.head(tag: UInt8(ascii: "S"), seq: seq, into: &mac)
        var values = values
        values.withUTF8 { utf8 in
            Self.length(utf8.count, into: &mac)
            mac.update(data: UnsafeRawBufferPointer(utf8))
        }
        accumulate(mac)
    }

    private static func image(_ digest: RowDigest?, into mac: inout HMAC<SHA256>) {
        guard let digest else {
            length(nil, into: &mac)
            return
        }
        length(32, into: &mac)
        var bigEndian = (digest.limbs.0.bigEndian, digest.limbs.1.bigEndian, digest.limbs.2.bigEndian, digest.limbs.3.bigEndian)
        withUnsafeBytes(of: &bigEndian) { mac.update(data: $0) }
    }

    private static func head(tag: UInt8, seq: Int64, into mac: inout HMAC<SHA256>) {
        var tag = tag
        withUnsafeBytes(of: &tag) { mac.update(data: $0) }
        var bigEndian = UInt64(bitPattern: seq).bigEndian
        withUnsafeBytes(of: &bigEndian) { mac.update(data: $0) }
    }

    private static func length(_ count: Int?, into mac: inout HMAC<SHA256>) {
        var bigEndian = (count.map { UInt32($0) } ?? 0xFFFF_FFFF).bigEndian
        withUnsafeBytes(of: &bigEndian) { mac.update(data: $0) }
    }

    /// Adds the item's code to the sum, mod 2^256.
    private mutating func accumulate(_ mac: HMAC<SHA256>) {
        let code = mac.finalize()
        let item = code.withUnsafeBytes { RowDigest(bytes: $0)! }
        var carry: Bool
        (limbs.0, carry) = limbs.0.addingReportingOverflow(item.limbs.0)
        (limbs.1, carry) = Self.add(limbs.1, item.limbs.1, carry)
        (limbs.2, carry) = Self.add(limbs.2, item.limbs.2, carry)
        (limbs.3, _) = Self.add(limbs.3, item.limbs.3, carry)
        count += 1
    }

    private static func add(_ a: UInt64, _ b: UInt64, _ carry: Bool) -> (UInt64, Bool) {
        let (sum, first) = a.addingReportingOverflow(b)
        let (total, second) = sum.addingReportingOverflow(carry ? 1 : 0)
        return (total, first || second)
    }
}
