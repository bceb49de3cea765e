import Testing
import GMPRules
@testable import GMPCLI

/// The material trace's text as printed for ~1,000–2,500 units (issue 14): the table's
/// lines indented as they are made, and a unit's state written for people.
@Suite("The trace's text: indented tables and a unit's whereabouts")
struct TraceTextTests {
    @Test("an indented table: every line under its margin, a cell's own line break starting an indented line too")
    func indentedTableLines() {
        let lines = indentedTable(header: ["UNIT", "WHERE"], rows: [["U-001", "in hand"], ["U-002", "one\ntwo"]],
                                  indent: 2, width: nil)
        #expect(lines == ["  UNIT   WHERE", "  U-001  in hand", "  U-002  one", "  two"])
        #expect(lines == textTable(header: ["UNIT", "WHERE"], rows: [["U-001", "in hand"], ["U-002", "one\ntwo"]], width: nil)
            .split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 })
    }

    @Test("a table's line: left-aligned cells padded, right-aligned ones (a quantity) padded before, a cut cell to its column, nothing after the last")
    func tableLinePadding() {
        #expect(textTable(header: ["LOT", "QTY", "BY"], rows: [["A-1", "2.5", "alice"], ["B-22", "10", "bob"]], width: nil,
                          rightAligned: [1])
                == "LOT   QTY  BY\nA-1   2.5  alice\nB-22   10  bob")
        #expect(textTable(header: ["QTY", "LOT"], rows: [["1", "A-1"], ["100", "B-22"]], width: nil, rightAligned: [0, 1])
                == "QTY   LOT\n  1   A-1\n100  B-22")
        #expect(textTable(header: ["NAME", "X"], rows: [["abcdefghij", "1"], ["ab", "22"]], width: 10)
                == "NAME    X\nabcde…  1\nab      22")
    }

    @Test("a table's columns count characters whatever the cell: accented, a CRLF (one character), cut with … to fit")
    func tableCountsCharacters() {
        #expect(textTable(header: ["A", "B"], rows: [["é", "x"], ["ab", "y"], ["a\r\nb", "z"]], width: nil)
                == "A    B\né    x\nab   y\na\r\nb  z")
        #expect(textTable(header: ["NAME", "X"], rows: [["ééééééééé", "1"]], width: 10) == "NAME     X\néééééé…  1")
    }

    @Test("a page's table (one buffer) is indentedTable's lines: margins, line breaks in cells, cut and right-aligned cells, accents")
    func pageTableIsIndentedTable() {
        let header = ["UNIT", "QTY", "WHERE"]
        let rows = [["U-001", "1", "in hand"], ["U-002", "10.5", "one\ntwo\nthree"], ["é日本", "", "a\r\nb"],
                    ["a very long unit id indeed", "100", "stored at SITE-A › LN2-01 position A1"], ["", "", ""]]
        for width in [nil, 12, 30, 60, 200] as [Int?] {
            for indent in [0, 2, 4] {
                var page = TextPage()
                page.line("units          5")
                page.table(header: header, rows: rows, indent: indent, width: width, rightAligned: [1])
                page.table(header: ["A"], rows: [], indent: indent, width: width)
                let lines = ["units          5"]
                    + indentedTable(header: header, rows: rows, indent: indent, width: width, rightAligned: [1])
                    + indentedTable(header: ["A"], rows: [], indent: indent, width: width)
                #expect(page.bytes == Array((lines.joined(separator: "\n") + "\n").utf8), "width \(String(describing: width)), indent \(indent)")
                #expect(page.text == lines.joined(separator: "\n"))
            }
        }
    }

    @Test("a unit held by a person or a party, as the material trace sends it (null keys left out): its state's underscores read as spaces")
    func heldUnitDescription() throws {
        let unit = try TraceDocument.Whereabouts(json: JSONValue(parsing: #"{"unit":"U-001","state":"in_hand","person":"op.alice"}"#))
        #expect(unit.description == "in hand, held by op.alice")
        let returned = try TraceDocument.Whereabouts(
            json: JSONValue(parsing: #"{"unit":"U-002","state":"returned_to_stock","party":"Hôpital A"}"#))
        #expect(returned.description == "returned to stock, held by Hôpital A")
    }

    @Test("a cell is plain (its bytes its characters) as byte by byte: a non-ASCII byte or a CR at every offset of cells of 0–24 bytes")
    func plainCellsWordAtATime() {
        for length in 0...24 {
            let base = [UInt8](repeating: UInt8(ascii: "a"), count: length)
            for odd: UInt8 in [0x0D, 0x80, 0xC3, 0xFF, 0x0C, 0x0E, 0x8D, 0x7F, 0x0A] {
                for place in 0..<max(length, 1) where length > 0 {
                    var cell = base
                    cell[place] = odd
                    let plain = !cell.contains { $0 >= 0x80 || $0 == 0x0D }
                    #expect(cell.withUnsafeBufferPointer(TableCells.isPlain) == plain, "\(length) \(place) \(odd)")
                }
            }
            #expect(base.withUnsafeBufferPointer(TableCells.isPlain))
        }
    }

    @Test("a page's table from cells in one buffer is the same as from rows of Strings: widths, indents, line breaks, CRLF, accents, cut and right-aligned cells")
    func cellsTableIsRowsTable() {
        let header = ["UNIT", "QTY", "WHERE"]
        let rows = [["U-001", "1", "in hand"], ["U-002", "10.5", "one\ntwo\nthree"], ["é日本", "", "a\r\nb"],
                    ["a very long unit id indeed", "100", "stored at SITE-A › LN2-01 position A1"], ["", "", ""],
                    ["e\u{301}x", "\r", "🇫🇷 flag"]]
        var cells = TableCells(columns: 3)
        for row in rows {
            for (column, cell) in row.enumerated() {
                if column == 2 {
                    cells.append { $0.append(contentsOf: cell.utf8) }
                } else if column == 1 {
                    Array(cell.utf8).withUnsafeBufferPointer { cells.append($0) }
                } else {
                    cells.append(cell)
                }
            }
        }
        #expect(cells.count == rows.count)
        for width in [nil, 5, 12, 30, 60, 200] as [Int?] {
            for indent in [0, 2, 4] {
                var fromRows = TextPage()
                fromRows.table(header: header, rows: rows, indent: indent, width: width, rightAligned: [1])
                var fromCells = TextPage()
                fromCells.table(header: header, cells: cells, indent: indent, width: width, rightAligned: [1])
                #expect(fromCells.bytes == fromRows.bytes, "width \(String(describing: width)), indent \(indent)")
            }
        }
        var empty = TextPage()
        empty.table(header: ["A"], cells: TableCells(columns: 1), width: nil)
        #expect(empty.text == "  A")
    }

    @Test("a cell is printable ASCII as byte by byte: a control, DEL or non-ASCII byte at every offset of texts of 0–24 bytes")
    func printableASCIIWordAtATime() {
        for length in 0...24 {
            let base = [UInt8](repeating: UInt8(ascii: "~"), count: length)
            for odd: UInt8 in [0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x7F, 0x80, 0xC3, 0xFF, 0x21, 0x41] {
                for place in 0..<length {
                    var cell = base
                    cell[place] = odd
                    let printable = !cell.contains { $0 < 0x20 || $0 >= 0x80 }
                    #expect(cell.withUnsafeBufferPointer(TableCells.isPrintableASCII) == printable, "\(length) \(place) \(odd)")
                }
            }
            #expect(base.withUnsafeBufferPointer(TableCells.isPrintableASCII))
        }
    }

    @Test("a table of printable cells written the short way is the general layout's: any widths, indents, alignments, narrow terminals, and tables it leaves to the general way")
    func printableTableIsGeneralTable() {
        let plain = [["U-001", "1", "in hand, held by bench_operator"], ["G123426030001-010", "10.5", "stored at SITE-A position A1"],
                     ["", "", ""], ["x", "100", "~ DEL\u{7F} too"], ["a very long unit id indeed", "", "z"]]
        let tables: [(String, [[String]])] = [
            ("plain", plain), ("one row", [plain[1]]), ("empty", []),
            ("accented", plain + [["é", "2", "Hôpital A"]]), ("wide", plain + [["日本", "3", "🇫🇷"]]),
            ("line break", plain + [["U-9", "4", "one\ntwo"]]), ("CRLF", plain + [["U-9", "4", "a\r\nb"]]),
            ("tab", plain + [["U-9", "4", "a\tb"]]), ("a header longer", [["a", "b", "c"]]),
        ]
        for (name, rows) in tables {
            for header in [["UNIT", "QTY", "WHERE"], ["UNIT IDENTIFIER", "Q", "WHERE IT IS"], ["É", "QTY", "WHERE"]] {
                var cells = TableCells(columns: 3)
                for row in rows {
                    for cell in row { cells.append(cell) }
                }
                for width in [nil, 3, 20, 40, 60, 61, 62, 63, 64, 80, 200] as [Int?] {
                    for indent in [0, 2, 4] {
                        for rightAligned in [[], [1], [0, 2], [2]] {
                            var short = TextPage()
                            short.table(header: header, cells: cells, indent: indent, width: width, rightAligned: rightAligned)
                            var general = TextPage()
                            general.generalTable(header: header, cells: cells, indent: indent, width: width, rightAligned: rightAligned)
                            #expect(short.bytes == general.bytes,
                                    "\(name) \(header) width \(String(describing: width)) indent \(indent) \(rightAligned)")
                        }
                    }
                }
            }
        }
        // A plain table's lines: a right-aligned column padded before, nothing after the last cell.
        var cells = TableCells(columns: 2)
        for cell in ["U-1", "in hand", "U-22", "stored", "", ""] { cells.append(cell) }
        var page = TextPage()
        page.table(header: ["UNIT", "WHERE"], cells: cells, width: nil, rightAligned: [0])
        #expect(page.text == "  UNIT  WHERE\n   U-1  in hand\n  U-22  stored\n        ")
    }

    @Test("a unit's whereabouts written into a buffer is its description, for every state, with holders absent or accented")
    func whereaboutsWritten() throws {
        let units = [
            #"{"unit":"U-1","state":"stored","location":"SITE-A › LN2-01","position":"A1"}"#,
            #"{"unit":"U-2","state":"stored"}"#,
            #"{"unit":"U-3","state":"delivered","consignee":"Hôpital \"Saint\" \\ Jean","shipment":"S-1","received_at":"2026-12-04T19:33:56Z"}"#,
            #"{"unit":"U-4","state":"delivered","party":"Courier"}"#,
            #"{"unit":"U-5","state":"delivered"}"#,
            #"{"unit":"U-6","state":"in_transit","party":"Courier","consignee":"Clinic","shipment":"S-2"}"#,
            #"{"unit":"U-7","state":"in_transit"}"#,
            #"{"unit":"U-8","state":"packed","device":"DRY-1","consignee":"Clinic","shipment":"S-3","person":"op.bob"}"#,
            #"{"unit":"U-9","state":"packed"}"#,
            #"{"unit":"U-10","state":"in_hand","person":"op.alice"}"#,
            #"{"unit":"U-11","state":"returned_to_stock","party":"Hôpital A"}"#,
            #"{"unit":"U-12","state":"thawed_on_device"}"#,
        ]
        let expected = ["stored at SITE-A › LN2-01 position A1", "stored at ? position ?",
                        "delivered to Hôpital \"Saint\" \\ Jean (shipment S-1, received 2026-12-04T19:33:56Z)",
                        "delivered to Courier (shipment ?, received ?)", "delivered to ? (shipment ?, received ?)",
                        "in transit with Courier to Clinic (shipment S-2)", "in transit with ? to ? (shipment ?)",
                        "packed in DRY-1 for Clinic (shipment S-3) by op.bob", "packed in ? for ? (shipment ?) by ?",
                        "in hand, held by op.alice", "returned to stock, held by Hôpital A", "thawed on device, held by ?"]
        for (text, line) in zip(units, expected) {
            let unit = try TraceDocument.Whereabouts(json: JSONValue(parsing: text))
            #expect(unit.description == line)
            var bytes: [UInt8] = [1, 2]
            unit.appendDescription(to: &bytes)
            #expect(bytes == [1, 2] + Array(line.utf8))
        }
    }
}
