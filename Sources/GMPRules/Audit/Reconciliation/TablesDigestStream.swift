import SystemCrypto

/// The record tables' digest a checkpoint signs (``AuditCheckpoint/TablesDigest``), fed
/// row by row in its own order: tables in byte order of their names, each table's rows in
/// byte order of their texts. SHA-256 of field("gmp-tables-v1"), then field(table) ||
/// field(row) for every row, with `field` as in audit encoding v1 (4-byte big-endian
/// length, then the bytes).
///
/// ``AuditReconciler/tablesDigest()`` sorts the rows it replayed in memory and feeds them
/// here; the bounded checkpoint (issue 18) feeds the rows as the server sorts them, so the
/// order is checked as it arrives, and every row also enters ``rows``, a keyed digest of
/// (table, row image) items that must equal what the chain pass's events leave in the
/// tables (``ReplayDigest/addRow(table:image:)``).
public struct TablesDigestStream {
    private var sha256 = SHA256()
    private var lastTable: [UInt8] = []
    private var lastRow: [UInt8] = []
    private var count: Int64 = 0
    /// The rows fed, as ``ReplayDigest/addRow(table:image:)`` items; nil without a key.
    public private(set) var rows: ReplayDigest?

    /// The name of the only tables a digest holds: the record tables (schema `gmp`).
    public static func holds(_ table: String) -> Bool { table.hasPrefix("gmp.") }

    /// `digestKey`: the verification's key, to prove the rows against the trail.
    public init(digestKey: [UInt8]? = nil) {
        rows = digestKey.map(ReplayDigest.init(key:))
        Array("gmp-tables-v1".utf8).withUnsafeBytes { field($0) }
    }

    /// The next row. Throws when it comes before the one fed last (another table's rows
    /// in between, or out of byte order).
    public mutating func row(table: [UInt8], text: UnsafeRawBufferPointer) throws {
        if table == lastTable {
            guard !text.lexicographicallyPrecedes(lastRow) else {
                throw KeyOrderedReconciler.OrderError(description: "the rows of \(String(decoding: table, as: UTF8.self)) "
                                                      + "did not arrive in byte order for the tables' digest")
            }
        } else {
            guard count == 0 || lastTable.lexicographicallyPrecedes(table) else {
                throw KeyOrderedReconciler.OrderError(description: "table \(String(decoding: table, as: UTF8.self)) "
                                                      + "after \(String(decoding: lastTable, as: UTF8.self)) in the tables' digest")
            }
            lastTable = table
        }
        lastRow.removeAll(keepingCapacity: true)
        lastRow.append(contentsOf: text)
        table.withUnsafeBytes { name in
            field(name)
            field(text)
            rows?.addRow(table: name, image: RowDigest(of: text))
        }
        count += 1
    }

    public mutating func row(table: String, text: String) throws {
        var text = text
        try text.withUTF8 { try row(table: Array(table.utf8), text: UnsafeRawBufferPointer($0)) }
    }

    /// The digest of the rows fed.
    public func finish() -> AuditCheckpoint.TablesDigest {
        AuditCheckpoint.TablesDigest(digest: Array(sha256.finalize()), rows: count)
    }

    private mutating func field(_ bytes: UnsafeRawBufferPointer) {
        var length = UInt32(bytes.count).bigEndian
        withUnsafeBytes(of: &length) { sha256.update(bufferPointer: $0) }
        sha256.update(bufferPointer: bytes)
    }
}
