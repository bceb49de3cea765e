import SystemCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A one-time signing challenge the server issued (`gmp.begin_signing()`), with the
/// salt and iteration count of the person's SCRAM-SHA-256 verifier.
public struct SigningChallenge: Sendable, Equatable {
    public let id: UUID
    public let nonce: [UInt8]
    public let salt: [UInt8]
    public let iterations: Int

    public init(id: UUID, nonce: [UInt8], salt: [UInt8], iterations: Int) {
        self.id = id
        self.nonce = nonce
        self.salt = salt
        self.iterations = iterations
    }

    /// What the proof signs: "gmp-sign-v1" ‖ the challenge id's 16 bytes ‖ the nonce.
    var authMessage: [UInt8] {
        let uuid = id.uuid
        let idBytes = [uuid.0, uuid.1, uuid.2, uuid.3, uuid.4, uuid.5, uuid.6, uuid.7,
                       uuid.8, uuid.9, uuid.10, uuid.11, uuid.12, uuid.13, uuid.14, uuid.15]
        return Array("gmp-sign-v1".utf8) + idBytes + nonce
    }
}

/// Proof of knowing the password, SCRAM style (docs/signatures.md): the server checks
/// it against the verifier PostgreSQL stores, and the password never leaves the client.
///
///     SaltedPassword  = PBKDF2-HMAC-SHA-256(password, salt, iterations)
///     ClientKey       = HMAC(SaltedPassword, "Client Key")
///     StoredKey       = SHA-256(ClientKey)                 (what the server keeps)
///     ClientSignature = HMAC(StoredKey, AuthMessage)
///     Proof           = ClientKey XOR ClientSignature
public enum SigningProof {
    public static func compute(password: String, challenge: SigningChallenge) -> [UInt8] {
        let salted = pbkdf2SHA256(password: Array(password.utf8), salt: challenge.salt,
                                  iterations: challenge.iterations)
        let clientKey = hmac(key: salted, message: Array("Client Key".utf8))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let clientSignature = hmac(key: storedKey, message: challenge.authMessage)
        return zip(clientKey, clientSignature).map { $0 ^ $1 }
    }

    /// The server's check, mirrored (sql/code/03_signatures.sql, gmp.submit_signing_proof): recovers the
    /// ClientKey from the proof and compares its hash with the StoredKey.
    public static func check(proof: [UInt8], storedKey: [UInt8], challenge: SigningChallenge) -> Bool {
        guard proof.count == 32 else { return false }
        let clientSignature = hmac(key: storedKey, message: challenge.authMessage)
        let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
        return Array(SHA256.hash(data: clientKey)) == storedKey
    }

    static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMACSHA256(key: key).code(for: message))
    }

    /// PBKDF2 (RFC 8018) with HMAC-SHA-256, one 32-byte block: all SCRAM needs.
    static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = HMACSHA256(key: password)
        var block = Array(key.code(for: salt + [0, 0, 0, 1]))
        var result = block
        for _ in 1..<max(iterations, 1) {
            block = Array(key.code(for: block))
            for index in result.indices { result[index] ^= block[index] }
        }
        return result
    }
}
