import SystemCrypto

/// The SHA-256 hash of one audit event: 32 bytes held inline.
///
/// Inline (four words, not an array) so that carrying the previous hash from one event to
/// the next and comparing hashes allocates nothing on the verification fast path.
public struct AuditHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes, in order; a homogeneous tuple is laid out contiguously, like a C array.
    private var words: (UInt64, UInt64, UInt64, UInt64)

    /// The byte count of a SHA-256 hash.
    public static let byteCount = 32

    /// 32 zero bytes: what event 1 chains from, having no predecessor.
    public static let zero = AuditHash(words: (0, 0, 0, 0))

    private init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.words = words
    }

    /// The hash with these bytes, or nil unless there are exactly 32.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == AuditHash.byteCount else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: bytes) }
        self.words = words
    }

    /// The hash with these bytes, or nil unless there are exactly 32.
    public init?(bytes: [UInt8]) {
        guard let hash = bytes.withUnsafeBytes({ AuditHash(bytes: $0) }) else { return nil }
        self = hash
    }

    /// The hash written as 64 hexadecimal digits (either case), or nil for anything else.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 2 * AuditHash.byteCount else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(AuditHash.byteCount)
        for pair in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Hex.value(of: digits[pair]), let low = Hex.value(of: digits[pair + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.init(bytes: bytes)
    }

    init(_ digest: SHA256Digest) {
        // A SHA256Digest is always 32 bytes.
        self = digest.withUnsafeBytes { AuditHash(bytes: $0)! }
    }

    /// Calls `body` with the 32 bytes, valid only during the call.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: words, body)
    }

    /// The 32 bytes, as an array.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Whether `bytes` are exactly this hash (a stored hash of any other length never is).
    public func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        AuditHash(bytes: bytes) == self
    }

    /// 64 lowercase hexadecimal digits, as PostgreSQL's `encode(hash, 'hex')` writes them.
    public var hex: String {
        withUnsafeBytes { bytes in
            var text: [UInt8] = []
            text.reserveCapacity(2 * AuditHash.byteCount)
            for byte in bytes {
                text.append(Hex.digits[Int(byte >> 4)])
                text.append(Hex.digits[Int(byte & 0x0F)])
            }
            return String(decoding: text, as: UTF8.self)
        }
    }

    public var description: String { hex }

    public static func == (lhs: AuditHash, rhs: AuditHash) -> Bool {
        lhs.words == rhs.words
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
