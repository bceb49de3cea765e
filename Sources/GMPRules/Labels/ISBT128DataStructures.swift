/// The ISBT 128 data structures a product label carries in its bar codes (ISBT 128
/// Standard Technical Specification, ST-001): the donation identification number with its
/// flag characters (data structure 001), the product code (003) and the expiration date
/// (004). Each is a fixed-length string that starts with its data identifier, so a scanner
/// knows what it read, and several can be concatenated in one 2-D symbol.
public enum ISBT128 {
    /// Data structure 001, `=αppppyynnnnnnff`: "=" then the 13 DIN characters, then two
    /// flag characters.
    ///
    /// The flags are type 2 (ST-001 table "Flag characters"): 60 plus the value (0–36) of
    /// the DIN's ISO 7064 MOD 37-2 check character, so a scanner can verify the DIN it
    /// read without the printed check character.
    public struct DonationIdentification: Sendable, Equatable {
        public let din: DonationIdentificationNumber

        public init(_ din: DonationIdentificationNumber) { self.din = din }

        /// "60"…"96".
        public var flags: String { String(60 + Self.checkValue(din.checkCharacter)) }

        /// The bar code's data: "=G12342600000194" (16 characters).
        public var data: String { "=" + din.value + flags }

        /// Reads data structure 001 back, refusing flags that do not match the DIN.
        public init?(data text: String) {
            let characters = Array(text)
            guard characters.count == 16, characters[0] == "=",
                  let din = try? DonationIdentificationNumber(stored: String(characters[1..<14])) else { return nil }
            self.din = din
            guard String(characters[14...]) == flags else { return nil }
        }

        /// The value of a MOD 37-2 character: 0–9, A–Z = 10–35, * = 36.
        static func checkValue(_ character: Character) -> Int {
            Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*").firstIndex(of: character) ?? 0
        }
    }

    /// Data structure 003, `=<αooootds`: "=<", a 5-character product description code, the
    /// type of donation and a 2-character division code.
    public struct ProductCode: Sendable, Equatable {
        /// The product description code, e.g. "S0123" (ICCBBA's database assigns them).
        public let descriptionCode: String
        /// Type of donation: "V" volunteer allogeneic, "1" for autologous use only.
        public let donationType: Character
        /// "00" for an undivided product, else the unit's division (see `divisionCode`).
        public let division: String

        public init(descriptionCode: String, donationType: Character, division: String) {
            self.descriptionCode = descriptionCode
            self.donationType = donationType
            self.division = division
        }

        /// The product code of a lot or of one of its units.
        /// - Parameter division: the unit's division 1…702, or nil for the lot as a whole.
        /// - Parameter configured: the facility's codes by product (`ProductDescriptionCodes.product`);
        ///   a product without one gets its placeholder.
        public init(stage: String, productKind: String, intendedUse: String, division: Int?,
                    configured: [String: String] = [:]) throws(LabelError) {
            guard let code = ProductDescriptionCodes.code(stage: stage, productKind: productKind, configured: configured) else {
                throw .noProductCode(stage: stage, productKind: productKind)
            }
            let type: Character = intendedUse == "autologous" ? "1" : "V"
            try self.init(descriptionCode: code, donationType: type, division: division.map(Self.divisionCode) ?? "00")
        }

        private init(descriptionCode: String, donationType: Character, division: String?) throws(LabelError) {
            guard let division else { throw .divisionOutOfRange }
            self.init(descriptionCode: descriptionCode, donationType: donationType, division: division)
        }

        /// The bar code's data: "=<S0001V00" (10 characters).
        public var data: String { "=<" + descriptionCode + String(donationType) + division }

