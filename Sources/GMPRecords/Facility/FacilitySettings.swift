import GMPRules
import PostgresClient

/// The facility's identity and manufacturing limits as the database holds them
/// (gmp.facility): the values it enforces.
public struct FacilitySettings: Sendable, Equatable {
    public var isbt128Facility: String
    public var maxPassage: Int
    public var maxPopulationDoublings: ExactDecimal

    public init(isbt128Facility: FacilityIdentificationNumber, maxPassage: Int, maxPopulationDoublings: ExactDecimal) {
        self.isbt128Facility = isbt128Facility.value
        self.maxPassage = maxPassage
        self.maxPopulationDoublings = maxPopulationDoublings
    }

    /// The settings in force, or nil before the first `gmp facility apply`.
    public static func current(on connection: PostgresConnection) throws -> FacilitySettings? {
        guard let row = try connection.query("""
            SELECT isbt128_facility, max_passage, max_population_doublings FROM gmp.facility
            """).first else { return nil }
        return FacilitySettings(isbt128Facility: try FacilityIdentificationNumber(try row.decode("isbt128_facility")),
                                maxPassage: try row.decode("max_passage"),
                                maxPopulationDoublings: try row.decode("max_population_doublings"))
    }

    /// Makes these the settings in force (administrators); false when nothing changed.
    public func apply(on connection: PostgresConnection, reason: String) throws -> Bool {
        try connection.query("""
            SELECT gmp.configure_facility(\(isbt128Facility), \(maxPassage), \(maxPopulationDoublings), \(reason)) AS changed
            """)[0].decode("changed")
    }
}
