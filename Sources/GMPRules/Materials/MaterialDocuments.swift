/// The documents the server writes about material lots (sql/code/16_materials.sql),
/// as plain data; times and quantities stay the server's text.
public enum MaterialDocument {
    /// One material lot: `gmp.material_document` (with its consumptions) and the
    /// `material` part of `gmp.trace_material`.
    public struct Lot: Codable, Sendable, Equatable {
        public let id: String
        public let type: String
        public let name: String
        public let category: String
        public let supplier: String
        /// Who made it (21 CFR 1271.210(d)(1)); nil on a lot received before V0037 recorded it.
        public let manufacturer: String?
        public let supplierLot: String
        public let quantity: String
        public let unit: String
        public let receivedAt: String
        public let receivedBy: String
        public let receiptCondition: String
        public let expiresOn: String
        public let daysAfterOpening: Int?
        public let openedAt: String?
        public let useBy: String
        public let certificateSha256: String
        public let storageCondition: String
        public let status: String
        public let usableNow: Bool
        public let dispositions: [Disposition]
        public let consumptions: [Consumption]?
    }

    /// QA's signed decision on a material lot.
    public struct Disposition: Codable, Sendable, Equatable {
        public let id: Int64
        public let decision: String
        public let reason: String?
        public let decidedBy: String
        public let decidedAt: String
        public let signatureId: Int64?
        public let signatureIntact: Bool?
    }

    /// A quantity of a material lot consumed by a step or a QC result of a lot.
    public struct Consumption: Codable, Sendable, Equatable {
        public let id: Int64
        public let materialLot: String
        public let lot: String
        public let quantity: String
        public let unit: String
        public let usedAt: String
        public let step: String?
        public let stepId: Int64?
        public let test: String?
        public let resultId: Int64?
        public let recordedBy: String
    }

    /// A product lot a material lot reached, with where its units are: what a recall
    /// needs of it, not the lot's whole document (issue 14).
    public struct ReachedLot: Codable, Sendable, Equatable {
        public let din: String
        public let checkCharacter: String
        public let stage: String
        public let productKind: String
        public let status: String
        public let via: String?
        public let consumed: Bool
        public let whereabouts: [TraceDocument.Whereabouts]?
    }

    /// `gmp trace material LOT`.
    public struct Trace: Codable, Sendable, Equatable {
        public let material: Lot
        public let consumptions: [Consumption]
        public let lots: [ReachedLot]
    }
}

extension MaterialDocument {
    /// A material lot consumed by a lot or a cell bank it was made from: `materials` in
    /// `gmp trace lot` and in the release package (`gmp_rules.lot_materials`).
    public struct LotMaterial: Codable, Sendable, Equatable {
        public let materialLot: String
        public let type: String
        public let supplier: String
        public let supplierLot: String
        public let expiresOn: String
        public let certificateSha256: String
        public let lot: String
        public let quantity: String
        public let unit: String
        public let usedAt: String
        public let stepId: Int64?
        public let resultId: Int64?
    }
}
