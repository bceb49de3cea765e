import SystemCrypto
import Testing

private func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

private func bytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

@Suite("SystemCrypto: SHA-256 (FIPS 180 examples), fed whole and in pieces")
struct SHA256Tests {
    static let vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]

    @Test("the FIPS 180 examples, one-shot", arguments: vectors)
    func oneShot(message: String, digest: String) {
        #expect(hex(SHA256.hash(data: Array(message.utf8))) == digest)
    }

    @Test("the FIPS 180 examples fed a byte, then the rest in 7-byte pieces; finalize leaves the state", arguments: vectors)
    func incremental(message: String, digest: String) {
        let bytes = Array(message.utf8)
        var sha256 = SHA256()
        sha256.update(data: Array(bytes.prefix(1)))
        for start in stride(from: 1, to: max(bytes.count, 1), by: 7) {
            bytes[start..<min(start + 7, bytes.count)].withUnsafeBytes { sha256.update(bufferPointer: $0) }
        }
        sha256.update(bufferPointer: UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(hex(sha256.finalize()) == digest)
        #expect(hex(sha256.finalize()) == digest)
    }

    @Test("a million 'a's, and a copy of a state goes on alone")
    func millionAndCopies() {
        var sha256 = SHA256()
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { sha256.update(data: thousand) }
        #expect(hex(sha256.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        var prefix = SHA256()
        prefix.update(data: Array("ab".utf8))
        var copy = prefix
        copy.update(data: Array("c".utf8))
        #expect(hex(copy.finalize()) == Self.vectors[1].1)
        #expect(prefix.finalize() == SHA256.hash(data: Array("ab".utf8)))
        #expect(Array(copy.finalize()).count == 32)
    }
}

@Suite("SystemCrypto: HMAC-SHA-256 (RFC 4231 test cases)")
struct HMACSHA256Tests {
    @Test("RFC 4231 cases 1, 2, 3, 6 and 7: short, text, 0xdd data, and keys longer than the block", arguments: [
        (String(repeating: "0b", count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        ("4a656665", Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (String(repeating: "aa", count: 20), [UInt8](repeating: 0xDD, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (String(repeating: "aa", count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (String(repeating: "aa", count: 131),
         Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ])
    func rfc4231(key: String, data: [UInt8], code: String) {
        let mac = HMACSHA256(key: bytes(key))
        #expect(hex(mac.code(for: data)) == code)
        // The keyed pads are reused: a second code under the same key is the same.
        #expect(hex(mac.code(for: data)) == code)
    }

    @Test("a 64-byte key is used as it is, not hashed; a 65-byte one is hashed")
    func blockSizedKeys() {
        let block = [UInt8](repeating: 0x42, count: 64)
        let long = block + [0x42]
        #expect(HMACSHA256(key: long).code(for: [1]) == HMACSHA256(key: Array(SHA256.hash(data: long))).code(for: [1]))
        #expect(HMACSHA256(key: block).code(for: [1]) != HMACSHA256(key: Array(SHA256.hash(data: block))).code(for: [1]))
        // Zero padding: a key and the same key with trailing zeros up to the block agree (RFC 2104).
        #expect(HMACSHA256(key: [7]).code(for: [1]) == HMACSHA256(key: [7, 0, 0]).code(for: [1]))
    }
}

@Suite("SystemCrypto: Ed25519 (RFC 8032 section 7.1 tests 1-3)")
struct Ed25519Tests {
    static let vectors: [(String, String, String, String)] = [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]

    @Test("the public key, the signature and its check", arguments: vectors)
    func rfc8032(secret: String, public publicKey: String, message: String, signature: String) throws {
        let key = try Ed25519PrivateKey(rawRepresentation: bytes(secret))
        #expect(hex(key.rawRepresentation) == secret)
        #expect(hex(key.publicKey.rawRepresentation) == publicKey)
        #expect(hex(try key.signature(for: bytes(message))) == signature)
        let verifier = try Ed25519PublicKey(rawRepresentation: bytes(publicKey))
        #expect(verifier.isValidSignature(bytes(signature), for: bytes(message)))
        // A flipped bit in the message or the signature, or a signature of another length, fails.
        #expect(!verifier.isValidSignature(bytes(signature), for: bytes(message) + [0]))
        var flipped = bytes(signature)
        flipped[10] ^= 1
        #expect(!verifier.isValidSignature(flipped, for: bytes(message)))
        #expect(!verifier.isValidSignature(Array(bytes(signature).dropLast()), for: bytes(message)))
        #expect(!verifier.isValidSignature([], for: bytes(message)))
    }

    @Test("keys of any length but 32 bytes are refused")
    func lengths() {
        for count in [0, 31, 33, 64] {
            #expect(throws: Ed25519KeyError.self) { try Ed25519PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: count)) }
            #expect(throws: Ed25519KeyError.self) { try Ed25519PublicKey(rawRepresentation: [UInt8](repeating: 1, count: count)) }
        }
    }

    @Test("a new key is random, signs, and its public half checks it")
    func generated() throws {
        let one = Ed25519PrivateKey(), two = Ed25519PrivateKey()
        #expect(one.rawRepresentation != two.rawRepresentation)
        let message = Array("gmp-audit-checkpoint".utf8)
        let signature = try one.signature(for: message)
        #expect(one.publicKey.isValidSignature(signature, for: message))
        #expect(!two.publicKey.isValidSignature(signature, for: message))
        #expect(SecureRandom.bytes(count: 32).count == 32)
        #expect(SecureRandom.bytes(count: 32) != SecureRandom.bytes(count: 32))
    }
}
