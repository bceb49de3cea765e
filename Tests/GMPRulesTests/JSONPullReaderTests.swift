@testable import GMPRules
import Testing

/// The material trace read straight from its bytes (`JSONPullReader`, issue 14): the same
/// values as the tree's way (`JSONDecodable`) for every text it reads, and for every text
/// it stops at, the tree's way's value or error.
@Suite("The material trace read straight from its bytes (issue 14)")
struct JSONPullReaderTests {
    /// A trace as the server writes it (jsonb's key order: by length), with hostile strings.
    static let trace = #"""
        {"lots": [{"din": "G123426030001", "via": null, "stage": "drug_product", "status": "quarantine", "consumed": true,
          "whereabouts": [{"unit": "G123426030001-001", "state": "in_hand", "person": "bench_operator"},
                          {"unit": "U-2", "state": "delivered", "consignee": "H\u00f4pital \"Saint\" \\ Jean\u0001\t", "shipment": "SHP-1",
                           "received_at": "2026-12-04T19:33:56Z", "division": 3, "since": null, "extra": {"a": [1, {"b": null}], "c": "\ud83d\ude00"}},
                          {"unit": "U-3", "state": "stored", "location": "SITE-A \u203a LN2-01 › 日本", "position": "A1"}],
          "product_kind": "cells", "check_character": "J"},
         {"din": "G123426030002", "via": "G123426030001", "stage": "cell_bank", "status": "released", "consumed": false,
          "product_kind": "cells", "check_character": "K", "whereabouts": null},
         {"din": "G123426030003", "stage": "x", "status": "y", "consumed": false, "product_kind": "\/", "check_character": "\\",
          "whereabouts": []}],
         "material": {"id": "MAT26-00002", "name": "Cryo \"DMSO\"\n", "type": "CRYOPROTECTANT", "unit": "mL", "status": "released",
          "category": "cryoprotectant", "supplier": "PharmaReagents GmbH", "quantity": 502.50, "opened_at": null,
          "use_by": "2031-11-11", "expires_on": "2031-11-11", "usable_now": true, "received_at": "2025-10-31T00:02:00+00:00",
          "received_by": "bench_operator", "supplier_lot": "SL-100002", "dispositions": [{"id": 2, "reason": "a \\ reason\r\n",
          "decision": "released", "decided_at": "2025-11-01T00:02:00+00:00", "decided_by": "bench_qa", "signature_id": 7,
          "signature_intact": true}, {"id": 3, "decision": "quarantined", "decided_at": "x", "decided_by": "y", "signature_id": null}],
          "receipt_condition": "intact, 2-8 °C logged", "storage_condition": "2-8 °C", "certificate_sha256": "42b8",
          "days_after_opening": 28, "unknown": [true, false, null, -1.5e3]},
         "consumptions": [{"id": 1000000, "lot": "G123426030001", "step": "cryopreservation", "unit": "mL", "test": null,
          "used_at": "2026-02-25T08:25:00+00:00", "step_id": 865, "quantity": "10", "result_id": null, "recorded_by": "bench_operator",
          "material_lot": "MAT26-00002"}, {"id": -4, "lot": "L", "unit": "u", "used_at": "t", "quantity": 0.5, "test": "sterility",
          "result_id": 12, "recorded_by": "r", "material_lot": "m"}]}
        """#

    static func viaTree(_ text: String) throws -> MaterialDocument.Trace {
        try MaterialDocument.Trace(jsonText: text)
    }

    @Test("the same values as the tree: keys in any order, unknown keys skipped, nulls and absent optionals, numbers as text, hostile strings")
    func sameValuesAsTheTree() throws {
        let direct = try JSONPullReader.read(Self.trace, as: MaterialDocument.Trace.self)
        #expect(direct == (try Self.viaTree(Self.trace)))
        #expect(direct.lots[0].whereabouts?[1].consignee == "Hôpital \"Saint\" \\ Jean\u{1}\t")
        #expect(direct.lots[0].whereabouts?[1].division == 3)
        #expect(direct.lots[0].whereabouts?[2].location == "SITE-A › LN2-01 › 日本")
        #expect(direct.lots[2].productKind == "/" && direct.lots[2].checkCharacter == "\\")
        #expect(direct.material.quantity == "502.50" && direct.consumptions[1].quantity == "0.5")
        #expect(direct.material.dispositions[1].signatureId == nil && direct.material.dispositions[1].reason == nil)
        #expect(direct.material.manufacturer == nil && direct.material.consumptions == nil)
        #expect(try MaterialDocument.Trace(documentText: Self.trace) == direct)
        // Whitespace everywhere JSON allows it, none where it allows none.
        let tight = #"{"material":{"id":"M","type":"t","name":"n","category":"c","supplier":"s","supplier_lot":"l","quantity":"1","unit":"u","received_at":"r","received_by":"b","receipt_condition":"c","expires_on":"e","use_by":"u","certificate_sha256":"h","storage_condition":"s","status":"s","usable_now":false,"dispositions":[],"consumptions":[]},"consumptions":[],"lots":[]}"#
        for text in [tight, " \r\n\t" + tight.replacing(":", with: " :\n ").replacing(",", with: "\t,\r\n") + " \n"] {
            #expect(try JSONPullReader.read(text, as: MaterialDocument.Trace.self) == (try Self.viaTree(text)), "\(text)")
        }
    }

    /// The same outcome both ways: the same value, or the same error.
    static func sameOutcome(_ text: String) -> Bool {
        let tree = Result { try viaTree(text) }
        let document = Result { try MaterialDocument.Trace(documentText: text) }
        switch (tree, document) {
        case (.success(let a), .success(let b)): return a == b
        case (.failure(let a), .failure(let b)): return String(describing: a) == String(describing: b)
        default: return false
        }
    }

    @Test("what it stops at (malformed text, a key escaped or twice, a field missing, null or of another kind) is read the tree's way: its value or its error")
    func stopsWhereTheTreeDecides() throws {
        let t = Self.trace
        let changed: [String] = [
            String(t.dropLast()), t + " x", t + "{}", "", "  ", "[]", "null",
            t.replacing(#""via": null"#, with: #""via": nul"#),
            t.replacing(#""division": 3"#, with: #""division": 03"#),
            t.replacing(#""division": 3"#, with: #""division": 3.0"#),
            t.replacing(#""division": 3"#, with: #""division": "3""#),
            t.replacing(#""id": 2,"#, with: #""id": 2.5,"#),
            t.replacing(#""id": 2,"#, with: #""id": 99999999999999999999,"#),
            t.replacing(#""consumed": true"#, with: #""consumed": 1"#),
            t.replacing(#""consumed": true"#, with: #""consumed": null"#),
            t.replacing(#""consumed": true,"#, with: ""),
            t.replacing(#""stage": "drug_product""#, with: #""stage": null"#),
            t.replacing(#""stage": "drug_product""#, with: #""stage": ["drug_product"]"#),
            t.replacing(#""whereabouts": []"#, with: #""whereabouts": {}"#),
            t.replacing(#""dispositions": ["#, with: #""dispositions": null, "x": ["#),
            t.replacing(#""unit": "U-2""#, with: #""unit": "U-2", "unit": "U-9""#),
            t.replacing(#""stage": "x""#, with: #""stage": "x", "stage": "z""#),
            t.replacing(#""person": "bench_operator""#, with: #""pers\u006fn": "bench_operator""#),
            t.replacing(#""c": "\ud83d\ude00""#, with: #""c": "\ud83d""#),
            t.replacing(#""c": "\ud83d\ude00""#, with: #""c": "\x""#),
            t.replacing(#""c": "\ud83d\ude00""#, with: "\"c\": \"a\u{1}b\""),
            t.replacing(#"\u0001"#, with: #"\u00G1"#),
            t.replacing(#"\u0001"#, with: "\u{1}"),
            t.replacing(#""extra": {"a": [1, {"b": null}]"#, with: #""extra": {"a": [1, {"b": null},]"#),
            t.replacing(#"-1.5e3"#, with: #"-1.5e"#),
            t.replacing(#""id": 1000000,"#, with: #""id": 1000000 "#),
            t.replacing(#"{"din": "G123426030003""#, with: #"{din: "G123426030003""#),
        ]
        for text in changed {
            #expect(text.isEmpty || text != t)
            #expect(throws: JSONByteScanner.Stop.self, "\(text)") { try JSONPullReader.read(text, as: MaterialDocument.Trace.self) }
            #expect(Self.sameOutcome(text), "\(text)")
        }
        // Where the tree reads a value (a key twice: its lookup's choice), the same value.
        let twice = t.replacing(#""unit": "U-2""#, with: #""unit": "U-2", "unit": "U-9""#)
        #expect(throws: Never.self) { try MaterialDocument.Trace(documentText: twice) }
    }

    /// Each unit as the text form writes it (unit, line), read with its whereabouts kept.
    static func keptUnits(_ trace: MaterialDocument.Trace) -> [[String]] {
        trace.lots.flatMap { $0.whereabouts ?? [] }.map { [$0.unit, $0.description] }
    }

    /// The trace read from its bytes with its units handed on as parts: the trace, the
    /// units handed (after the last restart), and how many restarts.
    static func handedUnits(_ text: String) throws -> (MaterialDocument.Trace, [[String]], Int) {
        var units: [[String]] = []
        var restarts = 0
        var text = text
        let trace = try text.withUTF8 { bytes in
            try MaterialDocument.Trace(documentBytes: bytes, units: { unit in
                var line: [UInt8] = []
                unit.appendDescription(to: &line)
                units.append([String(decoding: unit.unit, as: UTF8.self), String(decoding: line, as: UTF8.self)])
            }, restart: {
                units = []
                restarts += 1
            })
        }
        return (trace, units, restarts)
    }

    @Test("units handed on as their parts' bytes: the same units and lines as kept, in place without escapes, again from the first after a restart where there are")
    func unitsHandedAsParts() throws {
        // Escapes in a unit's parts: read again (the Strings' way), handed again from the first.
        let escaped = Self.trace
        let plain = escaped.replacing(#""H\u00f4pital \"Saint\" \\ Jean\u0001\t""#, with: #""Hôpital Saint Jean""#)
            .replacing(#""SITE-A \u203a LN2-01 › 日本""#, with: #""SITE-A › LN2-01 › 日本""#)
        let stored = #""unit": "U-3", "state": "stored", "location": "SITE-A › LN2-01 › 日本", "position": "A1""#
        for (text, restarts) in [(escaped, 1), (plain, 0),
                                 (plain.replacing(stored, with: #""unit": 3, "state": "stored", "container": 7, "since": 1.5"#), 0),
                                 (plain.replacing(stored, with: #""unit": "U-3", "state": "stored", "position": null"#), 0),
                                 (plain.replacing(#""unit": "U-2""#, with: #""unit": "U-2", "unit": "U-9""#), 1)] {
            let kept = try Self.viaTree(text)
            let (trace, units, restarted) = try Self.handedUnits(text)
            #expect(units == Self.keptUnits(kept), "\(text)")
            #expect(restarted == restarts, "\(text)")
            #expect(units.count == 3)
            #expect(trace.material == kept.material && trace.consumptions == kept.consumptions && trace.lots.count == kept.lots.count)
            #expect(trace.lots.map(\.din) == kept.lots.map(\.din))
        }
        #expect(try Self.handedUnits(plain).1[1] == ["U-2", "delivered to Hôpital Saint Jean (shipment SHP-1, received 2026-12-04T19:33:56Z)"])
        #expect(try Self.handedUnits(escaped).1[1][1].hasPrefix("delivered to Hôpital \"Saint\" \\ Jean\u{1}\t (shipment SHP-1"))
        // What stops both readers is the tree's error.
        for text in [String(plain.dropLast()), plain.replacing(#""state": "in_hand", "#, with: "")] {
            #expect(throws: (any Error).self, "\(text)") { try Self.handedUnits(text) }
            #expect(throws: (any Error).self, "\(text)") { try Self.viaTree(text) }
        }
        // A unit's parts borrowed from its Strings write what its Strings do.
        for lot in try Self.viaTree(escaped).lots {
            for unit in lot.whereabouts ?? [] {
                var line: [UInt8] = []
                unit.withParts { $0.appendDescription(to: &line) }
                #expect(String(decoding: line, as: UTF8.self) == unit.description)
                #expect(unit.withParts { String(decoding: $0.unit, as: UTF8.self) } == unit.unit)
            }
        }
    }

    /// A unit's parts read in place, each as a String (nil: absent), and where the reader ended.
    static func partsRead(_ text: String) -> ([String?], Int)? {
        var text = text
        return text.withUTF8 { bytes in
            var reader = JSONPullReader(bytes: bytes)
            guard let parts = try? TraceDocument.WhereaboutsParts.read(&reader) else { return nil }
            let texts = [parts.unit, parts.state, parts.location, parts.position, parts.device, parts.person, parts.party,
                         parts.shipment, parts.consignee, parts.receivedAt]
            return (texts.map { $0.map { String(decoding: $0, as: UTF8.self) } }, reader.scan.at)
        }
    }

    @Test("a unit in the server's usual shape, read in one pass, reads as the tree reads it; near misses read member by member, or stop where the tree stops")
    func usualUnitsAsTheTree() throws {
        let units = [
            #"{"unit":"G123426030001-001","state":"in_hand","person":"bench_operator"}"#,
            #"{"unit":"U-1","state":"stored"}"#, #"{"unit":"","state":""}"#, #"  {"unit":"U-1","state":"in_hand","person":""}"#,
            #"{"unit":"Hôpital 日本","state":"in_hand","person":"é"}"#,
            // Near misses: spaces, another order, other or more keys, a null, a number, an escape.
            #"{"unit": "U-1","state":"in_hand","person":"p"}"#, #"{"unit":"U-1" ,"state":"in_hand"}"#,
            #"{"unit":"U-1","state":"in_hand","person":"p" }"#, #"{"state":"in_hand","unit":"U-1"}"#,
            #"{"unit":"U-1","state":"in_hand","party":"P"}"#, #"{"unit":"U-1","state":"in_hand","person":null}"#,
            #"{"unit":"U-1","state":"in_hand","person":"p","party":"P"}"#, #"{"unit":7,"state":"in_hand"}"#,
            #"{"unit":"U\u002d1","state":"in_hand","person":"p\"q"}"#, #"{"unit":"U-1","state":"in_\u0068and"}"#,
            #"{"unit":"U-1","state":"stored","location":"L","position":"A1"}"#,
        ]
        for text in units {
            let tree = try TraceDocument.Whereabouts(json: JSONValue(parsing: text))
            let escaped = text.contains("\\")
            let read = Self.partsRead(text)
            if escaped {
                #expect(read == nil, "\(text)")  // left to the tree's way
                continue
            }
            let (parts, end) = try #require(read, "\(text)")
            #expect(parts == [tree.unit, tree.state, tree.location, tree.position, tree.device, tree.person, tree.party,
                              tree.shipment, tree.consignee, tree.receivedAt], "\(text)")
            #expect(end == text.utf8.count, "\(text)")
            // Followed by more of the array: the reader stops right past the unit.
            #expect(Self.partsRead(text + #",{"unit":"x"}]"#)?.1 == end, "\(text)")
        }
        // A key twice stops, left to the tree's lookup.
        #expect(Self.partsRead(#"{"unit":"U-1","state":"s","state":"t"}"#) == nil)
        // What the tree refuses stops both ways (required parts absent, a control
        // character, the text cut short).
        for text in [#"{"unit":"U-1"}"#, #"{"unit":"U-1","state":null}"#, "{\"unit\":\"U\u{1}\",\"state\":\"s\"}",
                     #"{"unit":"U-1","state":"s""#,
                     #"{"unit":"U-1","state":"s","person":"p""#] {
            #expect(Self.partsRead(text) == nil, "\(text)")
            #expect(throws: (any Error).self, "\(text)") { try TraceDocument.Whereabouts(json: JSONValue(parsing: text)) }
        }
    }

    @Test("units' lines written one after another, the last copied for the same parts, are each unit's description: runs, changes, a part absent or empty, the same bytes in another part")
    func whereaboutsLinesRepeated() throws {
        let units = [
            #"{"unit":"U-1","state":"in_hand","person":"bench_operator"}"#, #"{"unit":"U-2","state":"in_hand","person":"bench_operator"}"#,
            #"{"unit":"U-3","state":"in_hand","person":"bench_operatos"}"#, #"{"unit":"U-4","state":"in_hand","party":"bench_operatos"}"#,
            #"{"unit":"U-5","state":"in_hand","party":"bench_operatos"}"#, #"{"unit":"U-6","state":"in_hand"}"#,
            #"{"unit":"U-7","state":"in_hand","person":""}"#, #"{"unit":"U-8","state":"in_hand"}"#,
            #"{"unit":"U-9","state":"stored","location":"AB","position":"C"}"#, #"{"unit":"U-10","state":"stored","location":"A","position":"BC"}"#,
            #"{"unit":"U-11","state":"stored","location":"A","position":"BC"}"#, #"{"unit":"U-12","state":"in_hand","person":"é"}"#,
            #"{"unit":"U-13","state":"delivered","consignee":"C","shipment":"S","received_at":"T"}"#,
            #"{"unit":"U-14","state":"delivered","party":"C","shipment":"S","received_at":"T"}"#,
            #"{"unit":"U-15","state":"in_hand","person":"bench_operator"}"#,
        ]
        var lines = TraceDocument.WhereaboutsLines()
        var written: [String] = []
        for text in units + units.reversed() {
            let unit = try TraceDocument.Whereabouts(json: JSONValue(parsing: text))
            var line = ""
            unit.withParts { parts in lines.withLine(of: parts) { line = String(decoding: $0, as: UTF8.self) } }
            #expect(line == unit.description, "\(text)")
            written.append(line)
        }
        #expect(written[0] == "in hand, held by bench_operator" && written[3] == "in hand, held by bench_operatos")
        #expect(written[5] == "in hand, held by ?" && written[6] == "in hand, held by " && written[7] == "in hand, held by ?")
    }

    @Test("the scanner skips any value as strictly as the tree parses it")
    func skipsValues() {
        for (text, valid) in [("{}", true), (#"{"a": [1, -0.5e+2, true, false, null, "\u00e9\"", {}, []]}"#, true), ("[1,]", false),
                              ("[01]", false), (#"{"a" 1}"#, false), (#"["\ud83d\ude00"]"#, true), (#"["\q"]"#, false), ("[", false)] {
            var text = text
            let skipped = text.withUTF8 { bytes in
                var scanner = JSONByteScanner(bytes: bytes)
                guard (try? scanner.skipValue()) != nil else { return false }
                scanner.skipSpace()
                return scanner.at == bytes.count
            }
            #expect(skipped == valid, "\(text)")
            #expect(((try? JSONValue(parsing: text)) != nil) == valid, "\(text)")
        }
    }

    /// The plain-string scan by hand: its end, nil at a backslash, a stop at a control
    /// character or the text's end.
    static func byteByByte(_ bytes: [UInt8], from at: Int) -> Int?? {
        var end = at + 1
        while end < bytes.count {
            if bytes[end] == UInt8(ascii: "\"") { return .some(end) }
            if bytes[end] == UInt8(ascii: "\\") { return .some(nil) }
            if bytes[end] < 0x20 { return nil }
            end += 1
        }
        return nil
    }

    @Test("the eight-bytes-at-a-time string scan ends where the byte-by-byte one does: every stop byte at every offset, non-ASCII, the text's end")
    func stringScanWordAtATime() {
        let stops: [UInt8] = [0x22, 0x5C, 0x00, 0x01, 0x0A, 0x1F]
        let plain: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xA2, 0xDC, 0xC3, 0xE2, 0xFF, 0x41]
        for length in 0..<40 {
            for stop in stops + [nil] {
                for filler in plain {
                    var bytes: [UInt8] = [UInt8(ascii: "\"")] + [UInt8](repeating: filler, count: length)
                    if let stop { bytes.append(stop) }
                    for tail in [[], [UInt8(ascii: "\"")], Array(repeating: UInt8(ascii: "a"), count: 9) + [0x22]] {
                        let text = bytes + tail
                        let scanned: Int?? = text.withUnsafeBufferPointer { buffer -> Int?? in
                            let scanner = JSONByteScanner(bytes: buffer)
                            do { return .some(try scanner.plainStringEnd()) } catch { return nil }
                        }
                        #expect(scanned == Self.byteByByte(text, from: 0), "\(length) \(String(describing: stop)) \(filler) \(tail.count)")
                    }
                }
            }
        }
        // Each byte value at each place in one word: the lowest flag is the first stop.
        for place in 0..<8 {
            for value in 0...255 {
                var word = [UInt8](repeating: UInt8(ascii: "a"), count: 8)
                word[place] = UInt8(value)
                let number = word.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                let flags = JSONByteScanner.stringStops(number)
                let isStop = value == 0x22 || value == 0x5C || value < 0x20
                #expect((flags != 0) == isStop, "\(place) \(value)")
                if isStop { #expect(flags.trailingZeroBitCount >> 3 == place) }
            }
        }
    }

    @Test("a scanner skips a word eight bytes at a time as byte by byte: words of 1–17 bytes, a difference at every offset, the text too short")
    func skipsWords() {
        let words: [StaticString] = ["{", "\"}", "{\"unit\":", "{\"unit\":\"", "\",\"state\":\"", "\",\"person\":\"", "0123456789abcdefg"]
        for word in words {
            let bytes = Array(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
            for (prefix, suffix) in [([UInt8](), [UInt8]()), ([UInt8(ascii: " ")], [UInt8(ascii: "x")])] {
                var texts = [(prefix + bytes + suffix, true), (prefix + bytes.dropLast(), false)]
                for place in bytes.indices {
                    var changed = bytes
                    changed[place] ^= 0x20
                    texts.append((prefix + changed + suffix, false))
                }
                for (text, skips) in texts {
                    text.withUnsafeBufferPointer { buffer in
                        var scan = JSONByteScanner(bytes: buffer)
                        scan.at = prefix.count
                        #expect(scan.skip(word) == skips, "\(word) \(text)")
                        #expect(scan.at == prefix.count + (skips ? bytes.count : 0), "\(word) \(text)")
                    }
                }
            }
        }
    }

    @Test("a key equal to a word: the same bytes, the same length, nothing more")
    func keyEqualsWord() {
        let words: [StaticString] = ["", "unit", "units", "uni", "é", "received_at", "state"]
        let texts = ["", "unit", "units", "uni", "unit ", "Unit", "é", "e", "received_at", "received_as", "eceived_at", "state", "stat"]
        for text in texts {
            Array(text.utf8).withUnsafeBufferPointer { bytes in
                for word in words {
                    #expect(JSONByteScanner.equal(bytes, word) == (text == word.description), "\(text) \(word)")
                }
            }
        }
    }

    @Test("a key's first eight bytes as a number order keys as their bytes do, shorter first")
    func keyPrefixOrder() {
        let keys = ["", "a", "A", "ab", "abcdefg", "abcdefgh", "abcdefghi", "abcdefgi", "material", "material_lot", "material_id",
                    "é", "e", "z", "zz", "\u{7f}", "日本", "unit", "units", "~"]
        var text: [UInt8] = []
        var ranges: [Range<Int>] = []
        for key in keys {
            text.append(UInt8(ascii: "\""))
            let start = text.count
            text += Array(key.utf8)
            ranges.append(start..<text.count)
            text.append(UInt8(ascii: "\""))
        }
        text.withUnsafeBufferPointer { buffer in
            let scanner = JSONByteScanner(bytes: buffer)
            for a in ranges {
                for b in ranges {
                    let order = JSONByteScanner.order(UnsafeBufferPointer(rebasing: buffer[a]), UnsafeBufferPointer(rebasing: buffer[b]))
                    let pa = scanner.keyPrefix(a.lowerBound, a.upperBound)
                    let pb = scanner.keyPrefix(b.lowerBound, b.upperBound)
                    if pa != pb { #expect((pa < pb) == (order < 0), "\(a) \(b)") }
                    if order == 0 { #expect(pa == pb) }
                }
            }
        }
    }
}
