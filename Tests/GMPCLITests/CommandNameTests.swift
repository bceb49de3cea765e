import ArgumentParser
import Testing
@testable import GMPCLI

/// Start-up cost (issue 18): the argument parser builds the whole command tree on every
/// run, and names a command without `commandName` through `String(describing:)`, whose
/// first use makes the Swift runtime scan every protocol conformance in the binary.
@Suite("every command names itself (start-up cost, issue 18)")
struct CommandNameTests {
    @Test("every command in the tree declares its commandName")
    func everyCommandNamed() {
        var unnamed: [String] = []
        func walk(_ command: ParsableCommand.Type, path: String) {
            let name = command.configuration.commandName
            if name == nil { unnamed.append("\(path) > \(command)") }
            for sub in command.configuration.subcommands { walk(sub, path: path + " " + (name ?? "?")) }
        }
        walk(GMP.self, path: "")
        #expect(unnamed.isEmpty, "without commandName: \(unnamed)")
    }
}
