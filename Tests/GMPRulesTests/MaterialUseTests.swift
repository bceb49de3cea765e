import GMPRules
import PostgresClient
import Testing

/// `--material LOT:QUANTITY UNIT`, checked before anything is sent (issue 14).
@Suite("--material: a material lot with its quantity and unit")
struct MaterialUseTests {
    @Test("the lot, an exact quantity and a known unit are read; the space before the unit is optional",
          arguments: ["MAT26-00001:50 mL", "MAT26-00001:50mL", " MAT26-00001 : 50 mL "])
    func accepted(_ text: String) throws {
        let use = try MaterialUse(parsing: text)
        #expect(use == MaterialUse(materialLot: "MAT26-00001", quantity: ExactDecimal("50")!, unit: "mL"))
    }

    @Test("quantities keep their digits")
    func exact() throws {
        #expect(try MaterialUse(parsing: "MAT26-123456:0.250 µL").quantity.description == "0.250")
    }

    static let refused: [(text: String, error: MaterialInputError)] = [
        ("MAT26-1:5 mL", .malformedLot("MAT26-1")),
        ("mat26-00001:5 mL", .malformedLot("mat26-00001")),
        ("MAT26-00001", .missingQuantity("MAT26-00001")),
        ("MAT26-00001: mL", .missingQuantity("MAT26-00001: mL")),
        ("MAT26-00001:0 mL", .malformedQuantity("0")),
        ("MAT26-00001:-2 mL", .malformedQuantity("-2")),
        ("MAT26-00001:1,5 mL", .malformedQuantity("1,5")),
        ("MAT26-00001:1e3 mL", .unknownUnit("e3 mL")),
        ("MAT26-00001:5", .missingUnit("MAT26-00001:5")),
        ("MAT26-00001:5 cups", .unknownUnit("cups")),
    ]

    @Test("malformed entries are refused with their fix", arguments: refused)
    func refusedEntries(_ text: String, _ expected: MaterialInputError) {
        #expect(throws: expected) { try MaterialUse(parsing: text) }
        #expect(expected.description.contains("; fix: "))
    }
}
