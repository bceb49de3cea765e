/// A plain-text table: each column as wide as its widest cell plus two spaces, no
/// trailing blanks. For listings whose cells vary widely in width (routine identities).
///
/// With a `width` (the terminal's, `Terminal.width()`), the widest columns are narrowed
/// until every line fits, and a cell longer than its column ends in `…`: a line never
/// wraps on the terminal, so no field is ever split across two lines. Without one (a pipe
/// or a file), nothing is cut. `decorate` styles a data cell (column index, text as
/// shown) after the widths are settled, so colour never counts toward a width.
/// Columns in `rightAligned` (counts, percentages) line up on their last digit.
func textTable(header: [String], rows: [[String]], width: Int? = Terminal.width(), rightAligned: Set<Int> = [],
               decorate: (Int, String) -> String = { $1 }) -> String {
    let all = [header] + rows
    var widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    if let width {
        widths = fitted(widths, header: header, into: width)
    }
    return all.enumerated().map { index, row in
        var line = ""
        for column in row.indices {
            let cell = truncated(row[column], to: widths[column])
            let shown = index == 0 ? cell : decorate(column, cell)
            let blank = String(repeating: " ", count: widths[column] - cell.count)
            if rightAligned.contains(column) {
                line += blank + shown + (column == row.count - 1 ? "" : "  ")
            } else {
                line += column == row.count - 1 ? shown : shown + blank + "  "
            }
        }
        return line
    }.joined(separator: "\n")
}

/// Column widths narrowed, widest first, until the line (with two spaces between
/// columns) fits in `width`; no column below its header or 6 characters, whichever is less.
private func fitted(_ widths: [Int], header: [String], into width: Int) -> [Int] {
    var widths = widths
    let floors = header.map { min($0.count, 6) }.enumerated().map { max($0.element, 1) }
    var total = widths.reduce(0, +) + 2 * (widths.count - 1)
    while total > width {
        guard let widest = widths.indices.filter({ widths[$0] > floors[$0] }).max(by: { widths[$0] < widths[$1] }) else { break }
        widths[widest] -= 1
        total -= 1
    }
    return widths
}

/// The text cut to `width` characters, its last one `…` when anything was cut.
private func truncated(_ text: String, to width: Int) -> String {
    guard text.count > width else { return text }
    return width <= 1 ? String(text.prefix(width)) : String(text.prefix(width - 1)) + "…"
}
