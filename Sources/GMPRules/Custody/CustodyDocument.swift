/// The document `gmp.custody_history` returns for each unit (docs/storage-and-distribution.md):
/// the unit, its chain of identity back to the donor, every holding since the fill, and
/// any break the database finds in the chain. Times and decimals stay the server's text.
public struct CustodyDocument: Codable, Sendable, Equatable {
    /// One link of the chain of identity: donor, collection, lot, unit, in that order.
    public struct IdentityLink: Codable, Sendable, Equatable {
        /// "donor", "collection", "lot" or "unit".
        public let kind: String
        public let id: String
        // Collection links.
        public let collectedAt: String?
        public let collector: String?
        public let site: String?
        public let transportConditions: String?
        public let receivedAt: String?
        public let receivedBy: String?
        public let receiptCondition: String?
        // Lot links.
        public let stage: String?
        public let parent: String?
    }

    /// One holding: from its event's time until the next event's (nil: still held).
    public struct Holding: Codable, Sendable, Equatable {
        public let event: Int64
        /// filled, placed, moved, withdrawn, handed_over, packed, dispatched, received, thawed, discarded.
        public let action: String
        public let state: String
        public let since: String
        public let until: String?
        /// The box's path, when stored.
        public let location: String?
        public let position: String?
        public let person: String?
        public let party: String?
        public let device: String?
        public let shipment: String?
        public let transfer: Int64?
        public let condition: String?
        public let reason: String?
        public let recordedBy: String

        /// Who or where held the unit, in one phrase.
        public var holder: String {
            if let location { return position.map { "\(location) \($0)" } ?? location }
            return person ?? party ?? "?"
        }
    }

    public let unit: String
    public let lot: String
    public let checkCharacter: String
    public let division: Int
    public let container: String
    public let volumeMl: String
    public let state: String
    public let lotStatus: String
    public let donor: String
    public let collection: String
    public let productKind: String
    public let identity: [IdentityLink]
    public let holdings: [Holding]
    /// Breaks in the chain; empty when it is whole. Never hidden: the CLI prints them
    /// and exits with the refusal code.
    public let problems: [String]
}
