import GMPRules
import PostgresClient
import Testing

@Suite("Exact decimal multiplication")
struct ExactDecimalArithmeticTests {
    typealias F = SpecFixtures

    @Test("products are exact, with the sum of the scales", arguments: [
        ("25", "0.2", "5.0"), ("25.01", "0.2", "5.002"), ("95.0", "1", "95.0"), ("0", "123.45", "0.00"),
        ("45000000", "0.000001", "45.000000"), ("0.001", "1000", "1.000"), ("-1.5", "2", "-3.0"),
        ("-1.5", "-2", "3.0"), ("99999999999999999999", "99999999999999999999",
                                "9999999999999999999800000000000000000001"),
        ("0.1", "0.1", "0.01"), ("16.6667", "0.3", "5.00001"),
    ])
    func products(lhs: String, rhs: String, expected: String) {
        let product = F.d(lhs).multiplied(by: F.d(rhs))
        #expect(product.description == expected)
        #expect(product == F.d(rhs).multiplied(by: F.d(lhs)))
    }
}
