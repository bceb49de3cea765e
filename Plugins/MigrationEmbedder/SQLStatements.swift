// Just enough of PostgreSQL's lexical rules to find where statements end and which
// routines a file defines or drops: quotes, dollar quotes and comments are skipped, so a
// ';' or a 'CREATE FUNCTION' inside a body or a comment is not mistaken for one.

/// One top-level statement of a SQL file: its text without leading comments, and the
/// line it starts on (1-based).
struct SQLStatement {
    let text: String
    let line: Int
}

/// Splits `source` into statements at top-level semicolons.
func splitStatements(_ source: String) -> [SQLStatement] {
    let chars = Array(source.unicodeScalars)
    var statements: [SQLStatement] = []
    var index = 0
    var start = 0
    var line = 1
    var firstCodeLine: Int?
    var firstCode: Int?

    func at(_ i: Int, _ text: String) -> Bool {
        var j = i
        for scalar in text.unicodeScalars {
            guard j < chars.count, chars[j] == scalar else { return false }
            j += 1
        }
        return true
    }
    func advance(to end: Int) {
        while index < end && index < chars.count {
            if chars[index] == "\n" { line += 1 }
            index += 1
        }
    }
    func markCode() {
        if firstCode == nil { firstCode = index; firstCodeLine = line }
    }

    while index < chars.count {
        let c = chars[index]
        if at(index, "--") {
            var end = index
            while end < chars.count && chars[end] != "\n" { end += 1 }
            advance(to: end)
        } else if at(index, "/*") {
            markCode()
            var end = index + 2
            while end < chars.count && !at(end, "*/") { end += 1 }
            advance(to: end + 2)
        } else if c == "'" || c == "\"" {
            markCode()
            var end = index + 1
            while end < chars.count {
                if chars[end] == c {
                    if end + 1 < chars.count && chars[end + 1] == c { end += 2; continue }
                    break
                }
                end += 1
            }
            advance(to: end + 1)
        } else if c == "$", let tag = dollarTag(chars, from: index) {
            markCode()
            var end = index + tag.count
            while end < chars.count && !at(end, tag) { end += 1 }
            advance(to: end + tag.count)
        } else if c == ";" {
            markCode()
            advance(to: index + 1)
            if let from = firstCode {
                var text = String.UnicodeScalarView()
                text.append(contentsOf: chars[from..<index])
                statements.append(SQLStatement(text: String(text), line: firstCodeLine ?? line))
            }
            start = index
            firstCode = nil
            firstCodeLine = nil
        } else {
            if !c.properties.isWhitespace { markCode() }
            advance(to: index + 1)
        }
    }
    _ = start
    return statements
}

/// `$tag$` or `$$` starting at `from`, if one does (a `$1` parameter is not a tag).
private func dollarTag(_ chars: [Unicode.Scalar], from: Int) -> String? {
    var end = from + 1
    while end < chars.count, chars[end] == "_" || chars[end].properties.isAlphabetic
            || (end > from + 1 && ("0"..."9").contains(chars[end])) {
        end += 1
    }
    guard end < chars.count, chars[end] == "$" else { return nil }
    var tag = String.UnicodeScalarView()
    tag.append(contentsOf: chars[from...end])
    return String(tag)
}

/// A routine as a statement names it.
struct RoutineReference: Hashable {
    enum Kind: String { case function, procedure, view }
    let kind: Kind
    /// `schema.name(type,type)` for functions and procedures, in the form PostgreSQL's
    /// `regprocedure` prints with `search_path = pg_catalog`; `schema.name` for views.
    let identity: String
}

/// What a statement does to a routine, if anything.
enum RoutineStatement {
    case defines(RoutineReference)
    case drops(RoutineReference)
    /// `ALTER … SET SCHEMA` or `ALTER … RENAME TO`: the same routine under a new name.
    case moves(RoutineReference, to: RoutineReference)
}

