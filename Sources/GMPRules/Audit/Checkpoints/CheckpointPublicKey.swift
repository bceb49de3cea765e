import SystemCrypto

/// The public half of QA's audit checkpoint key: what anyone verifying a checkpoint
/// needs, safe to hand out.
///
/// File format, one line: `gmp-audit-public-key-v1 <base64 of the 32 raw bytes>\n`.
public struct CheckpointPublicKey: Sendable {
    /// The Ed25519 public key.
    public let key: Ed25519PublicKey

    static let header = "gmp-audit-public-key-v1"

    public init(_ key: Ed25519PublicKey) {
        self.key = key
    }

    /// The 32 raw bytes.
    public var rawBytes: [UInt8] { Array(key.rawRepresentation) }

    /// First 16 hex digits of SHA-256 of the raw key: short enough to read aloud and to
    /// print in every checkpoint, long enough that two keys of one site never share one.
    /// It names a key; it proves nothing (verification always uses the key itself).
    public var fingerprint: String {
        String(Hex.encode(SHA256.hash(data: rawBytes)).prefix(16))
    }

    /// The file's text: one line, LF-terminated.
    public var fileText: String {
        "\(Self.header) \(Base64.encode(rawBytes))\n"
    }

    /// Parses a public key file's text; throws ``KeyFileError/malformed(path:reason:)``
    /// naming `path` (only used in the message).
    public init(fileText text: String, path: String = "public key") throws {
        let prefix = Self.header + " "
        guard text.hasPrefix(prefix) else {
            throw KeyFileError.malformed(path: path, reason: "it does not start with '\(Self.header) '")
        }
        guard text.hasSuffix("\n") else {
            throw KeyFileError.malformed(path: path, reason: "the line does not end with a newline")
        }
        let encoded = text.dropFirst(prefix.count).dropLast()
        guard let raw = Base64.decode(encoded), raw.count == 32 else {
            throw KeyFileError.malformed(path: path, reason: "the key is not 32 bytes of base64 on one line")
        }
        do {
            key = try Ed25519PublicKey(rawRepresentation: raw)
        } catch {
            throw KeyFileError.malformed(path: path, reason: "the bytes are not an Ed25519 public key")
        }
    }

    /// Reads a public key file (any permissions: it is public).
    public static func read(from path: String) throws -> CheckpointPublicKey {
        let bytes = try KeyFileIO.read(path, requirePrivate: false)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw KeyFileError.malformed(path: path, reason: "it is not UTF-8 text")
        }
        return try CheckpointPublicKey(fileText: text, path: path)
    }

    /// Writes a new public key file, mode 0644; refuses to replace an existing file.
    public func write(to path: String) throws {
        try KeyFileIO.create(path, bytes: Array(fileText.utf8), mode: 0o644)
    }
}

extension CheckpointPublicKey: Equatable {
    public static func == (a: CheckpointPublicKey, b: CheckpointPublicKey) -> Bool {
        a.rawBytes == b.rawBytes
    }
}
