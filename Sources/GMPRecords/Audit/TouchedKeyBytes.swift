/// One table's touched keys (``IncrementalReconciliation/touched``) looked up by the
/// COPY's bytes, so that the chain pass counts an event under an untouched key without a
/// `String`, a `Hasher` or an allocation per event (issue 18). Answers only where bytes
/// decide as `Set<String?>` does: for ASCII keys when every touched key is ASCII (`String`
/// compares by canonical equivalence, and a non-ASCII key can equal an ASCII one:
/// "\u{212A}" == "K").
struct TouchedKeyBytes {
    /// The touched keys' UTF-8.
    private var keys: [[UInt8]] = []
    /// Open addressing by FNV-1a, at most half full: an index in ``keys``, or -1.
    private var slots: [Int32]
    private let mask: Int
    private let containsNull: Bool
    /// Every touched key is ASCII.
    private var asciiOnly = true

    init(_ touched: Set<String?>) {
        containsNull = touched.contains(nil)
        var capacity = 16
        while capacity < 2 * touched.count { capacity *= 2 }
        slots = Array(repeating: -1, count: capacity)
        mask = capacity - 1
        for case let key? in touched {
            let bytes = Array(key.utf8)
            if !bytes.allSatisfy({ $0 < 0x80 }) { asciiOnly = false }
            var slot = bytes.withUnsafeBytes(Self.hash) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(keys.count)
            keys.append(bytes)
        }
    }

    /// Whether `key` (nil: the key column is null) is touched; nil when its bytes cannot
    /// tell (the caller asks with `String`s).
    func contains(_ key: UnsafeRawBufferPointer?) -> Bool? {
        guard let key else { return containsNull }
        guard asciiOnly, key.allSatisfy({ $0 < 0x80 }) else { return nil }
        var slot = Self.hash(key) & mask
        while slots[slot] >= 0 {
            if keys[Int(slots[slot])].withUnsafeBytes({ $0.equals(key) }) { return true }
            slot = (slot + 1) & mask
        }
        return false
    }

    /// FNV-1a, 64 bits: a few bytes per key, no seed to set up.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: hash ^ (hash >> 32))
    }
}

extension UnsafeRawBufferPointer {
    /// The same bytes (a loop the optimizer keeps tight, unlike a generic `elementsEqual`).
    @inline(__always)
    func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        guard count == other.count else { return false }
        for index in 0..<count where self[index] != other[index] { return false }
        return true
    }
}

extension UnsafeRawBufferPointer {
    /// A literal's UTF-8, with no copy: it lives as long as the program.
    init(_ literal: StaticString) {
        self.init(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
    }
}
