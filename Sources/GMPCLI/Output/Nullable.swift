/// An optional value that a --json document writes as `null` when absent, instead of
/// leaving its key out (what a synthesized `Encodable` does with an `Optional`): a stable
/// document has the same keys every time.
struct Nullable<Value: Encodable>: Encodable {
    let value: Value?

    init(_ value: Value?) { self.value = value }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}
