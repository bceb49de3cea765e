import SystemCrypto

/// The SHA-256 of a row image (the jsonb text of a row, as the trail records it and as
/// `to_jsonb(row)::text` prints it): 32 bytes held inline, so a key's replay state costs
/// no allocation per row. The server computes the same with
/// `pg_catalog.sha256(pg_catalog.convert_to(image, 'UTF8'))`; the client never trusts
/// that for an event's image without folding it into a ``ReplayDigest`` whose other side
/// it computed itself from the texts the chain pass hashed.
public struct RowDigest: Hashable, Sendable {
    let limbs: (UInt64, UInt64, UInt64, UInt64)

    /// The digest of `text` (its UTF-8 bytes). Through `update(bufferPointer:)`: the
    /// generic `SHA256.hash(data:)` looks up the type metadata of `DataProtocol`'s regions
    /// at run time on every call (issue 18: a fifth of the client's time in a verify).
    public init(of text: UnsafeRawBufferPointer) {
        var sha256 = SHA256()
        sha256.update(bufferPointer: text)
        self.init(sha256.finalize())
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

    init(_ digest: SHA256Digest) {
        self = digest.withUnsafeBytes { RowDigest(bytes: $0)! }
    }

    /// The 32 bytes, big-endian limbs in order (as the server sends a digest).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var bigEndian = (limbs.0.bigEndian, limbs.1.bigEndian, limbs.2.bigEndian, limbs.3.bigEndian)
        return withUnsafeBytes(of: &bigEndian, body)
    }

    var bytes: [UInt8] { withBytes { Array($0) } }

    init(of bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { RowDigest(of: $0) }
    }

    init(limbs: (UInt64, UInt64, UInt64, UInt64)) {
        self.limbs = limbs
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
    /// HMAC-SHA-256 (RFC 2104) keyed once: each item starts from copies of the keyed pads'
    /// hashes, which spares the two block compressions of the pads per item. Each item is
    /// written into one stack buffer and hashed in one call (issue 18: swift-crypto's
    /// `HMAC<SHA256>` fed field by field, through its generic `update`, cost more than the
    /// hashing itself). ``ReplayDigestTests`` checks it against OpenSSL's `HMAC()`.
    private let mac: HMACSHA256
    private var limbs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// Items added.
    public private(set) var count = 0

    /// The sum as 32 bytes, for tests: four 8-byte big-endian limbs, the first the least
    /// significant, as each HMAC code is read (its bytes 0–7 the first limb).
    public var sum: [UInt8] {
        RowDigest(limbs: limbs).bytes
    }

    public init(key: [UInt8]) {
        mac = HMACSHA256(key: key)
    }

    /// A fresh random key for one verification.
    public static func randomKey() -> [UInt8] {
        SecureRandom.bytes(count: 32)
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
        add(capacity: 12 + action.count + table.count + (recordKey?.count ?? 0) + 2 * ItemBytes.imageSize) { item in
            item.head(tag: UInt8(ascii: "E"), seq: seq)
            item.field(action)
            item.field(table)
            item.field(recordKey)
            item.image(old)
            item.image(new)
        }
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
        add(capacity: ItemBytes.imageSize) { item in
            item.head(tag: UInt8(ascii: "M"), seq: seq)
            item.image(old)
        }
    }

    public mutating func addMove(seq: Int64, oldValues: String) {
        addMove(seq: seq, old: RowDigest(of: oldValues))
    }

    /// A link of a record's history (issue 18, ``RecordLinks``): the image `image` that
    /// the event `seq` left under `recordKey`, either as that event wrote it or as the next
    /// event on the key (or the row now) found it.
    public mutating func addLink(seq: Int64, recordKey: UnsafeRawBufferPointer?, image: RowDigest) {
        add(capacity: 4 + (recordKey?.count ?? 0) + ItemBytes.imageSize) { item in
            item.head(tag: UInt8(ascii: "L"), seq: seq)
            item.field(recordKey)
            item.image(image)
        }
    }

    /// A row image left in a record table (issue 18, the bounded checkpoint): `seq` 0, the
    /// table and the image. The chain pass adds each image an event writes to one sum and
    /// each it removes to another; the rows the tables' digest hashes must make up the difference.
    public mutating func addRow(table: UnsafeRawBufferPointer, image: RowDigest) {
        add(capacity: 4 + table.count + ItemBytes.imageSize) { item in
            item.head(tag: UInt8(ascii: "R"), seq: 0)
            item.field(table)
            item.image(image)
        }
    }

    /// A signature event's new values, filed under its record.
    public mutating func addSignature(seq: Int64, values: String) {
        var values = values
        values.withUTF8 { utf8 in
            add(capacity: 4 + utf8.count) { item in
                item.head(tag: UInt8(ascii: "S"), seq: seq)
                item.field(UnsafeRawBufferPointer(utf8))
            }
        }
    }

    /// Adds one item: its bytes, at most `capacity` after the head, written by `write`
    /// into a buffer on the stack, then its HMAC to the sum.
    private mutating func add(capacity: Int, _ write: (inout ItemBytes) -> Void) {
        withUnsafeTemporaryAllocation(byteCount: ItemBytes.headSize + capacity, alignment: 8) { buffer in
            var item = ItemBytes(buffer: buffer)
            write(&item)
            accumulate(RowDigest(mac.code(for: UnsafeRawBufferPointer(rebasing: buffer[..<item.count]))))
        }
    }

    /// Adds the item's code to the sum, mod 2^256.
    private mutating func accumulate(_ item: RowDigest) {
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

/// One ``ReplayDigest`` item's bytes: a tag byte, `seq` (8 bytes, big-endian), then its
/// fields, each as in audit encoding v1 (4-byte big-endian length, then the bytes; NULL
/// is ff ff ff ff), an image as its 32-byte ``RowDigest``. Written into a buffer sized
/// by the caller (``headSize``, then 4 bytes and the bytes of each field, ``imageSize`` per image).
struct ItemBytes {
    /// Bytes of the tag and `seq`.
    static let headSize = 9
    /// Bytes of an image: its length and digest.
    static let imageSize = 36

    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
    }

    mutating func head(tag: UInt8, seq: Int64) {
        buffer[count] = tag
        count += 1
        buffer.storeBytes(of: UInt64(bitPattern: seq).bigEndian, toByteOffset: count, as: UInt64.self)
        count += 8
    }

    mutating func field(_ bytes: UnsafeRawBufferPointer?) {
        length(bytes?.count)
        guard let bytes, !bytes.isEmpty else { return }
        UnsafeMutableRawBufferPointer(rebasing: buffer[count..<count + bytes.count]).copyMemory(from: bytes)
        count += bytes.count
    }

    mutating func image(_ digest: RowDigest?) {
        guard let digest else {
            length(nil)
            return
        }
        length(32)
        digest.withBytes { field in
            UnsafeMutableRawBufferPointer(rebasing: buffer[count..<count + 32]).copyMemory(from: field)
        }
        count += 32
    }

    private mutating func length(_ length: Int?) {
        buffer.storeBytes(of: (length.map { UInt32($0) } ?? 0xFFFF_FFFF).bigEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }
}
