import PostgresClient

/// `gmp donor list`: donors by code, never by name (personal data stays with
/// `gmp donor identity`), newest first.
public struct DonorListing {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    public struct Row: ListRow {
        public let donor: String
        public let intendedUse: String
        public let living: Bool
        public let birthMother: String?
        public let registeredAt: Timestamp
        public let registeredBy: String
        public let collections: Int64
        public let lots: Int64
        /// True when any consent of the donor (or of her birth mother) is withdrawn.
        public let consentWithdrawn: Bool
    }

    /// Filters: from/to (registered), donor (the donor and, for a birth mother, her newborns).
    public func rows(_ filter: ListFilter) throws -> [Row] {
        try connection.query("""
            SELECT d.code, d.intended_use, d.living, d.birth_mother, d.registered_at, d.registered_by,
                   (SELECT count(*) FROM gmp.tissue_collection c WHERE c.donor_code = d.code) AS collections,
                   (SELECT count(*) FROM gmp.lot l WHERE l.donor_code = d.code) AS lots,
                   EXISTS (SELECT FROM gmp.consent c WHERE c.donor_code IN (d.code, d.birth_mother)
                           AND c.withdrawn_on IS NOT NULL) AS consent_withdrawn
            FROM gmp.donor d
            WHERE (\(filter.from)::date IS NULL OR (d.registered_at AT TIME ZONE 'UTC')::date >= \(filter.from))
              AND (\(filter.to)::date IS NULL OR (d.registered_at AT TIME ZONE 'UTC')::date <= \(filter.to))
              AND (\(filter.donor)::text IS NULL OR d.code = \(filter.donor) OR d.birth_mother = \(filter.donor))
            ORDER BY d.registered_at DESC, d.code DESC
            """).map { row in
            Row(donor: try row.decode("code"), intendedUse: try row.decode("intended_use"), living: try row.decode("living"),
                birthMother: try row.decode("birth_mother"), registeredAt: try row.decode("registered_at"),
                registeredBy: try row.decode("registered_by"), collections: try row.decode("collections"),
                lots: try row.decode("lots"), consentWithdrawn: try row.decode("consent_withdrawn"))
        }
    }
}
