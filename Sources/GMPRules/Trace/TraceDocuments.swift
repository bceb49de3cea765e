/// The documents `gmp.trace_donor` and `gmp.trace_lot` return (docs/traceability.md),
/// decoded for tables and CSV. Times and decimals stay the server's text: a report
/// shows what was recorded, never a rounding of it.
public enum TraceDocument {
    public struct Donor: Codable, Sendable, Equatable {
        public let code: String
        public let intendedUse: String
        public let living: Bool
        public let birthMother: String?
        public let registeredAt: String
        public let consents: [Consent]
        public let consentWithdrawn: Bool
    }

    public struct Consent: Codable, Sendable, Equatable {
        public let donor: String
        public let givenOn: String
        public let scope: String
        public let takenBy: String
        public let withdrawnOn: String?
    }

    public struct Eligibility: Codable, Sendable, Equatable {
        public let outcome: String
        public let determination: Int64
        public let signedBy: String?
        public let signedAt: String?
        public let signatureIntact: Bool?
        public let problems: [String]
    }

    public struct Collection: Codable, Sendable, Equatable {
        public let id: String
        public let donor: String
        public let source: String
        public let site: String
        public let collectedAt: String
        public let collector: String
        public let amount: String
        public let amountUnit: String
        public let transportConditions: String
        public let receivedAt: String?
        public let receivedBy: String?
        public let receiptCondition: String?
        public let eligibility: Eligibility?
    }

    public struct Lot: Codable, Sendable, Equatable {
        public let din: String
        public let checkCharacter: String
        public let stage: String
        public let productKind: String
        public let intendedUse: String
        public let status: String
        public let donor: String
        public let collection: String
        public let parent: String?
        public let expiresOn: String
        public let createdAt: String
        public let eligibility: String?
        public let consentWithdrawn: Bool
        public let reactiveTests: [String]
        public let units: Int?
        public let unitVolumeMl: String?
        public let cryopreservedAt: String?
        public let lastStep: String?
        /// Where each unit is now, or which consignee received it; `trace donor` only
        /// (sql/code/15_trace.sql), nil in `trace lot`.
        public let whereabouts: [Whereabouts]?

        /// The id as printed for people: "G1234 26 000001 4".
        public var eyeReadable: String {
            (try? DonationIdentificationNumber(stored: din).eyeReadable) ?? din + " " + checkCharacter
        }
    }

    /// Where one unit of a lot is now: its state and its one holder (a storage
    /// position, a person, or an outside party: the courier or the consignee). The
    /// material trace leaves out what it does not print (division, container, since) and
    /// every key whose value is null (issue 14), so those are optional here.
    public struct Whereabouts: Codable, Sendable, Equatable {
        public let unit: String
        public let division: Int?
        public let container: String?
        public let state: String
        public let since: String?
        /// The box's location path ("SITE-A › LN2-01 › LN2-01-R1 › LN2-01-R1-B01"), when stored.
        public let location: String?
        public let position: String?
        public let device: String?
        public let person: String?
        public let party: String?
        public let shipment: String?
        public let consignee: String?
        public let receivedAt: String?

        /// One line for people: where the unit is, or who received it.
        public var description: String {
            switch state {
            case "stored": "stored at \(location ?? "?") position \(position ?? "?")"
            case "delivered": "delivered to \(consignee ?? party ?? "?") (shipment \(shipment ?? "?"), received \(receivedAt ?? "?"))"
            case "in_transit": "in transit with \(party ?? "?") to \(consignee ?? "?") (shipment \(shipment ?? "?"))"
            case "packed": "packed in \(device ?? "?") for \(consignee ?? "?") (shipment \(shipment ?? "?")) by \(person ?? "?")"
            default: held(by: person ?? party ?? "?")
            }
        }

        /// "in hand, held by op.alice": the state's underscores read as spaces, written
        /// byte by byte into the one String (the generic `replacing` cost ~6% of the
        /// client's CPU for a material trace printing 2,280 units; a mapped copy of the
        /// state and an interpolation ~1,500 instructions a unit, issue 14).
        private func held(by holder: String) -> String {
            var state = state
            var holder = holder
            let between: StaticString = ", held by "
            return state.withUTF8 { state in
                holder.withUTF8 { holder in
                    let count = state.count + between.utf8CodeUnitCount + holder.count
                    return String(unsafeUninitializedCapacity: count) { text in
                        for (index, byte) in state.enumerated() { text[index] = byte == UInt8(ascii: "_") ? UInt8(ascii: " ") : byte }
                        var at = state.count
                        for index in 0..<between.utf8CodeUnitCount { text[at + index] = between.utf8Start[index] }
                        at += between.utf8CodeUnitCount
                        for (index, byte) in holder.enumerated() { text[at + index] = byte }
                        return count
                    }
                }
            }
        }
    }

    public struct Ancestor: Codable, Sendable, Equatable {
        public let din: String
        public let checkCharacter: String
        public let stage: String
        public let status: String
    }

    public struct Step: Codable, Sendable, Equatable {
        public let kind: String
        public let performedAt: String
        public let performedBy: String
        public let passage: Int?
        public let cellCount: String?
        public let viabilityPercent: String?
        public let populationDoublings: String?
        public let cumulativeDoublings: String?
        public let units: Int?
        public let unitVolumeMl: String?
        public let note: String?
    }

    public struct Screening: Codable, Sendable, Equatable {
        public let donor: String
        public let test: String
        public let result: String
        public let testKit: String
        public let specimenOn: String
        public let analyst: String
    }

    /// Forward from a donor: what a recall needs.
    public struct DonorTrace: Codable, Sendable, Equatable {
        public let donor: Donor
        public let newborns: [String]
        public let collections: [Collection]
        public let lots: [Lot]
    }

    /// A lot and its own steps: what `gmp lot show` prints (`gmp.lot_show`), the same
    /// parts as in the lot's trace.
    public struct LotAndSteps: Sendable, Equatable {
        public let lot: Lot
        public let steps: [Step]
    }

    /// Back from a lot: lineage, tissue, donor and the evidence of eligibility.
    public struct LotTrace: Codable, Sendable, Equatable {
        public let lot: Lot
        public let lineage: [Ancestor]
        public let steps: [Step]
        public let collection: Collection
        public let donor: Donor
        public let screening: [Screening]
        /// The material lots the lot and its cell banks consumed (sql/code/16_materials.sql).
        public let materials: [MaterialDocument.LotMaterial]?
        /// The equipment the lot and its cell banks used (sql/code/17_equipment.sql).
        public let equipment: [EquipmentDocument.LotEquipment]?
    }
}
