@testable import GMPRules
import Testing

// Expected microsecond values were computed independently with Python's datetime.
@Suite("Canonical timestamp text")
struct CanonicalTimestampTests {
    @Test("edge instants", arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000Z"),
        (951_782_400_000_000, "2000-02-29T00:00:00.000000Z"),
        (951_827_696_789_012, "2000-02-29T12:34:56.789012Z"),
        (946_684_799_999_999, "1999-12-31T23:59:59.999999Z"),
        (946_684_800_000_000, "2000-01-01T00:00:00.000000Z"),
        (-1, "1969-12-31T23:59:59.999999Z"),
        (-86_400_000_000, "1969-12-31T00:00:00.000000Z"),
        (-2_203_891_200_999_999, "1900-02-28T23:59:59.000001Z"),
        (-62_135_596_800_000_000, "0001-01-01T00:00:00.000000Z"),
        (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
        (1_795_325_185_107_456, "2026-11-22T05:26:25.107456Z"),
    ])
    func edges(microseconds: Int64, text: String) {
        #expect(CanonicalTimestamp.text(microsecondsSince1970: microseconds) == text)
    }

    @Test("years outside 0000–9999 use ISO 8601's expanded form", arguments: [
        (Int64(253_402_300_800_000_000), "+10000-01-01T00:00:00.000000Z"),
        (-62_135_596_800_000_001, "0000-12-31T23:59:59.999999Z"),
        (-62_167_219_200_000_001, "-0001-12-31T23:59:59.999999Z"),
    ])
    func expandedYears(microseconds: Int64, text: String) {
        #expect(CanonicalTimestamp.text(microsecondsSince1970: microseconds) == text)
    }

    @Test("the extremes of Int64 format without trapping")
    func extremes() {
        #expect(CanonicalTimestamp.text(microsecondsSince1970: .max).hasPrefix("+294247-01-10T04:00:54.775807Z"))
        #expect(CanonicalTimestamp.text(microsecondsSince1970: .min).hasPrefix("-290308-12-21T19:59:05.224192Z"))
    }

    @Test("every day from 1600 to 2400 agrees with a naive day-by-day calendar")
    func everyDay() {
        var (year, month, day) = (1600, 1, 1)
        var days = -135_140  // 1600-01-01 is 135140 days before 1970-01-01
        var mismatches = 0
        while year <= 2400 {
            let expected = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T12:00:00.000000Z"
            let microseconds = Int64(days) * 86_400_000_000 + 43_200_000_000
            if CanonicalTimestamp.text(microsecondsSince1970: microseconds) != expected {
                mismatches += 1
            }
            (year, month, day) = next(year, month, day)
            days += 1
        }
        #expect(mismatches == 0)
    }

    private func next(_ year: Int, _ month: Int, _ day: Int) -> (Int, Int, Int) {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let length = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        if day < length { return (year, month, day + 1) }
        return month == 12 ? (year + 1, 1, 1) : (year, month + 1, 1)
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
