import PostgresClient

// ExactDecimal only compares; the dose-based endotoxin limit (value × M ≤ K) and unit
// conversions need an exact product, and the printed K/M an exact quotient. Both work on
// decimal digit arrays of any length, so nothing is ever rounded through Double.
extension ExactDecimal {
    /// self × other, exactly. The scale is the sum of the scales, as PostgreSQL's
    /// `numeric` multiplication gives it: 95.0 × 1 = 95.0, 45000000 × 0.000001 = 45.000000.
    public func multiplied(by other: ExactDecimal) -> ExactDecimal {
        let lhs = DecimalDigits(self), rhs = DecimalDigits(other)
        let product = DecimalDigits(
            negative: lhs.negative != rhs.negative,
            digits: DecimalDigits.multiply(lhs.digits, rhs.digits),
            scale: lhs.scale + rhs.scale
        )
        return product.value
    }

    /// self ÷ divisor, truncated toward zero after at most `maxFractionDigits` fractional
    /// digits; `exact` is true when nothing was cut. nil when the divisor is zero.
    /// For display only: a truncated quotient must never be compared against.
    func truncatedQuotient(dividedBy divisor: ExactDecimal, maxFractionDigits: Int) -> (value: ExactDecimal, exact: Bool)? {
        guard !divisor.isZero else { return nil }
        let lhs = DecimalDigits(self), rhs = DecimalDigits(divisor)
        // (A / 10^a) / (B / 10^b) = (A · 10^b) / (B · 10^a): two integers.
        let dividend = lhs.digits + [UInt8](repeating: 0, count: rhs.scale)
        let denominator = DecimalDigits.trimmed(rhs.digits + [UInt8](repeating: 0, count: lhs.scale))
        var remainder: [UInt8] = []
        var quotient: [UInt8] = []
        var fractionDigits = 0
        var pending = dividend[...]
        while !pending.isEmpty || (!remainder.isEmpty && fractionDigits < maxFractionDigits) {
            if let next = pending.popFirst() {
                remainder.append(next)
            } else {
                remainder.append(0)
                fractionDigits += 1
            }
            remainder = DecimalDigits.trimmed(remainder)
            var digit: UInt8 = 0
            while DecimalDigits.compare(remainder, denominator) >= 0 {
                remainder = DecimalDigits.subtract(remainder, denominator)
                digit += 1
            }
            quotient.append(digit)
        }
        let value = DecimalDigits(negative: lhs.negative != rhs.negative, digits: quotient, scale: fractionDigits).value
        return (value, remainder.isEmpty)
    }
}

/// A decimal as its digits (0…9, most significant first, the point not stored) and scale.
struct DecimalDigits {
    var negative: Bool
    var digits: [UInt8]
    var scale: Int

    init(negative: Bool, digits: [UInt8], scale: Int) {
        self.negative = negative
        self.digits = digits
        self.scale = scale
    }

    init(_ value: ExactDecimal) {
        // The canonical description is the only public view of the digits.
        var text = Substring(value.description)
        negative = text.first == "-"
        if negative { text = text.dropFirst() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        scale = parts.count == 2 ? parts[1].count : 0
        digits = parts.joined().utf8.map { $0 - UInt8(ascii: "0") }
    }

    /// The decimal these digits spell, with the point `scale` digits from the right.
    var value: ExactDecimal {
        var all = digits
        if all.count <= scale { all.insert(contentsOf: [UInt8](repeating: 0, count: scale - all.count + 1), at: 0) }
        var text = negative ? "-" : ""
        text += String(decoding: all[..<(all.count - scale)].map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
        if scale > 0 {
            text += "." + String(decoding: all[(all.count - scale)...].map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
        }
        return .literal(text)
    }

    /// The digits without leading zeros; empty for zero.
    static func trimmed(_ digits: [UInt8]) -> [UInt8] {
        Array(digits.drop { $0 == 0 })
    }

    /// Schoolbook multiplication of two digit strings.
    static func multiply(_ lhs: [UInt8], _ rhs: [UInt8]) -> [UInt8] {
        var result = [Int](repeating: 0, count: lhs.count + rhs.count)
        for (i, l) in lhs.reversed().enumerated() where l != 0 {
            var carry = 0
            for (j, r) in rhs.reversed().enumerated() {
                let total = result[i + j] + Int(l) * Int(r) + carry
                result[i + j] = total % 10
                carry = total / 10
            }
            result[i + rhs.count] += carry
        }
        return result.reversed().map { UInt8($0) }
    }

    /// -1, 0 or 1 comparing two digit strings without leading zeros.
    static func compare(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int {
        if lhs.count != rhs.count { return lhs.count < rhs.count ? -1 : 1 }
        for (l, r) in zip(lhs, rhs) where l != r { return l < r ? -1 : 1 }
        return 0
    }

    /// lhs − rhs for lhs ≥ rhs (both without leading zeros); the result is trimmed.
    static func subtract(_ lhs: [UInt8], _ rhs: [UInt8]) -> [UInt8] {
        var result = lhs
        var borrow: UInt8 = 0
        for offset in 0..<lhs.count {
            let index = lhs.count - 1 - offset
            let subtrahend = (offset < rhs.count ? rhs[rhs.count - 1 - offset] : 0) + borrow
            if result[index] >= subtrahend {
                result[index] -= subtrahend
                borrow = 0
            } else {
                result[index] = result[index] + 10 - subtrahend
                borrow = 1
            }
        }
        return trimmed(result)
    }
}
