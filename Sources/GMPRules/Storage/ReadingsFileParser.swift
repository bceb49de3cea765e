import PostgresClient  // Timestamp, to name a reading's time

/// The single pass over a readings file's bytes behind ``TemperatureReadingsFile``:
/// splits lines and fields, checks each field, and keeps per-device counts and spans.
struct ReadingsFileParser {
    let bytes: [UInt8]
    let expectedDevice: String?

    var problems: [ReadingsFileProblem] = []
    var rows: [TemperatureReadingsFile.Row] = []
    var times: [Int64] = []
    var lineNumbers: [UInt32] = []
    var devices: [String] = []
    var counts: [Int] = []
    var firsts: [Int64] = []
    var lasts: [Int64] = []
    /// The first line naming each device.
    var firstLines: [Int] = []
    /// Whether every device's readings came in strictly increasing time order (then no
    /// reading can repeat another, and the duplicate check costs nothing).
    var ordered = true

    init(bytes: [UInt8], expectedDevice: String?) {
        self.bytes = bytes
        self.expectedDevice = expectedDevice
    }

    static let header = Array("device,read_at,celsius".utf8)

    mutating func run() {
        let estimate = bytes.count / 32
        rows.reserveCapacity(estimate)
        times.reserveCapacity(estimate)
        lineNumbers.reserveCapacity(estimate)
        var lastDevice: [UInt8] = []
        var lastDeviceIndex = -1
        bytes.withUnsafeBufferPointer { file in
            var start = 0
            // A UTF-8 byte order mark, as spreadsheet exports write, is not part of the header.
            if file.count >= 3, file[0] == 0xEF, file[1] == 0xBB, file[2] == 0xBF { start = 3 }
            var line = 0
            var sawReading = false
            while start < file.count {
                line += 1
                var end = start
                while end < file.count, file[end] != UInt8(ascii: "\n") { end += 1 }
                let next = end + 1
                if end > start, file[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                defer { start = next }
                if line == 1 {
                    let text = UnsafeBufferPointer(rebasing: file[start..<end])
                    if !text.elementsEqual(Self.header) {
                        problems.append(.init(line: 1, kind: .header, value: Self.shown(text)))
                    }
                    continue
                }
                if end == start {
                    // A final newline ends the last line; only an empty line within the file is wrong.
                    if next < file.count { problems.append(.init(line: line, kind: .emptyLine, value: "")) }
                    continue
                }
                sawReading = true
                // Three fields, found without allocating: the commas' offsets.
                var commas = (0, 0), commaCount = 0
                for i in start..<end where file[i] == UInt8(ascii: ",") {
                    commaCount += 1
                    if commaCount == 1 { commas.0 = i } else if commaCount == 2 { commas.1 = i }
                }
                guard commaCount == 2 else {
                    problems.append(Self.wrongFieldCount(file, line: line, start: start, end: end, fields: commaCount + 1))
                    continue
                }
                let deviceRange = Self.trimmed(file, start, commas.0)
                let timeRange = Self.trimmed(file, commas.0 + 1, commas.1)
                let celsiusRange = Self.trimmed(file, commas.1 + 1, end)
                let device = UnsafeBufferPointer(rebasing: file[deviceRange.0..<deviceRange.1])
                let time = UnsafeBufferPointer(rebasing: file[timeRange.0..<timeRange.1])
                let celsius = UnsafeBufferPointer(rebasing: file[celsiusRange.0..<celsiusRange.1])
                var good = true
                var deviceIndex = -1
                if !ReadingsFileFields.isDeviceID(device) {
                    problems.append(.init(line: line, kind: .device, value: Self.shown(device)))
                    good = false
                } else if device.elementsEqual(lastDevice) {
                    deviceIndex = lastDeviceIndex
                } else {
                    deviceIndex = index(of: device, line: line)
                    lastDevice = Array(device)
                    lastDeviceIndex = deviceIndex
                }
                var micros: Int64 = 0
                switch ReadingsFileFields.time(time) {
                case .valid(let value): micros = value
                case .malformed: problems.append(.init(line: line, kind: .time, value: Self.shown(time))); good = false
                case .impossible: problems.append(.init(line: line, kind: .impossibleTime, value: Self.shown(time))); good = false
                }
                var hundredths: Int32 = 0
                var kind: ReadingsFileProblem.Kind?
                switch ReadingsFileFields.celsius(celsius) {
                case .valid(let value): hundredths = value
                case .malformed: kind = .celsius
                case .tooManyDecimals: kind = .decimals
                case .belowAbsoluteZero: kind = .belowAbsoluteZero
                case .outOfRange: kind = .outOfRange
                }
                if let kind {
                    problems.append(.init(line: line, kind: kind, value: Self.shown(celsius)))
                    good = false
                }
                guard good else { continue }
                if counts[deviceIndex] == 0 {
                    firsts[deviceIndex] = micros
                    lasts[deviceIndex] = micros
                } else {
                    if micros <= lasts[deviceIndex] { ordered = false }
                    firsts[deviceIndex] = min(firsts[deviceIndex], micros)
                    lasts[deviceIndex] = max(lasts[deviceIndex], micros)
                }
                counts[deviceIndex] += 1
                rows.append(.init(device: UInt16(deviceIndex), hundredths: hundredths, micros: micros))
                times.append(micros)
                lineNumbers.append(UInt32(line))
            }
            if !sawReading && problems.isEmpty {
                problems.append(.init(line: max(line, 1), kind: .emptyFile, value: ""))
            }
        }
    }

    /// The index of a device's series, adding it (and checking it against --device).
    private mutating func index(of device: UnsafeBufferPointer<UInt8>, line: Int) -> Int {
        let name = String(decoding: device, as: UTF8.self)
        if let found = devices.firstIndex(of: name) { return found }
        if let expectedDevice, name != expectedDevice {
            problems.append(.init(line: line, kind: .otherDevice, value: name))
        }
        devices.append(name)
        counts.append(0)
        firsts.append(0)
        lasts.append(0)
        firstLines.append(line)
        return devices.count - 1
    }

    /// Readings that repeat an earlier one of the same device and time.
    mutating func checkDuplicates() {
        guard !ordered else { return }
        let order = rows.indices.sorted {
            (rows[$0].device, times[$0], lineNumbers[$0]) < (rows[$1].device, times[$1], lineNumbers[$1])
        }
        for (previous, current) in zip(order, order.dropFirst())
        where rows[previous].device == rows[current].device && times[previous] == times[current] {
            problems.append(.init(line: Int(lineNumbers[current]), kind: .duplicate, value: String(lineNumbers[previous])))
        }
    }

    /// Readings later than `latest` (microseconds since the epoch): one problem per line.
    /// Nothing to look at when no device's series ends after it.
    mutating func checkNotAfter(_ latest: Int64) {
        guard lasts.contains(where: { $0 > latest }) else { return }
        for (index, micros) in times.enumerated() where micros > latest {
            problems.append(.init(line: Int(lineNumbers[index]), kind: .future,
                                  value: Timestamp(microsecondsSinceEpoch: micros).iso8601))
        }
    }

    /// Devices that do not exist: one problem per device, at its first line.
    mutating func checkKnown(_ known: Set<String>) {
        for (index, device) in devices.enumerated() where !known.contains(device) {
            problems.append(.init(line: firstLines[index], kind: .unknownDevice, value: device))
        }
    }

    /// Four fields whose last looks like the decimals of a number are a decimal comma
    /// (-182,4); anything else is the wrong number of fields.
    private static func wrongFieldCount(_ file: UnsafeBufferPointer<UInt8>, line: Int, start: Int, end: Int,
                                        fields: Int) -> ReadingsFileProblem {
        if fields == 4, let lastComma = file[start..<end].lastIndex(of: UInt8(ascii: ",")),
           let thirdComma = file[start..<lastComma].lastIndex(of: UInt8(ascii: ",")) {
            let decimals = trimmed(file, lastComma + 1, end)
            var whole = trimmed(file, thirdComma + 1, lastComma)
            // An ASCII minus or U+2212 (E2 88 92) before the whole degrees.
            if whole.0 < whole.1, file[whole.0] == UInt8(ascii: "-") { whole.0 += 1 }
            if whole.1 - whole.0 > 3, file[whole.0] == 0xE2, file[whole.0 + 1] == 0x88, file[whole.0 + 2] == 0x92 { whole.0 += 3 }
            if allDigits(file, decimals), allDigits(file, whole) {
                let value = trimmed(file, thirdComma + 1, end)
                return .init(line: line, kind: .decimalComma, value: shown(UnsafeBufferPointer(rebasing: file[value.0..<value.1])))
            }
        }
        return .init(line: line, kind: .fieldCount, value: String(fields))
    }

    private static func allDigits(_ file: UnsafeBufferPointer<UInt8>, _ range: (Int, Int)) -> Bool {
        range.1 > range.0 && file[range.0..<range.1].allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// A field without surrounding blanks and double quotes, as (start, end) offsets.
    private static func trimmed(_ file: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (Int, Int) {
        var start = start, end = end
        while start < end, file[start] == UInt8(ascii: " ") || file[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, file[end - 1] == UInt8(ascii: " ") || file[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        if end - start >= 2, file[start] == UInt8(ascii: "\""), file[end - 1] == UInt8(ascii: "\"") {
            start += 1
            end -= 1
        }
        return (start, end)
    }

    /// A field as shown in a message: at most 40 characters.
    private static func shown(_ field: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: field.prefix(40), as: UTF8.self)
        return field.count > 40 ? text + "…" : text
    }
}
