import GMPRules
import PostgresClient

/// `gmp lot list`: lots with where they stand, newest first.
public struct LotListing {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// One lot. `lot` and `parent` are the ids a person types (DIN and check character).
    public struct Row: ListRow {
        public let lot: String
        public let din: String
        public let checkCharacter: String
        public let stage: String
        public let productKind: String
        public let intendedUse: String
        public let status: String
        public let donor: String
        public let collection: String
        public let parent: String?
        public let expiresOn: String
        public let createdAt: Timestamp
        public let createdBy: String
    }

    /// Filters: status, product (kind), from/to (created), donor.
    public func rows(_ filter: ListFilter) throws -> [Row] {
        try connection.query("""
            SELECT l.din || l.check_character AS lot, l.din, l.check_character, l.stage, l.product_kind, l.intended_use,
                   l.status, l.donor_code, l.collection_id, p.din || p.check_character AS parent, l.expires_on,
                   l.created_at, l.created_by
            FROM gmp.lot l
            LEFT JOIN gmp.lot p ON p.din = l.parent_din
            WHERE (\(filter.status)::text IS NULL OR l.status = \(filter.status))
              AND (\(filter.product)::text IS NULL OR l.product_kind = \(filter.product))
              AND (\(filter.from)::date IS NULL OR (l.created_at AT TIME ZONE 'UTC')::date >= \(filter.from))
              AND (\(filter.to)::date IS NULL OR (l.created_at AT TIME ZONE 'UTC')::date <= \(filter.to))
              AND (\(filter.donor)::text IS NULL OR l.donor_code = \(filter.donor)
                   OR EXISTS (SELECT FROM gmp.donor d WHERE d.code = l.donor_code AND d.birth_mother = \(filter.donor)))
            ORDER BY l.created_at DESC, l.din DESC
            """).map { row in
            Row(lot: try row.decode("lot"), din: try row.decode("din"), checkCharacter: try row.decode("check_character"),
                stage: try row.decode("stage"), productKind: try row.decode("product_kind"),
                intendedUse: try row.decode("intended_use"), status: try row.decode("status"),
                donor: try row.decode("donor_code"), collection: try row.decode("collection_id"),
                parent: try row.decode("parent"), expiresOn: try row.decode("expires_on", as: CalendarDate.self).description,
                createdAt: try row.decode("created_at"), createdBy: try row.decode("created_by"))
        }
    }
}
