import GMPRules
import Testing

/// gmp's reader of the YAML subset its files use (issue 18: no YAML library, so no full
/// Foundation in the binary). What it reads, and that everything else is refused with
/// the line of the problem.
@Suite("YAML reader")
struct YAMLReaderTests {
    private func read(_ text: String) throws -> YAMLNode {
        try #require(try YAMLReader.read(text))
    }

    /// The pairs of a mapping as (key, scalar text) for comparison.
    private func scalars(_ node: YAMLNode) -> [String] {
        (node.mapping ?? []).map { "\($0.key.string ?? "?")=\($0.value.string ?? "<\($0.value.sequence.map { "list \($0.count)" } ?? "mapping")>")" }
    }

    @Test("block mappings, nested mappings and comments, with the lines of each node")
    func mappings() throws {
        let root = try read("""
            # a comment
            specification: UC-MSC-DP          # code
            applies_to:
              product_kind: cells
              stage: drug_product

            max_retests: 1
            """)
        #expect(scalars(root) == ["specification=UC-MSC-DP", "applies_to=<mapping>", "max_retests=1"])
        let appliesTo = try #require(root.mapping?[1].value)
        #expect(scalars(appliesTo) == ["product_kind=cells", "stage=drug_product"])
        #expect(root.line == 2 && appliesTo.line == 4)
        #expect(root.mapping?[2].value.line == 7)
    }

    @Test("lists of mappings started on the item's line, and lists at the key's own indent")
    func lists() throws {
        let root = try read("""
            criteria:
              - test: a
                name: A
              - test: b
                parts: [x, "y", 'z']
            steps:
            - one
            - two
            empty:
            """)
        let criteria = try #require(root.mapping?[0].value.sequence)
        #expect(criteria.count == 2)
        #expect(scalars(criteria[0]) == ["test=a", "name=A"])
        #expect(criteria[1].line == 4)
        let parts = try #require(criteria[1].mapping?[1].value.sequence)
        #expect(parts.map(\.string) == ["x", "y", "z"])
        #expect(parts.map { $0.scalar?.style } == [.plain, .doubleQuoted, .singleQuoted])
        #expect(root.mapping?[1].value.sequence?.map(\.string) == ["one", "two"])
        #expect(root.mapping?[2].value.isNull == true)
    }

