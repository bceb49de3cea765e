import SystemCrypto

/// The content hash a signature stores, recomputed here from rows given as jsonb text:
/// the client-side twin of `gmp_rules.content_hash` (sql/code/03_signatures.sql).
///
///     content = jsonb array of the record's rows, each as to_jsonb(row), ordered by
///               their text (byte order: gmp's databases use the C.UTF-8 collation)
///     hash    = SHA-256( field("gmp-record-v1") || field(table) || field(key) || field(content) )
///
/// with `field` as in audit encoding v1 (4-byte big-endian length, then the UTF-8 bytes).
public enum RecordContentHash {
    /// The jsonb text of the array `jsonb_agg(… ORDER BY text)` makes of `rows`.
    public static func content(of rows: [String]) -> String {
        let sorted = rows.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return "[" + sorted.joined(separator: ", ") + "]"
    }

    /// The hash of a record's content (`content(of:)`).
    public static func hash(table: String, key: String, content: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for text in ["gmp-record-v1", table, key, content] {
            let utf8 = Array(text.utf8)
            let length = UInt32(utf8.count)
            bytes.append(contentsOf: [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF),
                                      UInt8(length & 0xFF)])
            bytes.append(contentsOf: utf8)
        }
        var sha256 = SHA256()
        bytes.withUnsafeBytes { sha256.update(bufferPointer: $0) }
        return Array(sha256.finalize())
    }

    /// A bytea as jsonb prints it (`"\\x…"` decoded: `\x` and lowercase hex), as bytes.
    public static func bytes(ofByteaText text: String) -> [UInt8]? {
        guard text.hasPrefix("\\x") else { return nil }
        return Hex.decode(text.dropFirst(2))
    }
}
