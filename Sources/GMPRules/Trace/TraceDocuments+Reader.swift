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
