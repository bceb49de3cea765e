#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing
@testable import GMPCLI

/// Every command's environment is read by `ProcessEnvironment` instead of
/// `ProcessInfo.processInfo.environment` (start-up, issue 18): the same dictionary.
@Suite("The process environment as FoundationEssentials reads it (start-up, issue 18)")
struct ProcessEnvironmentTests {
    @Test("this process's environment: the same dictionary as ProcessInfo's")
    func sameAsProcessInfo() {
        #expect(ProcessEnvironment.current() == ProcessInfo.processInfo.environment)
    }

    /// FoundationEssentials' split: at the first "=" `Character`, entries without one left out.
    static func byCharacters(_ entries: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return result
    }

    @Test("entries split at the first \"=\" character, whatever surrounds it", arguments: [
        ["A=1", "B==x", "C=", "=nameless", "D", "A=2"],
        ["E=\u{301}x", "F=\u{301}x=y", "\u{600}=y", "G\u{600}=z=w", "H=é", "é=1", "I=a\u{301}=b"],
        ["J=\u{FFFD}", "K\u{200D}=v", "L=\u{200D}", "M=\r\n", "N\r=\nx"],
    ])
    func sameSplit(entries: [String]) {
        var result: [String: String] = [:]
        for entry in entries { ProcessEnvironment.add(entry, to: &result) }
        #expect(result == Self.byCharacters(entries))
    }
}
