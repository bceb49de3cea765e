import SystemCrypto

/// One numbered schema change from `sql/migrations/`, as shipped inside this binary.
public struct Migration: Sendable, Equatable {
    public let version: Int
    /// The file name's descriptive part: `V0001__foundation.sql` → `foundation`.
    public let name: String
    /// The file's exact text.
    public let sql: String
    /// SHA-256 of the file's bytes, lower-case hex; recorded in the ledger when applied,
    /// so that an edited file is caught.
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.init(version: version, name: name, sql: sql, checksum: sha256Hex(sql))
    }

    /// A shipped file, with the checksum the build computed (`Migration.shipped`).
    init(version: Int, name: String, sql: String, checksum: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = checksum
    }

    /// The file name this migration came from.
    public var fileName: String {
        let digits = String(version)
        return "V" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "__" + name + ".sql"
    }

    /// The migrations this binary was built with, in version order. Their checksums were
    /// computed when the binary was built: hashing the shipped SQL on every `gmp db
    /// status` was a tenth of its run time (start-up, issue 18).
    public static let shipped: [Migration] = embeddedMigrations.map {
        Migration(version: $0.version, name: $0.name, sql: $0.sql, checksum: $0.checksum)
    }
}

/// SHA-256 of a text's UTF-8 bytes, lower-case hex: what the ledgers record.
func sha256Hex(_ text: String) -> String {
    SHA256.hash(data: Array(text.utf8)).map { byte in
        let hex = String(byte, radix: 16)
        return byte < 16 ? "0" + hex : hex
    }.joined()
}

/// The shape the build-time generator writes (see Plugins/MigrationEmbedder).
struct EmbeddedMigration {
    let version: Int
    let name: String
    /// SHA-256 of `sql`'s UTF-8 bytes, lower-case hex, computed by the generator.
    let checksum: String
    let sql: String
}
