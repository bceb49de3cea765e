import PostgresClient  // trimmingWhitespace

/// A position in a storage box as people write it: the row letter, then the column
/// number (C7 is row 3, column 7). Rows are A–Z and columns 1–99, the largest layout
/// sql/code/11_storage.sql and 12_custody.sql allows; whether the position exists in a given box is the database's check.
public struct StoragePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 1...26 (A...Z).
    public let row: Int
    /// 1...99.
    public let column: Int

    public init?(row: Int, column: Int) {
        guard (1...26).contains(row), (1...99).contains(column) else { return nil }
        self.row = row
        self.column = column
    }

    /// Parses "C7" (or "c7"); refuses a column first ("7C"), column 0, two row letters
    /// ("AA1") and columns above 99.
    public init(_ text: String) throws(StorageInputError) {
        let characters = Array(text.trimmingWhitespace.uppercased())
        guard let letter = characters.first?.asciiValue, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(letter),
              (2...3).contains(characters.count), characters.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }),
              let column = Int(String(characters.dropFirst())),
              let position = StoragePosition(row: Int(letter - UInt8(ascii: "A")) + 1, column: column) else {
            throw .malformedPosition(text)
        }
        self = position
    }

    /// The row letter, A–Z.
    public var rowLetter: String { Self.letter(row) }

    /// "C7".
    public var label: String { rowLetter + String(column) }

    public var description: String { label }

    public static func letter(_ row: Int) -> String { String(UnicodeScalar(UInt8(64 + row))) }

    /// Row by row, as a box is read.
    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.row, lhs.column) < (rhs.row, rhs.column) }
}
