#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// The equipment register (sql/code/17_equipment.sql): registration, signed status
/// changes, calibrations and maintenance signed by who performed them, and the equipment
/// steps and QC results used. The database judges whether equipment may be used.
public struct EquipmentRegister {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// What is registered.
    public struct Entry: Encodable, Sendable, Equatable {
        public let id: String
        public let kind: String
        public let name: String
        public let storageDevice: String?
        public let calibrationIntervalDays: Int?
        public let maintenanceIntervalDays: Int?

        public init(id: String, kind: String, name: String, storageDevice: String?, calibrationIntervalDays: Int?,
                    maintenanceIntervalDays: Int?) {
            self.id = id
            self.kind = kind
            self.name = name
            self.storageDevice = storageDevice
            self.calibrationIntervalDays = calibrationIntervalDays
            self.maintenanceIntervalDays = maintenanceIntervalDays
        }
    }

    /// A calibration (with as found / as left) or a maintenance, as performed.
    public struct ServiceRecord: Sendable, Equatable {
        public enum Kind: String, Sendable { case calibration, maintenance }
        public let kind: Kind
        public let equipment: String
        public let performedAt: Timestamp?
        public let dueAt: Timestamp?
        public let asFound: String?
        public let asLeft: String?
        public let reference: String?
        public let note: String?

        public init(kind: Kind, equipment: String, performedAt: Timestamp?, dueAt: Timestamp?, asFound: String?,
                    asLeft: String?, reference: String?, note: String?) {
            self.kind = kind
            self.equipment = equipment
            self.performedAt = performedAt
            self.dueAt = dueAt
            self.asFound = asFound
            self.asLeft = asLeft
            self.reference = reference
            self.note = note
        }
    }

    /// A row of `gmp equipment list`.
    public struct Row: Encodable, Sendable, Equatable {
        public let id: String
        public let kind: String
        public let name: String
        public let storageDevice: String?
        public let status: String
        public let calibrationDueAt: Timestamp?
        public let maintenanceDueAt: Timestamp?
        public let usable: Bool
        public let unusableBecause: String?
    }

    public func register(_ entry: Entry) throws {
        try connection.execute("""
            SELECT gmp.register_equipment(\(entry.id), \(entry.kind), \(entry.name), \(entry.storageDevice),
                                          \(entry.calibrationIntervalDays.map(Int64.init))::integer,
                                          \(entry.maintenanceIntervalDays.map(Int64.init))::integer)
            """)
    }

    /// Records a calibration or maintenance, signed "performed"; returns its id. Call
    /// inside a signature ceremony.
    public static func record(_ service: ServiceRecord, on db: PostgresConnection, challenge: UUID) throws -> Int64 {
        try db.query("""
            SELECT gmp.record_equipment_service(\(challenge), \(service.equipment), \(service.kind.rawValue),
                                                \(service.performedAt)::timestamptz, \(service.dueAt)::timestamptz,
                                                \(service.asFound), \(service.asLeft), \(service.reference),
                                                \(service.note)) AS id
            """)[0].decode("id")
    }

    /// Takes equipment out of service or (QA) returns it, signed "approved"; returns the
    /// signature's id. Call inside a signature ceremony.
    public static func changeStatus(of equipment: String, inService: Bool, reason: String, on db: PostgresConnection,
                                    challenge: UUID) throws -> Int64 {
        if inService {
            return try db.query("SELECT gmp.return_equipment_to_service(\(challenge), \(equipment), \(reason)) AS id")[0]
                .decode("id")
        }
        return try db.query("SELECT gmp.take_equipment_out_of_service(\(challenge), \(equipment), \(reason)) AS id")[0]
            .decode("id")
    }

    /// The equipment a step or a result used: call in the transaction that recorded it.
    @discardableResult
    public func use(_ equipment: [String], by user: Materials.Consumer) throws -> [Int64] {
        guard !equipment.isEmpty else { return [] }
        let (stepID, resultID) = try user.ids(on: connection)
        return try equipment.map { id in
            try connection.query("SELECT gmp.record_equipment_use(\(id), \(stepID)::bigint, \(resultID)::bigint) AS id")[0]
                .decode("id")
        }
    }

    /// The register, by id.
    public func list() throws -> [Row] {
        try connection.query("""
            SELECT id, kind, name, storage_device_id, status, calibration_due_at, maintenance_due_at, unusable_now
            FROM gmp.equipment_overview ORDER BY id
            """).map { row in
            let unusable: String? = try row.decode("unusable_now")
            return Row(id: try row.decode("id"), kind: try row.decode("kind"), name: try row.decode("name"),
                       storageDevice: try row.decode("storage_device_id"), status: try row.decode("status"),
                       calibrationDueAt: try row.decode("calibration_due_at"),
                       maintenanceDueAt: try row.decode("maintenance_due_at"), usable: unusable == nil,
                       unusableBecause: unusable)
        }
    }

    /// One piece of equipment as the server wrote it (indented JSON), for `--json`.
    public func documentJSON(_ id: String) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.equipment_document(\(id))) AS d")[0].decode("d")
    }

    public func document(_ id: String) throws -> EquipmentDocument.Equipment {
        try Materials.decode(try documentJSON(id))
    }

    /// One calibration or maintenance record as the server wrote it (indented JSON).
    public func serviceJSON(_ id: Int64) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.equipment_service_document(\(id))) AS d")[0].decode("d")
    }

    public func service(_ id: Int64) throws -> EquipmentDocument.Service {
        try Materials.decode(try serviceJSON(id))
    }
}
