/// A plain-text table: each column as wide as its widest cell plus two spaces, no
/// trailing blanks. For listings whose cells vary widely in width (routine identities).
///
/// With a `width` (the terminal's, `Terminal.width()`), the widest columns are narrowed
/// until every line fits, and a cell longer than its column ends in `…`: a line never
/// wraps on the terminal, so no field is ever split across two lines. Without one (a pipe
/// or a file), nothing is cut. `decorate` styles a data cell (column index, text as
/// shown) after the widths are settled, so colour never counts toward a width.
/// Columns in `rightAligned` (counts, percentages) line up on their last digit.
/// `decorateRow` styles a whole data line (row index, line as shown), e.g. an alert in red.
func textTable(header: [String], rows: [[String]], width: Int? = Terminal.width(), rightAligned: Set<Int> = [],
               decorate: (Int, String) -> String = { $1 }, decorateRow: (Int, String) -> String = { $1 }) -> String {
    tableLines(header: header, rows: rows, width: width, rightAligned: rightAligned, decorate: decorate,
               decorateRow: decorateRow).joined(separator: "\n")
}

/// The lines of `textTable`, header first, each starting with `margin` (inside what
/// `decorateRow` is given).
private func tableLines(header: [String], rows: [[String]], width: Int?, rightAligned: Set<Int>, margin: String = "",
                        decorate: (Int, String) -> String = { $1 }, decorateRow: (Int, String) -> String = { $1 }) -> [String] {
    let layout = TableLayout(header: header, rows: rows, width: width)
    return (0...rows.count).map { index in
        var line = margin
        // Room for the whole line at once, not regrown as cells go in (issue 14).
        line.reserveCapacity(margin.utf8.count + layout.lineWidth + 8)
        if index == 0 {
            layout.line([header], 0, index: 0, rightAligned: rightAligned.contains, into: &line)
            return line
        }
        layout.line(rows, index - 1, index: index, rightAligned: rightAligned.contains, decorate: decorate, decorated: true,
                    into: &line)
        return decorateRow(index - 1, line)
    }
}

/// A table's rows of cells, whichever way they are held: an array of Strings a row, or
/// `TableCells`' one buffer.
private protocol TableRows {
    var count: Int { get }
    /// The cell's characters, as `characterCount` counts them.
    func characters(_ row: Int, _ column: Int) -> Int
    func text(_ row: Int, _ column: Int) -> String
    /// The cell's text, whole, at the end of `line`.
    func append<Text: TableText>(_ row: Int, _ column: Int, to line: inout Text)
}

extension Array: TableRows where Element == [String] {
    fileprivate func characters(_ row: Int, _ column: Int) -> Int {
        characterCount(self[row][column])
    }

    fileprivate func text(_ row: Int, _ column: Int) -> String {
        self[row][column]
    }

    fileprivate func append<Text: TableText>(_ row: Int, _ column: Int, to line: inout Text) {
        line.append(self[row][column])
    }
}

/// A table's cells as UTF-8 in one buffer, row by row: no array and no String a row (a
/// material trace's ~1,000 units, each a row of two Strings made, counted, copied into
/// the page and freed, issue 14). Laid out and written as `[[String]]` rows are.
struct TableCells {
    let columns: Int
    private var bytes: [UInt8] = []
    /// Where each cell ends in `bytes`, row by row.
    private var ends: [Int] = []

    init(columns: Int, bytes capacity: Int = 0) {
        self.columns = columns
        bytes.reserveCapacity(capacity)
    }

    /// The rows written (a row's cells all appended).
    var count: Int { ends.count / columns }

