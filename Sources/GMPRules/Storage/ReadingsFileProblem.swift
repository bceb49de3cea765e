/// One thing wrong with one line of a temperature readings file, with what to do
/// about it. A file with any problem is refused whole (nothing is loaded), and every
/// problem is reported, each with its line number.
public struct ReadingsFileProblem: Sendable, Equatable, Encodable {
    /// What is wrong, so that callers and tests need not read the message.
    public enum Kind: String, Sendable, Encodable {
        case header, emptyFile, emptyLine, fieldCount, decimalComma, device, time, impossibleTime, celsius, decimals,
             belowAbsoluteZero, outOfRange, duplicate, unknownDevice, otherDevice, fileTooLarge, future
    }

    /// The 1-based line number in the file.
    public let line: Int
    public let kind: Kind
    /// The offending text (shortened), or for a duplicate the line it repeats.
    public let value: String

    public init(line: Int, kind: Kind, value: String) {
        self.line = line
        self.kind = kind
        self.value = value
    }

    /// What is wrong, e.g. "celsius '−182,4' is not a plain decimal".
    public var problem: String {
        switch kind {
        case .header: "the header is '\(value)', not 'device,read_at,celsius'"
        case .emptyFile: "the file has no readings"
        case .emptyLine: "the line is empty"
        case .fieldCount: "\(value) fields, not 3 (device,read_at,celsius)"
        case .decimalComma: "celsius '\(value)' has a decimal comma"
        case .device: "device '\(value)' is not a device id"
        case .time: "read_at '\(value)' is not an ISO 8601 time with its zone"
        case .impossibleTime: "read_at '\(value)' is not a real date and time"
        case .celsius: "celsius '\(value)' is not a plain decimal"
        case .decimals: "celsius '\(value)' has more than 2 decimals"
        case .belowAbsoluteZero: "celsius '\(value)' is below absolute zero"
        case .outOfRange: "celsius '\(value)' is out of range"
        case .duplicate: "repeats the reading of line \(value) (same device and time)"
        case .unknownDevice: "no storage device '\(value)'"
        case .otherDevice: "device '\(value)' is not the device named by --device"
        case .fileTooLarge: "the file has \(value) bytes, more than 4 GB"
        case .future: "read_at \(value) is in the future: later than the server's clock allows"
        }
    }

    /// How to correct it.
    public var fix: String {
        switch kind {
        case .header, .emptyFile: "start the file with the line device,read_at,celsius, then one reading per line"
        case .emptyLine: "remove the empty line"
        case .fieldCount: "write device,read_at,celsius with no other commas, e.g. LN2-01,2026-12-01T10:00:00Z,-182.4"
        case .decimalComma: "write degrees Celsius with a decimal point and an ASCII minus, e.g. -182.4"
        case .device: "use the device's id: capitals, digits, '.', '_' or '-', e.g. LN2-01"
        case .time: "write the time as 2026-12-01T10:00:00Z or with its offset, 2026-12-01T11:00:00+01:00"
        case .impossibleTime: "check the date (month 01-12, a day the month has) and the time (up to 23:59:59)"
        case .celsius: "write degrees Celsius with a point and an ASCII minus, e.g. -182.4"
        case .decimals: "give at most two decimals, as the logger measured"
        case .belowAbsoluteZero: "no temperature is below -273.15 °C: check the logger's export"
        case .outOfRange: "a reading is between -273.15 and 9999.99 °C"
        case .duplicate: "remove the repeated reading: one reading per device and time"
        case .unknownDevice: "add the device first (gmp storage add) or correct its id"
        case .otherDevice: "import each device's readings on their own, or leave out --device"
        case .fileTooLarge: "split the log into files of at most a year each"
        case .future: "check the logger's clock and time zone, then correct or remove the line: a reading may be only "
            + "minutes ahead of the server's clock (gmp.readings_accepted_until)"
        }
    }
}

/// A readings file that was refused, with every problem found (nothing was loaded).
public struct ReadingsFileRefused: Error, Sendable, Equatable {
    public let problems: [ReadingsFileProblem]

    public init(problems: [ReadingsFileProblem]) {
        self.problems = problems
    }

    /// One line: how many problems, the first few with their line numbers.
    public func summary(shown: Int = 5) -> String {
        let listed = problems.prefix(shown).map { "line \($0.line): \($0.problem)" }.joined(separator: "; ")
        let more = problems.count > shown ? "; and \(problems.count - shown) more" : ""
        let lines = Set(problems.map(\.line)).count
        return "\(lines == 1 ? "1 bad line" : "\(lines) bad lines"): \(listed)\(more)"
    }

    /// The fix for the first problem, and the rule that nothing was loaded.
    public var fix: String {
        "\(problems.first?.fix ?? "correct the file"); correct every line named and import the whole file again"
    }
}
