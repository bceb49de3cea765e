/// A row of a `list` command's `--json` array: every property is written, an absent one as
/// `null`, so every row has the same keys (a synthesized `Encodable` leaves a nil optional's
/// key out). Keys are the property names; the CLI's encoder turns them into snake_case.
public protocol ListRow: Encodable, Sendable {}

extension ListRow {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: PropertyKey.self)
        for child in Mirror(reflecting: self).children {
            guard let label = child.label, let value = child.value as? any Encodable else { continue }
            // An Optional's own encoding of nil is a single null value.
            try container.encode(value, forKey: PropertyKey(stringValue: label))
        }
    }
}

/// A coding key made from a property's name.
struct PropertyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
