import Testing
@testable import GMPCLI

/// The one-pass re-writer of server documents (`JSONDocument.rewritten`, issue 14): byte
/// for byte what the tree's way writes, or nil (the tree's way then) where it bails.
@Suite("JSON documents re-written straight from their bytes (issue 14)")
struct JSONRewriterTests {
    /// The tree's way, the reference.
    static func viaTree(_ text: String) throws -> [UInt8] {
        try JSONDocument(parsing: text).bytes(end: UInt8(ascii: "\n"))
    }

    @Test("the same bytes as the tree: sorted and unsorted keys at every depth, timestamps, DINs, numbers, literals, hostile strings")
    func sameBytesAsTheTree() throws {
        let documents = [
            #"{"material" : {"id": "MAT26-00002", "unit": "mL", "opened_at": null, "received_at": "2025-10-31T00:02:00+00:00", "dispositions": [{"id": 2, "reason": "a \"quoted\" \\ reason\n", "decided_at": "2025-11-01 00:02:00.5+01"}], "quantity": "1.50"}, "consumptions" : [{"id": 1000000, "lot": "G123426030001", "step_id": 865}], "lots" : [{"din" : "G123426030001", "check_character" : "J", "via" : null, "consumed" : true, "whereabouts" : [{"unit":"G123426030001-001","state":"in_hand","person":"bench_operator"},{"unit":"U-2","state":"delivered","consignee":"Hôpital \"Saint\" \\ Jean\u0001\t","received_at":"2026-12-04T19:33:56Z"}]}]}"#,
            #"{"z": 1.50, "a": {"y": "2026-12-04T20:33:56.12+01:00", "b": "2026-12-04 19:33:56.5+00"}, "m": ["2026-12-04", "D26-000001", "x\"\u00e9\n", true, false, null, -3e2, 0, -0, 1E+10, 2.5e-3], "k": "2026-12-04T19:33:56Z"}"#,
            #"{"lot": "G123426000001", "lots": ["G123426000001", "x", ["G123426000001"], {"lot": "G123426000001", "din": "G123426000001"}], "parent": "G12342600000\u0031", "din": "G123426000001", "lo": "G123426000001"}"#,
            #"{"lot": "G12342600000X", "parent": null, "lots": [], "e": {}, "f": [[], {}, [{}]]}"#,
            "  {\r\n\t\"b\" :\n [ 1 ,2 ] , \"a\" : { } }  ",
            #"[]"#, #"{}"#, #""2026-12-04T19:33:56Z""#, #"-12.5e+3"#, #"null"#, #""""#,
            #"{"ab": 1, "a": 2, "b": 3, "aa": 4, "A": 5, "é": 6, "e": 7, "": 8}"#,
            #"{"k": "\ud83d\ude00 \u00e9 ü 日本 \/ \b\f\r", "t": "2026-12-04T19:33:56.1234567+00:00", "n": "2026-13-99T99:99:99 nonsense"}"#,
            #"{"s": "\\\\", "q": "\"", "c": "\u001f\u0000", "w": "2026-12-04 19:33:56+00", "x": "x 2026-12-04T19:33:56Z"}"#,
        ]
        for text in documents {
            let rewritten = try #require(JSONDocument.rewritten(text, end: UInt8(ascii: "\n")), "\(text)")
            #expect(rewritten == (try Self.viaTree(text)), "\(text)")
            #expect(String(decoding: rewritten.dropLast(), as: UTF8.self) == (try JSONDocument(parsing: text).text))
        }
        #expect(JSONDocument.rewritten(#"{"b": [1, 2], "a": null}"#).map { String(decoding: $0, as: UTF8.self) }
                == "{\n  \"a\" : null,\n  \"b\" : [\n    1,\n    2\n  ]\n}")
    }

    @Test("a trace's units in the server's usual shape, written at once, and their near misses: the tree's bytes at every depth")
    func usualUnitsAsTheTree() throws {
        let units = [
            #"{"unit":"G123426030001-001","state":"in_hand","person":"bench_operator"}"#, #"{"unit":"U-1","state":"stored"}"#,
            #"{"unit":"","state":"","person":""}"#, #"{"unit":"Hôpital 日本","state":"in_hand","person":"é"}"#,
            #"{"unit":"2026-12-04T19:33:56+00:00","state":"in_hand"}"#, #"{"unit":"U-1","state":"2026-12-04 19:33:56+00"}"#,
            #"{"unit":"U-1","state":"in_hand","person":"2026-12-04T19:33:56.123Z"}"#,
            // Near misses: spaces, another order, other or more keys, a null, a number, an escape, a key twice.
            #"{"unit": "U-1","state":"in_hand","person":"p"}"#, #"{"unit":"U-1" ,"state":"in_hand"}"#,
            #"{"unit":"U-1","state":"in_hand","person":"p" }"#, #"{"state":"in_hand","unit":"U-1"}"#,
            #"{"unit":"U-1","state":"in_hand","party":"P"}"#, #"{"unit":"U-1","state":"in_hand","person":null}"#,
            #"{"unit":"U-1","state":"in_hand","person":"p","party":"P"}"#, #"{"unit":7,"state":"in_hand"}"#,
            #"{"unit":"U\u002d1","state":"in_hand","person":"p\"q"}"#, #"{"unit":"U-1","state":"in_\u0068and"}"#,
            #"{"unit":"U-1","state":"stored","location":"L","position":"A1"}"#, #"{"unit":"U-1"}"#, #"{"unit":"U-1","state":"s","lot":"G123426000001"}"#,
        ]
        for unit in units {
            for text in [unit, "[" + unit + "," + unit + "]", #"{"lots": [{"din": "G123426030001", "whereabouts": ["# + unit + "]}]}",
                         #"{"a": {"b": {"c": ["# + unit + ", 1]}}}"] {
                let rewritten = try #require(JSONDocument.rewritten(text, end: UInt8(ascii: "\n")), "\(text)")
                #expect(rewritten == (try Self.viaTree(text)), "\(text)")
            }
        }
        #expect(JSONDocument.rewritten(#"[{"unit":"U-1","state":"in_hand","person":"p"}]"#).map { String(decoding: $0, as: UTF8.self) }
                == "[\n  {\n    \"person\" : \"p\",\n    \"state\" : \"in_hand\",\n    \"unit\" : \"U-1\"\n  }\n]")
        #expect(JSONDocument.rewritten(#"{"unit":"U-1","state":"s","state":"t"}"#) == nil)
    }

    @Test("malformed text, an escaped key and a key twice are left to the tree (which throws where the text is wrong)")
    func bails() throws {
        for malformed in ["{\"events\": [", "{} {}", "[01]", "[1.]", "[-]", "[tru]", "[nul]", "{\"a\" 1}", "{\"a\": 1,}", "[1,]",
                          "{a: 1}", "[\"x\ny\"]", "[\"\\x\"]", "[\"open", "", "  ", "[\"\\u12\"]", "{\"a\": 1 \"b\": 2}"] {
            #expect(JSONDocument.rewritten(malformed) == nil, "\(malformed)")
            #expect(throws: JSONDocument.Malformed.self, "\(malformed)") { try JSONDocument(parsing: malformed) }
        }
        for leftToTheTree in [#"{"a\u0062": 1, "b": 2}"#, #"{"a": 1, "a": 2}"#, #"{"b": 1, "a": 2, "b": 3}"#] {
            #expect(JSONDocument.rewritten(leftToTheTree) == nil, "\(leftToTheTree)")
            _ = try JSONDocument(parsing: leftToTheTree).text
        }
    }

    @Test("keys alike in their first eight bytes, long and non-ASCII keys, many members, deep nesting: the tree's bytes; a long key twice: the tree's way")
    func keysAndBuffers() throws {
        let keys = ["material_lot", "material_id", "material", "materials", "abcdefgh", "abcdefghi", "abcdefgi", "é", "e", "z", "",
                    "日本", "unit", "units", "a b", "A"]
        var documents = [
            "{" + keys.map { #""\#($0)": "\#($0)""# }.joined(separator: ", ") + "}",
            "{" + keys.reversed().map { #""\#($0)": [{"\#($0)": 1, "b": 2, "a": 3}]"# }.joined(separator: ", ") + "}",
            // More members than the members' stack first holds, at three depths.
            "{" + (0..<150).reversed().map { #""k\#($0)": {"y\#($0)": \#($0), "x": [\#($0), "s\#($0)"]}"# }.joined(separator: ",") + "}",
            // Output far more than twice the input (the indentation of 200 levels).
            String(repeating: #"{"b":1,"a":["#, count: 200) + "0" + String(repeating: "]}", count: 200),
            // Strings of every length around the scan's eight bytes, with an escape at each place.
            "[" + (0..<30).map { #""\#(String(repeating: "x", count: $0))\"\#(String(repeating: "é", count: $0 % 5))""# }.joined(separator: ",") + "]",
        ]
        documents.append("{" + (0..<20).map { #""\#(String(repeating: "k", count: $0))": \#($0)"# }.reversed().joined(separator: ",") + "}")
        for text in documents {
            let rewritten = try #require(JSONDocument.rewritten(text, end: UInt8(ascii: "\n")), "\(text.prefix(80))")
            #expect(rewritten == (try Self.viaTree(text)), "\(text.prefix(80))")
        }
        for leftToTheTree in [#"{"material_lot": 1, "b": 2, "material_lot": 3}"#, #"{"abcdefghij": 1, "abcdefghij": 2}"#,
                              #"{"z": 1, "é": 2, "a": 3, "é": 4}"#, #"{"": 1, "a": 2, "": 3}"#] {
            #expect(JSONDocument.rewritten(leftToTheTree) == nil, "\(leftToTheTree)")
            _ = try JSONDocument(parsing: leftToTheTree).text
        }
    }

    @Test("runs of the same DIN under lot keys and of the same instant, interleaved and broken, in every shape: the tree's bytes")
    func repeatedLotsAndInstants() throws {
        let lots = ["G123426030001", "G123426030001", "G123426030002", "G12342603000X", "G12342603000X", "G123426030001"]
        let instants = ["2026-02-15T15:55:00+00:00", "2026-02-15T15:55:00+00:00", "2026-02-15 15:55:00+00",
                        "2026-02-15T15:55:00+00:00", "2026-02-15T16:20:00.5+01:00", "2026-02-15T16:20:00.5+01:00"]
        var members: [String] = []
        for (index, (lot, instant)) in zip(lots, instants).enumerated() {
            members.append(#"{"lot": "\#(lot)", "used_at": "\#(instant)", "din": "\#(lot)", "parent": "\#(lots[(index + 1) % lots.count])"}"#)
            members.append(#"{"lots": ["\#(lot)", "\#(lot)"], "at": "\#(instant)", "lot": "\#(instant)"}"#)
        }
        for text in ["[" + members.joined(separator: ", ") + "]", "[" + members.reversed().joined(separator: ", ") + "]"] {
            let rewritten = try #require(JSONDocument.rewritten(text, end: UInt8(ascii: "\n")), "\(text)")
            #expect(rewritten == (try Self.viaTree(text)), "\(text)")
        }
    }
}
