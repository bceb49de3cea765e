import ArgumentParser
import PostgresClient
import Testing
@testable import GMPCLI

/// `--color`'s values, which every command takes (start-up, issue 18): `ColorChoice`
/// gives the parser its value strings and descriptions itself instead of the parser's
/// generic defaults, and they must stay what those defaults would give, so that help and
/// completions do not change.
@Suite("--color's values as the parser's defaults would give them (start-up, issue 18)")
struct ColorChoiceTests {
    @Test("no value has a description of its own, as the parser's default would find")
    func descriptions() {
        // The parser's default for a CaseIterable RawRepresentable: a description for each
        // value whose description differs from its raw value's.
        var expected: [String: String] = [:]
        for value in ColorChoice.allCases where value.rawValue.defaultValueDescription != value.defaultValueDescription {
            expected[value.rawValue.defaultValueDescription] = value.defaultValueDescription
        }
        #expect(ColorChoice.allValueDescriptions == expected)
        #expect(ColorChoice.allValueStrings == ColorChoice.allCases.map(\.rawValue.defaultValueDescription))
    }

    @Test("a command's help shows --color on one line with its values, not one line per value")
    func help() {
        let help = DbStatus.helpMessage(columns: 200)
        let lines = help.split(separator: "\n").map { String($0).trimmingWhitespace }
        let line = lines.first { $0.hasPrefix("--color <color>") }
        #expect(line?.hasSuffix("Color: auto (terminals only, honours NO_COLOR and TERM=dumb), always or never. (values: auto, always, never)") == true)
        // An enumerated list would print each value on a line of its own.
        #expect(!lines.contains { ["auto", "always", "never"].contains(String($0.prefix { $0 != " " })) })
    }
}
