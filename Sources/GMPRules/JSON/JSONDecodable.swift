/// A type that reads itself from a parsed JSON document (`JSONValue`), by hand: no
/// `Codable`, so no `JSONDecoder` and none of the Swift runtime's protocol-conformance
/// scans that its generic paths trigger the first time each type is decoded (about 45%
/// of a cold `gmp lot show`'s client instructions before, issue 18). Keys are the
/// server's (snake_case), named in each type's `init(json:)`.
public protocol JSONDecodable {
    init(json: JSONValue) throws(JSONDecodingError)
}

extension JSONDecodable {
    /// Parses `text` (one JSON value) and reads `Self` from it.
    public init(jsonText text: String) throws {
        try self.init(json: JSONValue(parsing: text))
    }
}

/// A document that does not fit the type read from it: where (`lot.units`,
/// `steps[2].kind`) and what was expected.
public struct JSONDecodingError: Error, CustomStringConvertible, Equatable {
    /// Keys and indexes from the top of the document; empty for the top itself.
    public let path: String
    public let problem: String

    public init(path: String = "", _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "unexpected JSON document at \(path.isEmpty ? "its top" : path): \(problem)" }

    /// The same error seen from the value that holds this one under `step`.
    func within(_ step: String) -> JSONDecodingError {
        JSONDecodingError(path: path.isEmpty ? step : path.hasPrefix("[") ? step + path : step + "." + path, problem)
    }

    static func expected(_ what: String, found value: JSONValue) -> JSONDecodingError {
        JSONDecodingError("expected \(what), found \(value.kind)")
    }
}

extension JSONValue {
    /// What the value is, for an error message.
    public var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number(let text): "the number \(text)"
        case .bool(let flag): flag ? "true" : "false"
        case .null: "null"
        }
    }
}

/// The members of one JSON object, read by key. Keys the type does not name are ignored,
/// as `JSONDecoder` ignored them; a key absent or null is nil for an optional field and an
/// error for a required one.
public struct JSONObject {
    private let members: [JSONValue.Member]
    /// Where the next look starts: fields are mostly read in the order the server writes them.
    private var next = 0

    public init(_ value: JSONValue) throws(JSONDecodingError) {
        guard case .object(let members) = value else { throw .expected("an object", found: value) }
        self.members = members
    }

    /// A field that must be there, not null.
    public mutating func field<T: JSONDecodable>(_ key: String) throws(JSONDecodingError) -> T {
        guard let value = try optional(key) as T? else {
            throw JSONDecodingError(path: key, lookup(key) == nil ? "missing" : "null where a value is required")
        }
        return value
    }

    /// A field that may be absent or null.
    public mutating func optional<T: JSONDecodable>(_ key: String) throws(JSONDecodingError) -> T? {
        guard let value = lookup(key) else { return nil }
        if case .null = value { return nil }
        do {
            return try T(json: value)
        } catch {
            throw error.within(key)
        }
    }

    private mutating func lookup(_ key: String) -> JSONValue? {
        let count = members.count
        // Keys of another length are passed over without a String comparison: most looks
        // that miss are for optional keys an object does not have (a unit's 14 among its
        // 3), and each miss cost a full comparison (issue 14).
        let length = key.utf8.count
        for step in 0..<count {
            let index = (next + step) % count
            if members[index].key.utf8.count == length, members[index].key == key {
                next = index + 1 == count ? 0 : index + 1
                return members[index].value
            }
        }
        return nil
    }
}

extension String: JSONDecodable {
    /// A string, or a number as its exact text (a decimal is never rounded through a double).
    public init(json: JSONValue) throws(JSONDecodingError) {
        switch json {
        case .string(let text), .number(let text): self = text
        default: throw .expected("a string", found: json)
        }
    }
}

extension Bool: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        guard case .bool(let flag) = json else { throw .expected("true or false", found: json) }
        self = flag
    }
}

extension Int: JSONDecodable {
    /// A number written as a whole number that fits: `3`, not `3.0` or `3e0`.
    public init(json: JSONValue) throws(JSONDecodingError) {
        guard case .number(let text) = json, let value = Int(text) else { throw .expected("an integer", found: json) }
        self = value
    }
}

extension Int64: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        guard case .number(let text) = json, let value = Int64(text) else { throw .expected("an integer", found: json) }
        self = value
    }
}

extension Array: JSONDecodable where Element: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        guard case .array(let elements) = json else { throw .expected("an array", found: json) }
        self = []
        reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            do {
                append(try Element(json: element))
            } catch {
                throw error.within("[\(index)]")
            }
        }
    }
}
