#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import Testing

/// The server's documents read by hand (`JSONDecodable`, issue 18) instead of by
/// `JSONDecoder`: the same values for every field of every type, the same refusals, and a
/// clear error, never a crash, for a document that does not fit.
@Suite("Server documents read without JSONDecoder (issue 18)")
struct JSONDecodableTests {
    /// What `JSONDecoder` with `.convertFromSnakeCase` (what gmp used before) made of `text`,
    /// and what the hand-written reader makes of it, both written back by one encoder with
    /// sorted keys: equal texts mean equal values, field by field.
    static func bothWays<T: Codable & JSONDecodable>(_ type: T.Type, _ text: String) throws -> (foundation: String, handWritten: String) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let foundation = try encoder.encode(try decoder.decode(T.self, from: Data(text.utf8)))
        let handWritten = try encoder.encode(try T(jsonText: text))
        return (String(decoding: foundation, as: UTF8.self), String(decoding: handWritten, as: UTF8.self))
    }

    @Test("every field of the trace, material and release documents reads as JSONDecoder read it: present, null, absent")
    func sameAsFoundation() throws {
        let cases: [(String, () throws -> (foundation: String, handWritten: String))] = [
            ("lot trace, every field", { try Self.bothWays(TraceDocument.LotTrace.self, Fixture.lotTraceFull) }),
            ("lot trace, optionals absent", { try Self.bothWays(TraceDocument.LotTrace.self, Fixture.lotTraceAbsent) }),
            ("donor trace, optionals null", { try Self.bothWays(TraceDocument.DonorTrace.self, Fixture.donorTraceNull) }),
            ("material trace, every field", { try Self.bothWays(MaterialDocument.Trace.self, Fixture.materialTraceFull) }),
            ("material trace, optionals null", { try Self.bothWays(MaterialDocument.Trace.self, Fixture.materialTraceNull) }),
            ("release check, every field", { try Self.bothWays(ReleaseCheck.self, Fixture.releaseCheckFull) }),
            ("release check, optionals null", { try Self.bothWays(ReleaseCheck.self, Fixture.releaseCheckNull) }),
        ]
        for (name, read) in cases {
            let (foundation, handWritten) = try read()
            #expect(handWritten == foundation, "\(name)")
        }
        // The fixtures reach every kind of field: an exact 64-bit id, a nested optional
        // object, arrays of objects and of strings, and a field named with digits.
        let full = try TraceDocument.LotTrace(jsonText: Fixture.lotTraceFull)
        #expect(full.collection.eligibility?.determination == 9_007_199_254_740_993)
        #expect(full.lot.whereabouts?.first?.receivedAt == "receivedAt")
        #expect(full.lot.reactiveTests == ["reactiveTests"])
        #expect(full.materials?.first?.certificateSha256 == "certificateSha256")
        let absent = try TraceDocument.LotTrace(jsonText: Fixture.lotTraceAbsent)
        #expect(absent.lot.parent == nil && absent.lot.units == nil && absent.materials == nil)
        let release = try ReleaseCheck(jsonText: Fixture.releaseCheckFull)
        #expect(release.dose?.maxDoseMlPerKgH == "maxDoseMlPerKgH" && release.packageSha256 == "packageSha256")
        #expect(try ReleaseCheck(jsonText: Fixture.releaseCheckNull).dose == nil)
    }

    @Test("an optional field absent or null is nil; a required one missing or null is an error naming where")
    func absentAndNull() throws {
        let step = try TraceDocument.Step(jsonText: #"{"kind":"harvest","performed_at":"t","performed_by":"p","passage":null,"extra":1}"#)
        #expect(step.kind == "harvest" && step.passage == nil && step.cellCount == nil && step.note == nil)
        #expect(throws: JSONDecodingError(path: "performed_by", "missing")) {
            try TraceDocument.Step(jsonText: #"{"kind":"harvest","performed_at":"t"}"#)
        }
        #expect(throws: JSONDecodingError(path: "performed_by", "null where a value is required")) {
            try TraceDocument.Step(jsonText: #"{"kind":"harvest","performed_at":"t","performed_by":null}"#)
        }
        // Deep in a document: the path leads to the field.
        let broken = Fixture.lotTraceAbsent.replacing(#""kind":"kind""#, with: #""kind":true"#)
        let error = try #require(throws: JSONDecodingError.self) { try TraceDocument.LotTrace(jsonText: broken) }
        #expect(error.path == "steps[0].kind")
        #expect(error.description == "unexpected JSON document at steps[0].kind: expected a string, found true")
        #expect(throws: JSONDecodingError(path: "", "expected an object, found an array")) { try TraceDocument.Step(jsonText: "[]") }
        #expect(throws: JSONDecodingError(path: "consent_withdrawn", "expected true or false, found a string")) {
            try TraceDocument.Donor(jsonText: #"{"code":"D","intended_use":"a","living":true,"registered_at":"t","consents":[],"consent_withdrawn":"no"}"#)
        }
    }

    @Test("numbers keep their exact text; integers are whole and in range")
    func exactNumbers() throws {
        #expect(try JSONValue(parsing: "[1.50, -0.0, 12345678901234567890.000000000001, 1e400]")
            == .array([.number("1.50"), .number("-0.0"), .number("12345678901234567890.000000000001"), .number("1e400")]))
        // A decimal read into a String field is its text, never a double's rounding.
        #expect(try String(json: .number("0.30000000000000001")) == "0.30000000000000001")
        #expect(try Int64(json: .number("9223372036854775807")) == Int64.max)
        #expect(try Int64(json: .number("-9007199254740993")) == -9_007_199_254_740_993)
        for notWhole in ["3.0", "3e0", "9223372036854775808"] {
            #expect(throws: JSONDecodingError(path: "", "expected an integer, found the number \(notWhole)")) {
                try Int64(json: .number(notWhole))
            }
        }
        #expect(throws: JSONDecodingError.self) { try Int(json: .string("3")) }
    }

    @Test("string escapes, \\u escapes and surrogate pairs read as JSON defines them")
    func unicodeEscapes() throws {
        #expect(try JSONValue(parsing: #""caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n\t""#) == .string("café 😀 \"q\" \\ / \n\t"))
        #expect(try JSONValue(parsing: "\"naïve 😀\"") == .string("naïve 😀"))
        let step = try TraceDocument.Step(jsonText: #"{"kind":"\u0068arvest","performed_at":"t","performed_by":"Ren\u00e9e"}"#)
        #expect(step.kind == "harvest" && step.performedBy == "Renée")
    }

    @Test("malformed text is an error at a byte offset, never a crash")
    func malformed() throws {
        let texts = ["", " ", "{", "}", "[1,]", "[1 2]", #"{"a" 1}"#, #"{"a":}"#, #"{a:1}"#, "tru", "nul", "\"abc",
                     "{} {}", "01", "-", "1.", "1e", "+1", "\"\u{01}\"", #""\ud83d""#, #""\ud83dx""#, #""\u12G4""#,
                     #""\x""#, "[" + String(repeating: "[", count: 100) + "]"]
        for text in texts {
            #expect(throws: JSONValue.Malformed.self, "\(text)") { try JSONValue(parsing: text) }
            #expect(throws: JSONValue.Malformed.self, "\(text)") { try TraceDocument.LotTrace(jsonText: text) }
        }
        #expect(throws: JSONValue.Malformed(offset: 3)) { try JSONValue(parsing: "[1 2]") }
    }
}

/// Documents with every field of every type, generated from the model types: each string
/// is its field's Swift name, so a key read under the wrong name shows.
private enum Fixture {
    static let lotTraceFull = #"""
        {"lot":{"din":"din","check_character":"checkCharacter","stage":"stage","product_kind":"productKind",
        "intended_use":"intendedUse","status":"status","donor":"donor","collection":"collection","parent":"parent",
        "expires_on":"expiresOn","created_at":"createdAt","eligibility":"eligibility","consent_withdrawn":true,
        "reactive_tests":["reactiveTests"],"units":7,"unit_volume_ml":"unitVolumeMl",
        "cryopreserved_at":"cryopreservedAt","last_step":"lastStep","whereabouts":[{"unit":"unit","division":7,
        "container":"container","state":"state","since":"since","location":"location","position":"position",
        "device":"device","person":"person","party":"party","shipment":"shipment","consignee":"consignee",
        "received_at":"receivedAt"}]},"lineage":[{"din":"din","check_character":"checkCharacter","stage":"stage",
        "status":"status"}],"steps":[{"kind":"kind","performed_at":"performedAt","performed_by":"performedBy",
        "passage":7,"cell_count":"cellCount","viability_percent":"viabilityPercent",
        "population_doublings":"populationDoublings","cumulative_doublings":"cumulativeDoublings","units":7,
        "unit_volume_ml":"unitVolumeMl","note":"note"}],"collection":{"id":"id","donor":"donor","source":"source",
        "site":"site","collected_at":"collectedAt","collector":"collector","amount":"amount",
        "amount_unit":"amountUnit","transport_conditions":"transportConditions","received_at":"receivedAt",
        "received_by":"receivedBy","receipt_condition":"receiptCondition","eligibility":{"outcome":"outcome",
        "determination":9007199254740993,"signed_by":"signedBy","signed_at":"signedAt","signature_intact":true,
        "problems":["problems"]}},"donor":{"code":"code","intended_use":"intendedUse","living":true,
        "birth_mother":"birthMother","registered_at":"registeredAt","consents":[{"donor":"donor","given_on":"givenOn",
        "scope":"scope","taken_by":"takenBy","withdrawn_on":"withdrawnOn"}],"consent_withdrawn":true},
        "screening":[{"donor":"donor","test":"test","result":"result","test_kit":"testKit","specimen_on":"specimenOn",
        "analyst":"analyst"}],"materials":[{"material_lot":"materialLot","type":"type","supplier":"supplier",
        "supplier_lot":"supplierLot","expires_on":"expiresOn","certificate_sha256":"certificateSha256","lot":"lot",
        "quantity":"quantity","unit":"unit","used_at":"usedAt","step_id":9007199254740993,
        "result_id":9007199254740993}],"equipment":[{"equipment":"equipment","kind":"kind","name":"name","lot":"lot",
        "used_at":"usedAt","step_id":9007199254740993,"result_id":9007199254740993}]}
        """#

    static let lotTraceAbsent = #"""
        {"lot":{"din":"din","check_character":"checkCharacter","stage":"stage","product_kind":"productKind",
        "intended_use":"intendedUse","status":"status","donor":"donor","collection":"collection",
        "expires_on":"expiresOn","created_at":"createdAt","consent_withdrawn":true,
        "reactive_tests":["reactiveTests"]},"lineage":[{"din":"din","check_character":"checkCharacter",
        "stage":"stage","status":"status"}],"steps":[{"kind":"kind","performed_at":"performedAt",
        "performed_by":"performedBy"}],"collection":{"id":"id","donor":"donor","source":"source","site":"site",
        "collected_at":"collectedAt","collector":"collector","amount":"amount","amount_unit":"amountUnit",
        "transport_conditions":"transportConditions"},"donor":{"code":"code","intended_use":"intendedUse",
        "living":true,"registered_at":"registeredAt","consents":[{"donor":"donor","given_on":"givenOn",
        "scope":"scope","taken_by":"takenBy"}],"consent_withdrawn":true},"screening":[{"donor":"donor","test":"test",
        "result":"result","test_kit":"testKit","specimen_on":"specimenOn","analyst":"analyst"}]}
        """#

    static let donorTraceNull = #"""
        {"donor":{"code":"code","intended_use":"intendedUse","living":true,"birth_mother":null,
        "registered_at":"registeredAt","consents":[{"donor":"donor","given_on":"givenOn","scope":"scope",
        "taken_by":"takenBy","withdrawn_on":null}],"consent_withdrawn":true},"newborns":["newborns"],
        "collections":[{"id":"id","donor":"donor","source":"source","site":"site","collected_at":"collectedAt",
        "collector":"collector","amount":"amount","amount_unit":"amountUnit",
        "transport_conditions":"transportConditions","received_at":null,"received_by":null,"receipt_condition":null,
        "eligibility":null}],"lots":[{"din":"din","check_character":"checkCharacter","stage":"stage",
        "product_kind":"productKind","intended_use":"intendedUse","status":"status","donor":"donor",
        "collection":"collection","parent":null,"expires_on":"expiresOn","created_at":"createdAt","eligibility":null,
        "consent_withdrawn":true,"reactive_tests":["reactiveTests"],"units":null,"unit_volume_ml":null,
        "cryopreserved_at":null,"last_step":null,"whereabouts":null}]}
        """#

    static let materialTraceFull = #"""
        {"material":{"id":"id","type":"type","name":"name","category":"category","supplier":"supplier",
        "manufacturer":"manufacturer","supplier_lot":"supplierLot","quantity":"quantity","unit":"unit",
        "received_at":"receivedAt","received_by":"receivedBy","receipt_condition":"receiptCondition",
        "expires_on":"expiresOn","days_after_opening":7,"opened_at":"openedAt","use_by":"useBy",
        "certificate_sha256":"certificateSha256","storage_condition":"storageCondition","status":"status",
        "usable_now":true,"dispositions":[{"id":9007199254740993,"decision":"decision","reason":"reason",
        "decided_by":"decidedBy","decided_at":"decidedAt","signature_id":9007199254740993,"signature_intact":true}],
        "consumptions":[{"id":9007199254740993,"material_lot":"materialLot","lot":"lot","quantity":"quantity",
        "unit":"unit","used_at":"usedAt","step":"step","step_id":9007199254740993,"test":"test",
        "result_id":9007199254740993,"recorded_by":"recordedBy"}]},"consumptions":[{"id":9007199254740993,
        "material_lot":"materialLot","lot":"lot","quantity":"quantity","unit":"unit","used_at":"usedAt","step":"step",
        "step_id":9007199254740993,"test":"test","result_id":9007199254740993,"recorded_by":"recordedBy"}],
        "lots":[{"din":"din","check_character":"checkCharacter","stage":"stage","product_kind":"productKind","status":"status","via":"via",
        "consumed":true,"whereabouts":[{"unit":"unit","division":7,"container":"container","state":"state",
        "since":"since","location":"location","position":"position","device":"device","person":"person",
        "party":"party","shipment":"shipment","consignee":"consignee","received_at":"receivedAt"}]}]}
        """#

    static let materialTraceNull = #"""
        {"material":{"id":"id","type":"type","name":"name","category":"category","supplier":"supplier",
        "manufacturer":null,"supplier_lot":"supplierLot","quantity":"quantity","unit":"unit",
        "received_at":"receivedAt","received_by":"receivedBy","receipt_condition":"receiptCondition",
        "expires_on":"expiresOn","days_after_opening":null,"opened_at":null,"use_by":"useBy",
        "certificate_sha256":"certificateSha256","storage_condition":"storageCondition","status":"status",
        "usable_now":true,"dispositions":[{"id":9007199254740993,"decision":"decision","reason":null,
        "decided_by":"decidedBy","decided_at":"decidedAt","signature_id":null,"signature_intact":null}],
        "consumptions":null},"consumptions":[{"id":9007199254740993,"material_lot":"materialLot","lot":"lot",
        "quantity":"quantity","unit":"unit","used_at":"usedAt","step":null,"step_id":null,"test":null,
        "result_id":null,"recorded_by":"recordedBy"}],"lots":[{"din":"din","check_character":"checkCharacter",
        "stage":"stage","product_kind":"productKind","status":"status","via":null,"consumed":true,"whereabouts":null}]}
        """#

    static let releaseCheckFull = #"""
        {"lot":{"din":"din","keyed_id":"keyedId","stage":"stage","product_kind":"productKind",
        "intended_use":"intendedUse","donor_code":"donorCode","collection_id":"collectionId","parent_din":"parentDin",
        "expires_on":"expiresOn","manufactured_on":"manufacturedOn","units":7,"unit_volume_ml":"unitVolumeMl"},
        "specification":{"id":"id","code":"code","version":7,"title":"title","approved_at":"approvedAt",
        "approved_by":"approvedBy","criteria_sha256":"criteriaSha256"},
        "dose":{"max_dose_ml_per_kg_h":"maxDoseMlPerKgH","intrathecal":true,"unit":"unit","set_by":"setBy",
        "set_at":"setAt","signed_by":"signedBy","signed_at":"signedAt","signature_id":9007199254740993,
        "permitted":[{"test":"test","min":"min","max":"max"}]},"evaluation":[{"ordinal":7,"test":"test","name":"name",
        "method":"method","limit_text":"limitText","unit":"unit","parts":["parts"],"verdict":"verdict",
        "results":[{"id":9007199254740993,"attempt":7,"corrects":9007199254740993,
        "correction_reason":"correctionReason","qualifier":"qualifier","value":"value","unit":"unit",
        "outcomes":["outcomes"],"method":"method","instrument":"instrument","analyst":"analyst",
        "performed_at":"performedAt","recorded_by":"recordedBy","verdict":"verdict","deviation_id":"deviationId",
        "superseded":true,"counted":true,"verified_by":"verifiedBy","verified_at":"verifiedAt",
        "invalidated_by":"invalidatedBy","assignable_cause":"assignableCause"}]}],"deviations":[{"id":"id",
        "kind":"kind","title":"title","status":"status","outcome":"outcome","closed_at":"closedAt",
        "closed_by":"closedBy"}],"eligibility":{"determination_id":9007199254740993,"outcome":"outcome",
        "signed_by":"signedBy","signed_at":"signedAt"},"blockers":[{"kind":"kind","item":"item","problem":"problem"}],
        "status":"status","status_problem":"statusProblem","releasable":true,"package_sha256":"packageSha256"}
        """#

    static let releaseCheckNull = #"""
        {"lot":{"din":"din","keyed_id":"keyedId","stage":"stage","product_kind":"productKind",
        "intended_use":"intendedUse","donor_code":"donorCode","collection_id":"collectionId","parent_din":null,
        "expires_on":"expiresOn","manufactured_on":null,"units":null,"unit_volume_ml":null},"specification":null,
        "dose":null,"evaluation":[{"ordinal":7,"test":"test","name":"name","method":"method","limit_text":"limitText",
        "unit":null,"parts":null,"verdict":"verdict","results":[{"id":9007199254740993,"attempt":7,"corrects":null,
        "correction_reason":null,"qualifier":null,"value":null,"unit":null,"outcomes":null,"method":"method",
        "instrument":null,"analyst":"analyst","performed_at":"performedAt","recorded_by":"recordedBy",
        "verdict":"verdict","deviation_id":null,"superseded":true,"counted":true,"verified_by":null,
        "verified_at":null,"invalidated_by":null,"assignable_cause":null}]}],"deviations":[{"id":"id","kind":"kind",
        "title":"title","status":"status","outcome":null,"closed_at":null,"closed_by":null}],"eligibility":null,
        "blockers":[{"kind":"kind","item":"item","problem":"problem"}],"status":"status","status_problem":null,
        "releasable":true,"package_sha256":"packageSha256"}
        """#
}
