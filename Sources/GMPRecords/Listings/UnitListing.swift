import PostgresClient

/// `gmp unit list`: units (vials and bags) with their state and holder, by lot and division.
public struct UnitListing {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    public struct Row: ListRow {
        public let unit: String
        public let lot: String
        public let division: Int
        public let container: String
        public let volumeMl: String
        public let state: String
        /// Where or with whom it is: "box BOX-1 C7", "person jlee", "party …", "shipment …".
        public let holder: String?
        public let expiresOn: String
        public let createdAt: Timestamp
    }

    /// Filters: status (state), product (lot's kind), from/to (made), donor, lot.
    public func rows(_ filter: ListFilter) throws -> [Row] {
        try connection.query("""
            SELECT u.id, l.din || l.check_character AS lot, u.division, u.container, u.volume_ml, u.state,
                   CASE WHEN u.box_id IS NOT NULL THEN 'box ' || u.box_id || ' ' || gmp_rules.position_label(u.box_row, u.box_column)
                        WHEN u.holder_person IS NOT NULL THEN 'person ' || u.holder_person
                        WHEN u.holder_party IS NOT NULL THEN 'party ' || u.holder_party
                        WHEN u.shipment_id IS NOT NULL THEN 'shipment ' || u.shipment_id END AS holder,
                   l.expires_on, u.created_at
            FROM gmp.unit u JOIN gmp.lot l ON l.din = u.din
            WHERE (\(filter.status)::text IS NULL OR u.state = \(filter.status))
              AND (\(filter.product)::text IS NULL OR l.product_kind = \(filter.product))
              AND (\(filter.lot?.value)::text IS NULL OR u.din = \(filter.lot?.value))
              AND (\(filter.from)::date IS NULL OR (u.created_at AT TIME ZONE 'UTC')::date >= \(filter.from))
              AND (\(filter.to)::date IS NULL OR (u.created_at AT TIME ZONE 'UTC')::date <= \(filter.to))
              AND (\(filter.donor)::text IS NULL OR l.donor_code = \(filter.donor)
                   OR EXISTS (SELECT FROM gmp.donor d WHERE d.code = l.donor_code AND d.birth_mother = \(filter.donor)))
            ORDER BY u.din, u.division
            """).map { row in
            Row(unit: try row.decode("id"), lot: try row.decode("lot"), division: try row.decode("division"),
                container: try row.decode("container"), volumeMl: try row.decode("volume_ml", as: ExactDecimal.self).description,
                state: try row.decode("state"), holder: try row.decode("holder"),
                expiresOn: try row.decode("expires_on", as: CalendarDate.self).description, createdAt: try row.decode("created_at"))
        }
    }
}
