/// A type that writes itself as a `JSONValue`, by hand: the `--json` documents gmp builds
/// itself go out without `JSONEncoder` (its generic paths cost a cold command the Swift
/// runtime's conformance scans, issue 18). Keys are snake_case and an optional that is
/// nil is left out, as the synthesized `Encodable` with `.convertToSnakeCase` wrote them,
/// so the documents stay byte for byte what they were.
public protocol JSONEncodable {
    var jsonValue: JSONValue { get }
}

extension String: JSONEncodable {
    public var jsonValue: JSONValue { .string(self) }
}

extension Bool: JSONEncodable {
    public var jsonValue: JSONValue { .bool(self) }
}

extension Int: JSONEncodable {
    public var jsonValue: JSONValue { .number(String(self)) }
}

extension Int64: JSONEncodable {
    public var jsonValue: JSONValue { .number(String(self)) }
}

extension Array: JSONEncodable where Element: JSONEncodable {
    public var jsonValue: JSONValue { .array(map { $0.jsonValue }) }
}
