import SystemCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PostgresClient

/// The closed vocabularies of materials, as `gmp_meta.material_category` and
/// `gmp_meta.material_unit` hold them (V0023); `VocabularyAgreementTests` checks that they agree.
public enum MaterialVocabulary {
    public static let categories = ["culture_medium", "platelet_lysate_or_serum", "dissociation_enzyme", "cryoprotectant",
                                    "buffer", "kit", "consumable"]
    public static let units = ["L", "mL", "µL", "g", "mg", "µg", "each", "vial", "bag", "kit", "test"]

    /// A material lot id as gmp gives it at receipt: MAT, the year's two digits, a dash, a sequence number.
    /// `MAT[0-9]{2}-[0-9]{5,}`, matched by hand (see ``EquipmentVocabulary/isEquipmentID(_:)``).
    public static func isMaterialLotID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 11, bytes.starts(with: "MAT".utf8), bytes[5] == UInt8(ascii: "-") else { return false }
        return bytes[3...4].allSatisfy(SpecificationSyntax.isDigit) && bytes[6...].allSatisfy(SpecificationSyntax.isDigit)
    }
}

/// One material lot a step or QC result consumed, as typed after `--material`:
/// `MAT26-00001:500 mL` (the 1271.210(d) quantity and unit are required). Checked here
/// before anything is sent; the database then judges whether the lot may be used.
public struct MaterialUse: Sendable, Equatable {
    public let materialLot: String
    public let quantity: ExactDecimal
    public let unit: String

    public init(materialLot: String, quantity: ExactDecimal, unit: String) {
        self.materialLot = materialLot
        self.quantity = quantity
        self.unit = unit
    }

    /// Parses `LOT:QUANTITY UNIT` (the space before the unit may be left out).
    public init(parsing text: String) throws(MaterialInputError) {
        let trimmed = text.withoutOuterSpaces
        guard let colon = trimmed.firstIndex(of: ":") else {
            throw .missingQuantity(text)
        }
        let lot = String(trimmed[..<colon]).withoutOuterSpaces
        guard MaterialVocabulary.isMaterialLotID(lot) else { throw .malformedLot(lot) }
        let amount = String(trimmed[trimmed.index(after: colon)...]).withoutOuterSpaces
        let digits = amount.prefix { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-" || $0 == "+" || $0 == ",") }
        let unit = String(amount.dropFirst(digits.count)).withoutOuterSpaces
        guard !digits.isEmpty else { throw .missingQuantity(text) }
        guard let quantity = ExactDecimal(String(digits)), quantity > ExactDecimal(0) else {
            throw .malformedQuantity(String(digits))
        }
        guard !unit.isEmpty else { throw .missingUnit(text) }
        guard MaterialVocabulary.units.contains(unit) else { throw .unknownUnit(unit) }
        self.init(materialLot: lot, quantity: quantity, unit: unit)
    }
}

/// Why a typed `--material` was refused, with the fix; one line, "<problem>; fix: <fix>".
public enum MaterialInputError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformedLot(String)
    case missingQuantity(String)
    case malformedQuantity(String)
    case missingUnit(String)
    case unknownUnit(String)

    public var description: String {
        let form = "give it as LOT:QUANTITY UNIT, e.g. --material \"MAT26-00001:500 mL\""
        switch self {
        case .malformedLot(let text):
            return "\"\(text)\" is not a material lot id (MAT, two digits of the year, a dash, the number: MAT26-00001); "
                + "fix: copy it from gmp material list"
        case .missingQuantity(let text):
            return "--material \"\(text)\" has no quantity; fix: \(form)"
        case .malformedQuantity(let text):
            return "\"\(text)\" is not a quantity more than zero (digits, a decimal point, no comma); fix: \(form)"
        case .missingUnit(let text):
            return "--material \"\(text)\" has no unit; fix: \(form)"
        case .unknownUnit(let text):
            return "\"\(text)\" is not a unit of material; fix: use \(MaterialVocabulary.units.joined(separator: ", "))"
        }
    }
}

extension String {
    fileprivate var withoutOuterSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// The supplier's certificate of analysis, bound to a material lot by its SHA-256.
public enum SupplierCertificate {
    /// Lower-case hex SHA-256 of the file's bytes, as `gmp_meta`'s checksums are written.
    public static func sha256Hex(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: Array(bytes)).map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }
}