/// Recognises `CREATE [OR REPLACE] FUNCTION|PROCEDURE|VIEW` and `DROP …` of one routine.
func routineStatement(_ statement: SQLStatement) -> RoutineStatement? {
    let words = statement.text.split(whereSeparator: { $0.isWhitespace || $0 == "(" }).prefix(6)
        .map { $0.lowercased() }
    guard let first = words.first else { return nil }
    var rest = Array(words.dropFirst())
    if first == "create" {
        if rest.starts(with: ["or", "replace"]) { rest.removeFirst(2) }
        guard let kindWord = rest.first, let kind = RoutineReference.Kind(rawValue: kindWord) else { return nil }
        guard let reference = reference(kind: kind, in: statement.text, after: kindWord) else { return nil }
        return .defines(reference)
    }
    if first == "drop" {
        guard let kindWord = rest.first, let kind = RoutineReference.Kind(rawValue: kindWord) else { return nil }
        guard let reference = reference(kind: kind, in: statement.text, after: kindWord) else { return nil }
        return .drops(reference)
    }
    if first == "alter" {
        guard let kindWord = rest.first, let kind = RoutineReference.Kind(rawValue: kindWord),
              let reference = reference(kind: kind, in: statement.text, after: kindWord) else { return nil }
        let tail = statement.text.lowercased().split(whereSeparator: { $0.isWhitespace || $0 == ";" })
            .suffix(3).map(String.init)
        guard tail.count == 3, let dot = reference.identity.firstIndex(of: ".") else { return nil }
        let schema = reference.identity[..<dot]
        let nameAndArguments = reference.identity[reference.identity.index(after: dot)...]
        let arguments = nameAndArguments.drop(while: { $0 != "(" })
        switch (tail[0], tail[1]) {
        case ("set", "schema"):
            return .moves(reference, to: RoutineReference(kind: kind, identity: tail[2] + "." + nameAndArguments))
        case ("rename", "to"):
            return .moves(reference, to: RoutineReference(kind: kind, identity: schema + "." + tail[2] + arguments))
        default:
            return nil
        }
    }
    return nil
}

/// The routine named right after the first `kindWord` (case-insensitive) of `text`.
private func reference(kind: RoutineReference.Kind, in text: String, after kindWord: String) -> RoutineReference? {
    guard let keyword = text.range(of: kindWord, options: .caseInsensitive) else { return nil }
    var rest = text[keyword.upperBound...].drop(while: \.isWhitespace)
    if rest.lowercased().hasPrefix("if exists") {
        rest = rest.dropFirst("if exists".count).drop(while: \.isWhitespace)
    }
    let name = rest.prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }).lowercased()
    guard !name.isEmpty else { return nil }
    if kind == .view { return RoutineReference(kind: kind, identity: name) }
    let afterName = rest.dropFirst(name.count).drop(while: \.isWhitespace)
    guard afterName.first == "(", let arguments = balancedParentheses(afterName) else { return nil }
    let types = splitTopLevel(arguments).compactMap(argumentType)
    return RoutineReference(kind: kind, identity: "\(name)(\(types.joined(separator: ",")))")
}

/// The text inside the parentheses that `text` starts with.
private func balancedParentheses(_ text: Substring) -> Substring? {
    var depth = 0
    for index in text.indices {
        switch text[index] {
        case "(": depth += 1
        case ")":
            depth -= 1
            if depth == 0 { return text[text.index(after: text.startIndex)..<index] }
        default: break
        }
    }
    return nil
}

private func splitTopLevel(_ text: Substring) -> [Substring] {
    var parts: [Substring] = []
    var depth = 0
    var start = text.startIndex
    for index in text.indices {
        switch text[index] {
        case "(": depth += 1
        case ")": depth -= 1
        case "," where depth == 0:
            parts.append(text[start..<index])
            start = text.index(after: index)
        default: break
        }
    }
    parts.append(text[start...])
    return parts.filter { !$0.allSatisfy(\.isWhitespace) }
}

/// The type of one declared argument, as it counts in the routine's identity; nil for an
/// OUT argument (it is not part of the identity). Arguments are written `name type`.
private func argumentType(_ declaration: Substring) -> String? {
    var words = declaration.lowercased().split(whereSeparator: \.isWhitespace).map(String.init)
    if let defaultAt = words.firstIndex(where: { $0 == "default" || $0 == "=" }) {
        words = Array(words[..<defaultAt])
    }
    switch words.first {
    case "out": return nil
    case "in", "inout", "variadic": words.removeFirst()
    default: break
    }
    // The argument's name, unless the words are a type on their own ("timestamp with time
    // zone", as an ALTER FUNCTION names one).
    let multiWordTypes = ["timestamp with time zone", "timestamp without time zone", "time with time zone",
                          "time without time zone", "double precision", "character varying", "bit varying"]
    let written = words.joined(separator: " ")
    if words.count > 1 && !multiWordTypes.contains(where: { written == $0 || written == $0 + "[]" }) {
        words.removeFirst()
    }
    return catalogTypeName(words.joined(separator: " "))
}

/// The name PostgreSQL prints for a type written in one of its aliases.
private func catalogTypeName(_ written: String) -> String {
    let aliases = [
        "timestamptz": "timestamp with time zone", "timestamp": "timestamp without time zone",
        "int": "integer", "int4": "integer", "int8": "bigint", "int2": "smallint",
        "bool": "boolean", "float8": "double precision", "float4": "real",
        "varchar": "character varying", "decimal": "numeric",
    ]
    let isArray = written.hasSuffix("[]")
    let base = isArray ? String(written.dropLast(2)) : written
    return (aliases[base] ?? base) + (isArray ? "[]" : "")
}
