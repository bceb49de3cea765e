import Foundation  // JSONSerialization, to read the document back as any JSON client would
import GMPRules
import PostgresClient
import Testing

@Suite("Specification import document")
struct SpecificationDocumentTests {
    typealias F = SpecFixtures

    @Test("the contract's first criterion, byte for byte")
    func contractShape() throws {
        let spec = try SpecificationFile.parse(F.file(criterion: "unit: \"%\"\nat_least: 95.0"))
        #expect(SpecificationDocument.json(for: spec) == """
            {"code":"T-1","title":"Test specification","product_kind":"cells","stage":"drug_product","criteria":[\
            {"test":"t","name":"Test","method":"Method","kind":"lower","unit":"%","lower":"95.0","lower_inclusive":true,\
            "upper":null,"upper_inclusive":null,"accept":null,"parts":null,"detection_limit":null,"endotoxin_k":null,\
            "endotoxin_k_intrathecal":null,"max_retests":1,"max_dose_min":null,"max_dose_max":null,"max_dose_unit":null}]}
            """)
    }

    @Test("every kind fills its own keys, numbers as typed strings, criteria in file order")
    func everyKind() throws {
        let spec = try SpecificationFile.parse(SpecificationFileTests.contractExample)
        let data = Data(SpecificationDocument.json(for: spec).utf8)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let criteria = try #require(document["criteria"] as? [[String: Any]])
        #expect(criteria.map { $0["test"] as? String } == spec.criteria.map(\.test))
        let keys = ["test", "name", "method", "kind", "unit", "lower", "lower_inclusive", "upper", "upper_inclusive",
                    "accept", "parts", "detection_limit", "endotoxin_k", "endotoxin_k_intrathecal", "max_retests",
                    "max_dose_min", "max_dose_max", "max_dose_unit"]
        #expect(criteria.allSatisfy { Set($0.keys) == Set(keys) })
        #expect(criteria[2]["lower"] as? String == "45" && criteria[2]["upper"] as? String == "60.5")
        #expect(criteria[2]["upper_inclusive"] as? Bool == false && criteria[2]["max_retests"] as? Int == 2)
        #expect(criteria[4]["parts"] as? [String] == ["osteogenic", "adipogenic", "chondrogenic"])
        #expect(criteria[4]["unit"] is NSNull)
        #expect(criteria[5]["detection_limit"] as? String == "50")
        #expect(criteria[6]["endotoxin_k_intrathecal"] as? String == "0.2")
        #expect(criteria[6]["max_dose_min"] as? String == "0.1" && criteria[6]["max_dose_max"] as? String == "4")
        #expect(criteria[6]["max_dose_unit"] as? String == "mL/kg/h" && criteria[5]["max_dose_unit"] is NSNull)
    }

    @Test("text is escaped for JSON and the output is deterministic")
    func escaping() throws {
        let text = F.file(criterion: "unit: \"%\"\nat_least: 95")
            .replacingOccurrences(of: "title: Test specification", with: #"title: "Say \"hi\" \\ now\ttab""#)
        let spec = try SpecificationFile.parse(text)
        let json = SpecificationDocument.json(for: spec)
        #expect(json.contains(#""title":"Say \"hi\" \\ now\ttab""#))
        #expect(json == SpecificationDocument.json(for: try SpecificationFile.parse(text)))
    }

    @Test("every shipped file encodes to valid JSON", arguments: ShippedSpecificationTests.files)
    func shipped(file: String) throws {
        let json = SpecificationDocument.json(for: try ShippedSpecificationTests.load(file))
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any])
    }
}
