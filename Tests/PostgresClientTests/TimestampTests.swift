import Foundation
import PostgresClient
import Testing

// Expected microsecond counts were computed independently with Python's datetime.
@Suite("Timestamp")
struct TimestampTests {
    // MARK: PostgreSQL text

    @Test("parses PostgreSQL timestamptz text with each offset style", arguments: [
        ("2026-11-22 05:26:25.107456+00", Int64(1_795_325_185_107_456), "2026-11-22T05:26:25.107456Z"),
        ("2026-11-22 05:26:25+00", 1_795_325_185_000_000, "2026-11-22T05:26:25.000000Z"),
        ("2026-11-22 05:26:25-00", 1_795_325_185_000_000, "2026-11-22T05:26:25.000000Z"),
        ("2026-11-22 05:26:25+00:00", 1_795_325_185_000_000, "2026-11-22T05:26:25.000000Z"),
        ("2026-11-22 05:26:25.1+05:30", 1_795_305_385_100_000, "2026-11-21T23:56:25.100000Z"),
        ("1999-01-08 04:05:06-08", 915_797_106_000_000, "1999-01-08T12:05:06.000000Z"),
        ("2026-11-22 05:26:25.5-03:30:15", 1_795_337_800_500_000, "2026-11-22T08:56:40.500000Z"),
        ("2026-11-22 10:26:25+05", 1_795_325_185_000_000, "2026-11-22T05:26:25.000000Z"),
        ("2000-02-29 23:59:59.999999+14", 951_818_399_999_999, "2000-02-29T09:59:59.999999Z"),
        ("2026-01-01 01:00:00+05", 1_767_211_200_000_000, "2025-12-31T20:00:00.000000Z"),
        ("2024-02-29 23:30:00-01", 1_709_253_000_000_000, "2024-03-01T00:30:00.000000Z"),
        ("2026-11-22 05:26:25+15:59:59", 1_795_267_586_000_000, "2026-11-21T13:26:26.000000Z"),
    ])
    func postgresOffsets(text: String, micros: Int64, iso: String) throws {
        let timestamp = try #require(Timestamp(postgresText: text))
        #expect(timestamp.microsecondsSinceEpoch == micros)
        #expect(timestamp.iso8601 == iso)
    }

    @Test("keeps 0–6 fractional digits exactly", arguments: [
        ("2026-11-22 05:26:25+00", Int64(1_795_325_185_000_000)),
        ("2026-11-22 05:26:25.1+00", 1_795_325_185_100_000),
        ("2026-11-22 05:26:25.12+00", 1_795_325_185_120_000),
        ("2026-11-22 05:26:25.123+00", 1_795_325_185_123_000),
        ("2026-11-22 05:26:25.1234+00", 1_795_325_185_123_400),
        ("2026-11-22 05:26:25.12345+00", 1_795_325_185_123_450),
        ("2026-11-22 05:26:25.123456+00", 1_795_325_185_123_456),
        ("2026-11-22 05:26:25.000001+00", 1_795_325_185_000_001),
        ("2026-11-22 05:26:25.05+00", 1_795_325_185_050_000),
        ("2026-11-22 05:26:25.999999+00", 1_795_325_185_999_999),
    ])
    func fractionalDigits(text: String, micros: Int64) {
        #expect(Timestamp(postgresText: text)?.microsecondsSinceEpoch == micros)
    }

