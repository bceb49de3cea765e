import GMPRules
import Testing

@Suite("Temperature readings files")
struct TemperatureReadingsFileTests {
    static let header = "device,read_at,celsius\n"
    static let known: Set<String> = ["LN2-01", "LN2-02", "FRZ-1"]

    static func parse(_ text: String, known: Set<String>? = known, device: String? = nil) throws(ReadingsFileRefused)
        -> TemperatureReadingsFile {
        try TemperatureReadingsFile(bytes: Array(text.utf8), knownDevices: known, device: device)
    }

    /// The problems `text` is refused with, as (line, kind); records an issue if it parsed.
    static func problems(_ text: String, known: Set<String>? = known, device: String? = nil)
        -> [(Int, ReadingsFileProblem.Kind)] {
        do {
            let file = try parse(text, known: known, device: device)
            Issue.record("expected a refusal, parsed \(file.rowCount) readings")
            return []
        } catch {
            return error.problems.map { ($0.line, $0.kind) }
        }
    }

    static func copyBinary(_ file: TemperatureReadingsFile, _ ids: [String: Int64]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try file.writeCopyBinary(importIDs: ids) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// The numeric field (length and value) a one-reading file of `celsius` is sent with.
    static func numericField(_ celsius: String) throws -> [UInt8] {
        let file = try parse(header + "LN2-01,2026-12-01T10:00:00Z,\(celsius)\n")
        // header 19, field count 2, import 4+8, device 4+6, time 4+8; trailer 2.
        return Array(try copyBinary(file, ["LN2-01": 1]).dropFirst(19 + 2 + 12 + 10 + 12).dropLast(2))
    }

    @Test("a good file: one series per device with its count and span, and its binary COPY")
    func goodFile() throws {
        let file = try Self.parse(Self.header + """
            LN2-01,2026-12-01T10:00:00Z,-182.4
            LN2-01,2026-12-01T11:01:00+01:00,-150
            "FRZ-1", 2026-12-01T10:00:30.5Z ,-80.25
            LN2-01,2026-12-01T09:59:00-00:30,-190.00
            """)
        #expect(file.rowCount == 4)
        let base: Int64 = 1_796_119_200_000_000  // 2026-12-01T10:00:00Z
        #expect(file.series == [
            .init(device: "LN2-01", rows: 3, firstAt: base, lastAt: base + 60_000_000 * 29),
            .init(device: "FRZ-1", rows: 1, firstAt: base + 30_500_000, lastAt: base + 30_500_000),
        ])
        let binary = try Self.copyBinary(file, ["LN2-01": 7, "FRZ-1": 8])
        // Header, four rows (LN2-01: 36 bytes, then numerics of 16, 14 and 14; FRZ-1: 35 and 16), trailer.
        #expect(binary.count == 19 + (36 + 16) + (36 + 14) + (35 + 16) + (36 + 14) + 2, "\(binary.count)")
        #expect(binary.suffix(2) == [0xFF, 0xFF] && binary[19..<21] == [0, 4])
        #expect(file.sha256.count == 64 && file.sha256.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test("CRLF line ends, a byte order mark and a final newline are accepted")
    func lineEnds() throws {
        let text = "\u{FEFF}device,read_at,celsius\r\nLN2-01,2026-12-01T10:00:00Z,-182.4\r\n"
        let file = try Self.parse(text)
        #expect(file.rowCount == 1)
        #expect(try Self.numericField("-182.4") == [0, 0, 0, 12, 0, 2, 0, 0, 0x40, 0, 0, 2, 0, 182, 0x0F, 0xA0])
    }

    @Test("binary COPY: the exact bytes of one reading, header and trailer included")
    func binaryRow() throws {
        let file = try Self.parse(Self.header + "LN2-01,2026-12-01T10:00:00Z,-182.4\n")
        // 2026-12-01T10:00:00Z is 849,434,400,000,000 µs after 2000-01-01: 0x0003_048E_5BAC_0800.
        let expected: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            + [0, 4] + [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7] + [0, 0, 0, 6] + Array("LN2-01".utf8)
            + [0, 0, 0, 8, 0x00, 0x03, 0x04, 0x8E, 0x5B, 0xAC, 0x08, 0x00]
            + [0, 0, 0, 12, 0, 2, 0, 0, 0x40, 0, 0, 2, 0, 182, 0x0F, 0xA0] + [0xFF, 0xFF]
        #expect(try Self.copyBinary(file, ["LN2-01": 7]) == expected)
    }

