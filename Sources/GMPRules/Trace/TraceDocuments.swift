#if canImport(Glibc)
import Glibc  // memcmp
#elseif canImport(Darwin)
import Darwin
#endif

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
            var text: [UInt8] = []
            appendDescription(to: &text)
            return String(decoding: text, as: UTF8.self)
        }

        /// `description`'s UTF-8 appended to `out`, without a String of its own: the
        /// material trace's text form writes its ~1,000 units' into one buffer (a String a
        /// unit, made and counted, then copied, was ~1,100 instructions a unit, issue 14).
        /// A held unit's state reads its underscores as spaces: "in hand, held by op.alice".
        public func appendDescription(to out: inout [UInt8]) {
            describe(state: state, location: location, position: position, device: device, person: person, party: party,
                     shipment: shipment, consignee: consignee, receivedAt: receivedAt, to: &out)
        }
    }

    /// A unit's whereabouts as its parts' UTF-8, borrowed: from the material trace's bytes
    /// while they are read (`MaterialDocument.Trace(documentBytes:units:restart:)`), so
    /// that the text form writes its ~1,000 units' lines without 13 Strings a unit made,
    /// copied and freed (~2,300 instructions a unit, issue 14). Valid only during the call
    /// it is given to: neither it nor its buffers may be kept.
    public struct WhereaboutsParts {
        public let unit: UnsafeBufferPointer<UInt8>
        public let state: UnsafeBufferPointer<UInt8>
        public let location: UnsafeBufferPointer<UInt8>?
        public let position: UnsafeBufferPointer<UInt8>?
        public let device: UnsafeBufferPointer<UInt8>?
        public let person: UnsafeBufferPointer<UInt8>?
        public let party: UnsafeBufferPointer<UInt8>?
        public let shipment: UnsafeBufferPointer<UInt8>?
        public let consignee: UnsafeBufferPointer<UInt8>?
        public let receivedAt: UnsafeBufferPointer<UInt8>?

        /// `Whereabouts.description`'s UTF-8 (the same words), appended to `out`.
        public func appendDescription(to out: inout [UInt8]) {
            describe(state: state, location: location, position: position, device: device, person: person, party: party,
                     shipment: shipment, consignee: consignee, receivedAt: receivedAt, to: &out)
        }

        /// `body` given each part the line is written from, in order (nil: absent), while
        /// it answers true; whether it answered true for all.
        fileprivate func forEachDescribed(_ body: (UnsafeBufferPointer<UInt8>?) -> Bool) -> Bool {
            body(state) && body(location) && body(position) && body(device) && body(person) && body(party)
                && body(shipment) && body(consignee) && body(receivedAt)
        }
    }

    /// Units' whereabouts lines, one unit after another, each line written once for a run
    /// of units whose parts are the same and copied for the rest: a lot's units are
    /// mostly in one place (all 2,450 units of the largest material trace are held by
    /// one person), and writing each line afresh was ~430 instructions a unit (issue 14).
    public struct WhereaboutsLines {
        /// The parts the last line was written from, one after another.
        private var parts: [UInt8] = []
        /// Where each of them starts and ends in `parts`, in `describe`'s order; -1: absent
        /// (which writes `?`, not what an empty part writes). Empty before the first line.
        /// Plain `[Int]`s: an array of a type new to the program (`[Range<Int>?]`) cost
        /// ~0.3 M instructions of the runtime's look-ups on first use.
        private var starts: [Int] = []
        private var ends: [Int] = []
        private var line: [UInt8] = []

        public init() {}

        /// `unit`'s line (its `appendDescription`'s bytes), lent to `body`. Not generic:
        /// called from another module, a generic body cost a look-up of its types a call.
        public mutating func withLine(of unit: WhereaboutsParts, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
            if !isLast(unit) {
                parts.removeAll(keepingCapacity: true)
                starts.removeAll(keepingCapacity: true)
                ends.removeAll(keepingCapacity: true)
                unit.forEachDescribed { part in
                    starts.append(part == nil ? -1 : parts.count)
                    if let part { parts.append(contentsOf: part) }
                    ends.append(part == nil ? -1 : parts.count)
                    return true
                }
                line.removeAll(keepingCapacity: true)
                unit.appendDescription(to: &line)
            }
            line.withUnsafeBufferPointer(body)
        }

        /// Whether `unit`'s parts are those the last line was written from.
        private func isLast(_ unit: WhereaboutsParts) -> Bool {
            guard !ends.isEmpty else { return false }
            return parts.withUnsafeBufferPointer { parts in
                var index = 0
                return unit.forEachDescribed { part in
                    defer { index += 1 }
                    let start = starts[index]
                    guard let part else { return start == -1 }
                    guard start >= 0, ends[index] - start == part.count else { return false }
                    return part.isEmpty || memcmp(part.baseAddress!, parts.baseAddress! + start, part.count) == 0
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

/// A part of a unit's whereabouts as `describe` writes it: a String, or UTF-8 bytes.
protocol WhereaboutsText {
    func append(to out: inout [UInt8])
    /// Whether the text is `word`'s.
    func isWord(_ word: StaticString) -> Bool
}

extension String: WhereaboutsText {
    func append(to out: inout [UInt8]) {
        var text = self
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    func isWord(_ word: StaticString) -> Bool {
        var text = self
        return text.withUTF8 { JSONByteScanner.equal($0, word) }
    }
}

extension UnsafeBufferPointer: WhereaboutsText where Element == UInt8 {
    func append(to out: inout [UInt8]) {
        out.append(contentsOf: self)
    }

    func isWord(_ word: StaticString) -> Bool {
        JSONByteScanner.equal(self, word)
    }
}

/// One line for people: where the unit is, or who received it (`Whereabouts.description`,
/// one wording for its Strings and for a trace's bytes). A held unit's state reads its
/// underscores as spaces: "in hand, held by op.alice".
private func describe<Text: WhereaboutsText>(state: Text, location: Text?, position: Text?, device: Text?, person: Text?,
                                             party: Text?, shipment: Text?, consignee: Text?, receivedAt: Text?,
                                             to out: inout [UInt8]) {
    func put(_ text: StaticString) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
    func put(_ text: Text?) {
        if let text { text.append(to: &out) } else { out.append(UInt8(ascii: "?")) }
    }
    if state.isWord("stored") {
        put("stored at "); put(location); put(" position "); put(position)
    } else if state.isWord("delivered") {
        put("delivered to "); put(consignee ?? party); put(" (shipment "); put(shipment)
        put(", received "); put(receivedAt); put(")")
    } else if state.isWord("in_transit") {
        put("in transit with "); put(party); put(" to "); put(consignee); put(" (shipment "); put(shipment); put(")")
    } else if state.isWord("packed") {
        put("packed in "); put(device); put(" for "); put(consignee); put(" (shipment "); put(shipment)
        put(") by "); put(person)
    } else {
        let start = out.count
        state.append(to: &out)
        for index in start..<out.count where out[index] == UInt8(ascii: "_") { out[index] = UInt8(ascii: " ") }
        put(", held by "); put(person ?? party)
    }
}
