/// Byte comparisons whose time does not depend on where the bytes differ.
enum ConstantTime {
    /// Whether `a` and `b` are equal, looking at every byte even after a difference, so
    /// that a caller timing the answer learns nothing about how much of a key matched.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
