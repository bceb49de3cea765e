// The material trace read straight from its bytes (JSONPullReader, issue 14): the same
// keys and the same rules as the `JSONDecodable` inits (`optional`: absent or null is nil,
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
        var seen = JSONPullReader.Seen()
        if try reader.openObject() {
            repeat {
                switch try reader.key() {
                case "unit": try seen.once(0); unit = try reader.optional()
                case "division": try seen.once(1); division = try reader.optional()
                case "container": try seen.once(2); container = try reader.optional()
                case "state": try seen.once(3); state = try reader.optional()
                case "since": try seen.once(4); since = try reader.optional()
                case "location": try seen.once(5); location = try reader.optional()
                case "position": try seen.once(6); position = try reader.optional()
                case "device": try seen.once(7); device = try reader.optional()
                case "person": try seen.once(8); person = try reader.optional()
                case "party": try seen.once(9); party = try reader.optional()
                case "shipment": try seen.once(10); shipment = try reader.optional()
                case "consignee": try seen.once(11); consignee = try reader.optional()
                case "received_at": try seen.once(12); receivedAt = try reader.optional()
                default: try reader.scan.skipValue()
                }
            } while try reader.more(closing: UInt8(ascii: "}"))
        }
        self.init(unit: try present(unit), division: division, container: container, state: try present(state), since: since, location: location, position: position, device: device, person: person, party: party, shipment: shipment, consignee: consignee, receivedAt: receivedAt)
    }
}
