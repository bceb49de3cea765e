#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Standard base64 (RFC 4648 §4, with padding), as PostgreSQL writes SCRAM verifiers and
/// as gmp writes key and checkpoint files.
///
/// FoundationEssentials' `Data(base64Encoded:)` does the decoding; on top of it, decoding
/// here accepts only the canonical text of the bytes. Foundation takes "AQJ=" as well as
/// "AQI=" for the same two bytes; in a signed file two texts for one value would let a
/// file be changed without changing what it means, which an auditor should never have to
/// reason about.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// The bytes of `text`, or nil unless `text` is their canonical padded encoding
    /// (no whitespace, no line breaks, zero padding bits).
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let text = String(text)
        guard let data = Data(base64Encoded: text) else { return nil }
        let bytes = [UInt8](data)
        return encode(bytes) == text ? bytes : nil
    }
}
