/// Byte-level checks of the three fields of a readings line. Deliberately strict: a
/// value is accepted only in the one form whose meaning PostgreSQL and gmp agree on,
/// so what gmp checked is what the server stores.
enum ReadingsFileFields {
    enum TimeOutcome: Equatable {
        /// Microseconds since 1970-01-01T00:00:00Z.
        case valid(Int64)
        case malformed, impossible
    }

    enum CelsiusOutcome: Equatable {
        /// Hundredths of a degree.
        case valid(Int32)
        case malformed, tooManyDecimals, belowAbsoluteZero, outOfRange
    }

    /// `^[A-Z0-9][A-Z0-9._-]{0,31}$`, the storage location code (sql/migrations/V0016__storage_and_custody.sql).
    static func isDeviceID(_ field: UnsafeBufferPointer<UInt8>) -> Bool {
        guard (1...32).contains(field.count) else { return false }
        for (index, byte) in field.enumerated() {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            // Not first: a `where` would bind to the last pattern only and let "." or "_" lead.
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                guard index > 0 else { return false }
            default: return false
            }
        }
        return true
    }

    /// `YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|±HH:MM)`, years 1970–2999.
    static func time(_ field: UnsafeBufferPointer<UInt8>) -> TimeOutcome {
        let n = field.count
        guard n >= 20 else { return .malformed }
        func digits(_ at: Int, _ count: Int) -> Int? {
            var value = 0
            for i in at..<(at + count) {
                let d = Int(field[i]) &- 48
                guard d >= 0, d <= 9 else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard field[4] == UInt8(ascii: "-"), field[7] == UInt8(ascii: "-"), field[10] == UInt8(ascii: "T"),
              field[13] == UInt8(ascii: ":"), field[16] == UInt8(ascii: ":"),
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2)
        else { return .malformed }
        var i = 19
        var micros = 0
        if field[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < n, field[i] >= UInt8(ascii: "0"), field[i] <= UInt8(ascii: "9") { i += 1 }
            let count = i - start
            guard (1...6).contains(count), let fraction = digits(start, count) else { return .malformed }
            micros = fraction
            for _ in count..<6 { micros *= 10 }
        }
        guard i < n else { return .malformed }
        var offsetMinutes = 0
        if field[i] == UInt8(ascii: "Z") {
            guard i + 1 == n else { return .malformed }
        } else if field[i] == UInt8(ascii: "+") || field[i] == UInt8(ascii: "-") {
            guard i + 6 == n, field[i + 3] == UInt8(ascii: ":"),
                  let offsetHours = digits(i + 1, 2), let offsetMins = digits(i + 4, 2) else { return .malformed }
            guard offsetHours <= 14, offsetMins <= 59 else { return .impossible }
            offsetMinutes = (offsetHours * 60 + offsetMins) * (field[i] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return .malformed
        }
        guard (1970...2999).contains(year), (1...12).contains(month), day >= 1, day <= daysIn(month, year),
              hour <= 23, minute <= 59, second <= 59 else { return .impossible }
        let days = daysFromCivil(year, month, day)
        let seconds = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60 + second
        return .valid(Int64(seconds) * 1_000_000 + Int64(micros))
    }

    /// `-?[0-9]{1,4}(.[0-9]{1,2})?` and within -273.15 … 9999.99 (numeric(6,2)).
    static func celsius(_ field: UnsafeBufferPointer<UInt8>) -> CelsiusOutcome {
        var i = 0
        let n = field.count
        let negative = n > 0 && field[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        var whole = 0, wholeDigits = 0
        while i < n, field[i] >= UInt8(ascii: "0"), field[i] <= UInt8(ascii: "9") {
            whole = whole * 10 + Int(field[i] - 48)
            wholeDigits += 1
            i += 1
            if wholeDigits > 6 { return .outOfRange }
        }
        guard wholeDigits > 0 else { return .malformed }
        var hundredths = 0, fractionDigits = 0
        if i < n, field[i] == UInt8(ascii: ".") {
            i += 1
            while i < n, field[i] >= UInt8(ascii: "0"), field[i] <= UInt8(ascii: "9") {
                if fractionDigits < 2 { hundredths = hundredths * 10 + Int(field[i] - 48) }
                fractionDigits += 1
                i += 1
            }
            guard fractionDigits > 0 else { return .malformed }
        }
        guard i == n else { return .malformed }
        guard fractionDigits <= 2 else { return .tooManyDecimals }
        if fractionDigits == 1 { hundredths *= 10 }
        guard wholeDigits <= 4 else { return .outOfRange }
        let value = (whole * 100 + hundredths) * (negative ? -1 : 1)
        guard value >= -27315 else { return .belowAbsoluteZero }
        return .valid(Int32(value))
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
