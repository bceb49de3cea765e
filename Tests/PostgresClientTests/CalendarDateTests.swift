import PostgresClient
import Testing

// Expected day counts were computed independently with Python's datetime (proleptic Gregorian).
@Suite("CalendarDate")
struct CalendarDateTests {
    // MARK: Validation

    @Test("accepts dates that exist in the proleptic Gregorian calendar", arguments: [
        (2024, 2, 29),  // divisible by 4
        (2000, 2, 29),  // divisible by 400
        (1600, 2, 29),
        (400, 2, 29),
        (2025, 2, 28),
        (2026, 1, 31), (2026, 3, 31), (2026, 4, 30), (2026, 5, 31), (2026, 6, 30),
        (2026, 7, 31), (2026, 8, 31), (2026, 9, 30), (2026, 10, 31), (2026, 11, 30), (2026, 12, 31),
        (1, 1, 1),
        (9999, 12, 31),
        (1582, 10, 10),  // inside the Julian-to-Gregorian gap: proleptic Gregorian has it
    ])
    func validDates(year: Int, month: Int, day: Int) throws {
        let date = try #require(CalendarDate(year: year, month: month, day: day))
        #expect(date.year == year)
        #expect(date.month == month)
        #expect(date.day == day)
    }

    @Test("rejects dates that do not exist or are outside 0001–9999", arguments: [
        (2025, 2, 29),  // not divisible by 4
        (1900, 2, 29),  // divisible by 100, not 400
        (2100, 2, 29),
        (2024, 2, 30),
        (2026, 4, 31), (2026, 6, 31), (2026, 9, 31), (2026, 11, 31),
        (2026, 1, 32),
        (2026, 1, 0),
        (2026, 0, 1),
        (2026, 13, 1),
        (2026, -1, 1),
        (2026, 1, -1),
        (0, 1, 1),
        (-1, 1, 1),
        (10000, 1, 1),
        (Int.max, 1, 1),
        (Int.min, 1, 1),
        (2026, Int.max, 1),
        (2026, 1, Int.max),
    ])
    func invalidDates(year: Int, month: Int, day: Int) {
        #expect(CalendarDate(year: year, month: month, day: day) == nil)
    }

    // MARK: Text

    @Test("parses strictly YYYY-MM-DD", arguments: [
        ("2026-11-22", 2026, 11, 22),
        ("2024-02-29", 2024, 2, 29),
        ("0001-01-01", 1, 1, 1),
        ("0042-07-04", 42, 7, 4),
        ("9999-12-31", 9999, 12, 31),
    ])
    func parses(text: String, year: Int, month: Int, day: Int) throws {
        let date = try #require(CalendarDate(text))
        #expect(date == CalendarDate(year: year, month: month, day: day))
    }

    @Test("rejects any other text", arguments: [
        "",
        "2025-02-29",
        "1900-02-29",
        "2026-02-30",
        "2026-13-01",
        "2026-00-01",
        "2026-01-00",
        "0000-01-01",
        "10000-01-01",
        "+2026-11-22",
        "-2026-11-22",
        "226-11-22",
        "2026-1-22",
        "2026-11-2",
        "2026-011-22",
        "20261122",
        "2026/11/22",
        "2026.11.22",
        "22-11-2026",
        " 2026-11-22",
        "2026-11-22 ",
        "2026-11-22\n",
        "2026-11-22T00:00:00Z",
        "2026-11-22 BC",
        "2026-11-22x",
        "2026-11",
        "２０２６-11-22",  // full-width digits
        "2026-١١-22",  // Arabic-Indic digits
        "infinity",
        "today",
    ])
    func rejectsText(text: String) {
        #expect(CalendarDate(text) == nil)
    }

    @Test("description is YYYY-MM-DD, zero-padded", arguments: [
        (42, 7, 4, "0042-07-04"),
        (1, 1, 1, "0001-01-01"),
        (999, 12, 31, "0999-12-31"),
        (2026, 3, 5, "2026-03-05"),
        (2026, 11, 22, "2026-11-22"),
        (9999, 12, 31, "9999-12-31"),
    ])
    func description(year: Int, month: Int, day: Int, text: String) throws {
        let date = try #require(CalendarDate(year: year, month: month, day: day))
        #expect(date.description == text)
        #expect("\(date)" == text)
        #expect(CalendarDate(text) == date)
    }

