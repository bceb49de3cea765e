import GMPRules

extension JSONDocument {
    /// `JSONDocument(parsing: text).bytes(end:)` written straight from the text's bytes, in
    /// one pass and without a `JSONValue` tree (a String a key and a value, an array a
    /// container, then freed): re-writing the material trace's server document through the
    /// tree cost ~13 M instructions for the median lot (issue 14). Each object's members are
    /// written as they come and only reordered, as bytes, when their keys were not sorted.
    /// nil when the text has anything this pass leaves to the tree (an escape in a key, a
    /// key twice, malformed text): the caller then goes the tree's way, which writes the
    /// same shape or throws `Malformed` where the text is wrong.
    static func rewritten(_ text: String, end: UInt8? = nil) -> [UInt8]? {
        var text = text
        return text.withUTF8 { bytes in
            var writer = JSONRewriter(bytes: bytes)
            writer.out.reserveCapacity(2 * bytes.count + 1)
            guard (try? writer.document()) != nil else { return nil }
            if let end { writer.out.append(end) }
            return writer.out
        }
    }
}

/// The one pass of `JSONDocument.rewritten`: reads RFC 8259 as strictly as `JSONValue`'s
/// parser, writes what `JSONDocument.bytes` writes for the same text.
struct JSONRewriter {
    /// Anything left to the tree's way.
    typealias Bail = JSONByteScanner.Stop

    /// One member of an object being written: its key in the input, its text in `out`.
    private struct Member {
        let keyStart: Int
        let keyEnd: Int
        let outStart: Int
        let outEnd: Int
    }

    /// The text's bytes and where the pass is in them (the scanning shared with the
    /// material trace's pull reader).
    private var scan: JSONByteScanner
    var bytes: UnsafeBufferPointer<UInt8> { scan.bytes }
    private var at: Int {
        get { scan.at }
        set { scan.at = newValue }
    }
    var out: [UInt8] = []
    /// The members of the objects being written, innermost last (one array for them all).
    private var members: [Member] = []
    /// An unsorted object's text while it is written back in order.
    private var scratch: [UInt8] = []
    /// The typed-back lots, as `JSONDocument.typedBack` keeps them.
    private var keyed: [String: String] = [:]

    init(bytes: UnsafeBufferPointer<UInt8>) {
        scan = JSONByteScanner(bytes: bytes)
    }

    mutating func document() throws(Bail) {
        try value(indent: 0, lot: false)
        skipSpace()
        guard at == bytes.count else { throw Bail() }
    }

    private mutating func skipSpace() {
        scan.skipSpace()
    }

    private mutating func expect(_ byte: UInt8) throws(Bail) {
        try scan.expect(byte)
    }

