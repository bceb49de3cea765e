/// Decimal ASCII digits written straight into a byte buffer.
///
/// `String(value)` would allocate a string per number, and the audit encoding writes several
/// numbers per event, millions of times over when a chain is verified. Division is by
/// constants only, which the compiler turns into multiplications.
enum DecimalText {
    /// Appends `value` as audit encoding v1 writes integers: an optional '-', then the digits,
    /// without a plus sign or leading zeros ("0", "741", "-9223372036854775808").
    static func append(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude, to: &bytes)
    }

    /// Appends the digits of `value`, without leading zeros.
    static func appendDigits(_ value: UInt64, to bytes: inout [UInt8]) {
        // Least significant digit first, then reversed in place: no digit count needed.
        let start = bytes.count
        var rest = value
        repeat {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10))
            rest /= 10
        } while rest != 0
        // Reversed through the buffer: `bytes[start...].reverse()` went through a slice's
        // retain and `replaceSubrange` per integer (≈ 3 % of the chain pass's client).
        bytes.withUnsafeMutableBufferPointer { buffer in
            var (low, high) = (start, buffer.count - 1)
            while low < high {
                buffer.swapAt(low, high)
                low += 1
                high -= 1
            }
        }
    }

    /// Appends `value` (0...99) as exactly two digits.
    static func appendTwoDigits(_ value: UInt64, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / 10))
        bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10))
    }

    /// Appends `value` (0...9999) as exactly four digits.
    static func appendFourDigits(_ value: UInt64, to bytes: inout [UInt8]) {
        appendTwoDigits(value / 100, to: &bytes)
        appendTwoDigits(value % 100, to: &bytes)
    }

    /// Appends `value` (0...999_999) as exactly six digits.
    static func appendSixDigits(_ value: UInt64, to bytes: inout [UInt8]) {
        appendTwoDigits(value / 10_000, to: &bytes)
        appendFourDigits(value % 10_000, to: &bytes)
    }
}