    @Test("dates after 2038, 2068 and 2100 parse exactly", arguments: [
        ("2038-01-19 03:14:08+00", Int64(2_147_483_648_000_000), "2038-01-19T03:14:08.000000Z"),
        ("2068-01-20 03:14:07.000001+00", 3_094_254_847_000_001, "2068-01-20T03:14:07.000001Z"),
        ("2100-03-01 00:00:00+00", 4_107_542_400_000_000, "2100-03-01T00:00:00.000000Z"),
        ("2262-04-11 23:47:16.854775+00", 9_223_372_036_854_775, "2262-04-11T23:47:16.854775Z"),
        ("9999-12-31 23:59:59.999999+00", 253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
    ])
    func farFuture(text: String, micros: Int64, iso: String) throws {
        let timestamp = try #require(Timestamp(postgresText: text))
        #expect(timestamp.microsecondsSinceEpoch == micros)
        #expect(timestamp.iso8601 == iso)
    }

    @Test("instants before 1970 have negative microseconds", arguments: [
        ("1969-12-31 23:59:59.999999+00", Int64(-1), "1969-12-31T23:59:59.999999Z"),
        ("1969-12-31 23:59:59+00", -1_000_000, "1969-12-31T23:59:59.000000Z"),
        ("1969-12-31 23:59:59.5+00", -500_000, "1969-12-31T23:59:59.500000Z"),
        ("1970-01-01 00:00:00+00", 0, "1970-01-01T00:00:00.000000Z"),
        ("1970-01-01 00:00:00+01", -3_600_000_000, "1969-12-31T23:00:00.000000Z"),
        ("1969-07-20 20:17:40+00", -14_182_940_000_000, "1969-07-20T20:17:40.000000Z"),
        ("1900-01-01 00:00:00+00", -2_208_988_800_000_000, "1900-01-01T00:00:00.000000Z"),
        ("0001-01-01 00:00:00+00", -62_135_596_800_000_000, "0001-01-01T00:00:00.000000Z"),
    ])
    func beforeEpoch(text: String, micros: Int64, iso: String) throws {
        let timestamp = try #require(Timestamp(postgresText: text))
        #expect(timestamp.microsecondsSinceEpoch == micros)
        #expect(timestamp.iso8601 == iso)
    }

    @Test("leap days: 2024-02-29 and 2000-02-29 exist, 2025-02-29 and 1900-02-29 do not")
    func leapDays() {
        #expect(Timestamp(postgresText: "2024-02-29 12:00:00+00")?.microsecondsSinceEpoch == 1_709_208_000_000_000)
        #expect(Timestamp(postgresText: "2000-02-29 00:00:00+00") != nil)
        #expect(Timestamp(iso8601: "2024-02-29T12:00:00Z") != nil)
        #expect(Timestamp(postgresText: "2025-02-29 12:00:00+00") == nil)
        #expect(Timestamp(postgresText: "1900-02-29 12:00:00+00") == nil)
        #expect(Timestamp(iso8601: "2025-02-29T12:00:00Z") == nil)
    }

    @Test("rejects PostgreSQL text it cannot hold exactly", arguments: [
        "infinity",
        "-infinity",
        "Infinity",
        "2026-11-22 05:26:25+00 BC",
        "0001-01-01 00:00:00+00 BC",
        "12026-11-22 05:26:25+00",  // five-digit year
        "226-11-22 05:26:25+00",  // three-digit year
        "0000-01-01 00:00:00+00",  // year zero does not exist
        "2026-02-30 05:26:25+00",
        "2025-02-29 05:26:25+00",
        "2026-04-31 05:26:25+00",
        "2026-13-01 05:26:25+00",
        "2026-00-10 05:26:25+00",
        "2026-01-00 05:26:25+00",
        "2026-1-22 05:26:25+00",
        "2026-11-22 24:00:00+00",
        "2026-11-22 05:60:25+00",
        "2026-11-22 05:26:60+00",  // no leap seconds
        "2026-11-22 5:26:25+00",
        "2026-11-22 05:26+00",
        "2026-11-22 05:26:25.1234567+00",  // seven fractional digits
        "2026-11-22 05:26:25.+00",
        "2026-11-22 05:26:25,5+00",
        "2026-11-22 05:26:25",  // no offset
        "2026-11-22 05:26:25+0",
        "2026-11-22 05:26:25+000",
        "2026-11-22 05:26:25+05:3",
        "2026-11-22 05:26:25+05:60",
        "2026-11-22 05:26:25+05:30:60",
        "2026-11-22 05:26:25+05:30:1",
        "2026-11-22 05:26:25+16",  // beyond PostgreSQL's ±15:59:59
        "2026-11-22 05:26:25+0530",
        "2026-11-22 05:26:25Z",
        "2026-11-22T05:26:25+00",  // ISO separator is not PostgreSQL output
        "2026-11-22  05:26:25+00",
        " 2026-11-22 05:26:25+00",
        "2026-11-22 05:26:25+00 ",
        "2026-11-22 05:26:25+00x",
        "2026-11-22 05:26:25+00\n",
        "2026-11-22 05:26:25+00:00:00:00",
        "2026/11/22 05:26:25+00",
        "2026-11-22",
        "",
        "２０２６-11-22 05:26:25+00",
        "2026-11-22 05:26:25.١+00",
    ])
    func rejectsPostgresText(text: String) {
        #expect(Timestamp(postgresText: text) == nil)
    }

    // MARK: ISO 8601

    @Test("parses ISO 8601 / RFC 3339 with Z, z or ±HH:MM", arguments: [
        ("2026-11-22T05:26:25.107456Z", Int64(1_795_325_185_107_456)),
        ("2026-11-22T05:26:25Z", 1_795_325_185_000_000),
        ("2026-11-22T05:26:25z", 1_795_325_185_000_000),
        ("2026-11-22t05:26:25Z", 1_795_325_185_000_000),
        ("2026-11-22T07:26:25+02:00", 1_795_325_185_000_000),
        ("2026-11-22T03:26:25-02:00", 1_795_325_185_000_000),
        ("2026-11-22T05:26:25+00:00", 1_795_325_185_000_000),
        ("2026-11-22T05:26:25-00:00", 1_795_325_185_000_000),
        ("2026-11-22T10:56:25.1+05:30", 1_795_325_185_100_000),
        ("2026-11-22T05:26:25.12Z", 1_795_325_185_120_000),
        ("2026-11-22T05:26:25.123Z", 1_795_325_185_123_000),
        ("2026-11-22T05:26:25.1234Z", 1_795_325_185_123_400),
        ("2026-11-22T05:26:25.12345Z", 1_795_325_185_123_450),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
    ])
    func iso8601Forms(text: String, micros: Int64) {
        #expect(Timestamp(iso8601: text)?.microsecondsSinceEpoch == micros)
    }

    @Test("rejects ISO text without 'T', without an explicit offset, or otherwise malformed", arguments: [
        "2026-11-22 05:26:25Z",  // space separator
        "2026-11-22T05:26:25",  // no offset: not an instant
        "2026-11-22T05:26:25.107456",
        "2026-11-22T05:26:25+02",  // hours-only offset
        "2026-11-22T05:26:25+0200",
        "2026-11-22T05:26:25+02:00:00",
        "2026-11-22T05:26:25+2:00",
        "2026-11-22T05:26:25+16:00",
        "2026-11-22T05:26:25+02:60",
        "2026-11-22T05:26:25.1234567Z",
        "2026-11-22T05:26:25.Z",
        "2026-11-22T05:26:25,5Z",
        "2026-11-22T05:26Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T05:60:00Z",
        "2026-11-22T05:26:60Z",
        "2026-02-30T05:26:25Z",
        "2025-02-29T05:26:25Z",
        "0000-01-01T00:00:00Z",
        "+12026-11-22T05:26:25Z",
        "20261122T052625Z",
        "2026-11-22T05:26:25Z ",
        " 2026-11-22T05:26:25Z",
        "2026-11-22T05:26:25ZZ",
        "2026-11-22T05:26:25Z BC",
        "2026-11-22T05:26:25UTC",
        "infinity",
        "",
    ])
    func rejectsISO8601(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test("the same instant from PostgreSQL text and from ISO text is equal")
    func sameInstantAcrossForms() throws {
        let fromPostgres = try #require(Timestamp(postgresText: "2026-11-22 05:26:25.5+05:30"))
        let fromISO = try #require(Timestamp(iso8601: "2026-11-21T23:56:25.500000Z"))
        #expect(fromPostgres == fromISO)
        #expect(Set([fromPostgres, fromISO]).count == 1)
    }

    // MARK: Canonical text

    @Test("parse → iso8601 → parse keeps every microsecond", arguments: [
        "2026-11-22 05:26:25.107456+00",
        "2026-11-22 05:26:25.000001+00",
        "2026-11-22 05:26:25.999999-03:30:15",
        "1969-12-31 23:59:59.999999+00",
        "0001-01-01 00:00:00.000001+00",
        "9999-12-31 23:59:59.999999+00",
        "2068-06-30 12:00:00.654321+09:30",
    ])
    func microsecondRoundTrip(text: String) throws {
        let parsed = try #require(Timestamp(postgresText: text))
        let iso = parsed.iso8601
        let reparsed = try #require(Timestamp(iso8601: iso))
        #expect(reparsed.microsecondsSinceEpoch == parsed.microsecondsSinceEpoch)
        #expect(reparsed.iso8601 == iso)
    }

    @Test("iso8601 always has exactly six fractional digits and a Z, and description matches", arguments: [
        Int64(0), 1, -1, 1_000_000, 1_795_325_185_100_000, -62_135_596_800_000_000, 253_402_300_799_999_999,
    ])
    func canonicalShape(micros: Int64) {
        let timestamp = Timestamp(microsecondsSinceEpoch: micros)
        let text = timestamp.iso8601
        #expect(text.utf8.count == 27)
        #expect(text.hasSuffix("Z"))
        #expect(text.split(separator: ".").last?.count == 7)  // six digits and the Z
        #expect(timestamp.description == text)
        #expect("\(timestamp)" == text)
    }

    @Test("canonical text of instants outside years 0001–9999 is deterministic (expanded years)", arguments: [
        (Int64.max, "+294247-01-10T04:00:54.775807Z"),
        (Int64.min, "-290308-12-21T19:59:05.224192Z"),
        (253_402_300_800_000_000, "+10000-01-01T00:00:00.000000Z"),
        (-62_135_596_800_000_001, "0000-12-31T23:59:59.999999Z"),
    ])
    func extremeInstants(micros: Int64, iso: String) {
        #expect(Timestamp(microsecondsSinceEpoch: micros).iso8601 == iso)
    }

    // MARK: Ordering and hashing

    @Test("orders by instant, not by local wall-clock text")
    func ordering() throws {
        let texts = [
            "2026-11-22 05:26:25.000001+00",
            "2026-11-22 05:26:25+00",
            "2026-11-22 06:00:00+01",  // 05:00 UTC: earlier than the others despite the later clock
            "1969-12-31 23:59:59.999999+00",
            "2100-01-01 00:00:00+00",
        ]
        let sorted = try texts.map { try #require(Timestamp(postgresText: $0)) }.sorted()
        #expect(sorted.map(\.iso8601) == [
            "1969-12-31T23:59:59.999999Z",
            "2026-11-22T05:00:00.000000Z",
            "2026-11-22T05:26:25.000000Z",
            "2026-11-22T05:26:25.000001Z",
            "2100-01-01T00:00:00.000000Z",
        ])
        #expect(Timestamp(microsecondsSinceEpoch: -1) < Timestamp(microsecondsSinceEpoch: 0))
        #expect(!(Timestamp(microsecondsSinceEpoch: 5) < Timestamp(microsecondsSinceEpoch: 5)))
    }

    // MARK: Date

    @Test("Timestamp → Date → Timestamp is exact for 1,000 pseudo-random instants in 1900–2100")
    func dateRoundTrip() {
        var random = ValuesTestRandom(seed: 0xDA7E)
        let low: Int64 = -2_208_988_800_000_000  // 1900-01-01
        let high: Int64 = 4_102_444_800_000_000  // 2100-01-01
        for _ in 0..<1_000 {
            let micros = low + Int64(random.next() % UInt64(high - low))
            let timestamp = Timestamp(microsecondsSinceEpoch: micros)
            #expect(Timestamp(timestamp.date) == timestamp, "\(timestamp)")
        }
        for micros: Int64 in [0, -1, 1, 999_999, -999_999, 1_000_000, 1_795_325_185_107_456] {
            #expect(Timestamp(Timestamp(microsecondsSinceEpoch: micros).date).microsecondsSinceEpoch == micros)
        }
    }

    @Test("init(Date) rounds to the nearest microsecond")
    func dateRounding() {
        #expect(Timestamp(Date(timeIntervalSince1970: 0)).microsecondsSinceEpoch == 0)
        #expect(Timestamp(Date(timeIntervalSince1970: 1.5)).microsecondsSinceEpoch == 1_500_000)
        #expect(Timestamp(Date(timeIntervalSince1970: -1.5)).microsecondsSinceEpoch == -1_500_000)
        // Near Date's reference date a Double resolves far below a microsecond.
        let reference: Int64 = 978_307_200_000_000
        #expect(Timestamp(Date(timeIntervalSinceReferenceDate: 0.000_001_4)).microsecondsSinceEpoch == reference + 1)
        #expect(Timestamp(Date(timeIntervalSinceReferenceDate: 0.000_001_6)).microsecondsSinceEpoch == reference + 2)
        #expect(Timestamp(Date(timeIntervalSinceReferenceDate: -0.000_001_4)).microsecondsSinceEpoch == reference - 1)
        #expect(Timestamp(Date(timeIntervalSinceReferenceDate: -0.000_001_6)).microsecondsSinceEpoch == reference - 2)
        #expect(Timestamp(Date(timeIntervalSinceReferenceDate: 0.999_999_9)).microsecondsSinceEpoch == reference + 1_000_000)
    }

    @Test("date agrees with Foundation's view of the same instant")
    func dateValue() throws {
        let timestamp = try #require(Timestamp(iso8601: "2026-11-22T05:26:25.5Z"))
        #expect(timestamp.date == Date(timeIntervalSince1970: 1_795_325_185.5))
    }

    // MARK: now

    @Test("now() reads the real-time clock")
    func now() {
        let before = Timestamp(Date())
        let now = Timestamp.now()
        let after = Timestamp(Date())
        // Both clocks are CLOCK_REALTIME; allow slack for Date's Double rounding.
        #expect(now.microsecondsSinceEpoch >= before.microsecondsSinceEpoch - 1_000)
        #expect(now.microsecondsSinceEpoch <= after.microsecondsSinceEpoch + 1_000)
        #expect(Timestamp(iso8601: now.iso8601) == now)
    }
}