    @Test("scalars keep their text and style: numbers are never converted")
    func scalarsAsWritten() throws {
        let root = try read("""
            a: 95.0
            b: "95"
            c: 'it''s'
            d: "tab\\tquote\\" \\u00e9"
            e: 10^6 cells
            f: Ph. Eur. 2.6.1, membrane filtration
            g: ~
            h: "null"
            i: °C
            """)
        let values = (root.mapping ?? []).map(\.value)
        #expect(values.map(\.string) == ["95.0", "95", "it's", "tab\tquote\" é", "10^6 cells",
                                          "Ph. Eur. 2.6.1, membrane filtration", "~", "null", "°C"])
        #expect(values[0].scalar?.style == .plain && values[1].scalar?.style == .doubleQuoted)
        #expect(values[6].isNull && !values[7].isNull)
    }

    @Test("flow mappings on one line")
    func flowMapping() throws {
        let root = try read("max_dose: {unit: mL/kg/h, min: 0.1, max: 4}\n")
        let dose = try #require(root.mapping?[0].value)
        #expect(scalars(dose) == ["unit=mL/kg/h", "min=0.1", "max=4"])
    }

    @Test("literal and folded block scalars, with chomping")
    func blockScalars() throws {
        let root = try read("""
            address: |
              1 Example Road
              Example City, EX 00000
            next: |-
              kept
            folded: >
              one
              two

              three
            after: x
            """)
        #expect(root.mapping?.map(\.value.string) == ["1 Example Road\nExample City, EX 00000\n", "kept", "one two\nthree\n", "x"])
        #expect(root.mapping?[0].value.scalar?.style == .literal)
    }

    @Test("an empty file, only comments, and an opening --- hold no document")
    func empty() throws {
        #expect(try YAMLReader.read("") == nil)
        #expect(try YAMLReader.read("# only\n\n  # comments\n") == nil)
        #expect(try YAMLReader.read("---\na: 1\n")?.mapping?.count == 1)
    }

    /// Every node with its line, style and text, for comparing two trees.
    private func outline(_ node: YAMLNode) -> String {
        switch node.content {
        case .scalar(let scalar): "\(node.line):\(scalar.style):\(scalar.string.debugDescription)"
        case .sequence(let items): "\(node.line):[" + items.map(outline).joined(separator: ",") + "]"
        case .mapping(let pairs): "\(node.line):{" + pairs.map { outline($0.key) + "=" + outline($0.value) }.joined(separator: ",") + "}"
        }
    }

    @Test("a file saved with CRLF line ends reads as the same file with LF, lines and all")
    func crlf() throws {
        let lf = "\u{FEFF}# comment\nname: Example  # trailing\nlist:\n  - a\n  - \"b c\"\nblock: |\n  one\n  two\n\nlast: é\u{301}\n"
        let crlf = lf.replacing("\n", with: "\r\n")
        let fromLF = try read(lf), fromCRLF = try read(crlf)
        #expect(outline(fromCRLF) == outline(fromLF))
        #expect(scalars(fromCRLF) == ["name=Example", "list=<list 2>", "block=one\ntwo\n", "last=é\u{301}"])
        #expect(fromCRLF.mapping?[3].value.line == 10)
    }

    /// A line holding only a comment is not split into characters (start-up, issue 18):
    /// it is skipped outside a block scalar, and inside one, where a `#` line is content,
    /// its whole text is read, tabs and characters of any kind included.
    @Test("comment lines are skipped, and inside a block scalar read whole")
    func commentLines() throws {
        let root = try read("""
            # a comment
            a: |
              one
              # not a comment: é\u{301}
                #\tdeeper
            \t# a comment after a tab
              # a comment
            b: >
              x
              #y

              z
            c:
              # a comment
              - "#q"  # a comment
            """)
        #expect(scalars(root) == ["a=one\n# not a comment: é\u{301}\n  #\tdeeper\n", "b=x #y\nz\n", "c=<list 1>"])
        #expect(root.mapping?[2].value.sequence?.first?.string == "#q")
        #expect(root.mapping?.map { $0.value.line } == [2, 8, 15])
    }

    @Test("what is outside the subset is refused with the line of the problem", arguments: [
        ("a: 1\nb: [unclosed\n", 2, "must close"),
        ("a: 1\na: 2\n", 2, "appears twice"),
        ("m: {x: 1, x: 2}\n", 1, "appears twice"),
        ("a: 1\n---\na: 2\n", 2, "second document"),
        ("a:\n\tb: 1\n", 2, "tab"),
        ("a: &anchor 1\n", 1, "anchors"),
        ("a: *anchor\n", 1, "aliases"),
        ("a: !!str 1\n", 1, "tags"),
        ("a: one\n  two\n", 2, "cannot continue"),
        ("a: b: c\n", 1, "quote the value"),
        ("a: \"open\n", 1, "must close"),
        ("a: \"bad \\q\"\n", 1, "unknown escape"),
        ("a:\n  b: 1\n   c: 2\n", 3, "unexpected indentation"),
        ("a: 1\n- b\n", 2, "list item"),
        ("a: [x, , y]\n", 1, "empty value"),
        ("a: \"x\" y\n", 1, "unexpected text"),
    ])
    func refusals(text: String, line: Int, problem: String) {
        #expect {
            try YAMLReader.read(text)
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.line == line && error.problem.contains(problem) && "\(error)".hasPrefix("line \(line): ")
        }
    }
}
