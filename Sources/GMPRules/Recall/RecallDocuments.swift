/// The documents the server writes about recalls (sql/code/19_recall.sql), as plain
/// data; times stay the server's text.
public enum RecallDocument {
    /// One recall: `gmp.recall_document`.
    public struct Recall: Codable, Sendable, Equatable {
        public let id: String
        /// donor, material_lot, product_lot or post_release_result.
        public let cause: String
        /// The donor code, material lot or DIN the cause names.
        public let subject: String
        public let resultId: Int64?
        public let description: String
        public let openedBy: String
        public let openedAt: String
        /// open or closed.
        public let status: String
        public let newborns: [String]?
        public let signatures: [Signature]
        public let lots: [Lot]
        public let units: [Unit]
        public let consignees: [Consignee]
        /// What stands between the recall and its closure, one sentence each.
        public let outstanding: [String]
        public let closure: Closure?
    }

    public struct Signature: Codable, Sendable, Equatable {
        public let id: Int64
        public let record: String
        public let meaning: String
        public let signer: String
        public let printedName: String
        public let signedAt: String
        public let intact: Bool?
    }

    /// A lot the recall reached; held: it was not final when the recall was opened.
    public struct Lot: Codable, Sendable, Equatable {
        public let din: String
        public let keyedId: String
        public let stage: String
        public let statusAtOpen: String
        public let status: String
        public let held: Bool
    }

    /// A unit the recall reached, with its state then and now and what became of it.
    public struct Unit: Codable, Sendable, Equatable {
        public let unit: String
        public let lot: String
        public let stateAtOpen: String
        public let state: String
        public let shipped: Bool
        public let shipment: String?
        public let consignee: String?
        public let disposition: String?
        public let dispositionReason: String?
        public let disposedBy: String?
        public let disposedAt: String?
    }

    public struct Consignee: Codable, Sendable, Equatable {
        public let consignee: String
        public let units: [String]
        public let notifications: [Notification]
        public let acknowledgement: Acknowledgement?
    }

    public struct Notification: Codable, Sendable, Equatable {
        public let id: Int64
        public let method: String
        public let contact: String
        public let notifiedAt: String
        public let note: String?
        public let recordedBy: String
    }

    public struct Acknowledgement: Codable, Sendable, Equatable {
        public let id: Int64
        public let acknowledgedBy: String
        public let acknowledgedAt: String
        public let note: String?
        public let recordedBy: String
    }

    public struct Closure: Codable, Sendable, Equatable {
        public let summary: String
        public let closedBy: String
        public let closedAt: String
    }

    /// A donor's lookback: `gmp.recall_lookback`.
    public struct Lookback: Codable, Sendable, Equatable {
        public let donor: String
        public let birthMother: String?
        public let newborns: [String]
        public let lots: [LookbackLot]
        public let consignees: [LookbackConsignee]
        public let inFacility: [HeldUnit]
    }

    public struct LookbackLot: Codable, Sendable, Equatable {
        public let din: String
        public let keyedId: String
        public let donor: String
        public let stage: String
        public let status: String
        public let openRecalls: [String]
    }

    public struct LookbackConsignee: Codable, Sendable, Equatable {
        public let consignee: String
        public let units: [ShippedUnit]
    }

    public struct ShippedUnit: Codable, Sendable, Equatable {
        public let unit: String
        public let lot: String
        public let donor: String
        public let state: String
        public let shipment: String
        public let dispatchedAt: String?
        public let receivedAt: String?
    }

    public struct HeldUnit: Codable, Sendable, Equatable {
        public let unit: String
        public let lot: String
        public let state: String
    }
}
