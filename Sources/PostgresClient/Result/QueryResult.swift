import CLibPQ

/// The rows of one statement, read lazily from the libpq result that owns them.
///
/// Holds the `PGresult` and frees it when the last reference goes away. Not `Sendable`:
/// like the connection it came from, it belongs to one thread of work.
public final class QueryResult {
    let handle: OpaquePointer
    /// libpq may call the notice receiver through a result (e.g. on a bad row index), so
    /// the receiver's context lives as long as any result does.
    private let noticeSink: NoticeSink
    private lazy var columnIndexByName: [String: Int32] = {
        var names: [String: Int32] = [:]
        for column in 0..<PQnfields(handle) where names[columnName(column)] == nil {
            names[columnName(column)] = column
        }
        return names
    }()

    init(handle: OpaquePointer, noticeSink: NoticeSink) {
        self.handle = handle
        self.noticeSink = noticeSink
    }

    deinit { PQclear(handle) }

    /// The column names, in order.
    public var columns: [String] { (0..<PQnfields(handle)).map(columnName) }

    /// Rows changed by INSERT/UPDATE/DELETE/COPY …, or returned by SELECT.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? count }

    func columnName(_ column: Int32) -> String { String(cString: PQfname(handle, column)) }

    func columnIndex(_ name: String) throws -> Int32 {
        guard let index = columnIndexByName[name] else {
            throw ClientError(.decoding, "the result has no column \"\(name)\" (columns: \(columns.joined(separator: ", ")))")
        }
        return index
    }
}

@available(*, unavailable)
extension QueryResult: Sendable {}

extension QueryResult: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(PQntuples(handle)) }
    public subscript(position: Int) -> PostgresRow {
        precondition(indices.contains(position), "row \(position) is out of range")
        return PostgresRow(result: self, row: Int32(position))
    }
}

/// One row of a ``QueryResult``; columns are read by name or position into typed values.
public struct PostgresRow {
    let result: QueryResult
    let row: Int32

    /// Reads a column as `T`, checking the column's type and refusing NULL unless `T` is optional.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try decode(at: result.columnIndex(column), as: type)
    }

    /// Reads the column at `position` (0-based) as `T`.
    public func decode<T: PostgresDecodable>(at position: Int, as type: T.Type = T.self) throws -> T {
        guard position >= 0, position < Int(PQnfields(result.handle)) else {
            throw ClientError(.decoding, "the result has no column at position \(position)")
        }
        return try decode(at: Int32(position), as: type)
    }

    /// The named column's value as the server sent it (text format), borrowed from the
    /// result: `body` is given its bytes in place (without the terminating zero), no String
    /// made and no copy, or nil for SQL NULL. For a large value read once (a document of
    /// 100 kB or more: made a String, it was validated and copied byte by byte, issue 14).
    /// The bytes belong to the result and are valid only while `body` runs: neither the
    /// buffer nor a pointer into it may leave `body`. No type check: any column's text.
    public func withUnsafeBytes<R>(_ column: String, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
        let column = try result.columnIndex(column)
        // The result (and so the bytes) kept alive until `body` returns.
        return try withExtendedLifetime(result) {
            if PQgetisnull(result.handle, row, column) == 1 { return try body(nil) }
            let count = Int(PQgetlength(result.handle, row, column))
            return try body(UnsafeRawBufferPointer(start: PQgetvalue(result.handle, row, column), count: count))
        }
    }

    /// Whether the named column is SQL NULL.
    public func isNull(_ column: String) throws -> Bool {
        PQgetisnull(result.handle, row, try result.columnIndex(column)) == 1
    }

    private func decode<T: PostgresDecodable>(at column: Int32, as type: T.Type) throws -> T {
        let name = result.columnName(column)
        let columnType = PostgresType(oid: PQftype(result.handle, column))
        guard T.accepts(columnType) else {
            throw ClientError(.decoding, "column \"\(name)\" is \(columnType), which cannot be read as \(T.self)")
        }
        if PQgetisnull(result.handle, row, column) == 1 {
            guard let null = T.sqlNull else {
                throw ClientError(.decoding, "column \"\(name)\" is NULL where \(T.self) was required")
            }
            return null
        }
        let text = String(cString: PQgetvalue(result.handle, row, column))
        guard let value = T(postgresText: text) else {
            // The value itself is not quoted: it may be personal data.
            throw ClientError(.decoding, "column \"\(name)\" (\(columnType)) holds a value that is not a valid \(T.self)")
        }
        return value
    }
}

@available(*, unavailable)
extension PostgresRow: Sendable {}
