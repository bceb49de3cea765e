import GMPRules
import PostgresClient

/// A tissue recovery as the collecting site reports it.
public struct TissueRecovery: Sendable, Equatable {
    public var donor: String
    /// A gmp.tissue_source code, e.g. bone_marrow, umbilical_cord, adipose.
    public var source: String
    public var site: String
    public var collectedAt: Timestamp
    public var collector: String
    public var amount: ExactDecimal
    /// A unit the source allows (mL for bone marrow, cm or g for umbilical cord, …).
    public var unit: String
    public var transportConditions: String

    public init(donor: String, source: String, site: String, collectedAt: Timestamp, collector: String,
                amount: ExactDecimal, unit: String, transportConditions: String) {
        self.donor = donor
        self.source = source
        self.site = site
        self.collectedAt = collectedAt
        self.collector = collector
        self.amount = amount
        self.unit = unit
        self.transportConditions = transportConditions
    }
}

/// How tissue arrived at the facility.
public enum ReceiptCondition: String, Sendable, CaseIterable, Codable {
    case acceptable
    case compromised
}

/// Tissue collections and their receipt (sql/code/05_collections.sql). The database refuses a collection
/// without consent, after a withdrawal, or with a unit the source does not allow.
public struct TissueCollections {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Records a collection; returns its id (T26-000001).
    public func collect(_ recovery: TissueRecovery) throws -> String {
        try connection.query("""
            SELECT gmp.collect_tissue(\(recovery.donor), \(recovery.source), \(recovery.site), \(recovery.collectedAt),
                                      \(recovery.collector), \(recovery.amount), \(recovery.unit),
                                      \(recovery.transportConditions)) AS id
            """)[0].decode("id")
    }

    /// Records the receipt at the facility by the calling person, once; `time` nil means
    /// now by the server's clock. Returns the time recorded.
    public func receive(_ collection: String, at time: Timestamp?, condition: ReceiptCondition, note: String?) throws -> Timestamp {
        try connection.query("""
            SELECT gmp.receive_tissue(\(collection), \(time), \(condition.rawValue), \(note)) AS received_at
            """)[0].decode("received_at")
    }
}
