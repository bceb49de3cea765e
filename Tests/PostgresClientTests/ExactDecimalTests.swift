import Foundation
import PostgresClient
import Testing

@Suite("ExactDecimal")
struct ExactDecimalTests {
    // MARK: Parsing

    @Test("accepts strict decimal text and canonicalises it", arguments: [
        ("0", "0"),
        ("1", "1"),
        ("+3", "3"),
        ("-3", "-3"),
        ("007.50", "7.50"),
        ("0001", "1"),
        ("-0.00", "0.00"),
        ("-0", "0"),
        ("+0", "0"),
        ("000", "0"),
        ("0.5", "0.5"),
        ("00.050", "0.050"),
        ("-007.000", "-7.000"),
        ("95.0", "95.0"),
        ("1.5", "1.5"),
        ("+1.500", "1.500"),
        ("123456789012345678901234567890.123456789012345678901234567890",
         "123456789012345678901234567890.123456789012345678901234567890"),
        ("-000000000000000000000000000000000000000000000000001", "-1"),
    ])
    func acceptsAndCanonicalises(input: String, canonical: String) throws {
        let value = try #require(ExactDecimal(input))
        #expect(value.description == canonical)
        #expect(String(describing: value) == canonical)
    }

    @Test("rejects anything but sign, digits and an optional point with digits", arguments: [
        "",
        " ",
        " 1",
        "1 ",
        "1 000",
        "\t1",
        "1\n",
        "\u{00A0}1",  // no-break space
        "1e5",
        "1E5",
        "1e999",
        "1e-5",
        "1.5e3",
        ".5",
        "-.5",
        "5.",
        "-5.",
        ".",
        "-",
        "+",
        "NaN",
        "nan",
        "-NaN",
        "Infinity",
        "-Infinity",
        "+Infinity",
        "inf",
        "9O.5",  // letter O for a zero
        "l0",  // letter l for a one
        "1,5",
        "1,000.5",
        "1_000",
        "0x10",
        "1.2.3",
        "1..2",
        "--1",
        "+-1",
        "-+1",
        "++1",
        "1-",
        "1+",
        "(1)",
        "١٢٣",  // Arabic-Indic digits
        "１２",  // full-width digits
        "1.٥",
        "²",
        "1\u{0}",
        "1\u{301}",  // combining acute accent
        "$1",
        "1%",
    ])
    func rejects(input: String) {
        #expect(ExactDecimal(input) == nil)
    }

    @Test("accepts numbers of any length (only memory limits them)")
    func acceptsVeryLongNumbers() throws {
        let integer = String(repeating: "9", count: 10_000)
        let fraction = String(repeating: "1", count: 10_000) + "0"
        let value = try #require(ExactDecimal("-" + integer + "." + fraction))
        #expect(value.description == "-" + integer + "." + fraction)
        #expect(value.scale == 10_001)
    }

    @Test("the description parses back to an identical value and text", arguments: [
        "0", "-1", "7.50", "0.000", "123.456", "-0.001", "100", "99999999999999999999999999999999999999999.5",
    ])
    func descriptionRoundTrips(input: String) throws {
        let value = try #require(ExactDecimal(input))
        let reparsed = try #require(ExactDecimal(value.description))
        #expect(reparsed == value)
        #expect(reparsed.description == value.description)
        #expect(reparsed.scale == value.scale)
    }

    // MARK: Int

    @Test("init(Int) holds the integer exactly with scale 0", arguments: [
        (0, "0"), (1, "1"), (-1, "-1"), (95, "95"), (1_000_000, "1000000"),
        (Int.max, "9223372036854775807"), (Int.min, "-9223372036854775808"),
    ])
    func fromInt(value: Int, text: String) {
        let decimal = ExactDecimal(value)
        #expect(decimal.description == text)
        #expect(decimal.scale == 0)
        #expect(decimal == ExactDecimal(text))
        #expect(decimal.isNegative == (value < 0))
        #expect(decimal.isZero == (value == 0))
    }

    // MARK: Scale, sign, zero

    @Test("scale is the number of fractional digits as given", arguments: [
        ("7.50", 2), ("7", 0), ("007.5", 1), ("-0.000", 3), ("+1.2345678901234567890", 19), ("100", 0),
    ])
    func scale(input: String, expected: Int) {
        #expect(ExactDecimal(input)?.scale == expected)
    }

    @Test("isNegative is false for every zero, isZero is true for every zero", arguments: [
        ("0", false, true), ("-0", false, true), ("-0.000", false, true), ("+0.0", false, true),
        ("-0.001", true, false), ("0.001", false, false), ("-5", true, false), ("5", false, false),
        ("-10", true, false), ("00.00000000000000000000000000000000000000000000000001", false, false),
    ])
    func signAndZero(input: String, negative: Bool, zero: Bool) throws {
        let value = try #require(ExactDecimal(input))
        #expect(value.isNegative == negative)
        #expect(value.isZero == zero)
    }

    // MARK: Equality and hashing