    /// The next cell.
    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
        ends.append(bytes.count)
    }

    /// The next cell from its UTF-8 (valid) where it lies.
    mutating func append(_ text: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: text)
        ends.append(bytes.count)
    }

    /// The next cell, written straight into the buffer (valid UTF-8).
    mutating func append(writing write: (inout [UInt8]) -> Void) {
        write(&bytes)
        ends.append(bytes.count)
    }

    fileprivate func range(_ row: Int, _ column: Int) -> Range<Int> {
        let index = row * columns + column
        return (index == 0 ? 0 : ends[index - 1])..<ends[index]
    }

    /// Each column's widest cell in bytes when every byte of every cell is printable ASCII
    /// (`isPrintableASCII`: a cell's bytes are then its characters, with no line break to
    /// indent after); nil otherwise.
    fileprivate func printableWidths() -> [Int]? {
        guard bytes.withUnsafeBufferPointer(Self.isPrintableASCII) else { return nil }
        var widths = [Int](repeating: 0, count: columns)
        var start = 0
        var column = 0
        for end in ends {
            widths[column] = max(widths[column], end - start)
            start = end
            column = column == columns - 1 ? 0 : column + 1
        }
        return widths
    }

    /// Whether every byte of `text` is ASCII from the space up (a DEL included): no
    /// control character and nothing that is not ASCII. Eight bytes at a time, by the
    /// "has a byte less than n" test (`(x - n·0x01…) & ~x & 0x80…`, exact for n ≤ 128): when
    /// no byte has its high bit set, `~x`'s high bits are all set, so or-ing `x` in place
    /// of and-ing `~x` also flags a non-ASCII byte.
    static func isPrintableASCII(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        allBytes(text, words: { word in ((word &- ones &* 0x20) | word) & highs == 0 },
                 each: { $0 >= 0x20 && $0 < 0x80 })
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether every byte of `bytes` passes: eight at a time by `words` (true when all
    /// eight of a word pass), the last few one by one by `each`.
    @inline(__always)
    private static func allBytes(_ bytes: UnsafeBufferPointer<UInt8>, words: (UInt64) -> Bool,
                                 each: (UInt8) -> Bool) -> Bool {
        guard let start = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(start)
        var at = 0
        while at + 8 <= bytes.count {
            if !words(raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) { return false }
            at += 8
        }
        while at < bytes.count {
            if !each(bytes[at]) { return false }
            at += 1
        }
        return true
    }

    /// The rows' lines written at the end of `out` in columns of `widths` (each at least
    /// its widest cell), as `TableLayout.line` writes them when no cell is cut: the lines'
    /// bytes made at once, blanks first, then each cell copied to where its column starts
    /// (`rightAligned`: 1 for a column aligned on its right, else 0).
    /// A table of ~2,500 units' lines cost ~1,500 instructions a line written cell by cell
    /// through the general layout (issue 14).
    fileprivate func writeLines(widths: [Int], indent: Int, rightAligned: [Int], to out: inout [UInt8]) {
        guard count > 0 else { return }
        var starts: [Int] = []
        var at = indent
        for width in widths {
            starts.append(at)
            at += width + 2
        }
        let last = columns - 1
        var total = 0
        for row in 0..<count {
            total += starts[last] + (rightAligned[last] == 1 ? widths[last] : range(row, last).count) + 1
        }
        let lines = [UInt8](unsafeUninitializedCapacity: total) { lines, written in
            guard let first = lines.baseAddress else { return }
            first.initialize(repeating: UInt8(ascii: " "), count: total)
            bytes.withUnsafeBufferPointer { bytes in
                var line = first
                var start = 0
                var column = 0
                for end in ends {
                    let length = end - start
                    let place = line + starts[column] + rightAligned[column] * (widths[column] - length)
                    if length > 0, let cell = bytes.baseAddress { place.update(from: cell + start, count: length) }
                    start = end
                    column += 1
                    if column == columns {
                        line = place + length
                        line.pointee = UInt8(ascii: "\n")
                        line += 1
                        column = 0
                    }
                }
            }
            written = total
        }
        out.append(contentsOf: lines)
    }
}

extension TableCells: TableRows {
    fileprivate func characters(_ row: Int, _ column: Int) -> Int {
        let range = range(row, column)
        let plain = bytes.withUnsafeBufferPointer { bytes in Self.isPlain(UnsafeBufferPointer(rebasing: bytes[range])) }
        return plain ? range.count : text(row, column).count
    }

    /// Whether `cell` is ASCII without a carriage return (its bytes are its characters),
    /// eight bytes at a time: byte by byte through `contains` was ~9 instructions a byte of
    /// the median material trace's ~2,000 unit cells (issue 14).
    static func isPlain(_ cell: UnsafeBufferPointer<UInt8>) -> Bool {
        // A high bit set, or a byte equal to CR (the "has a zero byte" test on the word
        // xor-ed with CR, which flags none when there is none).
        allBytes(cell, words: { word in
            let carriageReturn = word ^ (ones &* 0x0D)
            return (word | ((carriageReturn &- ones) & ~carriageReturn)) & highs == 0
        }, each: { $0 < 0x80 && $0 != UInt8(ascii: "\r") })
    }

    fileprivate func text(_ row: Int, _ column: Int) -> String {
        String(decoding: bytes[range(row, column)], as: UTF8.self)
    }

    fileprivate func append<Text: TableText>(_ row: Int, _ column: Int, to line: inout Text) {
        let range = range(row, column)
        bytes.withUnsafeBufferPointer { line.append(UnsafeBufferPointer(rebasing: $0[range])) }
    }
}

/// A table's settled layout, the one for every form it is written in (a String a line,
/// `TextPage`'s one buffer): each cell's characters, counted once, and each column's width.
private struct TableLayout {
    /// Each cell's characters, row by row, the header's first (one array for them all).
    let counts: [Int]
    let widths: [Int]

    init(header: [String], rows: some TableRows, width: Int?) {
        let columns = header.count
        var counts = header.map(characterCount)
        counts.reserveCapacity(columns * (rows.count + 1))
        var widths = counts
        for row in 0..<rows.count {
            for column in 0..<columns {
                let count = rows.characters(row, column)
                counts.append(count)
                widths[column] = max(widths[column], count)
            }
        }
        self.counts = counts
        self.widths = width.map { fitted(widths, header: header, into: $0) } ?? widths
    }

    /// The widths and the spaces between columns.
    var lineWidth: Int { widths.reduce(0, +) + 2 * widths.count }

    /// Row `index`'s line (0: the header) written at the end of `line`: `rows`' row `row`.
    /// A cell that fits, when not `decorated`, is copied as it is, without a String.
    func line<Text: TableText>(_ rows: some TableRows, _ row: Int, index: Int, rightAligned: (Int) -> Bool,
                               decorate: (Int, String) -> String = { $1 }, decorated: Bool = false, into line: inout Text) {
        let counts = self.counts[(index * widths.count)...]
        // Each piece appended to the line in turn: `blank + shown + "  "` made two Strings a
        // cell on the way (~2,300 cells for a trace reaching 94 lots, issue 14).
        for column in widths.indices {
            let count = counts[counts.startIndex + column]
            let fits = count <= widths[column]
            let last = column == widths.count - 1
            var blank = widths[column] - count
            var shown: String?
            if !fits || decorated {
                let cell = fits ? rows.text(row, column) : truncated(rows.text(row, column), to: widths[column])
                if !fits { blank = widths[column] - cell.count }
                shown = decorated ? decorate(column, cell) : cell
            }
            if rightAligned(column) {
                line.appendSpaces(blank)
                if let shown { line.append(shown) } else { rows.append(row, column, to: &line) }
                if !last { line.appendSpaces(2) }
            } else {
                if let shown { line.append(shown) } else { rows.append(row, column, to: &line) }
                if !last { line.appendSpaces(blank + 2) }
            }
        }
    }
}

/// Where a table's lines are written: a String a line, or a page's one buffer.
private protocol TableText {
    mutating func append(_ text: String)
    /// Valid UTF-8.
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>)
    mutating func appendSpaces(_ count: Int)
}