    @Test("numeric in binary: base-10000 digits, weight, sign, scale 2, no trailing zero digit", arguments: [
        ("0", [UInt8]([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2])),
        ("-0.00", [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2]),
        ("0.05", [0, 0, 0, 10, 0, 1, 0xFF, 0xFF, 0, 0, 0, 2, 0x01, 0xF4]),
        ("-150", [0, 0, 0, 10, 0, 1, 0, 0, 0x40, 0, 0, 2, 0, 150]),
        ("9999.99", [0, 0, 0, 12, 0, 2, 0, 0, 0, 0, 0, 2, 0x27, 0x0F, 0x26, 0xAC]),
        ("-273.15", [0, 0, 0, 12, 0, 2, 0, 0, 0x40, 0, 0, 2, 0x01, 0x11, 0x05, 0xDC]),
    ])
    func binaryNumeric(celsius: String, expected: [UInt8]) throws {
        #expect(try Self.numericField(celsius) == expected)
    }

    @Test("the SHA-256 is the file's: one changed byte changes it")
    func sha256() throws {
        let a = try Self.parse(Self.header + "LN2-01,2026-12-01T10:00:00Z,-182.4\n")
        let b = try Self.parse(Self.header + "LN2-01,2026-12-01T10:00:00Z,-182.5\n")
        #expect(a.sha256 != b.sha256)
        // printf 'device,read_at,celsius\nLN2-01,2026-12-01T10:00:00Z,-182.4\n' | sha256sum
        #expect(a.sha256 == "55d74cd5d8b245f1ac94d01929e51ec98e33b1564141cb6aadac5e3f43ea41f9")
    }

    @Test("malformed values are refused, each with its line", arguments: [
        ("−182,4", ReadingsFileProblem.Kind.decimalComma), ("-182,4", .decimalComma), ("NaN", .celsius), ("", .celsius),
        ("1e3", .celsius), ("−182.4", .celsius), ("+4", .celsius), (".5", .celsius), ("-182.", .celsius),
        ("-182.456", .decimals), ("-273.16", .belowAbsoluteZero), ("10000", .outOfRange), ("- 5", .celsius),
    ])
    func badCelsius(value: String, kind: ReadingsFileProblem.Kind) {
        let found = Self.problems(Self.header + "LN2-01,2026-12-01T10:00:00Z,-190\nLN2-01,2026-12-01T10:01:00Z,\(value)\n")
        #expect(found.map(\.0) == [3] && found.map(\.1) == [kind], "\(value): \(found)")
    }

    @Test("a device id starts with a letter or digit, as the database's location codes do", arguments: ["_X", ".X", "-X"])
    func deviceIdStart(device: String) {
        let found = Self.problems(Self.header + "\(device),2026-12-01T10:00:00Z,-190\n", known: nil)
        #expect(found.map(\.0) == [2] && found.map(\.1) == [.device], "\(device): \(found)")
    }

    @Test("times need the ISO 8601 form with a zone, and a real date", arguments: [
        ("2026-12-01 10:00:00Z", ReadingsFileProblem.Kind.time), ("2026-12-01T10:00:00", .time),
        ("2026-12-01T10:00Z", .time), ("01.12.2026 10:00", .time), ("2026-12-01T10:00:00+0100", .time),
        ("2026-12-01T10:00:00.1234567Z", .time), ("2026-12-01T10:00:00ZZ", .time), ("", .time),
        ("2026-02-29T10:00:00Z", .impossibleTime), ("2026-13-01T10:00:00Z", .impossibleTime),
        ("2026-12-01T24:00:00Z", .impossibleTime), ("2026-12-01T10:00:60Z", .impossibleTime),
        ("1969-12-31T23:59:59Z", .impossibleTime),
    ])
    func badTime(value: String, kind: ReadingsFileProblem.Kind) {
        let found = Self.problems(Self.header + "LN2-01,\(value),-190\n")
        #expect(found.map(\.0) == [2] && found.map(\.1) == [kind], "\(value): \(found)")
    }

    @Test("a leap day and microseconds are real times")
    func goodTimes() throws {
        let file = try Self.parse(Self.header + "LN2-01,2028-02-29T23:59:59.000001Z,-190\n")
        #expect(file.series[0].firstAt == 1_835_481_599_000_001)
    }

