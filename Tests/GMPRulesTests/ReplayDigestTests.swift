import CLibCrypto
import GMPRules
import Testing

/// Issue 18: ``ReplayDigest`` computes HMAC-SHA-256 from the keyed pads' hashes and writes
/// each item into one buffer (swift-crypto's generic `HMAC<SHA256>.update` fed field by
/// field was a third of the client's time in a verify). The sums must stay those of HMAC-SHA-256 over the
/// documented item encoding (docs/audit-trail.md, "No digest is taken on trust").
@Suite("Replay digest: HMAC-SHA-256 of each item's encoding, summed mod 2^256")
struct ReplayDigestTests {
    /// The item encoding, field by field, as the documentation gives it; images as their
    /// 32 bytes.
    static func encoding(tag: Character, seq: Int64, fields: [[UInt8]?], images: [[UInt8]?]) -> [UInt8] {
        var bytes: [UInt8] = [tag.asciiValue!]
        withUnsafeBytes(of: UInt64(bitPattern: seq).bigEndian) { bytes += $0 }
        func length(_ count: Int?) {
            withUnsafeBytes(of: (count.map { UInt32($0) } ?? 0xFFFF_FFFF).bigEndian) { bytes += $0 }
        }
        for field in fields + images {
            length(field?.count)
            bytes += field ?? []
        }
        return bytes
    }

    /// The reference sum: OpenSSL's one-shot `HMAC()` (through EVP, not gmp's code) over each encoding, the 32-byte codes read as
    /// four big-endian limbs, the first the least significant, added with carries.
    static func referenceSum(key: [UInt8], items: [[UInt8]]) -> [UInt8] {
        var limbs = [UInt64](repeating: 0, count: 4)
        for item in items {
            let code = Self.openSSLHMAC(key: key, message: item)
            var carry: UInt64 = 0
            for index in 0..<4 {
                let limb = code[index * 8..<index * 8 + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let (partial, first) = limbs[index].addingReportingOverflow(limb)
                let (total, second) = partial.addingReportingOverflow(carry)
                limbs[index] = total
                carry = (first ? 1 : 0) + (second ? 1 : 0)
            }
        }
        return limbs.flatMap { limb in withUnsafeBytes(of: limb.bigEndian) { Array($0) } }
    }

    static func openSSLHMAC(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var code = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        #expect(HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &code, &length) != nil && length == 32)
        return code
    }

    /// SHA-256 by OpenSSL's EVP interface (not the low-level one gmp's ``RowDigest`` uses).
    static func openSSLSHA256(_ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        #expect(EVP_Digest(message, message.count, &digest, &length, EVP_sha256(), nil) == 1 && length == 32)
        return digest
    }

    static func digest(_ bytes: [UInt8]) -> RowDigest {
        bytes.withUnsafeBytes { RowDigest(bytes: $0)! }
    }

    @Test("every kind of item sums as HMAC-SHA-256 of its encoding, for short, block-sized and long keys",
          arguments: [32, 64, 65, 100])
    func itemsAreHMAC(keyLength: Int) throws {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let old = (0..<32).map { UInt8($0) }, new = (0..<32).map { UInt8(255 - $0) }
        let longValues = String(repeating: "{\"é\": \"x\"}", count: 40)
        var digest = ReplayDigest(key: key)
        var items: [[UInt8]] = []
        func buffer<R>(_ text: String?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
            guard let text else { return body(nil) }
            return Array(text.utf8).withUnsafeBytes { body($0) }
        }
        for (seq, action, table, recordKey) in [(Int64(1), "INSERT", "gmp.lot", Optional("G1234")),
                                               (-7, "UPDATE", "gmp.qc_result", nil), (1 << 40, "DELETE", "t", "")] {
            buffer(action) { a in buffer(table) { t in buffer(recordKey) { k in
                digest.addEvent(seq: seq, action: a!, table: t!, recordKey: k, old: Self.digest(old), new: nil)
            } } }
            items.append(Self.encoding(tag: "E", seq: seq, fields: [Array(action.utf8), Array(table.utf8), recordKey.map { Array($0.utf8) }],
                                       images: [old, nil]))
            buffer(recordKey) { k in digest.addLink(seq: seq, recordKey: k, image: Self.digest(new)) }
            items.append(Self.encoding(tag: "L", seq: seq, fields: [recordKey.map { Array($0.utf8) }], images: [new]))
        }
        digest.addMove(seq: 42, old: Self.digest(new))
        items.append(Self.encoding(tag: "M", seq: 42, fields: [], images: [new]))
        digest.addSignature(seq: 43, values: longValues)
        items.append(Self.encoding(tag: "S", seq: 43, fields: [Array(longValues.utf8)], images: []))
        digest.addEvent(seq: 44, action: "UPDATE", table: "gmp.lot", recordKey: "k", oldValues: "{\"a\": 1}", newValues: longValues)
        items.append(Self.encoding(tag: "E", seq: 44, fields: [Array("UPDATE".utf8), Array("gmp.lot".utf8), Array("k".utf8)],
                                   images: [Self.openSSLSHA256(Array("{\"a\": 1}".utf8)), Self.openSSLSHA256(Array(longValues.utf8))]))
        #expect(digest.count == items.count)
        #expect(digest.sum == Self.referenceSum(key: key, items: items))
        // Another key, the same items: another sum.
        #expect(ReplayDigest(key: key + [0]).sum != digest.sum || items.isEmpty)
    }

    @Test("a row digest is SHA-256 of the text's UTF-8 bytes")
    func rowDigestIsSHA256() {
        for text in ["", "{\"id\": 1}", String(repeating: "ü", count: 1000)] {
            #expect(RowDigest(of: text) == Self.digest(Self.openSSLSHA256(Array(text.utf8))))
        }
    }
}
