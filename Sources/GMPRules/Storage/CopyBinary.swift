/// The pieces of PostgreSQL's binary COPY format that a readings import writes
/// (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"): big-endian
/// integers, `timestamptz` as microseconds since 2000-01-01, `numeric` as base-10000
/// digits.
enum CopyBinary {
    /// Signature, flags (no OIDs) and an empty header extension.
    static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + int32(0) + int32(0)

    /// 2000-01-01T00:00:00Z in microseconds since 1970-01-01.
    static let postgresEpochMicros: Int64 = 946_684_800_000_000

    static func int16(_ value: Int16) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    static func int32(_ value: Int32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
    }

    static func int64(_ value: Int64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    /// A `timestamptz` field: length 8, then microseconds since 2000-01-01.
    static func appendTimestamp(_ unixMicros: Int64, to buffer: inout [UInt8]) {
        let value = unixMicros - postgresEpochMicros
        buffer.append(contentsOf: [0, 0, 0, 8])
        for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: value >> Int64(shift))) }
    }

    /// A `numeric` field for a value in hundredths, |value| < 1,000,000 (numeric(6,2)):
    /// ndigits, weight, sign, dscale 2, then the base-10000 digits without trailing
    /// zero digits, e.g. -182.40 is [182, 4000] with weight 0 and sign 0x4000.
    static func appendNumeric(hundredths: Int32, to buffer: inout [UInt8]) {
        let magnitude = Int(hundredths.magnitude)
        let whole = magnitude / 100, fraction = (magnitude % 100) * 100
        // (ndigits, weight, first digit, second digit): no allocation per reading.
        let (count, weight, first, second) = whole > 0 ? (fraction > 0 ? 2 : 1, 0, whole, fraction)
                                           : (fraction > 0 ? 1 : 0, fraction > 0 ? -1 : 0, fraction, 0)
        let sign = hundredths < 0 && count > 0 ? 0x4000 : 0
        let length = 8 + 2 * count
        buffer.append(contentsOf: [0, 0, 0, UInt8(length)])
        func append(_ value: Int) {
            let bits = UInt16(truncatingIfNeeded: value)
            buffer.append(UInt8(bits >> 8))
            buffer.append(UInt8(bits & 0xFF))
        }
        append(count)
        append(weight)
        append(sign)
        append(2)
        if count > 0 { append(first) }
        if count > 1 { append(second) }
    }
}