extension String: TableText {
    fileprivate mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        self += String(decoding: bytes, as: UTF8.self)
    }

    fileprivate mutating func appendSpaces(_ count: Int) {
        self += String(repeating: " ", count: count)
    }
}

extension Array: TableText where Element == UInt8 {
    /// A String's UTF-8 copied in place (a native String's bytes are contiguous).
    fileprivate mutating func append(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ append(contentsOf: $0) }) == nil {
            append(contentsOf: text.utf8)
        }
    }

    fileprivate mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        append(contentsOf: bytes)
    }

    fileprivate mutating func appendSpaces(_ count: Int) {
        if count <= spaces.count {
            append(contentsOf: spaces[..<count])
        } else {
            append(contentsOf: repeatElement(UInt8(ascii: " "), count: count))
        }
    }
}

/// A run of spaces to pad from (appending a `repeatElement` byte by byte is slower).
private let spaces = [UInt8](repeating: UInt8(ascii: " "), count: 64)

/// A page of text (a record's lines and tables) written in one UTF-8 buffer, each line
/// ending in a line break: no String a line, no join (the material trace's ~1,200 lines,
/// issue 14). Its tables are `indentedTable`'s, laid out by the same `TableLayout`.
struct TextPage {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func line(_ text: String) {
        bytes.append(text)
        bytes.append(UInt8(ascii: "\n"))
    }

    mutating func lines(_ texts: [String]) {
        for text in texts { line(text) }
    }

