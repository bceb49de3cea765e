/// The canonical text of an instant in audit encoding v1: `YYYY-MM-DDTHH:MM:SS.ffffffZ`,
/// always UTC and always six fractional digits.
///
/// Written byte by byte into the caller's buffer, with no date library, because it runs once
/// per audit event while a chain of millions is verified, and because it must equal what
/// PostgreSQL produces for the same `timestamptz` exactly: no locale, no time zone, no
/// rounding. Years outside 0000–9999 (not reachable from PostgreSQL's everyday range) take
/// ISO 8601's expanded form, "+10000-…" or "-0001-…", as `Timestamp.iso8601` does.
public enum CanonicalTimestamp {
    static let microsecondsPerSecond: Int64 = 1_000_000
    static let microsecondsPerDay: Int64 = 86_400 * microsecondsPerSecond

    /// The text for `microseconds` since 1970-01-01T00:00:00Z (negative before it).
    public static func text(microsecondsSince1970 microseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        append(microsecondsSince1970: microseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the text for `microseconds` since 1970-01-01T00:00:00Z to `bytes`.
    public static func append(microsecondsSince1970 microseconds: Int64, to bytes: inout [UInt8]) {
        // Floor division, so that -1 µs is 1969-12-31T23:59:59.999999Z.
        let (days, microsecondOfDay) = floorDivide(microseconds, microsecondsPerDay)
        let date = civilFromDays(days)
        let secondOfDay = UInt64(microsecondOfDay / microsecondsPerSecond)

        appendYear(date.year, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        DecimalText.appendTwoDigits(date.month, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        DecimalText.appendTwoDigits(date.day, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        DecimalText.appendTwoDigits(secondOfDay / 3600, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        DecimalText.appendTwoDigits(secondOfDay / 60 % 60, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        DecimalText.appendTwoDigits(secondOfDay % 60, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        DecimalText.appendSixDigits(UInt64(microsecondOfDay % microsecondsPerSecond), to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// The proleptic Gregorian date `days` days after 1970-01-01 (Howard Hinnant's
    /// civil_from_days: count from 0000-03-01 in 400-year eras, so the leap day is last).
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: UInt64, day: UInt64) {
        let z = days + 719_468  // days from 0000-03-01
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365
        let monthFromMarch = (5 * dayOfYear + 2) / 153  // 0...11, March is 0
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), UInt64(month), UInt64(day))
    }

    /// Floor division with a remainder in 0..<divisor.
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    /// Four digits for 0–9999; otherwise a sign, then at least four digits.
    private static func appendYear(_ year: Int64, to bytes: inout [UInt8]) {
        if !(0...9999).contains(year) {
            bytes.append(year < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        }
        let magnitude = year.magnitude
        if magnitude < 10_000 {
            DecimalText.appendFourDigits(magnitude, to: &bytes)
        } else {
            DecimalText.appendDigits(magnitude, to: &bytes)
        }
    }
}
