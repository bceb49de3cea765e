/// The closed vocabulary of equipment kinds, as `gmp_meta.equipment_kind` holds it
/// (V0029); `VocabularyAgreementTests` checks that they agree.
public enum EquipmentVocabulary {
    public static let kinds = ["biosafety_cabinet", "incubator", "centrifuge", "cell_counter", "flow_cytometer",
                               "controlled_rate_freezer", "storage_device"]
    /// How a calibration found or left the equipment.
    public static let tolerances = ["in_tolerance", "out_of_tolerance"]

    /// An equipment id as the register takes it (the storage locations' form, so a
    /// storage device keeps its id): A–Z, 0–9, '.', '_', '-', 1–32 characters.
    /// Matched by hand, byte by byte (every accepted character is one ASCII byte), not by a
    /// regex literal, so that gmp's own code needs no `_StringProcessing` (issue 18;
    /// Package.swift says why, and why its records stay while FoundationEssentials links it).
    public static func isEquipmentID(_ text: String) -> Bool {
        let bytes = text.utf8
        let isUpperOrDigit = { (byte: UInt8) in SpecificationSyntax.isUpper(byte) || SpecificationSyntax.isDigit(byte) }
        guard let first = bytes.first, (1...32).contains(bytes.count), isUpperOrDigit(first) else { return false }
        return bytes.dropFirst().allSatisfy { isUpperOrDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

/// The documents the server writes about equipment (sql/code/17_equipment.sql), as plain
/// data; times stay the server's text.
public enum EquipmentDocument {
    /// `gmp.equipment_document`.
    public struct Equipment: Codable, Sendable, Equatable {
        public let id: String
        public let kind: String
        public let name: String
        public let storageDevice: String?
        public let status: String
        public let calibrationIntervalDays: Int?
        public let maintenanceIntervalDays: Int?
        public let registeredAt: String
        public let registeredBy: String
        public let calibrationDueAt: String?
        public let maintenanceDueAt: String?
        public let usableNow: Bool
        public let unusableBecause: String?
        public let statusChanges: [StatusChange]
        public let services: [Service]
        public let uses: [Use]
    }

    /// A signed change of status.
    public struct StatusChange: Codable, Sendable, Equatable {
        public let id: Int64
        public let status: String
        public let reason: String
        public let changedBy: String
        public let changedAt: String
        public let signatureId: Int64?
        public let signatureIntact: Bool?
    }

    /// A calibration or maintenance record (`gmp.equipment_service_document`); one found
    /// out of tolerance carries the uses and lots it calls into question.
    public struct Service: Codable, Sendable, Equatable {
        public let id: Int64
        public let equipment: String
        public let kind: String
        public let performedAt: String
        public let performedBy: String
        public let dueAt: String
        public let asFound: String?
        public let asLeft: String?
        public let reference: String?
        public let note: String?
        public let signatureId: Int64?
        public let printedName: String?
        public let signatureIntact: Bool?
        public let affectedUses: [Use]?
        public let affectedLots: [AffectedLot]?
    }

    /// A step or QC result that used the equipment.
    public struct Use: Codable, Sendable, Equatable {
        public let id: Int64
        public let equipment: String
        public let lot: String
        public let usedAt: String
        public let step: String?
        public let stepId: Int64?
        public let test: String?
        public let resultId: Int64?
        public let recordedBy: String
    }

    /// A lot an out-of-tolerance calibration touched, and the deviation opened on it
    /// (none when its record was already closed).
    public struct AffectedLot: Codable, Sendable, Equatable {
        public let din: String
        public let via: String?
        public let status: String
        public let deviation: String?
    }

    /// Equipment a lot or a cell bank it was made from used: `equipment` in `gmp trace lot`
    /// and in the release package (`gmp_rules.lot_equipment`).
    public struct LotEquipment: Codable, Sendable, Equatable {
        public let equipment: String
        public let kind: String
        public let name: String
        public let lot: String
        public let usedAt: String
        public let stepId: Int64?
        public let resultId: Int64?
    }
}
