@testable import GMPRecords
import Testing

/// Issue 18: the chain pass from a checkpoint tells an untouched key by its bytes
/// (``TouchedKeyBytes``); it must answer as the touched keys' `Set<String?>` does.
@Suite("Touched keys by bytes answer as the set of touched keys")
struct TouchedKeyBytesTests {
    static func lookUp(_ touched: TouchedKeyBytes, _ key: String?) -> Bool? {
        guard let key else { return touched.contains(nil) }
        return Array(key.utf8).withUnsafeBytes { touched.contains($0) }
    }

    @Test("hits and misses among many keys: numbers, prefixes, the empty key, null")
    func manyKeys() {
        var generator = SystemRandomNumberGenerator()
        let touchedKeys: Set<String?> = Set((0..<5_000).map { _ in String(UInt64.random(in: 0..<400_000, using: &generator)) })
            .union(["", "key 1", "G12340000001", nil])
        let touched = TouchedKeyBytes(touchedKeys)
        let probes: [String?] = (0..<20_000).map { String($0 * 20) } + ["k", "key", "key 1", "key 10", "", " ", nil, "G1234000000"]
        for probe in probes {
            #expect(Self.lookUp(touched, probe) == touchedKeys.contains(probe), "\(String(describing: probe))")
        }
        #expect(Self.lookUp(TouchedKeyBytes(["1"]), nil) == false)
        #expect(Self.lookUp(TouchedKeyBytes([]), "1") == false)
    }

    @Test("non-ASCII keys are left to Strings (canonical equivalence)")
    func nonASCII() {
        #expect(Self.lookUp(TouchedKeyBytes(["K"]), "\u{212A}") == nil)
        #expect(Self.lookUp(TouchedKeyBytes(["\u{212A}"]), "K") == nil)
        #expect(Self.lookUp(TouchedKeyBytes(["café"]), "cafe") == nil)
    }
}
