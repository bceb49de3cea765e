/// A plain-text table: each column as wide as its widest cell plus two spaces, no
/// trailing blanks. For listings whose cells vary widely in width (routine identities).
func textTable(header: [String], rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { row in
        var line = ""
        for column in row.indices {
            let cell = row[column]
            line += column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
        }
        return line
    }.joined(separator: "\n")
}
