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
            var copy: [UInt8]?
            _ = rewrite(bytes, end: end) { copy = Array($0) }
            return copy
        }
    }

    /// The same pass over a text's UTF-8 bytes in place (libpq's result: no String made),
    /// its output handed to `write` in place (no copy of it made): valid only while `write`
    /// runs. False, with nothing written, when the text is left to the tree.
    static func rewrite(_ bytes: UnsafeBufferPointer<UInt8>, end: UInt8? = nil,
                        to write: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        var writer = JSONRewriter(bytes: bytes)
        defer { writer.release() }
        guard (try? writer.document()) != nil else { return false }
        if let end { writer.out.append(end) }
        write(UnsafeBufferPointer(start: writer.out.base, count: writer.out.count))
        return true
    }
}

/// The one pass of `JSONDocument.rewritten`: reads RFC 8259 as strictly as `JSONValue`'s
/// parser, writes what `JSONDocument.bytes` writes for the same text.
struct JSONRewriter {
    /// Anything left to the tree's way.
    typealias Bail = JSONByteScanner.Stop

    /// One member of an object being written: its key in the input (and its first eight
    /// bytes as one number, `JSONByteScanner.keyPrefix`), its text in `out`.
    private struct Member {
        let keyStart: Int
        let keyEnd: Int
        let prefix: UInt64
        var outStart: Int
        var outEnd: Int
    }

    /// The text's bytes and where the pass is in them (the scanning shared with the
    /// material trace's pull reader).
    private var scan: JSONByteScanner
    var bytes: UnsafeBufferPointer<UInt8> { scan.bytes }
    private var at: Int {
        get { scan.at }
        set { scan.at = newValue }
    }
    /// The text written (twice the input's bytes reserved: the indentation).
    var out: RawBytes<UInt8>
    /// The members of the objects being written, innermost last (one stack for them all).
    private var members = RawBytes<Member>(capacity: 64)
    /// An unsorted object's text while it is written back in order.
    private var scratch = RawBytes<UInt8>(capacity: 4096)
    /// A decoded string's escaped text, on its way to `out`.
    private var escaped: [UInt8] = []
    /// The typed-back lots, as `JSONDocument.typedBack` keeps them.
    private var keyed: [String: String] = [:]
    /// The last bare DIN under a lot key and the last instant written, each with what
    /// was written for it: a trace's consumptions come in runs of the same lot at the same
    /// time (~80% of the median material trace's), and a DIN typed back or an instant
    /// re-read costs 1,000–3,000 instructions (issue 14).
    private var lastLot = Written()
    private var lastInstant = Written()

    /// A string's text as read and its text as written (quoted, escaped).
    private struct Written {
        var text: [UInt8] = []
        var written: [UInt8] = []
    }

    init(bytes: UnsafeBufferPointer<UInt8>) {
        scan = JSONByteScanner(bytes: bytes)
        out = RawBytes(capacity: 2 * bytes.count + 64)
    }