    /// `indentedTable(header:rows:indent:width:rightAligned:)`'s lines.
    mutating func table(header: [String], rows: [[String]], indent: Int = 2, width: Int? = Terminal.width(),
                        rightAligned: [Int] = []) {
        // In one buffer, so that plain cells take `printableTable`'s way too (a material
        // trace's 210 lots reached, issue 14).
        var cells = TableCells(columns: header.count, bytes: rows.count * header.count * 16)
        for row in rows {
            for cell in row { cells.append(cell) }
        }
        table(header: header, cells: cells, indent: indent, width: width, rightAligned: rightAligned)
    }

    /// The same lines from cells held in one buffer.
    mutating func table(header: [String], cells: TableCells, indent: Int = 2, width: Int? = Terminal.width(),
                        rightAligned: [Int] = []) {
        if !printableTable(header: header, cells: cells, indent: indent, width: width, rightAligned: rightAligned) {
            layOut(header: header, rows: cells, indent: indent, width: width, rightAligned: rightAligned)
        }
    }

    /// The table written the short way when every cell, the header's too, is printable
    /// ASCII (its bytes its characters, no line break) and no column is narrowed to fit
    /// `width`: nothing to count, cut or indent again, so each line is its cells' bytes
    /// where their columns start. False, with nothing written, otherwise.
    private mutating func printableTable(header: [String], cells: TableCells, indent: Int, width: Int?,
                                         rightAligned: [Int]) -> Bool {
        var head = TableCells(columns: header.count)
        for cell in header { head.append(cell) }
        guard header.count == cells.columns, var widths = head.printableWidths(), let cellWidths = cells.printableWidths()
        else { return false }
        for column in widths.indices { widths[column] = max(widths[column], cellWidths[column]) }
        if let width, fitted(widths, header: header, into: max(width - indent, 1)) != widths { return false }
        // 1: the column is right-aligned (`[Int]`, not `[Bool]`: a type new to the program
        // costs the runtime's look-ups on first use).
        let rightAligned = widths.indices.map { rightAligned.contains($0) ? 1 : 0 }
        head.writeLines(widths: widths, indent: indent, rightAligned: rightAligned, to: &bytes)
        cells.writeLines(widths: widths, indent: indent, rightAligned: rightAligned, to: &bytes)
        return true
    }

    /// Any table, cell by cell: counted, cut with `…` to fit, a cell's own line breaks
    /// indented (`layOut`'s way for the lines `printableTable` does not take; tests compare the two).
    mutating func generalTable(header: [String], cells: TableCells, indent: Int = 2, width: Int?, rightAligned: [Int] = []) {
        layOut(header: header, rows: cells, indent: indent, width: width, rightAligned: rightAligned)
    }

    private mutating func layOut(header: [String], rows: some TableRows, indent: Int, width: Int?, rightAligned: [Int]) {
        let layout = TableLayout(header: header, rows: rows, width: width.map { max($0 - indent, 1) })
        let newline = UInt8(ascii: "\n")
        for index in 0...rows.count {
            let start = bytes.count
            bytes.appendSpaces(indent)
            if index == 0 {
                layout.line([header], 0, index: 0, rightAligned: rightAligned.contains, into: &bytes)
            } else {
                layout.line(rows, index - 1, index: index, rightAligned: rightAligned.contains, into: &bytes)
            }
            if bytes.withUnsafeBufferPointer({ UnsafeBufferPointer(rebasing: $0[start...]).contains(newline) }) {
                // A cell's own line break starts an indented line too (rare: a note, a reason);
                // as `indentedTable` splits its String by Characters, a CRLF (one Character)
                // is not split.
                let written = bytes[start...]
                bytes.removeSubrange(start...)
                var previous: UInt8 = 0
                for byte in written {
                    bytes.append(byte)
                    if byte == newline, previous != UInt8(ascii: "\r") { bytes.appendSpaces(indent) }
                    previous = byte
                }
            }
            bytes.append(newline)
        }
    }

    /// The page as `lines.joined(separator: "\n")` is: without its last line break.
    var text: String {
        String(decoding: bytes.last == UInt8(ascii: "\n") ? bytes.dropLast() : bytes[...], as: UTF8.self)
    }
}

