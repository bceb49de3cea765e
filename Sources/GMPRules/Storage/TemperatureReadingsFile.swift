import SystemCrypto

/// A storage device's temperature log — CSV with the header `device,read_at,celsius`
/// and one reading per line — parsed and checked whole before anything is loaded.
///
/// Every bad line is found, not just the first: a malformed device id, time or value,
/// a reading repeated within the file, a device that does not exist. A file with any
/// problem is refused (``ReadingsFileRefused``) and nothing of it is loaded. A good
/// file becomes one ``Series`` per device and is written out in binary COPY format.
///
/// Parsing works on bytes, without building a String per field: a million lines take
/// a fraction of a second in a release build.
public struct TemperatureReadingsFile: Sendable {
    /// The readings of one device in the file: what its readings import declares.
    public struct Series: Sendable, Equatable {
        public let device: String
        public let rows: Int
        /// Microseconds since the epoch, UTC.
        public let firstAt: Int64
        public let lastAt: Int64

        public init(device: String, rows: Int, firstAt: Int64, lastAt: Int64) {
            self.device = device
            self.rows = rows
            self.firstAt = firstAt
            self.lastAt = lastAt
        }
    }

    /// One reading: its series, hundredths of a degree, microseconds since the epoch.
    struct Row {
        let device: UInt16
        let hundredths: Int32
        let micros: Int64
    }

    /// One series per device, in order of first appearance.
    public let series: [Series]
    /// The SHA-256 of the file's bytes, lowercase hex: what the import records.
    public let sha256: String
    public var rowCount: Int { rows.count }

    let rows: [Row]

    /// Parses and checks `bytes`. `knownDevices`: the ids of the storage devices that
    /// exist (nil: not checked). `device`: the one device every line must name.
    /// `acceptedUntil`: the latest reading time the database accepts (its clock plus a
    /// small tolerance, `gmp.readings_accepted_until()`), microseconds since the epoch;
    /// every line after it is a problem (nil: not checked).
    public init(bytes: [UInt8], knownDevices: Set<String>?, device: String? = nil,
                acceptedUntil: Int64? = nil) throws(ReadingsFileRefused) {
        // Line numbers are kept as 32-bit integers.
        guard bytes.count < Int(UInt32.max) else {
            throw ReadingsFileRefused(problems: [.init(line: 1, kind: .fileTooLarge, value: String(bytes.count))])
        }
        var parser = ReadingsFileParser(bytes: bytes, expectedDevice: device)
        parser.run()
        parser.checkDuplicates()
        if let knownDevices { parser.checkKnown(knownDevices) }
        if let acceptedUntil { parser.checkNotAfter(acceptedUntil) }
        guard parser.problems.isEmpty else {
            throw ReadingsFileRefused(problems: parser.problems.sorted { ($0.line, $0.kind.rawValue) < ($1.line, $1.kind.rawValue) })
        }
        self.rows = parser.rows
        self.series = parser.devices.indices.map { index in
            Series(device: parser.devices[index], rows: parser.counts[index], firstAt: parser.firsts[index],
                   lastAt: parser.lasts[index])
        }
        self.sha256 = SHA256.hash(data: bytes).map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }

    /// Writes the readings in COPY's binary format (`FORMAT binary`), rows
    /// `(import_id bigint, device_id text, read_at timestamptz, celsius numeric)` in file
    /// order, handing `sink` chunks of about 1 MB. The values go as the checked numbers
    /// they are, so the server does not parse the text a second time. `importIDs` gives
    /// each series' import, by device; `progress` hears the rows written so far, every
    /// `progressEvery` rows.
    public func writeCopyBinary(importIDs: [String: Int64], progressEvery: Int = 100_000,
                                progress: (Int) -> Void = { _ in },
                                to sink: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        // Per series: field count, import id and device, the same for each of its rows.
        let prefixes: [[UInt8]] = series.map { series in
            var prefix = CopyBinary.int16(4)
            prefix += CopyBinary.int32(8) + CopyBinary.int64(importIDs[series.device] ?? 0)
            let device = Array(series.device.utf8)
            prefix += CopyBinary.int32(Int32(device.count)) + device
            return prefix
        }
        var buffer = CopyBinary.header
        buffer.reserveCapacity(1 << 20 + 256)
        for (index, row) in rows.enumerated() {
            buffer.append(contentsOf: prefixes[Int(row.device)])
            CopyBinary.appendTimestamp(row.micros, to: &buffer)
            CopyBinary.appendNumeric(hundredths: row.hundredths, to: &buffer)
            if buffer.count >= 1 << 20 {
                try buffer.withUnsafeBufferPointer(sink)
                buffer.removeAll(keepingCapacity: true)
            }
            if (index + 1) % progressEvery == 0 { progress(index + 1) }
        }
        buffer += CopyBinary.int16(-1)
        try buffer.withUnsafeBufferPointer(sink)
    }
}
