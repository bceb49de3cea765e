import CLibCrypto

/// Why a key's bytes were refused.
public enum Ed25519KeyError: Error, Sendable {
    /// Not 32 bytes, or refused by libcrypto.
    case invalidKey
}

/// An Ed25519 (RFC 8032) private key: its 32-byte seed, used through OpenSSL's libcrypto.
public struct Ed25519PrivateKey: Sendable {
    /// The 32-byte seed (RFC 8032's private key).
    public let rawRepresentation: [UInt8]
    public let publicKey: Ed25519PublicKey

    /// A new random key.
    public init() {
        try! self.init(rawRepresentation: SecureRandom.bytes(count: 32))
    }

    public init(rawRepresentation seed: [UInt8]) throws(Ed25519KeyError) {
        guard seed.count == 32 else { throw .invalidKey }
        var raw = [UInt8](repeating: 0, count: 32)
        guard gmp_ed25519_public_key(seed, &raw) == 1 else { throw .invalidKey }
        rawRepresentation = seed
        publicKey = Ed25519PublicKey(checked: raw)
    }

    /// The 64-byte signature of `message` (deterministic: the same key and message, the same bytes).
    public func signature(for message: [UInt8]) throws(Ed25519KeyError) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: 64)
        guard gmp_ed25519_sign(rawRepresentation, message, message.count, &signature) == 1 else { throw .invalidKey }
        return signature
    }
}

/// An Ed25519 public key: 32 bytes.
public struct Ed25519PublicKey: Sendable {
    public let rawRepresentation: [UInt8]

    public init(rawRepresentation raw: [UInt8]) throws(Ed25519KeyError) {
        guard raw.count == 32 else { throw .invalidKey }
        rawRepresentation = raw
    }

    fileprivate init(checked raw: [UInt8]) {
        rawRepresentation = raw
    }

    /// Whether `signature` is this key's over `message`; false for a signature of any length but 64.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        signature.count == 64 && gmp_ed25519_verify(rawRepresentation, message, message.count, signature) == 1
    }
}
