import Crypto

/// A keyed digest of a multiset of trail items: the sum, mod 2^256, of HMAC-SHA-256 of
/// each item under a key drawn at random for one verification. Two passes over the trail
/// in different orders (by `seq` for the chain, by record key for the reconciliation)
/// held the same items exactly when their digests are equal: no one who wrote the
/// database beforehand knows the key, so no one can make two different sets agree. It
/// proves that the second pass replayed the events the chain pass hashed, even if an
/// index or a query plan returned something else the second time.
///
/// An item is a tag byte, `seq` (8 bytes, big-endian) and its fields, each as in audit
/// encoding v1 (4-byte big-endian length then the bytes; NULL is ff ff ff ff).
public struct ReplayDigest: Equatable, Sendable {
    private let key: SymmetricKey
    private var limbs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// Items added.
    public private(set) var count = 0

    public init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    /// A fresh random key for one verification.
    public static func randomKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    public static func == (lhs: ReplayDigest, rhs: ReplayDigest) -> Bool {
        lhs.count == rhs.count && lhs.limbs == rhs.limbs
    }

    /// A row event as the chain pass reads it from the COPY (jsonb as text).
    public mutating func addEvent(_ event: AuditEventBytes) {
        add(tag: UInt8(ascii: "E"), seq: event.seq,
            fields: [event.action, event.tableName, event.recordKey, event.oldValues, event.newValues])
    }

    /// A row event as the reconciliation's stream reads it.
    public mutating func addEvent(seq: Int64, action: String, table: String, recordKey: String?,
                                  oldValues: String?, newValues: String?) {
        add(tag: UInt8(ascii: "E"), seq: seq, strings: [action, table, recordKey, oldValues, newValues])
    }

    /// The old values of an update that moved its row to another key.
    public mutating func addMove(seq: Int64, oldValues: String) {
        add(tag: UInt8(ascii: "M"), seq: seq, strings: [oldValues])
    }

    /// A signature event's new values, filed under its record.
    public mutating func addSignature(seq: Int64, values: String) {
        add(tag: UInt8(ascii: "S"), seq: seq, strings: [values])
    }

    private mutating func add(tag: UInt8, seq: Int64, strings: [String?]) {
        var mac = HMAC<SHA256>(key: key)
        Self.head(tag: tag, seq: seq, into: &mac)
        for string in strings {
            guard var string else {
                Self.length(nil, into: &mac)
                continue
            }
            string.withUTF8 { utf8 in
                Self.length(utf8.count, into: &mac)
                mac.update(data: UnsafeRawBufferPointer(utf8))
            }
        }
        accumulate(mac)
    }

    private static func head(tag: UInt8, seq: Int64, into mac: inout HMAC<SHA256>) {
        var bytes: [UInt8] = [tag]
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: seq) >> UInt64(shift)))
        }
        bytes.withUnsafeBytes { mac.update(data: $0) }
    }

    private static func length(_ count: Int?, into mac: inout HMAC<SHA256>) {
        let length: UInt32 = count.map { UInt32($0) } ?? 0xFFFF_FFFF
        let prefix = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        prefix.withUnsafeBytes { mac.update(data: $0) }
    }

    private mutating func add(tag: UInt8, seq: Int64, fields: [UnsafeRawBufferPointer?]) {
        var mac = HMAC<SHA256>(key: key)
        Self.head(tag: tag, seq: seq, into: &mac)
        for field in fields {
            Self.length(field?.count, into: &mac)
            if let field { mac.update(data: field) }
        }
        accumulate(mac)
    }

    /// Adds the item's code to the sum, mod 2^256.
    private mutating func accumulate(_ mac: HMAC<SHA256>) {
        let code = Array(mac.finalize())
        func limb(_ index: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(code[index * 8 + $1]) }
        }
        var carry: Bool
        (limbs.0, carry) = limbs.0.addingReportingOverflow(limb(0))
        (limbs.1, carry) = Self.add(limbs.1, limb(1), carry)
        (limbs.2, carry) = Self.add(limbs.2, limb(2), carry)
        (limbs.3, _) = Self.add(limbs.3, limb(3), carry)
        count += 1
    }

    private static func add(_ a: UInt64, _ b: UInt64, _ carry: Bool) -> (UInt64, Bool) {
        let (sum, first) = a.addingReportingOverflow(b)
        let (total, second) = sum.addingReportingOverflow(carry ? 1 : 0)
        return (total, first || second)
    }
}
