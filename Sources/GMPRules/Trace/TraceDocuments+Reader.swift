// The material trace read straight from its bytes (JSONPullReader, issue 14): the same
// keys and the same rules as the `JSONDecodable` inits (absent or null is nil,
// `present`: required), so a text reads to the same values either way.

extension TraceDocument.Whereabouts: JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        var unit: String?
        var division: Int?
        var container: String?
        var state: String?
        var since: String?
        var location: String?
        var position: String?
        var device: String?
        var person: String?
        var party: String?
        var shipment: String?
        var consignee: String?
        var receivedAt: String?
        try reader.members { reader, key throws(JSONByteScanner.Stop) in
            switch key {
            case "unit": unit = try reader.optional(); return 0
            case "division": division = try reader.optional(); return 1
            case "container": container = try reader.optional(); return 2
            case "state": state = try reader.optional(); return 3
            case "since": since = try reader.optional(); return 4
            case "location": location = try reader.optional(); return 5
            case "position": position = try reader.optional(); return 6
            case "device": device = try reader.optional(); return 7
            case "person": person = try reader.optional(); return 8
            case "party": party = try reader.optional(); return 9
            case "shipment": shipment = try reader.optional(); return 10
            case "consignee": consignee = try reader.optional(); return 11
            case "received_at": receivedAt = try reader.optional(); return 12
            default: return nil
            }
        }
        self.init(unit: try present(unit),
                  division: division,
                  container: container,
                  state: try present(state),
                  since: since,
                  location: location,
                  position: position,
                  device: device,
                  person: person,
                  party: party,
                  shipment: shipment,
                  consignee: consignee,
                  receivedAt: receivedAt)
    }
}

extension TraceDocument.WhereaboutsParts {
    /// One unit's whereabouts read in place: `Whereabouts`' keys and rules (`unit` and
    /// `state` required, the parts a line does not show still read), each part borrowed
    /// from the bytes; a string with an escape stops.
    static func read(_ reader: inout JSONPullReader) throws(JSONByteScanner.Stop) -> Self {
        if let parts = readUsual(&reader.scan) { return parts }
        return try readMembers(&reader)
    }

    /// A unit in the shape gmp.trace_material_json writes for nearly every unit, read in
    /// one pass: `{"unit":"…","state":"…"}`, or with a `"person":"…"` after, in that order
    /// and with no space, the strings with no escape. Nil, the scanner not moved, for any
    /// other text, read member by member (whose ~1,100 instructions a unit were ~15% of
    /// the text form of a trace printing 2,450 units, issue 14).
    private static func readUsual(_ scan: inout JSONByteScanner) -> Self? {
        var next = scan  // a copy: the scanner moves only past a unit read whole
        next.skipSpace()
        guard next.skip(#"{"unit":"#), let unit = next.plainString(),
              next.skip(#","state":"#), let state = next.plainString() else { return nil }
        var person: UnsafeBufferPointer<UInt8>?
        if next.skip(#","person":"#) {
            guard let text = next.plainString() else { return nil }
            person = text
        }
        guard next.skip("}") else { return nil }
        scan = next
        return Self(unit: unit, state: state, location: nil, position: nil, device: nil, person: person, party: nil,
                    shipment: nil, consignee: nil, receivedAt: nil)
    }

    /// The same, any keys in any order, member by member.
    private static func readMembers(_ reader: inout JSONPullReader) throws(JSONByteScanner.Stop) -> Self {
        var unit: UnsafeBufferPointer<UInt8>?
        var state: UnsafeBufferPointer<UInt8>?
        var location: UnsafeBufferPointer<UInt8>?
        var position: UnsafeBufferPointer<UInt8>?
        var device: UnsafeBufferPointer<UInt8>?
        var person: UnsafeBufferPointer<UInt8>?
        var party: UnsafeBufferPointer<UInt8>?
        var shipment: UnsafeBufferPointer<UInt8>?
        var consignee: UnsafeBufferPointer<UInt8>?
        var receivedAt: UnsafeBufferPointer<UInt8>?
        try reader.members { reader, key throws(JSONByteScanner.Stop) in
            switch key {
            case "unit": unit = try reader.borrowedText(); return 0
            case "division": _ = try reader.optional(Int.self); return 1
            case "container": _ = try reader.borrowedText(); return 2
            case "state": state = try reader.borrowedText(); return 3
            case "since": _ = try reader.borrowedText(); return 4
            case "location": location = try reader.borrowedText(); return 5
            case "position": position = try reader.borrowedText(); return 6
            case "device": device = try reader.borrowedText(); return 7
            case "person": person = try reader.borrowedText(); return 8
            case "party": party = try reader.borrowedText(); return 9
            case "shipment": shipment = try reader.borrowedText(); return 10
            case "consignee": consignee = try reader.borrowedText(); return 11
            case "received_at": receivedAt = try reader.borrowedText(); return 12
            default: return nil
            }
        }
        return Self(unit: try present(unit), state: try present(state), location: location, position: position, device: device,
                    person: person, party: party, shipment: shipment, consignee: consignee, receivedAt: receivedAt)
    }
}

extension TraceDocument.Whereabouts {
    /// Its parts as `WhereaboutsParts`, borrowed from its Strings for `body`'s call (a
    /// trace read the tree's way, handed to the same writer as one read in place).
    func withParts<R>(_ body: (TraceDocument.WhereaboutsParts) -> R) -> R {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        for text in [unit, state, location, position, device, person, party, shipment, consignee, receivedAt] {
            if let text { bytes.append(contentsOf: text.utf8) }
            ends.append(text == nil ? -1 : bytes.count)
        }
        return bytes.withUnsafeBufferPointer { bytes in
            func part(_ index: Int) -> UnsafeBufferPointer<UInt8>? {
                guard ends[index] >= 0 else { return nil }
                let start = ends[..<index].last { $0 >= 0 } ?? 0
                return UnsafeBufferPointer(rebasing: bytes[start..<ends[index]])
            }
            return body(TraceDocument.WhereaboutsParts(
                unit: part(0)!, state: part(1)!, location: part(2), position: part(3), device: part(4), person: part(5),
                party: part(6), shipment: part(7), consignee: part(8), receivedAt: part(9)))
        }
    }
}