    @Test("equality is numeric and the hash agrees", arguments: [
        ("1.5", "1.50"),
        ("1.5", "+1.500"),
        ("-0", "0"),
        ("-0.00", "0"),
        ("0.000", "+0"),
        ("007", "7.0"),
        ("-7.10", "-0007.1"),
        ("95.0", "95"),
        ("12345678901234567890123456789012345678901234567890.5",
         "12345678901234567890123456789012345678901234567890.50000"),
    ])
    func numericEquality(lhs: String, rhs: String) throws {
        let a = try #require(ExactDecimal(lhs))
        let b = try #require(ExactDecimal(rhs))
        #expect(a == b)
        #expect(!(a < b) && !(b < a))
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b]).count == 1)
    }

    @Test("values that differ numerically are unequal", arguments: [
        ("1.5", "1.05"),
        ("1.5", "-1.5"),
        ("10", "1"),
        ("0.1", "0.01"),
        ("0.1000000000000000000001", "0.1"),
        ("100", "10.0"),
    ])
    func numericInequality(lhs: String, rhs: String) throws {
        let a = try #require(ExactDecimal(lhs))
        let b = try #require(ExactDecimal(rhs))
        #expect(a != b)
    }

    @Test("a Set of 1.5 and 1.50 has one element")
    func setDeduplicatesByValue() throws {
        let set: Set<ExactDecimal> = [try #require(ExactDecimal("1.5")), try #require(ExactDecimal("1.50"))]
        #expect(set.count == 1)
        #expect(set.contains(try exact("+001.5000")))
    }

    @Test("equality keeps the written text apart: 7.5 and 7.50 are equal but print differently")
    func equalValuesKeepTheirText() throws {
        let a = try #require(ExactDecimal("7.5"))
        let b = try #require(ExactDecimal("7.50"))
        #expect(a == b)
        #expect(a.description != b.description)
        #expect(a.scale != b.scale)
    }

    // MARK: Ordering

    @Test("orders numerically, strictly", arguments: [
        ("-2", "-1"),
        ("-1.5", "-1.25"),
        ("-1", "0"),
        ("-0.001", "0"),
        ("0", "0.001"),
        ("1.05", "1.5"),
        ("1.5", "2"),
        ("9", "10"),
        ("9.999", "10"),
        ("-10", "-9.999"),
        ("0.09", "0.1"),
        ("1.499", "1.5"),
        ("1.50", "1.501"),
        ("-100", "-99"),
        ("-1.501", "-1.50"),
        ("94.9", "95"),
        ("94.99999999999999999999999999", "95"),
        // Double rounds each of these pairs to the same value; exact order must not.
        ("0.1", "0.1000000000000000000001"),
        ("9007199254740992", "9007199254740993"),
        ("123456789012345678901234567890123456789012345678901234567890",
         "123456789012345678901234567890123456789012345678901234567891"),
        ("-123456789012345678901234567890123456789012345678901234567891",
         "-123456789012345678901234567890123456789012345678901234567890"),
        ("0.000000000000000000000000000000000000000000000000000000000001",
         "0.000000000000000000000000000000000000000000000000000000000002"),
        ("99999999999999999999999999999999999999999999999999999999999999",
         "100000000000000000000000000000000000000000000000000000000000000"),
    ])
    func ordering(smaller: String, larger: String) throws {
        let a = try #require(ExactDecimal(smaller))
        let b = try #require(ExactDecimal(larger))
        #expect(a < b)
        #expect(!(b < a))
        #expect(a != b)
        #expect(a <= b && b >= a && b > a)
    }

    @Test("Double cannot tell these apart; ExactDecimal can")
    func exceedsDoublePrecision() throws {
        // Guard the premise of the test itself.
        #expect(Double("0.1") == Double("0.1000000000000000000001"))
        #expect(try exact("0.1000000000000000000001") > exact("0.1"))
    }

    @Test("ISCT viability boundary: 95.0 >= 95, 94.9 < 95")
    func isctBoundaries() throws {
        let minimum = try #require(ExactDecimal("95"))
        #expect(try exact("95.0") >= minimum)
        #expect(try exact("95.00") >= minimum)
        #expect(try exact("95.01") >= minimum)
        #expect(try exact("94.9") < minimum)
        #expect(try exact("94.99") < minimum)
        #expect(ExactDecimal(95) == minimum)
    }

    @Test("sorting a mixed table gives numeric order")
    func sortingMixedTable() throws {
        let texts = ["10", "-0.5", "2.50", "-10", "0", "2.5000001", "0.05", "-0.50001", "1e0x"]
        let values = texts.compactMap { ExactDecimal($0) }
        #expect(values.count == texts.count - 1)
        #expect(values.sorted().map(\.description) == ["-10", "-0.50001", "-0.5", "0", "0.05", "2.50", "2.5000001", "10"])
    }

    @Test("order agrees with Foundation Decimal on 2,000 pseudo-random values within 38 digits")
    func orderAgreesWithDecimal() throws {
        var random = ValuesTestRandom(seed: 0x5EED_0001)
        var values: [ExactDecimal] = []
        for _ in 0..<2_000 {
            let integerLength = Int(random.next() % 12)
            let fractionLength = Int(random.next() % 12)
            var text = random.next() % 2 == 0 ? "-" : ""
            text += integerLength == 0 ? "0" : (0..<integerLength).map { _ in String(random.next() % 10) }.joined()
            if fractionLength > 0 {
                text += "." + (0..<fractionLength).map { _ in String(random.next() % 10) }.joined()
            }
            values.append(try #require(ExactDecimal(text)))
        }
        for (a, b) in zip(values, values.dropFirst() + values.prefix(1)) {
            let da = try #require(a.decimalValue)
            let db = try #require(b.decimalValue)
            #expect((a < b) == (da < db), "\(a) vs \(b)")
            #expect((a == b) == (da == db), "\(a) vs \(b)")
        }
    }

    // MARK: Decimal

    @Test("decimalValue is exact within 38 significant digits", arguments: [
        ("0", "0"),
        ("-0.00", "0"),
        ("1.50", "1.5"),
        ("-7.25", "-7.25"),
        ("95.0", "95"),
        ("0.000001", "0.000001"),
        ("1000000", "1000000"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("99999999999999999999999999999999999999", "99999999999999999999999999999999999999"),
        ("-0.12345678901234567890123456789012345678", "-0.12345678901234567890123456789012345678"),
        ("1234567890123456789.0123456789012345678", "1234567890123456789.0123456789012345678"),
        // Leading and trailing zeros are not significant digits.
        ("000.0000000000000000000000000000000000000012345", "0.0000000000000000000000000000000000000012345"),
        ("1000000000000000000000000000000000000000000000000000", "1000000000000000000000000000000000000000000000000000"),
        ("12345678901234567890123456789012345678.000000000000", "12345678901234567890123456789012345678"),
        // Decimal's exponent runs from -128 to 127; 10^130 fits as 1000 × 10^127.
        ("0." + String(repeating: "0", count: 127) + "1", "0." + String(repeating: "0", count: 127) + "1"),
        ("-1" + String(repeating: "0", count: 130), "-1" + String(repeating: "0", count: 130)),
        ("1" + String(repeating: "0", count: 165), "1" + String(repeating: "0", count: 165)),
        (String(repeating: "9", count: 38) + String(repeating: "0", count: 127),
         String(repeating: "9", count: 38) + String(repeating: "0", count: 127)),
    ])
    func decimalValueExact(input: String, expected: String) throws {
        let decimal = try #require(try exact(input).decimalValue)
        let reference = try #require(Decimal(string: expected, locale: Locale(identifier: "en_US_POSIX")))
        #expect(decimal == reference)
        // The value must be the same number digit for digit, not merely close.
        let back = try #require(ExactDecimal(decimal.description))
        #expect(back == ExactDecimal(expected))
    }

    @Test("decimalValue is exact for 500 pseudo-random values of exactly 38 significant digits")
    func decimalValueExactAt38Digits() throws {
        var random = ValuesTestRandom(seed: 0xDEC1_3A38)
        for _ in 0..<500 {
            var digits = (0..<38).map { _ in String(random.next() % 10) }
            digits[0] = String(1 + random.next() % 9)
            digits[37] = String(1 + random.next() % 9)
            let point = Int(random.next() % 39)  // digits before the decimal point
            let leadingZeros = point == 0 ? String(repeating: "0", count: Int(random.next() % 60)) : ""
            let integer = point == 0 ? "0" : digits[..<point].joined()
            let fraction = leadingZeros + digits[point...].joined()
            let text = (random.next() % 2 == 0 ? "-" : "") + integer + (fraction.isEmpty ? "" : "." + fraction)
            let value = try exact(text)
            let decimal = try #require(value.decimalValue, "\(text)")
            #expect(ExactDecimal(decimal.description) == value, "\(text)")
        }
    }

    @Test("decimalValue is nil beyond 38 significant digits or Decimal's exponent range", arguments: [
        "123456789012345678901234567890123456789",  // 39 digits
        "1.23456789012345678901234567890123456789",
        "-0.100000000000000000000000000000000000001",
        "0.1000000000000000000001" + String(repeating: "7", count: 20),
        "0." + String(repeating: "0", count: 128) + "1",  // 10^-129: below Decimal's range
        "1" + String(repeating: "0", count: 166),  // 10^166: above Decimal's range
        String(repeating: "9", count: 38) + String(repeating: "0", count: 128),
        "0." + String(repeating: "0", count: 200) + "1",
        "1" + String(repeating: "0", count: 300),  // 1e300: exponent too large
    ])
    func decimalValueNil(input: String) throws {
        #expect(try exact(input).decimalValue == nil)
    }
}

/// Parses `text`, failing the test (at the caller's line) if it is rejected.
private func exact(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ExactDecimal {
    try #require(ExactDecimal(text), sourceLocation: sourceLocation)
}

/// A small deterministic generator, so that pseudo-random tests fail reproducibly.
struct ValuesTestRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
