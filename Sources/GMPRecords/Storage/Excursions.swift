#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Temperature excursions (sql/code/13_readings.sql): opened by readings above a device's limit,
/// listing the units that were in the device meanwhile, closed once by QA with a
/// signed impact assessment. While one is open, the units it affects are neither
/// released nor shipped.
public struct Excursions {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// A unit that was in the device during the excursion, and when.
    public struct AffectedUnit: Encodable, Sendable, Equatable {
        public let unit: String
        public let din: String
        public let from: Timestamp
        /// nil: the unit is still in the device.
        public let until: Timestamp?
    }

    /// One excursion as `gmp excursion list` shows it.
    public struct Row: Encodable, Sendable, Equatable {
        public let id: String
        public let device: String
        public let startedAt: Timestamp
        /// nil while the excursion goes on (no reading back within the limit yet).
        public let endedAt: Timestamp?
        public let peakCelsius: String
        public let limitCelsius: String
        public let status: String
        public let assessment: String?
        public let assessedBy: String?
        public let assessedAt: Timestamp?
        public let units: [AffectedUnit]
    }

    /// Excursions, newest first; only open ones, or one device's, when asked.
    public func list(openOnly: Bool, device: String?) throws -> [Row] {
        var units: [String: [AffectedUnit]] = [:]
        for row in try connection.query("""
            SELECT u.excursion_id, u.unit_id, u.din, u.in_device_from, u.in_device_until
            FROM gmp.excursion_unit u JOIN gmp.excursion x ON x.id = u.excursion_id
            WHERE (NOT \(openOnly) OR x.status = 'open') AND (\(device)::text IS NULL OR x.device_id = \(device))
            ORDER BY u.excursion_id, u.unit_id
            """) {
            units[try row.decode("excursion_id"), default: []].append(
                AffectedUnit(unit: try row.decode("unit_id"), din: try row.decode("din"),
                             from: try row.decode("in_device_from"), until: try row.decode("in_device_until")))
        }
        return try connection.query("""
            SELECT x.id, x.device_id, x.started_at, x.ended_at, x.peak_celsius::text, x.limit_celsius::text, x.status,
                   x.assessment, x.assessed_by, x.assessed_at
            FROM gmp.excursion x
            WHERE (NOT \(openOnly) OR x.status = 'open') AND (\(device)::text IS NULL OR x.device_id = \(device))
            ORDER BY x.started_at DESC, x.id DESC
            """).map { row in
            let id: String = try row.decode("id")
            return Row(id: id, device: try row.decode("device_id"), startedAt: try row.decode("started_at"),
                       endedAt: try row.decode("ended_at"), peakCelsius: try row.decode("peak_celsius"),
                       limitCelsius: try row.decode("limit_celsius"), status: try row.decode("status"),
                       assessment: try row.decode("assessment"), assessedBy: try row.decode("assessed_by"),
                       assessedAt: try row.decode("assessed_at"), units: units[id] ?? [])
        }
    }

    /// QA closes an excursion that has ended with the impact assessment, signing
    /// "approved". Call inside a signature ceremony.
    public static func assess(on db: PostgresConnection, challenge: UUID, excursion: String, assessment: String) throws -> Int64 {
        try db.query("SELECT gmp.assess_excursion(\(challenge), \(excursion), \(assessment)) AS id")[0].decode("id")
    }
}