        /// A unit's division as ISBT 128's two-level division code: units 1–702 in order
        /// A0, Aa … Az, B0, Ba … Z z (first level A–Z, second level 0 then a–z); nil
        /// outside that range. "00" stays the undivided lot.
        public static func divisionCode(_ division: Int) -> String? {
            guard (1...702).contains(division) else { return nil }
            let first = (division - 1) / 27, second = (division - 1) % 27
            let upper = Character(Unicode.Scalar(UInt8(ascii: "A") + UInt8(first)))
            let lower = second == 0 ? "0" : Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(second - 1)))
            return String(upper) + String(lower)
        }
    }

    /// Data structure 004, `=>cyyjjj`: "=>", the last three digits of the year and the
    /// day of the year (ordinal date), e.g. 31 December 2026 → "=>026365".
    public struct ExpirationDate: Sendable, Equatable {
        public let year: Int
        public let month: Int
        public let day: Int

        /// - Parameter isoDate: "YYYY-MM-DD", as the database prints a date.
        public init(isoDate: String) throws(LabelError) {
            let parts = isoDate.split(separator: "-")
            guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
                  (2000...2999).contains(y), (1...12).contains(m), (1...Self.daysIn(m, y)).contains(d) else {
                throw .badDate(isoDate)
            }
            year = y; month = m; day = d
        }

        /// 1…366.
        public var dayOfYear: Int { (1..<month).reduce(day) { $0 + Self.daysIn($1, year) } }

        public var data: String { "=>" + Self.padded(year % 1000, 3) + Self.padded(dayOfYear, 3) }

        static func daysIn(_ month: Int, _ year: Int) -> Int {
            switch month {
            case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
            case 4, 6, 9, 11: 30
            default: 31
            }
        }

        static func padded(_ number: Int, _ width: Int) -> String {
            let digits = String(number)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
    }

    /// Data structure 023, compound message `=+aabbb`: the number of data structures that
    /// follow and "000" (no ICCBBA-defined sequence), then the structures themselves,
    /// for a 2-D symbol (DataMatrix) that carries them all.
    public static func compoundMessage(_ structures: [String]) -> String {
        "=+" + ExpirationDate.padded(structures.count, 2) + "000" + structures.joined()
    }
}

/// The product description codes gmp prints, one per product (stage and product kind).
///
/// ICCBBA assigns these codes from its product description database; a facility sets the
/// codes ICCBBA assigned to its products in its configuration (`product_codes`). Until it
/// does, a product gets a placeholder from `placeholders` (in the "S", cellular therapy,
/// range), and its labels say they are not for clinical use.
public enum ProductDescriptionCodes {
    /// The placeholder codes, by product ("stage/product_kind"); also the list of products.
    public static let placeholders: [String: String] = [
        "master_cell_bank/cells": "S9001", "working_cell_bank/cells": "S9002", "drug_product/cells": "S9003",
        "master_cell_bank/conditioned_medium": "S9011", "working_cell_bank/conditioned_medium": "S9012",
        "drug_product/conditioned_medium": "S9013",
        "master_cell_bank/extracellular_vesicles": "S9021", "working_cell_bank/extracellular_vesicles": "S9022",
        "drug_product/extracellular_vesicles": "S9023",
    ]

    /// The products a facility names a code for, as configuration keys: "master_cell_bank/cells" ….
    public static var products: [String] { placeholders.keys.sorted() }

    public static func product(stage: String, productKind: String) -> String { "\(stage)/\(productKind)" }

    /// The configured code of a product, else its placeholder; nil for an unknown product.
    public static func code(stage: String, productKind: String, configured: [String: String] = [:]) -> String? {
        let product = product(stage: stage, productKind: productKind)
        guard let placeholder = placeholders[product] else { return nil }
        return configured[product] ?? placeholder
    }

    /// Whether `code` is one of gmp's placeholders rather than a code ICCBBA assigned.
    public static func isPlaceholder(_ code: String) -> Bool { placeholders.values.contains(code) }

    /// An ISBT 128 product description code: one capital letter and four digits (S1234).
    public static func isWellFormed(_ code: String) -> Bool {
        let scalars = Array(code.unicodeScalars)
        return scalars.count == 5 && ("A"..."Z").contains(scalars[0]) && scalars.dropFirst().allSatisfy { ("0"..."9").contains($0) }
    }
}

/// Why a label cannot be made.
public enum LabelError: Error, Sendable, Equatable, CustomStringConvertible {
    case noProductCode(stage: String, productKind: String)
    case divisionOutOfRange
    case badDate(String)

    public var description: String {
        switch self {
        case .noProductCode(let stage, let kind): "no ISBT 128 product description code for \(kind) at stage \(stage)"
        case .divisionOutOfRange: "a unit's division must be 1 to 702 to have an ISBT 128 division code"
        case .badDate(let text): "not a date: \(text)"
        }
    }
}
