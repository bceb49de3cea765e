#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An instant, exact to the microsecond, always in UTC (PostgreSQL `timestamptz`).
///
/// Held as an integer count of microseconds, PostgreSQL's own resolution, so that a time
/// read from the database and written back (or hashed into an audit record) is unchanged.
/// `Date` holds a `Double` and cannot promise that.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z; negative before it.
    public var microsecondsSinceEpoch: Int64

    static let microsecondsPerSecond: Int64 = 1_000_000
    static let microsecondsPerDay: Int64 = 86_400 * microsecondsPerSecond
    /// Seconds from 1970-01-01 to `Date`'s reference date, 2001-01-01.
    static let referenceDateOffsetSeconds: Int64 = 978_307_200

    /// The instant `microsecondsSinceEpoch` microseconds after 1970-01-01T00:00:00Z.
    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// Parses PostgreSQL's text output of `timestamptz` (DateStyle ISO), e.g.
    /// "2026-11-22 05:26:25.107456+00", "2026-11-22 05:26:25+00",
    /// "2026-11-22 05:26:25.1+05:30", "1999-01-08 04:05:06-08",
    /// "2026-11-22 05:26:25.5-03:30:15": the offset is ±HH, optionally :MM, optionally :SS,
    /// and there are 0–6 fractional digits.
    ///
    /// Returns nil for "infinity", "-infinity", a " BC" suffix, a year not exactly four
    /// digits (or 0000), a date that does not exist (2026-02-30, 2025-02-29), hour > 23,
    /// minute or second > 59, more than 6 fractional digits, an offset beyond ±15:59:59
    /// (PostgreSQL's own limit), and anything trailing: a value that cannot be held exactly
    /// is refused rather than approximated.
    public init?(postgresText: String) {
        guard let value = Timestamp.parse(postgresText, style: .postgres) else { return nil }
        self = value
    }

    /// Parses ISO 8601 / RFC 3339 text: "2026-11-22T05:26:25.107456Z",
    /// "2026-11-22T05:26:25Z", "2026-11-22T07:26:25+02:00"; 'z' and 't' are accepted as
    /// RFC 3339 allows.
    ///
    /// Requires the 'T' separator and an explicit offset ('Z' or ±HH:MM, at most ±15:59),
    /// because a time without an offset is not an instant. 0–6 fractional digits. Otherwise
    /// rejects what `init?(postgresText:)` rejects.
    public init?(iso8601: String) {
        guard let value = Timestamp.parse(iso8601, style: .iso8601) else { return nil }
        self = value
    }

    /// The canonical text, always "YYYY-MM-DDTHH:MM:SS.ffffffZ" with exactly six fractional
    /// digits, in UTC.
    ///
    /// Deterministic (no locale, no time zone, fixed width) because it is hashed into
    /// records. Instants whose UTC year falls outside 0000–9999, which PostgreSQL text input
    /// cannot produce, use ISO 8601's expanded year ("+10000-01-01T…", "-0001-…").
    public var iso8601: String {
        let (days, microsecondOfDay) = Timestamp.floorDivide(microsecondsSinceEpoch, Timestamp.microsecondsPerDay)
        let civil = CivilCalendar.civilFromDays(Int(days))
        let secondOfDay = Int(microsecondOfDay / Timestamp.microsecondsPerSecond)
        let microsecond = Int(microsecondOfDay % Timestamp.microsecondsPerSecond)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        ASCIIFormat.appendDate(year: civil.year, month: civil.month, day: civil.day, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        ASCIIFormat.appendPadded(secondOfDay / 3600, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        ASCIIFormat.appendPadded(secondOfDay / 60 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        ASCIIFormat.appendPadded(secondOfDay % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        ASCIIFormat.appendPadded(microsecond, width: 6, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The same text as `iso8601`.
    public var description: String { iso8601 }

    /// The instant nearest to `date`, rounded to the nearest microsecond.
    ///
    /// - Precondition: `date` is finite and within about ±292,000 years of 1970 (the range
    ///   of `Int64` microseconds).
    public init(_ date: Date) {
        // Split whole and fractional seconds before scaling, so that the large whole part
        // never passes through a Double multiplication (t - floor(t) is exact).
        let interval = date.timeIntervalSinceReferenceDate
        precondition(interval.isFinite, "Timestamp(Date) needs a finite date")
        let wholeSeconds = interval.rounded(.down)
        let fractionMicroseconds = Int64(((interval - wholeSeconds) * 1_000_000).rounded())  // 0...1_000_000
        guard let seconds = Int64(exactly: wholeSeconds) else {
            preconditionFailure("Timestamp(Date): \(date) is outside the range of Int64 microseconds")
        }
        let (shifted, overflow1) = seconds.addingReportingOverflow(Timestamp.referenceDateOffsetSeconds)
        let (scaled, overflow2) = shifted.multipliedReportingOverflow(by: Timestamp.microsecondsPerSecond)
        let (total, overflow3) = scaled.addingReportingOverflow(fractionMicroseconds)
        precondition(
            !(overflow1 || overflow2 || overflow3),
            "Timestamp(Date): \(date) is outside the range of Int64 microseconds"
        )
        self.microsecondsSinceEpoch = total
    }

    /// This instant as a `Date`.
    ///
    /// `Date` holds a `Double` of seconds since 2001, so it keeps every microsecond only
    /// within roughly 1865–2137; further out it is the nearest `Date`.
    public var date: Date {
        let (seconds, microseconds) = Timestamp.floorDivide(microsecondsSinceEpoch, Timestamp.microsecondsPerSecond)
        let sinceReference = Double(seconds - Timestamp.referenceDateOffsetSeconds) + Double(microseconds) / 1_000_000
        return Date(timeIntervalSinceReferenceDate: sinceReference)
    }

    /// The current time from the system's real-time clock, truncated to the microsecond.
    public static func now() -> Timestamp {
        var time = timespec()
        // CLOCK_REALTIME cannot fail with a valid timespec pointer; trap loudly if it ever does.
        let status = clock_gettime(CLOCK_REALTIME, &time)
        precondition(status == 0, "clock_gettime(CLOCK_REALTIME) failed")
        return Timestamp(
            microsecondsSinceEpoch: Int64(time.tv_sec) * microsecondsPerSecond + Int64(time.tv_nsec) / 1_000
        )
    }

    /// Chronological order.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    // MARK: - Parsing

    private enum Style {
        /// "YYYY-MM-DD HH:MM:SS[.f]±HH[:MM[:SS]]"
        case postgres
        /// "YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)"
        case iso8601
    }

    private static func parse(_ text: String, style: Style) -> Timestamp? {
        var scanner = ASCIIScanner(text)

        guard let date = CalendarDate.parse(&scanner) else { return nil }
        switch style {
        case .postgres:
            guard scanner.consume(UInt8(ascii: " ")) else { return nil }
        case .iso8601:
            guard scanner.consume(anyOf: UInt8(ascii: "T"), UInt8(ascii: "t")) != nil else { return nil }
        }

        guard let hour = scanner.digits(2), hour <= 23, scanner.consume(UInt8(ascii: ":")),
              let minute = scanner.digits(2), minute <= 59, scanner.consume(UInt8(ascii: ":")),
              let second = scanner.digits(2), second <= 59 else { return nil }

        var microsecond: Int64 = 0
        if scanner.consume(UInt8(ascii: ".")) {
            let fraction = scanner.digitRun(upTo: 6)
            guard (1...6).contains(fraction.count) else { return nil }
            for byte in fraction {
                microsecond = microsecond * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            for _ in fraction.count..<6 {
                microsecond *= 10
            }
        }

        guard let offsetSeconds = parseOffset(&scanner, style: style), scanner.isAtEnd else { return nil }

        // Years 1–9999 keep every term far inside Int64.
        let days = Int64(date.daysSinceEpoch)
        let localSeconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        let utcSeconds = localSeconds - Int64(offsetSeconds)
        return Timestamp(microsecondsSinceEpoch: utcSeconds * microsecondsPerSecond + microsecond)
    }

    /// Reads the UTC offset and returns it in seconds east of UTC.
    private static func parseOffset(_ scanner: inout ASCIIScanner, style: Style) -> Int? {
        if style == .iso8601, scanner.consume(anyOf: UInt8(ascii: "Z"), UInt8(ascii: "z")) != nil {
            return 0
        }
        guard let sign = scanner.consume(anyOf: UInt8(ascii: "+"), UInt8(ascii: "-")),
              let hours = scanner.digits(2), hours <= 15 else { return nil }

        var minutes = 0
        var seconds = 0
        switch style {
        case .iso8601:
            guard scanner.consume(UInt8(ascii: ":")), let m = scanner.digits(2), m <= 59 else { return nil }
            minutes = m
        case .postgres:
            if scanner.consume(UInt8(ascii: ":")) {
                guard let m = scanner.digits(2), m <= 59 else { return nil }
                minutes = m
                if scanner.consume(UInt8(ascii: ":")) {
                    guard let s = scanner.digits(2), s <= 59 else { return nil }
                    seconds = s
                }
            }
        }
        let magnitude = hours * 3600 + minutes * 60 + seconds
        return sign == UInt8(ascii: "-") ? -magnitude : magnitude
    }

    /// Floor division with a remainder in 0..<divisor, so instants before 1970 land on the
    /// right day (−1 µs is 1969-12-31T23:59:59.999999Z, not 1970-01-01 minus something).
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}

/// In JSON documents a timestamp is its canonical ISO 8601 UTC text, as everywhere else.
extension Timestamp: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601)
    }
}
