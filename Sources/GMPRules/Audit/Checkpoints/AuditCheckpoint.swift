import SystemCrypto

/// A signed audit checkpoint: QA's statement, made with a key held outside the database,
/// that the audit chain ended at a given event with a given hash. A later rewrite of the
/// trail before that event, even by someone with full control of the database, no longer
/// matches a checkpoint QA kept.
///
/// Made with ``Statement/sign(with:)``, written with ``render()``, read back with
/// ``parse(_:)`` and checked with ``verify(with:)``. The file format is in
/// `AuditCheckpointText.swift`.
public struct AuditCheckpoint: Sendable, Equatable {
    /// What is vouched for.
    public let statement: Statement
    /// Fingerprint of the key that signed (``CheckpointPublicKey/fingerprint``).
    public let keyFingerprint: String
    /// The 64-byte Ed25519 signature over the text before the `signature:` line.
    public let signature: [UInt8]

    public var installation: String { statement.installation }
    public var seq: Int64 { statement.seq }
    public var hash: [UInt8] { statement.hash }
    public var createdAt: String { statement.createdAt }
    public var signer: String { statement.signer }

    /// Bytes in an Ed25519 signature.
    public static let signatureByteCount = 64

    init(statement: Statement, keyFingerprint: String, signature: [UInt8]) {
        self.statement = statement
        self.keyFingerprint = keyFingerprint
        self.signature = signature
    }

    /// Succeeds if `publicKey` signed this checkpoint as it stands; otherwise throws
    /// ``CheckpointVerificationError``: `.wrongKey` when the checkpoint names another key
    /// (nothing is learnt about its content), `.badSignature` when it names this key but
    /// the signature does not match (the file was changed, or forged).
    public func verify(with publicKey: CheckpointPublicKey) throws {
        guard keyFingerprint == publicKey.fingerprint else {
            throw CheckpointVerificationError.wrongKey(checkpointKey: keyFingerprint, givenKey: publicKey.fingerprint)
        }
        let message = Array(Self.signedText(of: statement, keyFingerprint: keyFingerprint).utf8)
        guard publicKey.key.isValidSignature(signature, for: message) else {
            throw CheckpointVerificationError.badSignature(key: keyFingerprint)
        }
    }
}

/// Why a checkpoint does not verify.
public enum CheckpointVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The checkpoint says it was signed by `checkpointKey`, not by the key given.
    case wrongKey(checkpointKey: String, givenKey: String)
    /// The signature does not match the content for the key it names.
    case badSignature(key: String)

    public var description: String {
        switch self {
        case .wrongKey(let checkpointKey, let givenKey):
            "the checkpoint was signed with key \(checkpointKey), not with the public key given (\(givenKey)); fix: verify with the public key whose fingerprint is \(checkpointKey)"
        case .badSignature(let key):
            "the checkpoint's signature does not match its content for key \(key): the file was changed after signing, or was not signed by that key"
        }
    }
}