    /// Frees the buffers (after `out` was taken).
    mutating func release() {
        out.release()
        members.release()
        scratch.release()
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

    /// Two spaces a level.
    @inline(__always) private mutating func indentation(_ level: Int) {
        out.append(repeating: UInt8(ascii: " "), count: 2 * level)
    }

    /// Two bytes of punctuation (`,\n`, `[\n`), without a generic append of a String's bytes.
    @inline(__always) private mutating func append(_ first: UInt8, _ second: UInt8) {
        out.reserve(2)
        out.appendReserved(first)
        out.appendReserved(second)
    }

    /// One value; `lot` when it is (or is in an array that is) the value of a `lot`,
    /// `lots` or `parent` key, whose bare DINs get their check character.
    private mutating func value(indent: Int, lot: Bool) throws(Bail) {
        skipSpace()
        guard at < bytes.count else { throw Bail() }
        switch bytes[at] {
        case UInt8(ascii: "{"): if !usualUnit(indent: indent) { try object(indent: indent) }
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
        out.append(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
    }

    /// A number (`JSONValue.numberEnd`'s grammar), copied as written.
    private mutating func number() throws(Bail) {
        let end = try scan.numberEnd()
        out.append(UnsafeBufferPointer(rebasing: bytes[at..<end]))
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
            let isLot = lot && body.count == 13
            let last = isLot ? lastLot : lastInstant
            if last.text.count == body.count, last.text.withUnsafeBufferPointer({ JSONByteScanner.order($0, body) == 0 }) {
                last.written.withUnsafeBufferPointer { out.append($0) }
                return
            }
            let start = out.count
            write(String(decoding: body, as: UTF8.self), lot: lot)
            let written = Written(text: Array(body), written: Array(UnsafeBufferPointer(start: out.base + start, count: out.count - start)))
            if isLot { lastLot = written } else { lastInstant = written }
            return
        }
        out.append(UInt8(ascii: "\""))
        out.append(body)
        out.append(UInt8(ascii: "\""))
    }

    /// A decoded string as `JSONDocument.write` writes it: a bare DIN under a lot key typed
    /// back, an instant in its one form.
    private mutating func write(_ text: String, lot: Bool) {
        var text = text
        if lot, case .string(let typed) = JSONDocument.typedBack(.string(text), keyed: &keyed) { text = typed }
        escaped.removeAll(keepingCapacity: true)
        JSONStringEscape.append(JSONDocument.timestamp(text) ?? text, to: &escaped)
        escaped.withUnsafeBufferPointer { out.append($0) }
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
            var member = Member(keyStart: keyStart, keyEnd: keyEnd, prefix: scan.keyPrefix(keyStart, keyEnd), outStart: out.count,
                                outEnd: 0)
            if members.count > first {
                let order = self.order(members.last, member)
                if order == 0 { throw Bail() }  // the same key twice
                if order > 0 { sorted = false }
            }
            skipSpace()
            try expect(UInt8(ascii: ":"))
            // The key's line in one go: indentation, quoted key, ` : `.
            let key = UnsafeBufferPointer(rebasing: bytes[keyStart..<keyEnd])
            out.reserve(2 * indent + key.count + 8)
            out.appendReserved(repeating: UInt8(ascii: " "), count: 2 * (indent + 1))
            out.appendReserved(UInt8(ascii: "\""))
            out.appendReserved(key)
            out.appendReserved(UInt8(ascii: "\""))
            out.appendReserved(UInt8(ascii: " "))
            out.appendReserved(UInt8(ascii: ":"))
            out.appendReserved(UInt8(ascii: " "))
            try value(indent: indent + 1, lot: Self.isLotKey(key))
            member.outEnd = out.count
            members.append(member)
            if try !more(closing: UInt8(ascii: "}")) { break }
        }
        if !sorted { try reorder(from: first) }
        members.count = first
        close(UInt8(ascii: "}"), indent: indent)
    }

    /// A unit in the shape gmp.trace_material_json writes for nearly every unit
    /// (`{"unit":"…","state":"…"}`, or with a `"person":"…"` after; no space, no escape,
    /// no string that may be an instant) written at once, its keys in byte order, as
    /// `object` writes it: its members written, compared and put back in order one by one
    /// were ~1,000 instructions a unit, 2,450 of them in the worst lot (issue 14). False,
    /// nothing read or written, for any other text.
    private mutating func usualUnit(indent: Int) -> Bool {
        var next = scan  // a copy: moved on only past a unit read whole
        guard next.skip(#"{"unit":"#), let unit = next.plainString(), next.skip(#","state":"#),
              let state = next.plainString() else { return false }
        var person: UnsafeBufferPointer<UInt8>?
        if next.skip(#","person":"#) {
            guard let text = next.plainString() else { return false }
            person = text
        }
        guard next.skip("}"), !Self.mayBeTimestamp(unit), !Self.mayBeTimestamp(state),
              !(person.map(Self.mayBeTimestamp) ?? false) else { return false }
        scan = next
        out.reserve(8 * (indent + 1) + unit.count + state.count + (person?.count ?? 0) + 64)
        out.appendReserved(UInt8(ascii: "{"))
        out.appendReserved(UInt8(ascii: "\n"))
        if let person { usualMember(#""person" : ""#, person, indent: indent) }
        usualMember(#""state" : ""#, state, indent: indent)
        usualMember(#""unit" : ""#, unit, indent: indent, last: true)
        out.appendReserved(repeating: UInt8(ascii: " "), count: 2 * indent)
        out.appendReserved(UInt8(ascii: "}"))
        return true
    }

    /// One of `usualUnit`'s members' lines (room reserved): `key` with its value's
    /// opening quote, then the value and its closing quote.
    @inline(__always) private mutating func usualMember(_ key: StaticString, _ text: UnsafeBufferPointer<UInt8>, indent: Int,
                                                        last: Bool = false) {
        out.appendReserved(repeating: UInt8(ascii: " "), count: 2 * (indent + 1))
        out.appendReserved(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        out.appendReserved(text)
        out.appendReserved(UInt8(ascii: "\""))
        if !last { out.appendReserved(UInt8(ascii: ",")) }
        out.appendReserved(UInt8(ascii: "\n"))
    }

    /// Two members' keys in byte order (`JSONByteScanner.order`): by their first eight
    /// bytes as numbers, and only when those are the same and a key is longer, byte by byte.
    @inline(__always) private func order(_ a: Member, _ b: Member) -> Int {
        if a.prefix != b.prefix { return a.prefix < b.prefix ? -1 : 1 }
        let aCount = a.keyEnd - a.keyStart
        let bCount = b.keyEnd - b.keyStart
        if aCount <= 8 || bCount <= 8 { return aCount - bCount }
        return JSONByteScanner.order(UnsafeBufferPointer(rebasing: bytes[a.keyStart..<a.keyEnd]),
                                     UnsafeBufferPointer(rebasing: bytes[b.keyStart..<b.keyEnd]))
    }

    /// Writes the members from `first` on again, in their keys' byte order; a key twice
    /// is left to the tree (whose sort decides their order). An insertion sort of the
    /// members in place (an object has a dozen; `sorted(by:)`'s copy and closure calls
    /// were a third of this), then one copy of the object's text out and each member's
    /// back.
    private mutating func reorder(from first: Int) throws(Bail) {
        let list = members.base + first
        let count = members.count - first
        // Where the object's first member was written (before the sort moves it).
        let base = list[0].outStart
        for index in 1..<count {
            let member = list[index]
            var slot = index
            while slot > 0 {
                let order = self.order(list[slot - 1], member)
                if order == 0 { throw Bail() }
                if order < 0 { break }
                list[slot] = list[slot - 1]
                slot -= 1
            }
            list[slot] = member
        }
        let end = out.count
        scratch.count = 0
        scratch.append(UnsafeBufferPointer(start: out.base + base, count: end - base))
        out.count = base
        for index in 0..<count {
            if index > 0 { append(UInt8(ascii: ","), UInt8(ascii: "\n")) }
            let member = list[index]
            out.append(UnsafeBufferPointer(start: scratch.base + (member.outStart - base), count: member.outEnd - member.outStart))
        }
    }

    /// `JSONDocument.isLotKey` on the key's bytes.
    static func isLotKey(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        JSONByteScanner.equal(key, "lot") || JSONByteScanner.equal(key, "lots") || JSONByteScanner.equal(key, "parent")
    }
}

/// A growable buffer of trivial values written through its pointer: `Array`'s appends
/// check their storage's uniqueness and capacity through calls, ~a third of re-writing
/// the median material trace (issue 14). Freed by `release()`, not by itself.
struct RawBytes<Element: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<Element>
    /// How many are written; set lower to drop the last ones.
    var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    /// The last one written.
    var last: Element { base[count - 1] }

    /// Room for `extra` more.
    @inline(__always) mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private mutating func grow(_ needed: Int) {
        let larger = UnsafeMutablePointer<Element>.allocate(capacity: max(needed, 2 * capacity))
        larger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = larger
        capacity = max(needed, 2 * capacity)
    }

    @inline(__always) mutating func append(_ element: Element) {
        reserve(1)
        appendReserved(element)
    }

    @inline(__always) mutating func append(_ elements: UnsafeBufferPointer<Element>) {
        reserve(elements.count)
        appendReserved(elements)
    }

    @inline(__always) mutating func append(repeating element: Element, count extra: Int) {
        reserve(extra)
        appendReserved(repeating: element, count: extra)
    }

    /// The appends after a `reserve` that made room for them.
    @inline(__always) mutating func appendReserved(_ element: Element) {
        (base + count).initialize(to: element)
        count += 1
    }

    /// A few (a key, a short string) one by one: a `memcpy` call costs more than they do.
    @inline(__always) mutating func appendReserved(_ elements: UnsafeBufferPointer<Element>) {
        guard let start = elements.baseAddress else { return }
        if elements.count <= 16 {
            for index in 0..<elements.count { (base + count + index).initialize(to: start[index]) }
        } else {
            (base + count).initialize(from: start, count: elements.count)
        }
        count += elements.count
    }

    @inline(__always) mutating func appendReserved(repeating element: Element, count extra: Int) {
        if extra <= 16 {
            for index in 0..<extra { (base + count + index).initialize(to: element) }
        } else {
            (base + count).initialize(repeating: element, count: extra)
        }
        count += extra
    }

    /// A copy of what is written.
    var array: [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }

    func release() {
        base.deallocate()
    }
}
