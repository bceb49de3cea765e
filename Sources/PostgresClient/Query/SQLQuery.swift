/// A SQL statement whose values can only travel as bind parameters.
///
/// Written as a string literal; every interpolated value becomes `$1`, `$2`, … and its
/// text form is sent apart from the SQL, so no value can ever change the statement:
///
/// ```swift
/// let rows = try connection.query("SELECT name FROM donor WHERE code = \(code)")
/// ```
///
/// The literal parts are `StaticString`s: SQL text can only come from source code,
/// never from a runtime `String`. Identifiers that must vary go through
/// ``SQLIdentifier``, which accepts only plain lower-case names.
public struct SQLQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// A piece of the statement: literal SQL from source code, or a reference to a bound value.
    enum Segment: Sendable, Equatable {
        case sql(String)
        case parameter(Int)
    }

    private(set) var segments: [Segment]
    /// The text form of each bound value, in `$N` order; `nil` is SQL NULL.
    public private(set) var bindings: [String?]

    public init(stringLiteral value: StaticString) {
        segments = [.sql(value.description)]
        bindings = []
    }

    public init(stringInterpolation: StringInterpolation) {
        segments = stringInterpolation.segments
        bindings = stringInterpolation.bindings
    }

    /// The statement as sent to the server, with `$N` placeholders.
    public var sql: String {
        var text = ""
        for segment in segments {
            switch segment {
            case .sql(let part): text += part
            case .parameter(let index): text += "$\(index)"
            }
        }
        return text
    }

    /// Appends another query, renumbering its parameters after this one's.
    public mutating func append(_ other: SQLQuery) {
        let offset = bindings.count
        segments += other.segments.map {
            if case .parameter(let index) = $0 { return .parameter(index + offset) }
            return $0
        }
        bindings += other.bindings
    }

    public static func + (lhs: SQLQuery, rhs: SQLQuery) -> SQLQuery {
        var joined = lhs
        joined.append(rhs)
        return joined
    }

    /// The SQL and the number of bound values — never the values, which may hold
    /// personal data and must not reach logs or error messages.
    public var description: String {
        bindings.isEmpty ? sql : "\(sql) -- \(bindings.count) bound value(s)"
    }

    /// Collects literal SQL and bound values while Swift evaluates the literal.
    public struct StringInterpolation: StringInterpolationProtocol {
        public typealias StringLiteralType = StaticString

        var segments: [Segment] = []
        var bindings: [String?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            segments.reserveCapacity(interpolationCount * 2 + 1)
            bindings.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: StaticString) {
            segments.append(.sql(literal.description))
        }

        /// Binds a value; it travels as `$N`, never as SQL text.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            bindings.append(value.postgresText)
            segments.append(.parameter(bindings.count))
        }

        /// Binds an optional value; `nil` is SQL NULL.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            bindings.append(value?.postgresText)
            segments.append(.parameter(bindings.count))
        }

        /// Splices a checked identifier (a table, role or database name) as quoted SQL text.
        public mutating func appendInterpolation(identifier: SQLIdentifier) {
            segments.append(.sql(identifier.quoted))
        }

        /// Splices a checked snapshot id (`SET TRANSACTION SNAPSHOT` takes no parameters).
        public mutating func appendInterpolation(snapshot: SQLSnapshotID) {
            segments.append(.sql("'\(snapshot.id)'"))
        }
    }
}

/// A snapshot id from `pg_export_snapshot()`, to be spliced into `SET TRANSACTION
/// SNAPSHOT`: only hex digits and '-', at most 64 bytes; anything else is refused.
public struct SQLSnapshotID: Sendable, Hashable {
    public let id: String

    public init?(_ id: String) {
        guard !id.isEmpty, id.utf8.count <= 64, id.utf8.allSatisfy({ $0 == UInt8(ascii: "-")
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0)
            || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }) else { return nil }
        self.id = id
    }
}

/// A name that may be spliced into SQL text: only `[a-z_][a-z0-9_]*`, at most 63 bytes,
/// always double-quoted. Anything else is refused rather than escaped.
public struct SQLIdentifier: Sendable, Hashable, CustomStringConvertible {
    public let name: String

    public init?(_ name: String) {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63,
              first == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
              bytes.allSatisfy({ $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                  || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        self.name = name
    }

    var quoted: String { "\"\(name)\"" }
    public var description: String { quoted }
}

/// SQL shipped inside the gmp binary (the migrations in `sql/`), run as a multi-statement
/// script without parameters. The label says where such text may come from: never from
/// user input.
public struct SQLScript: Sendable {
    public let text: String
    public init(shippedWithBinary text: String) { self.text = text }
}
