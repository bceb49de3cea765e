/// A shipment as `gmp.shipment_document` returns it (sql/code/14_shipping.sql, docs/storage-and-distribution.md),
/// decoded for text output. Times stay the server's text: a report shows what was
/// recorded, never a rounding of it.
public struct ShipmentDocument: Codable, Sendable, Equatable {
    public let id: String
    public let consignee: String
    public let consigneeAddress: String
    /// The gmp account who alone may confirm receipt.
    public let receiver: String
    /// The dry shipper (a storage device of kind `shipper`).
    public let shipperId: String
    public let shipperQualification: String
    /// Set only on the documented urgent-need path (a quarantined lot's units may ship).
    public let urgentNeed: String?
    public let physician: String?
    public let urgent: Bool
    /// created, packed, dispatched or received.
    public let status: String
    public let createdAt: String
    public let createdBy: String
    public let packedAt: String?
    public let packedBy: String?
    public let courier: String?
    public let dispatchedAt: String?
    public let dispatchedBy: String?
    public let receivedAt: String?
    public let receivedBy: String?
    public let condition: String?
    public let units: [Unit]
    public let signoffs: [Signoff]

    /// A unit in the shipment, with what its label depends on.
    public struct Unit: Codable, Sendable, Equatable {
        public let unit: String
        public let lot: String
        public let checkCharacter: String
        public let container: String
        public let volumeMl: String
        public let state: String
        public let holderPerson: String?
        public let holderParty: String?
        public let productKind: String
        public let stage: String
        public let lotStatus: String
        public let intendedUse: String
        public let eligibility: String?
        public let reactiveTests: [String]
        public let expiresOn: String
        public let openExcursions: [String]
    }

    /// A signed step: the dispatch (meaning "performed") or the receipt ("verified").
    public struct Signoff: Codable, Sendable, Equatable {
        public let step: String
        public let at: String
        public let units: [String]
        public let courier: String?
        public let condition: String?
        public let statement: String?
        public let signer: String?
        public let printedName: String?
        public let meaning: String?
        public let signedAt: String?
        public let signatureId: Int64?
        public let intact: Bool?
    }

    /// The statements the unit's label must carry in this shipment: on the urgent-need
    /// path a quarantined lot's unit gets the urgent-release statements of 1271.60(d).
    public func labelStatements(for unit: Unit) -> [String] {
        LabelStatements.statements(for: LabelFacts(
            status: unit.lotStatus, intendedUse: unit.intendedUse, eligibility: unit.eligibility,
            reactiveAgents: unit.reactiveTests,
            urgentReleaseBeforeEligibility: urgent && unit.lotStatus == "quarantine"))
    }
}