    /// Two spaces a level, copied from a run of spaces (a `repeatElement` appended byte by
    /// byte cost a tenth of the pass).
    private mutating func indentation(_ level: Int) {
        if 2 * level <= Self.spaces.count {
            out.append(contentsOf: Self.spaces[..<(2 * level)])
        } else {
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * level))
        }
    }

    private static let spaces = [UInt8](repeating: UInt8(ascii: " "), count: 64)

    /// Two bytes of punctuation (`,\n`, `[\n`), without a generic append of a String's bytes.
    private mutating func append(_ first: UInt8, _ second: UInt8) {
        out.append(first)
        out.append(second)
    }

    /// One value; `lot` when it is (or is in an array that is) the value of a `lot`,
    /// `lots` or `parent` key, whose bare DINs get their check character.
    private mutating func value(indent: Int, lot: Bool) throws(Bail) {
        skipSpace()
        guard at < bytes.count else { throw Bail() }
        switch bytes[at] {
        case UInt8(ascii: "{"): try object(indent: indent)
        case UInt8(ascii: "["): try array(indent: indent, lot: lot)
        case UInt8(ascii: "\""): try string(lot: lot)
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Bail) {
        try scan.literal(word)
        out.append(contentsOf: UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
    }

    /// A number (`JSONValue.numberEnd`'s grammar), copied as written.
    private mutating func number() throws(Bail) {
        let end = try scan.numberEnd()
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[at..<end]))
        at = end
    }

    private func plainStringEnd() throws(Bail) -> Int? {
        try scan.plainStringEnd()
    }

    private mutating func string(lot: Bool) throws(Bail) {
        guard let end = try plainStringEnd() else {
            // An escape: read by the one parser, written by the one escaper.
            write(try scan.escapedString(), lot: lot)
            return
        }
        let body = UnsafeBufferPointer(rebasing: bytes[(at + 1)..<end])
        at = end + 1
        // Strings that could be an instant (YYYY-MM-DD?HH:MM:SS…) or a bare DIN go the
        // tree's way (as Strings); the rest are copied as they are, since they need no escape.
        if (lot && body.count == 13) || Self.mayBeTimestamp(body) {
            write(String(decoding: body, as: UTF8.self), lot: lot)
            return
        }
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: body)
        out.append(UInt8(ascii: "\""))
    }

    /// A decoded string as `JSONDocument.write` writes it: a bare DIN under a lot key typed
    /// back, an instant in its one form.
    private mutating func write(_ text: String, lot: Bool) {
        var text = text
        if lot, case .string(let typed) = JSONDocument.typedBack(.string(text), keyed: &keyed) { text = typed }
        JSONStringEscape.append(JSONDocument.timestamp(text) ?? text, to: &out)
    }

    /// `JSONDocument.timestamp`'s cheap look, on the bytes: 20 or more, YYYY-MM-DD, T or a
    /// space, HH:MM:SS.
    static func mayBeTimestamp(_ body: UnsafeBufferPointer<UInt8>) -> Bool {
        body.count >= 20 && body[4] == UInt8(ascii: "-") && body[7] == UInt8(ascii: "-")
            && (body[10] == UInt8(ascii: "T") || body[10] == UInt8(ascii: " "))
            && body[13] == UInt8(ascii: ":") && body[16] == UInt8(ascii: ":")
    }

    /// After a member or an element: true at a comma (written with its line break), false
    /// at the container's closing byte.
    private mutating func more(closing: UInt8) throws(Bail) -> Bool {
        skipSpace()
        guard at < bytes.count else { throw Bail() }
        if bytes[at] == UInt8(ascii: ",") {
            at += 1
            append(UInt8(ascii: ","), UInt8(ascii: "\n"))
            return true
        }
        try expect(closing)
        return false
    }

    /// Past a container's opening byte: false, with `[]` or `{}` written, when it is empty;
    /// true, with its opening line written, when it is not.
    private mutating func open(_ opening: UInt8, _ closing: UInt8) -> Bool {
        at += 1
        skipSpace()
        if at < bytes.count, bytes[at] == closing {
            at += 1
            append(opening, closing)
            return false
        }
        append(opening, UInt8(ascii: "\n"))
        return true
    }

    /// A non-empty container's last line.
    private mutating func close(_ closing: UInt8, indent: Int) {
        out.append(UInt8(ascii: "\n"))
        indentation(indent)
        out.append(closing)
    }

    private mutating func array(indent: Int, lot: Bool) throws(Bail) {
        guard open(UInt8(ascii: "["), UInt8(ascii: "]")) else { return }
        while true {
            indentation(indent + 1)
            try value(indent: indent + 1, lot: lot)
            if try !more(closing: UInt8(ascii: "]")) { break }
        }
        close(UInt8(ascii: "]"), indent: indent)
    }

    /// An object's members in the order written, separated as they come; if their keys
    /// were not in byte order, the object's text is then put back in that order.
    private mutating func object(indent: Int) throws(Bail) {
        guard open(UInt8(ascii: "{"), UInt8(ascii: "}")) else { return }
        let first = members.count
        var sorted = true
        while true {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\""), let keyEnd = try plainStringEnd() else { throw Bail() }
            let keyStart = at + 1
            at = keyEnd + 1
            if members.count > first {
                switch compare(members[members.count - 1], keyStart, keyEnd) {
                case .some(true): break
                case .some(false): sorted = false
                case nil: throw Bail()  // the same key twice
                }
            }
            skipSpace()
            try expect(UInt8(ascii: ":"))
            let outStart = out.count
            indentation(indent + 1)
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[keyStart..<keyEnd]))
            append(UInt8(ascii: "\""), UInt8(ascii: " "))
            append(UInt8(ascii: ":"), UInt8(ascii: " "))
            try value(indent: indent + 1, lot: Self.isLotKey(UnsafeBufferPointer(rebasing: bytes[keyStart..<keyEnd])))
            members.append(Member(keyStart: keyStart, keyEnd: keyEnd, outStart: outStart, outEnd: out.count))
            if try !more(closing: UInt8(ascii: "}")) { break }
        }
        if !sorted { try reorder(from: first) }
        members.removeSubrange(first...)
        close(UInt8(ascii: "}"), indent: indent)
    }

    /// Whether the key before (`previous`) sorts before the key at `start..<end`; nil when
    /// they are the same key.
    private func compare(_ previous: Member, _ start: Int, _ end: Int) -> Bool? {
        let order = JSONByteScanner.order(UnsafeBufferPointer(rebasing: bytes[previous.keyStart..<previous.keyEnd]),
                                          UnsafeBufferPointer(rebasing: bytes[start..<end]))
        return order == 0 ? nil : order < 0
    }

    /// Writes the members from `first` on again, in their keys' byte order; a key twice
    /// is left to the tree (whose sort decides their order).
    private mutating func reorder(from first: Int) throws(Bail) {
        let base = members[first].outStart
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: out[base...])
        out.removeSubrange(base...)
        let bytes = self.bytes
        let order = members[first...].sorted {
            JSONByteScanner.order(UnsafeBufferPointer(rebasing: bytes[$0.keyStart..<$0.keyEnd]),
                                  UnsafeBufferPointer(rebasing: bytes[$1.keyStart..<$1.keyEnd])) < 0
        }
        for (index, member) in order.enumerated() {
            if index > 0 {
                if compare(order[index - 1], member.keyStart, member.keyEnd) == nil { throw Bail() }
                append(UInt8(ascii: ","), UInt8(ascii: "\n"))
            }
            out.append(contentsOf: scratch[(member.outStart - base)..<(member.outEnd - base)])
        }
    }

    /// `JSONDocument.isLotKey` on the key's bytes.
    static func isLotKey(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        JSONByteScanner.equal(key, "lot") || JSONByteScanner.equal(key, "lots") || JSONByteScanner.equal(key, "parent")
    }
}
