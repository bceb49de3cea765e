/// ISO/IEC 7064 MOD 37-2, the pure check-character system ISBT 128 puts after a
/// donation identification number (printed, never in the bar code).
///
/// It detects every single-character substitution and every transposition of two
/// adjacent characters: each position's weight is a distinct power of 2 modulo the
/// prime 37, so no such error leaves the weighted sum unchanged.
public enum ISO7064Mod37_2: Sendable, Equatable {
    /// Characters in value order: 0–9 are 0–9, A–Z are 10–35, and `*` is 36, which
    /// only ever appears as a check character.
    private static let alphabet: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*")

    /// The check character for `text`, or nil if any character is not 0–9 or A–Z
    /// (lowercase included: callers decide whether to uppercase first).
    public static func checkCharacter(for text: some StringProtocol) -> Character? {
        var p = 0
        // UTF-8 bytes, so that a letter with a combining mark cannot pass as A–Z.
        for byte in text.utf8 {
            guard let v = value(of: byte) else { return nil }
            p = ((p + v) * 2) % 37
        }
        return alphabet[(38 - p) % 37]
    }

    private static func value(of byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }
}
