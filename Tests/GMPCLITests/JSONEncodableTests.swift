import Foundation
import GMPRules
import Testing
@testable import GMPCLI

/// The `--json` documents gmp builds itself, written without `JSONEncoder` (issue 18):
/// byte for byte what the encoder wrote, through the same one shape (`JSONDocument`).
@Suite("--json documents written without JSONEncoder (issue 18)")
struct JSONEncodableTests {
    /// `lot show --json` as it was: the synthesized `Encodable` through `Output.encoder`.
    struct EncodedLotShow: Encodable {
        let lot: TraceDocument.Lot
        let steps: [TraceDocument.Step]
    }

    static let lotEveryField = #"""
        {"din":"G123426000001","check_character":"4","stage":"drug_product","product_kind":"msc","intended_use":"allogeneic",
         "status":"quarantine","donor":"D26-000001","collection":"C26-000001","parent":"G123426000002",
         "expires_on":"2027-01-31","created_at":"2026-12-04 20:33:56.123+00","eligibility":"eligible","consent_withdrawn":false,
         "reactive_tests":["HBsAg","anti-HCV"],"units":10,"unit_volume_ml":"1.50","cryopreserved_at":"2026-12-05T01:02:03Z",
         "last_step":"harvest","whereabouts":[{"unit":"G123426000001-01","division":1,"container":"bag","state":"stored",
         "since":"2026-12-05T01:02:03+00:00","location":"SITE-A › LN2-01","position":"A1","device":"LN2-01","person":"casey",
         "party":"courier \"X\"","shipment":"S-1","consignee":"Clinic é","received_at":"2026-12-06T00:00:00Z"}]}
        """#
    static let lotNoOptional = #"""
        {"din":"G123426000001","check_character":"4","stage":"drug_product","product_kind":"msc","intended_use":"allogeneic",
         "status":"quarantine","donor":"D26-000001","collection":"C26-000001","parent":null,"expires_on":"2027-01-31",
         "created_at":"2026-12-04T20:33:56Z","eligibility":null,"consent_withdrawn":true,"reactive_tests":[]}
        """#
    static let steps = #"""
        [{"kind":"seeding","performed_at":"2026-12-01T08:00:00.5+00:00","performed_by":"ren","passage":0,
          "cell_count":"12000000","viability_percent":"98.50","population_doublings":"0","cumulative_doublings":"1.25",
          "units":null,"unit_volume_ml":null,"note":"line\nbreak \\ tab\t"},
         {"kind":"harvest","performed_at":"2026-12-04T08:00:00Z","performed_by":"ren","units":10,"unit_volume_ml":"1.5"}]
        """#

    @Test("lot show --json: every field, and every optional absent, as JSONEncoder wrote them")
    func lotShow() throws {
        let steps = try [TraceDocument.Step](jsonText: Self.steps)
        for text in [Self.lotEveryField, Self.lotNoOptional] {
            let lot = try TraceDocument.Lot(jsonText: text)
            for steps in [steps, []] {
                let before = String(decoding: try Output.encoder.encode(EncodedLotShow(lot: lot, steps: steps)), as: UTF8.self)
                let now = JSONDocument(LotShow.Document(lot: lot, steps: steps).jsonValue).text
                #expect(now == (try JSONDocument(parsing: before).text))
            }
        }
        // Not vacuous: the document has what the lot has, and leaves out what it has not.
        let every = JSONDocument(LotShow.Document(lot: try TraceDocument.Lot(jsonText: Self.lotEveryField), steps: steps).jsonValue).text
        #expect(every.contains(#""unit_volume_ml" : "1.50""#) && every.contains(#""parent" : "G123426000002"#))
        #expect(every.contains(#""received_at" : "2026-12-06T00:00:00.000000Z""#))
        let bare = JSONDocument(LotShow.Document(lot: try TraceDocument.Lot(jsonText: Self.lotNoOptional), steps: []).jsonValue).text
        #expect(!bare.contains("parent") && !bare.contains("whereabouts") && bare.contains(#""steps" : []"#))
    }

    @Test("db status --json: the document as JSONEncoder wrote it, nil fields left out")
    func dbStatus() throws {
        let document = StatusDocument(
            target: TargetDocument(kind: "embedded", dataDirectory: "/var/lib/gmp", source: nil),
            server: ServerDocument(version: "15.18", database: "gmp", user: "gmp_owner"),
            schema: SchemaDocument(version: 37, latestKnown: 38, upToDate: false,
                                   applied: [.init(version: 1, name: "baseline", checksum: "ab12", appliedAt: "2026-12-04T20:33:56.123456Z",
                                                   appliedBy: "gmp_owner")],
                                   pending: [.init(version: 38, name: "scans")], pendingCode: ["15_trace.sql"], problems: ["V2 x changed"]))
        #expect(JSONDocument(document.jsonValue).text == """
            {
              "schema" : {
                "applied" : [
                  {
                    "applied_at" : "2026-12-04T20:33:56.123456Z",
                    "applied_by" : "gmp_owner",
                    "checksum" : "ab12",
                    "name" : "baseline",
                    "version" : 1
                  }
                ],
                "latest_known" : 38,
                "pending" : [
                  {
                    "name" : "scans",
                    "version" : 38
                  }
                ],
                "pending_code" : [
                  "15_trace.sql"
                ],
                "problems" : [
                  "V2 x changed"
                ],
                "up_to_date" : false,
                "version" : 37
              },
              "server" : {
                "database" : "gmp",
                "user" : "gmp_owner",
                "version" : "15.18"
              },
              "target" : {
                "data_directory" : "/var/lib/gmp",
                "kind" : "embedded"
              }
            }
            """)
        let configured = TargetDocument(kind: "configured", dataDirectory: nil, source: "GMP_DATABASE")
        #expect(JSONDocument(configured.jsonValue).text == "{\n  \"kind\" : \"configured\",\n  \"source\" : \"GMP_DATABASE\"\n}")
    }
}