    // MARK: Days since epoch

    @Test("daysSinceEpoch matches known day counts", arguments: [
        ("1970-01-01", 0),
        ("1969-12-31", -1),
        ("2000-03-01", 11017),
        ("2024-02-29", 19782),
        ("2026-11-22", 20779),
        ("1900-03-01", -25508),
        ("1582-10-15", -141427),
        ("1582-10-04", -141438),
        ("0400-02-29", -573372),
        ("0042-07-04", -704003),
        ("0001-01-01", -719162),
        ("9999-12-31", 2932896),
        ("3719-10-10", 639091),
        ("1733-04-18", -86455),
        ("4535-01-01", 936847),
        ("7476-01-31", 2011055),
        ("0555-07-03", -516635),
        ("0832-10-30", -415343),
        ("9432-03-14", 2725512),
        ("6154-11-12", 1528490),
    ])
    func knownDayCounts(text: String, days: Int) throws {
        let date = try #require(CalendarDate(text))
        #expect(date.daysSinceEpoch == days)
        #expect(CalendarDate(daysSinceEpoch: days) == date)
        #expect(CalendarDate(daysSinceEpoch: days).description == text)
    }

    @Test("daysSinceEpoch round-trips on every 97th day from 0001-01-01 to 9999-12-31")
    func roundTripEvery97thDay() {
        let first = -719_162
        let last = 2_932_896
        var checked = 0
        for days in stride(from: first, through: last, by: 97) {
            let date = CalendarDate(daysSinceEpoch: days)
            if date.daysSinceEpoch != days || CalendarDate(date.description) != date {
                Issue.record("round trip failed for day \(days): \(date)")
            }
            checked += 1
        }
        #expect(checked == (last - first) / 97 + 1)
        #expect(CalendarDate(daysSinceEpoch: first).description == "0001-01-01")
        #expect(CalendarDate(daysSinceEpoch: last).description == "9999-12-31")
    }

    @Test("consecutive day counts are consecutive calendar days, for every day 0001–9999")
    func everyDayFollowsTheLast() throws {
        // An independent check: step through the calendar with the plain leap-year rule
        // and compare with the conversion, day by day (about 3.65 million days).
        func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }
        func length(_ year: Int, _ month: Int) -> Int {
            [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        }
        var (year, month, day) = (1, 1, 1)
        var mismatches = 0
        for days in -719_162...2_932_896 {
            let date = CalendarDate(daysSinceEpoch: days)
            if date.year != year || date.month != month || date.day != day {
                mismatches += 1
                if mismatches <= 5 { Issue.record("day \(days) gave \(date), expected \(year)-\(month)-\(day)") }
            }
            day += 1
            if day > length(year, month) {
                (month, day) = (month + 1, 1)
                if month > 12 { (year, month) = (year + 1, 1) }
            }
        }
        #expect(mismatches == 0)
        #expect((year, month, day) == (10000, 1, 1))
    }

    @Test("init(daysSinceEpoch:) traps outside 0001-01-01 … 9999-12-31")
    func daysOutOfRangeTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = CalendarDate(daysSinceEpoch: -719_163)
        }
        await #expect(processExitsWith: .failure) {
            _ = CalendarDate(daysSinceEpoch: 2_932_897)
        }
    }

    // MARK: Ordering and equality

    @Test("orders chronologically")
    func ordering() throws {
        let texts = ["2026-11-22", "0042-07-04", "2026-01-31", "2026-11-21", "9999-12-31", "2025-12-31"]
        let sorted = try texts.map { try #require(CalendarDate($0)) }.sorted()
        #expect(sorted.map(\.description) == ["0042-07-04", "2025-12-31", "2026-01-31", "2026-11-21", "2026-11-22", "9999-12-31"])
        // Order agrees with day counts.
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            #expect(a < b)
            #expect(a.daysSinceEpoch < b.daysSinceEpoch)
        }
    }

    @Test("equal dates are equal and hash alike however they were made")
    func equality() throws {
        let fromText = try #require(CalendarDate("2024-02-29"))
        let fromParts = try #require(CalendarDate(year: 2024, month: 2, day: 29))
        let fromDays = CalendarDate(daysSinceEpoch: 19782)
        #expect(fromText == fromParts && fromParts == fromDays)
        #expect(Set([fromText, fromParts, fromDays]).count == 1)
    }
}
