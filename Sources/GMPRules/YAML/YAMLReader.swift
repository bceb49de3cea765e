import PostgresClient  // trimmingWhitespace

/// Reads the subset of YAML that gmp's own files use: block mappings and lists (with
/// a mapping started on a list item's line), plain, single- and double-quoted scalars,
/// literal (`|`) and folded (`>`) block scalars, one-line flow lists and mappings
/// (`[a, b]`, `{min: 0.1, max: 4}`), comments and an opening `---`.
///
/// Why not a YAML library: Yams links the whole of Foundation with ICU, ~2,000 more
/// protocol-conformance records that every cold gmp command's runtime type lookups scan
/// (docs/benchmarks.md, "Without full Foundation"). Anything outside the subset is
/// refused with its line, never guessed: anchors, aliases, tags, several documents,
/// repeated keys, tabs in the indentation, a plain value continued on the next line.
public enum YAMLReader {
    /// The document in `text`; nil when it holds only comments and blank lines.
    public static func read(_ text: String) throws -> YAMLNode? {
        var parser = YAMLParser(text)
        return try parser.document()
    }
}

/// The reader's state: the lines and the next one to read. Indentation is counted in
/// spaces; a block's nodes all start at the same column.
private struct YAMLParser {
    /// Each line's characters; a line holding only a comment is cut after its `#`
    /// (`commentStub`), its text kept in `texts`.
    let lines: [[Character]]
    /// Each line's text, for a block scalar, in which a `#` line can be content.
    let texts: [Substring]
    var index = 0

    /// Lines split at the newline bytes, a `\r` before them dropped (CRLF files read like
    /// LF ones: split by `Character`, "\r\n" is one character and such a file was one
    /// line). Splitting bytes, not characters, also keeps a cold command's reading of its
    /// configuration cheap (start-up, issue 18): a newline is always a character boundary.
    init(_ text: String) {
        var text = Substring(text)
        if text.first == "\u{FEFF}" { text = text.dropFirst() }
        var lines: [[Character]] = []
        var texts: [Substring] = []
        let bytes = text.utf8
        var start = bytes.startIndex
        while true {
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
            var end = newline ?? bytes.endIndex
            if end > start, bytes[bytes.index(before: end)] == UInt8(ascii: "\r") { end = bytes.index(before: end) }
            let line = text[start..<end]
            texts.append(line)
            lines.append(Self.commentStub(bytes[start..<end]) ?? Array(line))
            guard let newline else { break }
            start = bytes.index(after: newline)
        }
        self.lines = lines
        self.texts = texts
    }

