import SystemCrypto

/// QA's Ed25519 key for signing audit checkpoints. It lives outside the database, so
/// that whoever controls the database (a DBA, the postgres account) cannot re-sign a
/// rewritten audit trail.
///
/// Private key file, two lines, mode 0600:
///
///     gmp-audit-signing-key-v1
///     <base64 of the 32 raw private key bytes>
public struct CheckpointKey: Sendable {
    /// The Ed25519 private key.
    public let privateKey: Ed25519PrivateKey

    static let header = "gmp-audit-signing-key-v1"

    public init(_ privateKey: Ed25519PrivateKey) {
        self.privateKey = privateKey
    }

    /// A new random key.
    public static func generate() -> CheckpointKey {
        CheckpointKey(Ed25519PrivateKey())
    }

    /// The public half, to give to whoever verifies checkpoints.
    public var publicKey: CheckpointPublicKey { CheckpointPublicKey(privateKey.publicKey) }

    /// The public key's fingerprint, as written in each checkpoint.
    public var fingerprint: String { publicKey.fingerprint }

    /// The private key file's text. It is the secret itself: write it only with
    /// ``write(to:)``, which creates the file readable by its owner alone.
    public var fileText: String {
        "\(Self.header)\n\(Base64.encode(Array(privateKey.rawRepresentation)))\n"
    }

    /// Parses a private key file's text; throws ``KeyFileError/malformed(path:reason:)``
    /// naming `path` and never quoting the content.
    public init(fileText text: String, path: String = "private key") throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // Two lines, each LF-terminated, leave a final empty piece after the split.
        guard lines.count == 3, lines[2].isEmpty else {
            throw KeyFileError.malformed(path: path, reason: "expected exactly two lines, each ending with a newline")
        }
        guard lines[0] == Self.header else {
            throw KeyFileError.malformed(path: path, reason: "the first line is not '\(Self.header)'")
        }
        guard let raw = Base64.decode(lines[1]), raw.count == 32 else {
            throw KeyFileError.malformed(path: path, reason: "the second line is not 32 bytes of base64")
        }
        do {
            privateKey = try Ed25519PrivateKey(rawRepresentation: raw)
        } catch {
            throw KeyFileError.malformed(path: path, reason: "the bytes are not an Ed25519 private key")
        }
    }

    /// Reads a private key file, refusing one that group or others may access
    /// (``KeyFileError/accessibleToOthers(path:mode:)``, whose fix is `chmod 600`).
    public static func read(from path: String) throws -> CheckpointKey {
        let bytes = try KeyFileIO.read(path, requirePrivate: true)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw KeyFileError.malformed(path: path, reason: "it is not UTF-8 text")
        }
        return try CheckpointKey(fileText: text, path: path)
    }

    /// Writes a new private key file, mode 0600; refuses to replace an existing file.
    public func write(to path: String) throws {
        try KeyFileIO.create(path, bytes: Array(fileText.utf8), mode: 0o600)
    }
}