/// The characters of a cell, counted once per cell: its bytes when it is ASCII without a
/// carriage return (ids, times, codes: nearly every cell), else its `Character`s. Each
/// cell's Characters counted three times were ~5% of the client's CPU for a material trace
/// printing 2,280 units (issue 14).
private func characterCount(_ text: String) -> Int {
    let plain = text.utf8.withContiguousStorageIfAvailable { bytes in
        !bytes.contains { $0 >= 0x80 || $0 == UInt8(ascii: "\r") }
    } ?? !text.utf8.contains { $0 >= 0x80 || $0 == UInt8(ascii: "\r") }
    return plain ? text.utf8.count : text.count
}

/// Whether `text` holds a line break, looked for in its UTF-8 storage in place: the
/// generic look through `String.UTF8View`, byte by byte, was ~3% of a material trace's
/// client instructions (~1,300 lines, issue 14).
private func hasLineBreak(_ text: String) -> Bool {
    text.utf8.withContiguousStorageIfAvailable { $0.contains(UInt8(ascii: "\n")) } ?? text.utf8.contains(UInt8(ascii: "\n"))
}

/// A table inside a record's page, under a heading line: every line indented by `indent`
/// spaces and fitted to the width that leaves (`textTable`). A cell's own line breaks
/// start indented lines too. Line by line, not the table joined and split again: that
/// split cost ~9% of the client's CPU for a trace printing 2,280 units (issue 14); each
/// line written after its margin, not copied behind it (issue 14).
func indentedTable(header: [String], rows: [[String]], indent: Int = 2, width: Int? = Terminal.width(),
                   rightAligned: Set<Int> = []) -> [String] {
    let margin = String(repeating: " ", count: indent)
    return tableLines(header: header, rows: rows, width: width.map { max($0 - indent, 1) }, rightAligned: rightAligned,
                      margin: margin)
        .flatMap { line in
            hasLineBreak(line)
                ? line.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { $0 == 0 ? String($1) : margin + $1 }
                : [line]
        }
}

/// Columns of fixed widths for a table written a row at a time (the audit report streams
/// its events): with a `width`, the columns are narrowed as `textTable` narrows them and
/// the last column gets what is left, cut with `…`; without one, nothing is cut and a
/// longer cell pushes the rest of its line right.
struct StreamedColumns {
    let widths: [Int]
    /// The last column's width on a terminal; nil: unbounded.
    let lastWidth: Int?

    /// `widths`: each column's usual width, the last one's included (its least); the
    /// columns in `keep` (a sequence number, a time) are never narrowed.
    init(header: [String], widths usual: [Int], width: Int?, keep: Set<Int> = []) {
        guard let width else {
            widths = usual
            lastWidth = nil
            return
        }
        let fittedWidths = fitted(usual, header: header, into: width, keep: keep)
        let others = fittedWidths.dropLast().reduce(0, +) + 2 * (fittedWidths.count - 1)
        widths = fittedWidths
        lastWidth = max(width - others, fittedWidths.last ?? 1)
    }

    func line(_ cells: [String]) -> String {
        if lastWidth == nil {
            return cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell + String(repeating: " ", count: max(widths[column] - cell.count, 0)) + "  "
            }.joined()
        }
        var line = ""
        for (column, cell) in cells.enumerated() {
            if column == cells.count - 1 {
                line += truncated(cell, to: lastWidth ?? cell.count)
            } else {
                let shown = truncated(cell, to: widths[column])
                line += shown + String(repeating: " ", count: widths[column] - shown.count) + "  "
            }
        }
        return line
    }
}

/// Column widths narrowed, widest first, until the line (with two spaces between
/// columns) fits in `width`: first no column below its header or 6 characters, whichever
/// is less; when that is still too wide (many columns, a narrow terminal), down to 3; the
/// columns in `keep` not at all.
private func fitted(_ widths: [Int], header: [String], into width: Int, keep: Set<Int> = []) -> [Int] {
    var widths = widths
    var total = widths.reduce(0, +) + 2 * (widths.count - 1)
    for least in [6, 3] where total > width {
        let floors = header.indices.map { keep.contains($0) ? widths[$0] : max(min(header[$0].count, least), 1) }
        while total > width {
            guard let widest = widths.indices.filter({ widths[$0] > floors[$0] }).max(by: { widths[$0] < widths[$1] }) else { break }
            widths[widest] -= 1
            total -= 1
        }
    }
    return widths
}

/// The text cut to `width` characters, its last one `…` when anything was cut.
private func truncated(_ text: String, to width: Int) -> String {
    guard text.count > width else { return text }
    return width <= 1 ? String(text.prefix(width)) : String(text.prefix(width - 1)) + "…"
}
