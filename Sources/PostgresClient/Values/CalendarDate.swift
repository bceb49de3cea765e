/// A calendar date without time or zone (PostgreSQL `date`), proleptic Gregorian,
/// years 1–9999.
///
/// Dates on GMP records (expiry, manufacture, release) are calendar facts, not instants:
/// keeping them apart from `Timestamp` stops a time zone from moving a date by a day.
public struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The year, 1–9999.
    public let year: Int
    /// The month, 1–12.
    public let month: Int
    /// The day of the month, 1–31 (never past the month's last day).
    public let day: Int

    /// The smallest and largest dates this type holds, as days since 1970-01-01.
    static let validDays = CivilCalendar.daysFromCivil(year: 1, month: 1, day: 1)
        ... CivilCalendar.daysFromCivil(year: 9999, month: 12, day: 31)

    /// A date from its parts, or nil unless it exists in the proleptic Gregorian calendar
    /// with a year 1–9999 (so 2024-02-29 exists, 2025-02-29 and 1900-02-29 do not).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year),
              CivilCalendar.isValid(year: year, month: month, day: day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD` (four-digit year 0001–9999, two-digit month and day),
    /// or returns nil. Nothing else is accepted: no whitespace, no time, no other layout,
    /// because a record's date must mean one thing only.
    public init?(_ text: String) {
        var scanner = ASCIIScanner(text)
        guard let date = CalendarDate.parse(&scanner), scanner.isAtEnd else { return nil }
        self = date
    }

    /// The date `daysSinceEpoch` days after 1970-01-01 (negative: before it).
    ///
    /// - Precondition: the result lies in 0001-01-01 … 9999-12-31.
    public init(daysSinceEpoch: Int) {
        precondition(
            CalendarDate.validDays.contains(daysSinceEpoch),
            "CalendarDate(daysSinceEpoch: \(daysSinceEpoch)) is outside 0001-01-01 … 9999-12-31"
        )
        let civil = CivilCalendar.civilFromDays(daysSinceEpoch)
        self.year = civil.year
        self.month = civil.month
        self.day = civil.day
    }

    /// Days since 1970-01-01 (which is 0); negative before it.
    public var daysSinceEpoch: Int {
        CivilCalendar.daysFromCivil(year: year, month: month, day: day)
    }

    /// `YYYY-MM-DD`, zero-padded (year 42 is "0042"), as PostgreSQL prints an ISO date.
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(10)
        ASCIIFormat.appendDate(year: year, month: month, day: day, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Chronological order.
    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Reads `YYYY-MM-DD` at the scanner's position; shared with `Timestamp`, whose text
    /// begins with the same date.
    static func parse(_ scanner: inout ASCIIScanner) -> CalendarDate? {
        guard let year = scanner.digits(4), scanner.consume(UInt8(ascii: "-")),
              let month = scanner.digits(2), scanner.consume(UInt8(ascii: "-")),
              let day = scanner.digits(2) else { return nil }
        return CalendarDate(year: year, month: month, day: day)
    }
}

// MARK: - Civil calendar arithmetic (shared by CalendarDate and Timestamp)

/// Proleptic Gregorian calendar arithmetic in plain integers, after Howard Hinnant's
/// `days_from_civil` / `civil_from_days` (http://howardhinnant.github.io/date_algorithms.html).
///
/// Integer arithmetic is exact for any year and needs no `Calendar`, whose Gregorian
/// calendar switches to Julian before 1582 and depends on time-zone data.
enum CivilCalendar {
    /// Whether `year` is a Gregorian leap year (2000 and 2024 are; 1900 and 2025 are not).
    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The number of days in `month` (1–12) of `year`.
    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Whether the month and day exist in that year (any year; range limits are the caller's).
    static func isValid(year: Int, month: Int, day: Int) -> Bool {
        (1...12).contains(month) && day >= 1 && day <= daysInMonth(year: year, month: month)
    }

    /// Days from 1970-01-01 to the given civil date (which must be valid).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        // Count years from March, so that the leap day is the last day of a "year".
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400  // floor division for negative years
        let yearOfEra = y - era * 400  // 0...399
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1  // 0...365
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear  // 0...146096
        return era * 146_097 + dayOfEra - 719_468  // 719468: 0000-03-01 to 1970-01-01
    }

    /// The civil date `days` days after 1970-01-01; inverse of `daysFromCivil`.
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365
        let monthFromMarch = (5 * dayOfYear + 2) / 153  // 0...11, March is 0
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}

// MARK: - Byte-level parsing and formatting (shared by CalendarDate and Timestamp)

/// A cursor over a string's UTF-8 bytes that accepts ASCII only.
///
/// Parsing by hand keeps the accepted grammar exact: Foundation's parsers accept
/// whitespace, Unicode digits and locale forms, and its ISO 8601 formatter keeps only
/// milliseconds. Any non-ASCII byte simply fails to match.
struct ASCIIScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// Whether every byte has been consumed.
    var isAtEnd: Bool { index == bytes.count }

    /// The next byte, without consuming it.
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Consumes `byte` if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    /// Consumes and returns the next byte if it is one of `candidates`.
    mutating func consume(anyOf candidates: UInt8...) -> UInt8? {
        guard let byte = peek, candidates.contains(byte) else { return nil }
        index += 1
        return byte
    }

    /// Consumes exactly `count` ASCII digits and returns their value, or nil (consuming
    /// nothing) if fewer are there. Callers check what follows, so "12026" is no 4-digit year.
    mutating func digits(_ count: Int) -> Int? {
        guard bytes.count - index >= count else { return nil }
        var value = 0
        for offset in 0..<count {
            let byte = bytes[index + offset]
            guard ASCIIFormat.isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        index += count
        return value
    }

    /// Consumes a run of up to `limit + 1` ASCII digits and returns them; one more than
    /// the limit is read so that callers can tell "too many" from "just enough".
    mutating func digitRun(upTo limit: Int) -> ArraySlice<UInt8> {
        let start = index
        while index - start <= limit, let byte = peek, ASCIIFormat.isDigit(byte) {
            index += 1
        }
        return bytes[start..<index]
    }
}

/// Fixed-width ASCII output, so canonical text never depends on locale or formatter settings.
enum ASCIIFormat {
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Appends the decimal digits of `value` (≥ 0), left-padded with zeros to `width`.
    ///
    /// Digit by digit in place: through `String(value)` each call allocated twice, ~800
    /// instructions, and a timestamp's text makes seven calls (`db status` writes 82
    /// timestamps: 0.48 M instructions of a cold command, issue 18).
    static func appendPadded(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        precondition(value >= 0)
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        let end = bytes.count + max(width, count)
        while bytes.count < end { bytes.append(UInt8(ascii: "0")) }
        var remaining = value
        var index = end - 1
        while remaining > 0 {
            bytes[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            index -= 1
        }
    }

    /// Appends `YYYY-MM-DD`. Years 0–9999 take four digits; others (reachable only by
    /// `Timestamp`s far outside PostgreSQL's everyday range) use ISO 8601's expanded form,
    /// "+10000" or "-0001", so the text stays unambiguous and deterministic.
    static func appendDate(year: Int, month: Int, day: Int, to bytes: inout [UInt8]) {
        if year < 0 {
            bytes.append(UInt8(ascii: "-"))
        } else if year > 9999 {
            bytes.append(UInt8(ascii: "+"))
        }
        appendPadded(abs(year), width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(day, width: 2, to: &bytes)
    }
}
