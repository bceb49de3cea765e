import GMPRules
import PostgresClient

/// Printed labels (sql/code/18_labels.sql): each print recorded, with the ISBT 128 data
/// its bar codes carry, before the label leaves gmp; the database refuses a reprint
/// without its reason.
public struct LabelPrints {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// What the database returned for one recorded print.
    public struct Recorded: Encodable, Sendable, Equatable {
        public let id: Int64
        public let reprint: Bool
        public let previousPrints: Int
    }

    /// Records `label` as printed in `formats` ("pdf", "zpl" or both); `reason` is required for a reprint.
    public func record(_ label: ProductLabel, formats: [String], reason: String?) throws -> Recorded {
        let row = try connection.query("""
            SELECT (r->>'id')::bigint AS id, (r->>'reprint')::boolean AS reprint, (r->>'previous_prints')::integer AS previous
              FROM gmp.record_label_print(\(label.din), \(label.division)::integer, \(formats)::text[], \(label.dinData),
                                          \(label.productCodeData), \(label.expirationData), \(reason)) AS r
            """)[0]
        return Recorded(id: try row.decode("id"), reprint: try row.decode("reprint"), previousPrints: try row.decode("previous"))
    }

    /// The unit's state ("stored", "thawed" …) if it exists as a unit record, nil before it is placed.
    public func unitState(_ unit: UnitIdentifier) throws -> String? {
        try connection.query("SELECT state FROM gmp.unit WHERE id = \(unit.value)").first?.decode("state")
    }
}
