/// The rules for each field of an audit checkpoint, shared by the code that makes one
/// (``AuditCheckpoint/Statement``) and the code that reads one from a file, so that what
/// can be signed and what can be parsed are exactly the same set.
///
/// Each check returns the problem, worded to follow a field name, or nil.
enum CheckpointField {
    /// A UUID as PostgreSQL prints it: 8-4-4-4-12 lowercase hex digits.
    static func installationProblem(_ text: some StringProtocol) -> String? {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        let lengths = [8, 4, 4, 4, 12]
        guard groups.count == lengths.count,
              zip(groups, lengths).allSatisfy({ Hex.isLowercase($0, count: $1) }) else {
            return "must be a UUID in lowercase, like 3f2a8c1e-0b6d-4e7a-9c55-2d1f0e4b7a90"
        }
        return nil
    }

    /// A positive decimal with no sign, no leading zero and no separators, within Int64.
    static func seq(_ text: some StringProtocol) -> Int64? {
        guard let first = text.utf8.first, first != UInt8(ascii: "0"),
              text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return Int64(text)
    }

    static let seqProblem = "must be a positive whole number in plain decimal (no sign, no leading zero), at most 9223372036854775807"

    static func seqProblem(_ value: Int64) -> String? {
        value >= 1 ? nil : seqProblem
    }

    static let hashProblem = "must be 64 lowercase hex digits (a SHA-256 hash)"

    /// The checkpoint key's fingerprint: 16 lowercase hex digits.
    static func keyProblem(_ text: some StringProtocol) -> String? {
        Hex.isLowercase(text, count: 16) ? nil : "must be 16 lowercase hex digits (a key fingerprint)"
    }

    /// Free text naming who signed, on one line: no control or format characters (which
    /// could end the line or reorder what a reader sees) and no surrounding spaces (which
    /// a reader cannot see).
    static func signerProblem(_ text: some StringProtocol) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > 200 { return "must be at most 200 bytes" }
        let hidden = text.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned: true
            default: false
            }
        }
        if hidden { return "must not contain control, format or line-separator characters" }
        if let first = text.unicodeScalars.first, first.properties.isWhitespace { return "must not start with a space" }
        if let last = text.unicodeScalars.last, last.properties.isWhitespace { return "must not end with a space" }
        return nil
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: the canonical UTC text of gmp's audit encoding, with
    /// a real calendar date and a time of day.
    static func createdAtProblem(_ text: some StringProtocol) -> String? {
        let problem = "must be a UTC time like 2026-11-22T05:26:25.107456Z (six fractional digits, Z)"
        let bytes = Array(text.utf8)
        let shape = Array("dddd-dd-ddTdd:dd:dd.ddddddZ".utf8)
        guard bytes.count == shape.count else { return problem }
        for (byte, expected) in zip(bytes, shape) {
            let matches = expected == UInt8(ascii: "d")
                ? (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                : byte == expected
            guard matches else { return problem }
        }
        func number(_ range: Range<Int>) -> Int {
            bytes[range].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }
        let year = number(0..<4), month = number(5..<7), day = number(8..<10)
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else {
            return "has no such date: \(String(decoding: bytes[0..<10], as: UTF8.self))"
        }
        // PostgreSQL has no leap seconds, so :60 never comes from it.
        guard number(11..<13) <= 23, number(14..<16) <= 59, number(17..<19) <= 59 else {
            return "has no such time of day: \(String(decoding: bytes[11..<19], as: UTF8.self))"
        }
        return nil
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
