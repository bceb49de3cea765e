/// One table's touched keys (``IncrementalReconciliation/touched``) looked up by the
/// COPY's bytes, so that the chain pass counts an event under an untouched key without a
/// `String`, a `Hasher` or an allocation per event (issue 18). Answers only where bytes
/// decide as `Set<String?>` does: for ASCII keys when every touched key is ASCII (`String`
/// compares by canonical equivalence, and a non-ASCII key can equal an ASCII one:
/// "\u{212A}" == "K").
///
/// A class over its own buffers, so that a lookup (once per event of the chain pass) retains
/// nothing and checks no bounds: each slot holds the key's hash above its index, so a miss
/// (most events) compares no bytes.
final class TouchedKeyBytes {
    /// The touched keys' UTF-8, one after another; key i spans `starts[i]..<starts[i + 1]`.
    private let bytes: UnsafeMutablePointer<UInt8>
    private let starts: UnsafeMutablePointer<Int>
    /// Open addressing by FNV-1a, at most half full: 0, or the key's hash's high 32 bits
    /// above its index plus one.
    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int
    /// One bit per hash value's high bits, set for the touched keys (≥ 16 bits per key):
    /// a miss is told here, in a few KiB, before the slots (a cache miss per lookup, as
    /// the keys' hashes scatter) are read.
    private let filter: UnsafeMutablePointer<UInt64>
    private let filterMask: UInt64
    private let containsNull: Bool
    /// Every touched key is ASCII.
    private let asciiOnly: Bool

    init(_ touched: Set<String?>) {
        containsNull = touched.contains(nil)
        let keys = touched.compactMap { $0.map { Array($0.utf8) } }
        asciiOnly = keys.allSatisfy { $0.allSatisfy { $0 < 0x80 } }
        var capacity = 16
        while capacity < 2 * keys.count { capacity *= 2 }
        mask = capacity - 1
        var filterBits = 512
        while filterBits < 16 * keys.count { filterBits *= 2 }
        filterMask = UInt64(filterBits - 1)
        filter = .allocate(capacity: filterBits / 64)
        filter.initialize(repeating: 0, count: filterBits / 64)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        starts = .allocate(capacity: keys.count + 1)
        bytes = .allocate(capacity: max(1, keys.reduce(0) { $0 + $1.count }))
        var end = 0
        for (index, key) in keys.enumerated() {
            starts[index] = end
            key.withUnsafeBufferPointer { (bytes + end).update(from: $0.baseAddress!, count: $0.count) }
            end += key.count
            let hash = key.withUnsafeBytes { Self.hash($0).hash }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = (hash & 0xFFFF_FFFF_0000_0000) | UInt64(index + 1)
            let bit = (hash >> 32) & filterMask
            filter[Int(bit >> 6)] |= 1 << (bit & 63)
        }
        starts[keys.count] = end
    }

    deinit {
        bytes.deallocate()
        starts.deallocate()
        slots.deallocate()
        filter.deallocate()
    }

    /// Whether `key` (nil: the key column is null) is touched; nil when its bytes cannot
    /// tell (the caller asks with `String`s).
    func contains(_ key: UnsafeRawBufferPointer?) -> Bool? {
        guard let key else { return containsNull }
        let (hash, ascii) = Self.hash(key)
        guard asciiOnly, ascii else { return nil }
        let bit = (hash >> 32) & filterMask
        if filter[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return false }
            if entry & 0xFFFF_FFFF_0000_0000 == hash & 0xFFFF_FFFF_0000_0000 {
                let index = Int(entry & 0xFFFF_FFFF) - 1
                let start = starts[index]
                if UnsafeRawBufferPointer(start: bytes + start, count: starts[index + 1] - start).equals(key) { return true }
            }
            slot = (slot + 1) & mask
        }
    }

    /// FNV-1a, 64 bits, folded (a few bytes per key, no seed to set up), and whether every
    /// byte is ASCII.
    @inline(__always)
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> (hash: UInt64, ascii: Bool) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var high: UInt8 = 0
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            high |= byte
        }
        return (hash ^ (hash >> 29), high < 0x80)
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
