/// One printed label: a lot's, or one unit's, with the eye-readable text and the ISBT 128
/// data structures its bar codes carry. Built from the record, never typed.
public struct ProductLabel: Sendable, Equatable, Encodable {
    /// "G1234 26 000001 4" or "G1234 26 000001 4-003".
    public let id: String
    /// The DIN as stored, 13 characters.
    public let din: String
    /// The unit's division, nil for the lot as a whole.
    public let division: Int?
    public let product: String
    public let expiresOn: String
    /// Status and warning statements (`LabelStatements`, `UnitLabel`).
    public let statements: [String]
    /// Data structure 001: DIN and flags.
    public let dinData: String
    /// Data structure 003.
    public let productCodeData: String
    /// Data structure 004.
    public let expirationData: String
    /// Whether the product code is one of gmp's placeholders, not the code ICCBBA assigned
    /// (`ProductDescriptionCodes`): such a label says it is not for clinical use.
    public let placeholderProductCode: Bool

    /// What a label with a placeholder product code says, on the sheet and in ZPL.
    public static let placeholderWarning = "PLACEHOLDER PRODUCT CODE — not for clinical use"

    public init(din: DonationIdentificationNumber, division: Int?, stage: String, productKind: String,
                intendedUse: String, expiresOn: String, statements: [String],
                productCodes: [String: String] = [:]) throws(LabelError) {
        self.din = din.value
        self.division = division
        id = din.eyeReadable + (division.map { "-" + UnitIdentifier.threeDigits($0) } ?? "")
        product = ProductNames.name(stage: stage, productKind: productKind)
        self.expiresOn = expiresOn
        self.statements = statements
        dinData = ISBT128.DonationIdentification(din).data
        let code = try ISBT128.ProductCode(stage: stage, productKind: productKind, intendedUse: intendedUse,
                                           division: division, configured: productCodes)
        productCodeData = code.data
        placeholderProductCode = ProductDescriptionCodes.isPlaceholder(code.descriptionCode)
        expirationData = try ISBT128.ExpirationDate(isoDate: expiresOn).data
    }

    /// The three structures in one compound message, for the DataMatrix symbol.
    public var compoundData: String { ISBT128.compoundMessage([dinData, productCodeData, expirationData]) }

    /// The label as Zebra Programming Language for a 4 × 2 inch label at 203 dpi: the DIN,
    /// product code and expiry as Code 128 (`^BC`), all three in a DataMatrix (`^BX`), and
    /// the eye-readable text. Field data goes through `^FH` hex escapes, so no value can
    /// end a field or start a command.
    public var zpl: String {
        var lines = ["^XA", "^CI28", "^PW812", "^LL406", "^LH0,0"]
        func text(_ x: Int, _ y: Int, _ height: Int, _ value: String) {
            lines.append("^FO\(x),\(y)^A0N,\(height),\(height)^FH^FD\(Self.fieldData(value))^FS")
        }
        func code128(_ x: Int, _ y: Int, _ value: String) {
            // ">:" starts Code 128 subset B, so the data is encoded exactly as given.
            lines.append("^FO\(x),\(y)^BY2^BCN,60,N,N,N^FH^FD>:\(Self.fieldData(value))^FS")
        }
        code128(20, 15, dinData)
        text(20, 80, 28, id)
        code128(20, 120, productCodeData)
        text(20, 185, 22, product)
        code128(20, 215, expirationData)
        text(20, 280, 22, "EXP \(expiresOn)")
        for (index, statement) in statements.prefix(3).enumerated() { text(20, 310 + 26 * index, 20, statement) }
        if placeholderProductCode { text(20, 388, 16, Self.placeholderWarning) }
        lines.append("^FO600,20^BXN,6,200^FH^FD\(Self.fieldData(compoundData))^FS")
        lines.append("^XZ")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `^FH` field data: "^", "~" and "_" (the hex indicator) and every non-printable or
    /// non-ASCII byte written as `_XX`.
    static func fieldData(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            if (0x20...0x7e).contains(byte) && byte != UInt8(ascii: "^") && byte != UInt8(ascii: "~") && byte != UInt8(ascii: "_") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF")
                out += "_" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xf)])
            }
        }
        return out
    }
}
