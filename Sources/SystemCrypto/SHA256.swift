import CLibCrypto

/// SHA-256 (FIPS 180-4), by OpenSSL's libcrypto, fed in pieces. A value: a copy carries
/// the state so far (``HMACSHA256`` starts every code from its keyed pads so).
public struct SHA256: @unchecked Sendable {
    private var context = SHA256_CTX()

    public init() {
        SHA256_Init(&context)
    }

    public mutating func update(bufferPointer bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        SHA256_Update(&context, base, bytes.count)
    }

    public mutating func update(data bytes: [UInt8]) {
        bytes.withUnsafeBytes { update(bufferPointer: $0) }
    }

    /// The digest of everything fed; the state is left as it was (a copy is finalized).
    public func finalize() -> SHA256Digest {
        var context = context
        var digest = SHA256Digest()
        withUnsafeMutableBytes(of: &digest.words) { _ = SHA256_Final($0.baseAddress!.assumingMemoryBound(to: UInt8.self), &context) }
        return digest
    }

    /// The digest of `bytes`.
    public static func hash(data bytes: [UInt8]) -> SHA256Digest {
        var sha256 = SHA256()
        sha256.update(data: bytes)
        return sha256.finalize()
    }
}

/// A SHA-256 digest: 32 bytes held inline.
public struct SHA256Digest: Sequence, Equatable, Hashable, Sendable {
    fileprivate var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Calls `body` with the 32 bytes, valid only during the call.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: words, body)
    }

    public func makeIterator() -> IndexingIterator<[UInt8]> {
        withUnsafeBytes { Array($0) }.makeIterator()
    }

    public var underestimatedCount: Int { 32 }

    public static func == (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool { lhs.words == rhs.words }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// HMAC-SHA-256 (RFC 2104) under one key: the inner and outer hashes with the key's pads
/// absorbed once, so that each code costs no compression of the pads.
public struct HMACSHA256: Sendable {
    private let inner: SHA256
    private let outer: SHA256

    public init(key: [UInt8]) {
        // A key longer than the block is hashed first; then zero-padded to the block.
        var block = key.count > 64 ? Array(SHA256.hash(data: key)) : key
        block += Array(repeating: 0, count: 64 - block.count)
        var inner = SHA256(), outer = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        outer.update(data: block.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    /// The code of `message`.
    public func code(for message: UnsafeRawBufferPointer) -> SHA256Digest {
        var mac = inner
        mac.update(bufferPointer: message)
        var outerMac = outer
        mac.finalize().withUnsafeBytes { outerMac.update(bufferPointer: $0) }
        return outerMac.finalize()
    }

    public func code(for message: [UInt8]) -> SHA256Digest {
        message.withUnsafeBytes { code(for: $0) }
    }
}

/// Random bytes from OpenSSL's CSPRNG (seeded by the kernel).
public enum SecureRandom {
    public static func bytes(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "OpenSSL's random generator failed")
        return bytes
    }
}
