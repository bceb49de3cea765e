import Foundation
import Testing
@testable import GMPCLI

@Suite("CSV and JSON as gmp writes them (issue 16, items 3 and 7)")
struct OutputFormatTests {
    @Test("formula-like values get a leading quote; plain numbers, dates and text stay; RFC 4180 quoting")
    func csvFields() {
        #expect(CSV.field("=1+1") == "'=1+1")
        #expect(CSV.field("+41 22 000") == "'+41 22 000")
        #expect(CSV.field("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSV.field("-1+2") == "'-1+2")
        #expect(CSV.field("\t=cmd") == "'\t=cmd")
        #expect(CSV.field("\r=cmd") == "\"'\r=cmd\"")
        #expect(CSV.field("-150") == "-150")
        #expect(CSV.field("-0.5") == "-0.5")
        #expect(CSV.field("2026-12-04") == "2026-12-04")
        #expect(CSV.field("a, \"b\"") == "\"a, \"\"b\"\"\"")
        #expect(CSV.field("one\r\ntwo") == "\"one\r\ntwo\"", "CRLF is one Character: still quoted")
        #expect(CSV.line(["=x", "y"]) == "'=x,y\r\n")
    }

    @Test("JSON documents: keys sorted at every level, timestamps in one shape, numbers and text kept exactly")
    func jsonShape() throws {
        let text = """
            {"z": 1.50, "a": {"y": "2026-12-04T20:33:56.12+01:00", "b": "2026-12-04 19:33:56.5+00"},
             "m": ["2026-12-04", "D26-000001", "x\\"\\u00e9\\n", true, null, -3e2], "k": "2026-12-04T19:33:56Z"}
            """
        let normalised = try JSONDocument(parsing: text).text
        #expect(normalised == """
            {
              "a" : {
                "b" : "2026-12-04T19:33:56.500000Z",
                "y" : "2026-12-04T19:33:56.120000Z"
              },
              "k" : "2026-12-04T19:33:56.000000Z",
              "m" : [
                "2026-12-04",
                "D26-000001",
                "x\\"é\\n",
                true,
                null,
                -3e2
              ],
              "z" : 1.50
            }
            """)
        let lots = try JSONDocument(parsing: #"{"lot": "G123426000001", "lots": ["G123426000001", "x"], "din": "G123426000001"}"#)
        #expect(lots.text.contains(#""lot" : "G1234260000014""#) && lots.text.contains(#""din" : "G123426000001""#), "\(lots.text)")
        #expect(lots.text.contains(#""G1234260000014","#), "\(lots.text)")
        #expect(throws: JSONDocument.Malformed.self) { try JSONDocument(parsing: "{\"events\": [") }
        #expect(throws: JSONDocument.Malformed.self) { try JSONDocument(parsing: "{} {}") }
    }

    @Test("JSON numbers, read without a regex (issue 18): every RFC 8259 form kept as written, anything else refused")
    func jsonNumbers() throws {
        for number in ["0", "-0", "7", "-150", "1.50", "0.000", "-3e2", "1E+10", "2.5e-3", "123456789012345678901234567890"] {
            #expect(try JSONDocument(parsing: "[\(number)]").text == "[\n  \(number)\n]", "\(number)")
        }
        for malformed in ["01", "-", "+1", ".5", "1.", "1.e3", "1e", "1e+", "--1", "1.2.3", "0x10", "1,", "- 1"] {
            #expect(throws: JSONDocument.Malformed.self, "\(malformed)") { try JSONDocument(parsing: "[\(malformed)]") }
        }
    }
}
