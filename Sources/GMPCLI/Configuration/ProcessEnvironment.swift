#if canImport(Glibc)
import Glibc
#endif

/// The process's environment, the same dictionary as `ProcessInfo.processInfo.environment`
/// (each `NAME=value` entry split at its first "=" character; an entry without one left
/// out; the last of two entries with the same name wins), read more cheaply for the cold
/// path (issue 18): FoundationEssentials copies every entry and finds its "=" by
/// `Character`s, 0.8 M instructions of every gmp command in a shell's ~45 variables.
///
/// The "=" is found as a byte. It is the first "=" `Character` unless a combining mark
/// follows it or a prepended mark comes before it (neither is ASCII); when either neighbour
/// is not ASCII the entry is split as FoundationEssentials splits it.
enum ProcessEnvironment {
    static func current() -> [String: String] {
        var result: [String: String] = [:]
        // NULL after clearenv(), though Glibc's `environ` is imported as non-optional.
        guard var entries = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>(bitPattern: Int(bitPattern: environ)) else {
            return result
        }
        while let entry = entries.pointee {
            entries += 1
            add(String(cString: entry), to: &result)
        }
        return result
    }

    /// Adds one `NAME=value` entry, as FoundationEssentials does.
    static func add(_ entry: String, to result: inout [String: String]) {
        let bytes = entry.utf8
        guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { return }
        let after = bytes.index(after: equals)
        let asciiBefore = equals == bytes.startIndex || bytes[bytes.index(before: equals)] < 0x80
        let asciiAfter = after == bytes.endIndex || bytes[after] < 0x80
        if asciiBefore && asciiAfter {
            result[String(Substring(bytes[..<equals]))] = String(Substring(bytes[after...]))
        } else if let character = entry.firstIndex(of: "=") {
            result[String(entry[..<character])] = String(entry[entry.index(after: character)...])
        }
    }
}