    @Test("every bad line is reported, not just the first, and nothing is kept")
    func everyProblem() {
        let found = Self.problems("device,time,value\n" + """
            LN2-01,2026-12-01T10:00:00Z,-190
            ln2-01,2026-12-01T10:01:00Z,-190

            LN2-01,2026-12-01T10:02:00Z
            LN2-01,2026-12-01T10:03:00Z,NaN,1
            LN2-99,2026-12-01T10:04:00Z,-190
            LN2-01,2026-12-01T10:00:00Z,-185
            LN2-01,2026-12-01 10:06:00,abc
            """)
        #expect(found.map(\.0) == [1, 3, 4, 5, 6, 7, 8, 9, 9])
        #expect(found.map(\.1) == [.header, .device, .emptyLine, .fieldCount, .fieldCount, .unknownDevice, .duplicate,
                                   .celsius, .time])
    }

    @Test("a reading repeated in the file names the line it repeats, whatever the order")
    func duplicates() throws {
        do {
            _ = try Self.parse(Self.header + """
                LN2-01,2026-12-01T10:02:00Z,-190
                LN2-02,2026-12-01T10:00:00Z,-190
                LN2-01,2026-12-01T10:00:00Z,-190
                LN2-01,2026-12-01T11:02:00+01:00,-185
                """)
            Issue.record("a repeated reading was accepted")
        } catch {
            #expect(error.problems == [ReadingsFileProblem(line: 5, kind: .duplicate, value: "2")])
            #expect(error.summary() == "1 bad line: line 5: repeats the reading of line 2 (same device and time)")
        }
        // Another device at the same time is no duplicate.
        #expect(try Self.parse(Self.header + "LN2-01,2026-12-01T10:00:00Z,-190\nLN2-02,2026-12-01T10:00:00Z,-190\n").rowCount == 2)
    }

    @Test("unknown devices are refused once each, at their first line; unchecked when no list is given")
    func unknownDevices() throws {
        let text = Self.header + "LN2-77,2026-12-01T10:00:00Z,-190\nLN2-77,2026-12-01T10:01:00Z,-190\nLN2-01,2026-12-01T10:00:00Z,-190\n"
        #expect(Self.problems(text).map(\.0) == [2])
        #expect(Self.problems(text).map(\.1) == [.unknownDevice])
        #expect(try Self.parse(text, known: nil).series.map(\.device) == ["LN2-77", "LN2-01"])
    }

    @Test("a reading later than the accepted instant is refused at its line, naming its time; one at it is not")
    func future() throws {
        let until: Int64 = 1_796_119_200_000_000  // 2026-12-01T10:00:00Z
        let text = Self.header + "LN2-01,2026-12-01T10:00:00Z,-190\nLN2-01,2099-01-01T00:00:00Z,-190\n"
            + "LN2-02,2026-12-01T10:00:00.000001Z,-190\n"
        do {
            _ = try TemperatureReadingsFile(bytes: Array(text.utf8), knownDevices: Self.known, acceptedUntil: until)
            Issue.record("a 2099 reading was accepted")
        } catch {
            #expect(error.problems.map(\.line) == [3, 4])
            #expect(error.problems.map(\.kind) == [.future, .future])
            #expect(error.problems.first?.problem == "read_at 2099-01-01T00:00:00.000000Z is in the future: later than the server's clock allows")
        }
        let accepted = try TemperatureReadingsFile(bytes: Array((Self.header + "LN2-01,2026-12-01T10:00:00Z,-190\n").utf8),
                                                   knownDevices: Self.known, acceptedUntil: until)
        #expect(accepted.rowCount == 1)
    }

    @Test("--device: a line naming another device is refused")
    func oneDevice() throws {
        let text = Self.header + "LN2-01,2026-12-01T10:00:00Z,-190\nLN2-02,2026-12-01T10:00:00Z,-190\n"
        #expect(Self.problems(text, device: "LN2-01").map(\.1) == [.otherDevice])
        #expect(try Self.parse(text, device: nil).rowCount == 2)
    }

    @Test("a file with no readings is refused")
    func empty() {
        #expect(Self.problems("").map(\.1) == [.emptyFile])
        #expect(Self.problems(Self.header).map(\.1) == [.emptyFile])
    }

    @Test("the summary lists the first problems with line numbers and counts the rest")
    func summary() {
        let refused = ReadingsFileRefused(problems: (2...9).map { .init(line: $0, kind: .celsius, value: "x") })
        #expect(refused.summary(shown: 2) == "8 bad lines: line 2: celsius 'x' is not a plain decimal; "
                + "line 3: celsius 'x' is not a plain decimal; and 6 more")
        #expect(refused.fix.hasSuffix("correct every line named and import the whole file again"))
    }

    // Its speed is measured by `scripts/bench --readings` (docs/benchmarks.md), not here:
    // a timed test fails on a loaded machine and proves nothing on an idle one.
    @Test("a million lines parse, every row counted and the first timestamp exact")
    func million() throws {
        var text = Self.header
        text.reserveCapacity(36_000_000)
        for i in 0..<1_000_000 {
            let (year, month, day) = (2000 + i / 483_840, 1 + (i / 40_320) % 12, 1 + (i / 1440) % 28)
            text += "LN2-01,\(year)-\(pad(month))-\(pad(day))T\(pad((i / 60) % 24)):\(pad(i % 60)):00Z,-18\(i % 10).\(i % 7)\n"
        }
        let file = try TemperatureReadingsFile(bytes: Array(text.utf8), knownDevices: Self.known)
        #expect(file.rowCount == 1_000_000)
        #expect(file.series.first?.firstAt == 946_684_800_000_000)  // 2000-01-01T00:00:00Z
    }

    private func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