    /// A line that holds only a comment, as its indentation and its `#`: all that is read
    /// of it outside a block scalar (`nextContent` skips it whatever follows the `#`), and
    /// not worth splitting into characters (most of gmp.yaml is comments; reading the
    /// configuration is part of every cold command, issue 18). Nil for any other line.
    static func commentStub(_ bytes: Substring.UTF8View) -> [Character]? {
        var stub: [Character] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: " "): stub.append(" ")
            case UInt8(ascii: "\t"): stub.append("\t")
            case UInt8(ascii: "#"): stub.append("#"); return stub
            default: return nil
            }
        }
        return nil
    }

    // MARK: Lines

    func indentation(_ line: Int) -> Int { lines[line].prefix { $0 == " " }.count }

    func content(_ line: Int) -> ArraySlice<Character> { lines[line].dropFirst(indentation(line)) }

    func error(_ line: Int, _ problem: String) -> YAMLError { YAMLError(line: line + 1, problem: problem) }

    /// The next line with content (not blank, not only a comment), from `index`.
    mutating func nextContent() throws -> Int? {
        while index < lines.count {
            let rest = lines[index].drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty || rest.first == "#" { index += 1; continue }
            if lines[index].prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                throw error(index, "a tab in the indentation; indent with spaces")
            }
            return index
        }
        return nil
    }

    func isMarker(_ line: Int, _ marker: String) -> Bool {
        let text = lines[line]
        guard text.starts(with: marker) else { return false }
        let rest = text.dropFirst(marker.count).drop { $0 == " " }
        return rest.isEmpty || rest.first == "#"
    }

    /// `---` or `...`: the end of the document (document() refuses a second one).
    func isDocumentMarker(_ line: Int) -> Bool { isMarker(line, "---") || isMarker(line, "...") }

    // MARK: Blocks

    mutating func document() throws -> YAMLNode? {
        guard var first = try nextContent() else { return nil }
        if isMarker(first, "---") {
            index = first + 1
            guard let next = try nextContent() else { return nil }
            first = next
        }
        let node = try block(indent: indentation(first))
        if let extra = try nextContent() {
            if isDocumentMarker(extra) {
                throw error(extra, "a second document; the file holds one")
            }
            throw error(extra, "unexpected indentation")
        }
        return node
    }

    /// The block node starting at the current content line, whose indent is `indent`.
    mutating func block(indent: Int) throws -> YAMLNode {
        let line = index
        let text = content(line)
        if Self.isListItem(text) { return try sequence(indent: indent) }
        if try key(text, line: line) != nil { return try mapping(indent: indent, first: nil) }
        index = line + 1
        let node = try value(text, line: line, parent: indent - 1)
        try refuseDeeper(than: indent - 1, after: line)
        return node
    }

    static func isListItem(_ text: ArraySlice<Character>) -> Bool {
        text.first == "-" && (text.count == 1 || text.dropFirst().first == " ")
    }

    mutating func sequence(indent: Int) throws -> YAMLNode {
        let start = index
        var items: [YAMLNode] = []
        while let line = try nextContent(), indentation(line) >= indent, !isDocumentMarker(line) {
            guard indentation(line) == indent else { throw error(line, "unexpected indentation") }
            let text = content(line)
            guard Self.isListItem(text) else { break }
            let afterDash = text.dropFirst()
            let spaces = afterDash.prefix { $0 == " " }.count
            let rest = afterDash.dropFirst(spaces)
            index = line + 1
            if rest.isEmpty || rest.first == "#" {
                items.append(try nested(parent: indent, line: line, sameIndentList: false))
            } else if try key(rest, line: line) != nil {
                // "- key: value": a mapping whose keys start at this column.
                items.append(try mapping(indent: indent + 1 + spaces, first: (rest, line)))
            } else {
                items.append(try value(rest, line: line, parent: indent))
                try refuseDeeper(than: indent, after: line)
            }
        }
        return YAMLNode(content: .sequence(items), line: start + 1)
    }

    /// A mapping whose keys start at column `indent`; `first` is an entry already begun on
    /// a list item's line.
    mutating func mapping(indent: Int, first: (ArraySlice<Character>, Int)?) throws -> YAMLNode {
        let start = first?.1 ?? index
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        var seen: Set<String> = []
        func entry(_ parser: inout YAMLParser, _ text: ArraySlice<Character>, _ line: Int) throws {
            guard let (key, rest) = try parser.key(text, line: line) else {
                if Self.isListItem(text) { throw parser.error(line, "a list item where a `key: value` was expected") }
                throw parser.error(line, "expected `key: value`")
            }
            guard seen.insert(key.string ?? "").inserted else {
                throw parser.error(line, "the key '\(key.string ?? "")' appears twice in one mapping")
            }
            parser.index = line + 1
            if rest.isEmpty || rest.first == "#" {
                pairs.append((key, try parser.nested(parent: indent, line: line, sameIndentList: true)))
            } else {
                pairs.append((key, try parser.value(rest, line: line, parent: indent)))
                try parser.refuseDeeper(than: indent, after: line)
            }
        }
        if let (text, line) = first { try entry(&self, text, line) }
        while let line = try nextContent(), indentation(line) >= indent, !isDocumentMarker(line) {
            guard indentation(line) == indent else { throw error(line, "unexpected indentation") }
            try entry(&self, content(line), line)
        }
        return YAMLNode(content: .mapping(pairs), line: start + 1)
    }

    /// The value of a key or list item written on the following lines: a deeper block,
    /// (for a key) a list at the key's own indent, or else no value.
    mutating func nested(parent: Int, line: Int, sameIndentList: Bool) throws -> YAMLNode {
        if let next = try nextContent() {
            if indentation(next) > parent { return try block(indent: indentation(next)) }
            if sameIndentList, indentation(next) == parent, Self.isListItem(content(next)) {
                return try sequence(indent: parent)
            }
        }
        return YAMLNode(content: .scalar(.init(string: "", style: .plain)), line: line + 1)
    }

    /// After a value written on its line, nothing may continue it on a deeper line.
    mutating func refuseDeeper(than parent: Int, after line: Int) throws {
        if let next = try nextContent(), indentation(next) > parent {
            throw error(next, "unexpected indentation (a value cannot continue on the next line: quote it, or use `|`)")
        }
    }

    // MARK: Keys and values on one line

    /// `key: rest` (rest without its leading spaces), or nil when the text is not a key.
    func key(_ text: ArraySlice<Character>, line: Int) throws -> (YAMLNode, ArraySlice<Character>)? {
        var position = text.startIndex
        let key: YAMLNode
        if text.first == "\"" || text.first == "'" {
            key = try quoted(text, &position, line: line)
        } else {
            guard let first = text.first, !"[]{}#&*!|>%@`,?".contains(first), !Self.isListItem(text) else { return nil }
            var end = text.startIndex
            while end < text.endIndex {
                if text[end] == ":" && (end + 1 == text.endIndex || text[end + 1] == " ") { break }
                if text[end] == "#" && end > text.startIndex && text[end - 1] == " " { return nil }
                end += 1
            }
            guard end < text.endIndex else { return nil }
            let name = String(characters: text[text.startIndex..<end]).trimmingWhitespace
            key = YAMLNode(content: .scalar(.init(string: name, style: .plain)), line: line + 1)
            position = end
        }
        while position < text.endIndex, text[position] == " " { position += 1 }
        guard position < text.endIndex, text[position] == ":",
              position + 1 == text.endIndex || text[position + 1] == " " else { return nil }
        let rest = text[(position + 1)...].drop { $0 == " " }
        return (key, rest)
    }

    /// A value written after `key: ` or `- ` on `line`, whose parent block is at `parent`:
    /// a block scalar (which reads the following lines), a quoted scalar, a flow list or
    /// mapping, or a plain scalar.
    mutating func value(_ text: ArraySlice<Character>, line: Int, parent: Int) throws -> YAMLNode {
        guard let first = text.first else { return YAMLNode(content: .scalar(.init(string: "", style: .plain)), line: line + 1) }
        switch first {
        case "|", ">":
            return try blockScalar(header: text, line: line, parent: parent)
        case "\"", "'", "[", "{":
            var position = text.startIndex
            let node = try flow(text, &position, line: line)
            try endOfLine(text, position, line: line)
            return node
        default:
            return try plain(text, line: line)
        }
    }

    func endOfLine(_ text: ArraySlice<Character>, _ position: Int, line: Int) throws {
        let rest = text[position...].drop { $0 == " " }
        guard rest.isEmpty || rest.first == "#" else {
            throw error(line, "unexpected text after the value: '\(String(rest))'")
        }
    }

    /// A plain scalar in a block: up to a comment, without trailing spaces.
    func plain(_ text: ArraySlice<Character>, line: Int) throws -> YAMLNode {
        guard let first = text.first else { throw error(line, "a value is missing") }
        if "&*!".contains(first) { throw error(line, "anchors, aliases and tags are not supported; write the value itself") }
        if "%@`".contains(first) { throw error(line, "a value cannot start with '\(first)'; quote it") }
        if Self.isListItem(text) { throw error(line, "a list cannot start on a key's line; put its items on the next lines") }
        var end = text.startIndex
        while end < text.endIndex {
            if text[end] == "#" && text[end - 1] == " " { break }
            if text[end] == ":" && (end + 1 == text.endIndex || text[end + 1] == " ") {
                throw error(line, "a ': ' inside a value; quote the value")
            }
            end += 1
        }
        let string = String(characters: text[text.startIndex..<end]).trimmingWhitespace
        return YAMLNode(content: .scalar(.init(string: string, style: .plain)), line: line + 1)
    }

    /// `|` or `>` with optional chomping (`-`, `+`) and indentation (a digit) indicators,
    /// then the following lines indented deeper than `parent`.
    mutating func blockScalar(header: ArraySlice<Character>, line: Int, parent: Int) throws -> YAMLNode {
        let folded = header.first == ">"
        var chomp: Character = " "
        var explicitIndent: Int?
        var position = header.startIndex + 1
        while position < header.endIndex, header[position] != " " {
            let character = header[position]
            if character == "-" || character == "+", chomp == " " {
                chomp = character
            } else if let digit = character.wholeNumberValue, (1...9).contains(digit), explicitIndent == nil {
                explicitIndent = digit
            } else {
                throw error(line, "'\(character)' after '\(header.first!)': only '-', '+' or one digit may follow")
            }
            position += 1
        }
        try endOfLine(header, position, line: line)
        // The content's indentation: given, or that of its first non-blank line.
        var contentIndent = explicitIndent.map { max(parent, 0) + $0 }
        var body: [String] = []
        var cursor = line + 1
        while cursor < lines.count {
            let text = lines[cursor]
            let isBlank = text.allSatisfy { $0 == " " }
            if isBlank {
                body.append(String(text.dropFirst(contentIndent ?? text.count)))
                cursor += 1
                continue
            }
            let lineIndent = indentation(cursor)
            if contentIndent == nil {
                guard lineIndent > parent else { break }
                contentIndent = lineIndent
            }
            guard lineIndent >= contentIndent! else { break }
            body.append(String(texts[cursor].dropFirst(contentIndent!)))
            cursor += 1
        }
        // Trailing blank lines belong to the chomping, not the text.
        var trailing = 0
        while let last = body.last, last.allSatisfy({ $0 == " " }) { body.removeLast(); trailing += 1 }
        index = line + 1 + body.count
        var string: String
        if folded {
            string = ""
            var previousBlank = true
            for text in body {
                if text.isEmpty {
                    string += "\n"
                    previousBlank = true
                } else {
                    if !previousBlank, !string.hasSuffix("\n") { string += " " }
                    string += text
                    previousBlank = false
                }
            }
        } else {
            string = body.joined(separator: "\n")
        }
        switch chomp {
        case "-": break
        case "+": if !body.isEmpty { string += "\n" + String(repeating: "\n", count: trailing) }
        default: if !body.isEmpty { string += "\n" }
        }
        return YAMLNode(content: .scalar(.init(string: string, style: folded ? .folded : .literal)), line: line + 1)
    }

    // MARK: Flow values (on one line)

    func skipSpaces(_ text: ArraySlice<Character>, _ position: inout Int) {
        while position < text.endIndex, text[position] == " " { position += 1 }
    }

    /// A flow value at `position`: a quoted scalar, `[…]`, `{…}` or a plain scalar ending
    /// at `,`, `]`, `}` or `: `.
    func flow(_ text: ArraySlice<Character>, _ position: inout Int, line: Int) throws -> YAMLNode {
        skipSpaces(text, &position)
        guard position < text.endIndex else { throw error(line, "a value is missing before the end of the line") }
        switch text[position] {
        case "\"", "'":
            return try quoted(text, &position, line: line)
        case "[":
            position += 1
            var items: [YAMLNode] = []
            while true {
                skipSpaces(text, &position)
                guard position < text.endIndex else { throw error(line, "a '[' list must close with ']' on the same line") }
                if text[position] == "]" { position += 1; break }
                items.append(try flow(text, &position, line: line))
                skipSpaces(text, &position)
                guard position < text.endIndex else { throw error(line, "a '[' list must close with ']' on the same line") }
                if text[position] == "," { position += 1; continue }
                guard text[position] == "]" else { throw error(line, "expected ',' or ']' in a list, found '\(text[position])'") }
            }
            return YAMLNode(content: .sequence(items), line: line + 1)
        case "{":
            position += 1
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            var seen: Set<String> = []
            while true {
                skipSpaces(text, &position)
                guard position < text.endIndex else { throw error(line, "a '{' mapping must close with '}' on the same line") }
                if text[position] == "}" { position += 1; break }
                let key = try flow(text, &position, line: line)
                guard let name = key.string else { throw error(line, "a mapping key must be a single value") }
                guard seen.insert(name).inserted else { throw error(line, "the key '\(name)' appears twice in one mapping") }
                skipSpaces(text, &position)
                guard position < text.endIndex, text[position] == ":" else { throw error(line, "expected ':' after the key '\(name)'") }
                position += 1
                let value = try flow(text, &position, line: line)
                pairs.append((key, value))
                skipSpaces(text, &position)
                guard position < text.endIndex else { throw error(line, "a '{' mapping must close with '}' on the same line") }
                if text[position] == "," { position += 1; continue }
                guard text[position] == "}" else { throw error(line, "expected ',' or '}' in a mapping, found '\(text[position])'") }
            }
            return YAMLNode(content: .mapping(pairs), line: line + 1)
        case let first:
            if "&*!".contains(first) { throw error(line, "anchors, aliases and tags are not supported; write the value itself") }
            if "|>%@`#".contains(first) { throw error(line, "a value cannot start with '\(first)' here; quote it") }
            let start = position
            while position < text.endIndex {
                let character = text[position]
                if ",[]{}".contains(character) { break }
                if character == ":" && (position + 1 == text.endIndex || " ,]}".contains(text[position + 1])) { break }
                if character == "#" && text[position - 1] == " " { break }
                position += 1
            }
            let string = String(characters: text[start..<position]).trimmingWhitespace
            guard !string.isEmpty else { throw error(line, "an empty value in a list or mapping") }
            return YAMLNode(content: .scalar(.init(string: string, style: .plain)), line: line + 1)
        }
    }

    /// A single- or double-quoted scalar closing on its line; `position` ends after the quote.
    func quoted(_ text: ArraySlice<Character>, _ position: inout Int, line: Int) throws -> YAMLNode {
        let quote = text[position]
        position += 1
        var string = ""
        while true {
            guard position < text.endIndex else {
                throw error(line, "a quoted value must close with \(quote) on the same line")
            }
            let character = text[position]
            position += 1
            if character == quote {
                // '' inside single quotes is one quote.
                if quote == "'", position < text.endIndex, text[position] == "'" {
                    string.append("'")
                    position += 1
                    continue
                }
                break
            }
            if quote == "\"", character == "\\" {
                string.append(try escape(text, &position, line: line))
            } else {
                string.append(character)
            }
        }
        return YAMLNode(content: .scalar(.init(string: string, style: quote == "'" ? .singleQuoted : .doubleQuoted)),
                        line: line + 1)
    }

    /// The character of a double-quoted escape after its backslash.
    func escape(_ text: ArraySlice<Character>, _ position: inout Int, line: Int) throws -> Character {
        guard position < text.endIndex else { throw error(line, "a '\\' at the end of a quoted value") }
        let code = text[position]
        position += 1
        let simple: [Character: Character] = [
            "\\": "\\", "\"": "\"", "/": "/", " ": " ", "n": "\n", "t": "\t", "\t": "\t", "r": "\r", "0": "\0",
            "a": "\u{07}", "b": "\u{08}", "e": "\u{1B}", "f": "\u{0C}", "v": "\u{0B}",
            "N": "\u{85}", "_": "\u{A0}", "L": "\u{2028}", "P": "\u{2029}",
        ]
        if let character = simple[code] { return character }
        let digits: Int
        switch code {
        case "x": digits = 2
        case "u": digits = 4
        case "U": digits = 8
        default: throw error(line, "unknown escape '\\\(code)' in a double-quoted value")
        }
        guard text.endIndex - position >= digits,
              let value = UInt32(String(text[position..<(position + digits)]), radix: 16),
              let scalar = Unicode.Scalar(value) else {
            throw error(line, "'\\\(code)' needs \(digits) hexadecimal digits of a Unicode character")
        }
        position += digits
        return Character(scalar)
    }
}

extension String {
    /// The characters of a YAML line's slice as one string, appended one at a time: the
    /// generic `String(_:)` over a slice goes through `append(contentsOf:)`, whose dynamic
    /// casts (and, on first use, a conformance scan) cost ~30 k instructions for each key
    /// of the configuration that every command reads (issue 18).
    fileprivate init(characters: ArraySlice<Character>) {
        self.init()
        for character in characters { append(character) }
    }
}
