#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Swift type that can be read from a column in PostgreSQL's text format.
///
/// Each type names the column types it accepts, so a mismatch (say, `timestamp` without
/// time zone read as a ``Timestamp``, or `numeric` read as an `Int`) is an error, not a
/// silent conversion.
public protocol PostgresDecodable {
    /// Whether a column of this PostgreSQL type may be read as `Self`.
    static func accepts(_ type: PostgresType) -> Bool
    /// Parses the server's text form; `nil` when the text is not a valid `Self`.
    init?(postgresText: String)
    /// The value for SQL NULL: `nil` (refused) except for `Optional`.
    static var sqlNull: Self? { get }
}

extension PostgresDecodable {
    public static var sqlNull: Self? { nil }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { Wrapped.accepts(type) }
    public init?(postgresText: String) {
        guard let value = Wrapped(postgresText: postgresText) else { return nil }
        self = .some(value)
    }
    public static var sqlNull: Self? { .some(.none) }
}

extension String: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool {
        [.text, .varchar, .bpchar, .name].contains(type)
    }
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.int2, .int4, .int8].contains(type) }
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
}

extension Int64: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.int2, .int4, .int8].contains(type) }
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
}

extension Int32: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.int2, .int4, .oidType].contains(type) }
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
}

extension Bool: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .bool }
    public init?(postgresText: String) {
        switch postgresText {
        case "t": self = true
        case "f": self = false
        default: return nil
        }
    }
}

extension UUID: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .uuid }
    public init?(postgresText: String) { self.init(uuidString: postgresText) }
}

extension ExactDecimal: PostgresDecodable {
    /// Integers read exactly as decimals too; `NaN` and `Infinity` are refused.
    public static func accepts(_ type: PostgresType) -> Bool { [.numeric, .int2, .int4, .int8].contains(type) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Timestamp: PostgresDecodable {
    /// Only `timestamptz`: a `timestamp` without time zone does not name an instant.
    public static func accepts(_ type: PostgresType) -> Bool { type == .timestamptz }
}

extension CalendarDate: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .date }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension JSONText: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .json || type == .jsonb }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension ByteString: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .bytea }
    public init?(postgresText: String) { self.init(postgresHex: postgresText) }
}
