/// Why a checkpoint key file could not be read or written. Each description names the
/// file and, where there is one, the fix.
public enum KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    case notRegularFile(path: String)
    /// A private key file that group or others may access; `mode` is its permission bits.
    case accessibleToOthers(path: String, mode: UInt32)
    case alreadyExists(path: String)
    case cannotCreate(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    /// Not in the expected format; `reason` never quotes a private key's content.
    case malformed(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open key file \(path): \(reason)"
        case .cannotRead(let path, let reason):
            "cannot read key file \(path): \(reason)"
        case .notRegularFile(let path):
            "key file \(path) is not a regular file"
        case .accessibleToOthers(let path, let mode):
            "private key file \(path) is accessible to group or others (mode \(Self.octal(mode))); anyone who can read it can sign checkpoints; fix: chmod 600 \(path)"
        case .alreadyExists(let path):
            "\(path) already exists; a key file is never overwritten; fix: choose another path, or move the old key away deliberately"
        case .cannotCreate(let path, let reason):
            "cannot create key file \(path): \(reason)"
        case .cannotWrite(let path, let reason):
            "cannot write key file \(path): \(reason) (the partial file was removed)"
        case .malformed(let path, let reason):
            "\(path) is not a gmp key file: \(reason)"
        }
    }

    /// Four octal digits, as chmod and ls show permissions: 0644.
    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
