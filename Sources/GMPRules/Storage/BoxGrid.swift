/// A box's layout as a grid: row letters down, column numbers across, each position
/// holding the division of its unit or "." when free. Pure text, so the rendering is
/// unit-tested without a database.
public struct BoxGrid: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// What each occupied position shows: the unit's division, e.g. "001".
    public let cells: [StoragePosition: String]

    public init(rows: Int, columns: Int, cells: [StoragePosition: String]) {
        self.rows = rows
        self.columns = columns
        self.cells = cells
    }

    /// The grid, one line per row, columns right-aligned under their numbers:
    ///
    ///         1   2   3
    ///     A 001   .   .
    ///     B   .   . 014
    public func render() -> String {
        // A division's width (3), whatever is stored, so that a box keeps its shape as it fills.
        let width = max(3, String(columns).count, cells.values.map(\.count).max() ?? 0)
        let pad = { (text: String) in String(repeating: " ", count: max(0, width - text.count)) + text }
        let header = "  " + (1...columns).map { pad(String($0)) }.joined(separator: " ")
        let lines = (1...rows).map { row in
            StoragePosition.letter(row) + " " + (1...columns).map { column in
                pad(StoragePosition(row: row, column: column).flatMap { cells[$0] } ?? ".")
            }.joined(separator: " ")
        }
        return ([header] + lines).map { $0.trimmingSuffixSpaces }.joined(separator: "\n")
    }
}

extension String {
    fileprivate var trimmingSuffixSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
