#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An exact decimal as PostgreSQL `numeric` holds it: what was typed is what is kept.
///
/// Results (viability 95.0 %, cell counts, volumes) are compared against specifications and
/// written into GMP records, so a value must never pass through `Double`, which cannot hold
/// 0.1 and silently rounds long numbers. The digits are kept as text, any length, and the
/// scale as written ("7.50" stays "7.50"), as PostgreSQL keeps it; equality and order are
/// numeric and exact.
public struct ExactDecimal: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    /// Whether the value is below zero; never true for a zero, so "-0.00" is plain "0.00".
    public let isNegative: Bool
    /// ASCII digits of the integer part with leading zeros removed; "0" when it is zero.
    private let integerDigits: [UInt8]
    /// ASCII digits after the point, exactly as given (trailing zeros kept).
    private let fractionDigits: [UInt8]

    /// Parses a decimal strictly: an optional leading '-' or '+', one or more ASCII digits,
    /// then optionally '.' and one or more ASCII digits. Any length.
    ///
    /// Returns nil for anything else — empty text, whitespace anywhere, exponents ("1e5"),
    /// ".5", "5.", "NaN", "Infinity", letters ("9O.5"), grouping or a decimal comma ("1,5"),
    /// non-ASCII digits, more than one sign — because a mistyped result must be refused, not
    /// guessed at.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }

        let integerStart = index
        while index < bytes.count, ASCIIFormat.isDigit(bytes[index]) {
            index += 1
        }
        let integerEnd = index
        guard integerEnd > integerStart else { return nil }

        var fractionStart = index
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fractionStart = index
            while index < bytes.count, ASCIIFormat.isDigit(bytes[index]) {
                index += 1
            }
            guard index > fractionStart else { return nil }
        }
        guard index == bytes.count else { return nil }

        self.init(
            negative: negative,
            integerDigits: bytes[integerStart..<integerEnd],
            fractionDigits: bytes[fractionStart..<index]
        )
    }

    /// The exact value of `value`, with scale 0.
    public init(_ value: Int) {
        self.init(negative: value < 0, integerDigits: Array(String(value.magnitude).utf8)[...], fractionDigits: [])
    }

    /// Normalises: strips leading zeros of the integer part and the sign of a zero.
    private init(negative: Bool, integerDigits: ArraySlice<UInt8>, fractionDigits: ArraySlice<UInt8>) {
        let firstSignificant = integerDigits.firstIndex { $0 != UInt8(ascii: "0") }
        let integer = firstSignificant.map { Array(integerDigits[$0...]) } ?? [UInt8(ascii: "0")]
        let fraction = Array(fractionDigits)
        let zero = firstSignificant == nil && !fraction.contains { $0 != UInt8(ascii: "0") }
        self.isNegative = negative && !zero
        self.integerDigits = integer
        self.fractionDigits = fraction
    }

    /// The canonical text: '-' only when negative, the integer part without leading zeros
    /// (a single "0" if it is zero), and the fractional digits exactly as given, trailing
    /// zeros included: "007.50" → "7.50", "+3" → "3", "-0.00" → "0.00".
    ///
    /// Parsing the description gives back an identical value, scale included.
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(integerDigits.count + fractionDigits.count + 2)
        if isNegative { bytes.append(UInt8(ascii: "-")) }
        bytes.append(contentsOf: integerDigits)
        if !fractionDigits.isEmpty {
            bytes.append(UInt8(ascii: "."))
            bytes.append(contentsOf: fractionDigits)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The number of fractional digits as given ("7.50" → 2, "7" → 0): the precision that
    /// was measured or specified, which numeric equality deliberately ignores.
    public var scale: Int { fractionDigits.count }

    /// Whether the value is zero, whatever its scale or sign ("0", "-0.000").
    public var isZero: Bool {
        integerDigits == [UInt8(ascii: "0")] && !fractionDigits.contains { $0 != UInt8(ascii: "0") }
    }

    /// The fractional digits without trailing zeros: what numeric equality and hashing see.
    private var significantFractionDigits: ArraySlice<UInt8> {
        let end = fractionDigits.lastIndex { $0 != UInt8(ascii: "0") }.map { $0 + 1 } ?? 0
        return fractionDigits[..<end]
    }

    /// Numeric equality: 1.5 == 1.50 == +1.500, and -0 == 0. Use `description` or `scale`
    /// where the written precision matters.
    public static func == (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        lhs.isNegative == rhs.isNegative
            && lhs.integerDigits == rhs.integerDigits
            && lhs.significantFractionDigits == rhs.significantFractionDigits
    }

    /// Hashes the numeric value, so that values equal under `==` hash alike.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(isNegative)
        hasher.combine(integerDigits)
        hasher.combine(significantFractionDigits)
    }

    /// Exact numeric order for any number of digits, compared digit by digit.
    public static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        if lhs.isNegative != rhs.isNegative {
            return lhs.isNegative
        }
        let order = compareMagnitudes(lhs, rhs)
        return lhs.isNegative ? order > 0 : order < 0
    }

    /// -1, 0 or 1 as |lhs| is less than, equal to or greater than |rhs|.
    private static func compareMagnitudes(_ lhs: ExactDecimal, _ rhs: ExactDecimal) -> Int {
        // Without leading zeros, a longer integer part is a larger one.
        if lhs.integerDigits.count != rhs.integerDigits.count {
            return lhs.integerDigits.count < rhs.integerDigits.count ? -1 : 1
        }
        for (l, r) in zip(lhs.integerDigits, rhs.integerDigits) where l != r {
            return l < r ? -1 : 1
        }
        // Fractions compare digit by digit, the shorter padded with zeros.
        let zero = UInt8(ascii: "0")
        for position in 0..<max(lhs.fractionDigits.count, rhs.fractionDigits.count) {
            let l = position < lhs.fractionDigits.count ? lhs.fractionDigits[position] : zero
            let r = position < rhs.fractionDigits.count ? rhs.fractionDigits[position] : zero
            if l != r { return l < r ? -1 : 1 }
        }
        return 0
    }

    /// The value as a Foundation `Decimal` when that is exact: at most 38 significant digits
    /// (from the first to the last nonzero digit) within `Decimal`'s range. Otherwise nil —
    /// never a rounded value.
    public var decimalValue: Decimal? {
        let zero = UInt8(ascii: "0")
        let digits = integerDigits + fractionDigits
        guard let first = digits.firstIndex(where: { $0 != zero }),
              let last = digits.lastIndex(where: { $0 != zero }) else { return Decimal(0) }
        guard last - first + 1 <= Self.maximumDecimalDigits else { return nil }

        // Foundation's arithmetic and `Decimal(sign:exponent:significand:)` silently flush
        // tiny values to zero and overflow large ones to NaN, and its raw fields are not
        // public on Linux, so parse the plain digits and accept the result only if it reads
        // back as exactly this number.
        var plain = isNegative ? "-" : ""
        plain += String(decoding: integerDigits, as: UTF8.self)
        let fraction = significantFractionDigits
        if !fraction.isEmpty {
            plain += "." + String(decoding: fraction, as: UTF8.self)
        }
        guard let decimal = Decimal(string: plain, locale: Locale(identifier: "en_US_POSIX")),
              !decimal.isNaN,
              ExactDecimal(decimal.description) == self else { return nil }
        return decimal
    }

    /// The most significant digits Foundation's `Decimal` is guaranteed to hold exactly.
    private static let maximumDecimalDigits = 38
}
