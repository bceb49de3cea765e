#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A value that can travel as a bind parameter, in PostgreSQL's text format.
///
/// The SQL names the type with an explicit cast (`$1::numeric`, `$2::timestamptz`), so
/// the server parses the text exactly; nothing is rounded on the way. `Double` and
/// `Float` deliberately do not conform: GMP records keep exact decimals (``ExactDecimal``).
public protocol PostgresEncodable: Sendable {
    /// The value's PostgreSQL text form; `nil` is SQL NULL.
    var postgresText: String? { get }
}

extension String: PostgresEncodable {
    public var postgresText: String? { self }
}

extension Substring: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int16: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Bool: PostgresEncodable {
    public var postgresText: String? { self ? "true" : "false" }
}

extension UUID: PostgresEncodable {
    public var postgresText: String? { uuidString.lowercased() }
}

extension ExactDecimal: PostgresEncodable {
    public var postgresText: String? { description }
}

extension Timestamp: PostgresEncodable {
    public var postgresText: String? { iso8601 }
}

extension CalendarDate: PostgresEncodable {
    public var postgresText: String? { description }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self?.postgresText }
}

/// A text array, `$1::text[]`: every element double-quoted with `\` and `"` escaped, so
/// no element can split into two or end the array, whatever it contains.
extension Array: PostgresEncodable where Element == String {
    public var postgresText: String? {
        "{" + map { element in
            "\"" + element.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
        }.joined(separator: ",") + "}"
    }
}
