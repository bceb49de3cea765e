/// Lets the global options stand before the command, as people type them
/// (`gmp --json db status`, `gmp -d "host=…" doctor`).
///
/// swift-argument-parser reads options only after the command they belong to, and
/// every gmp command declares the global options (`GlobalOptions`). So options that
/// lead the command line are moved behind the command words (and before a `--`, which
/// ends the options); nothing else changes,
/// and anything unrecognised is left for the parser to report.
enum GlobalOptionPlacement {
    // Arrays, not sets: a handful of words, and no `Set<String>` on every command's path
    // (its first use is a scan of every protocol-conformance record: issue 18).
    /// Global options that take a value, in their spellings (from `GlobalOptions`' table,
    /// which `DirectParseTests` checks against the parser's definitions).
    static let valued = GlobalOptions.directArguments.entries.filter { $0.kind == .option }.flatMap { $0.names }
    /// Global flags, in their spellings.
    static let flags = GlobalOptions.directArguments.entries.filter { $0.kind == .flag || $0.kind == .count }.flatMap { $0.names }

    static func reorder(_ arguments: [String]) -> [String] {
        let index = leadingCount(arguments)
        // Nothing leading, or nothing after it (`gmp --json` alone): leave as typed.
        guard index > 0, index < arguments.count else { return arguments }
        // Before a `--`, which ends the options: behind it they would be positionals.
        let rest = arguments[index...]
        let end = rest.firstIndex(of: "--") ?? rest.endIndex
        return Array(rest[..<end]) + arguments[..<index] + rest[end...]
    }

    /// How many arguments at the start are global options, with their values.
    static func leadingCount(_ arguments: [String]) -> Int {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if flags.contains(argument) || isRepeatedShortVerbose(argument) {
                index += 1
            } else if valued.contains(name) && argument.contains("=") {
                index += 1
            } else if valued.contains(argument) && index + 1 < arguments.count {
                index += 2
            } else {
                break
            }
        }
        return index
    }

    /// `-vv`, `-vvv`: counted verbosity.
    private static func isRepeatedShortVerbose(_ argument: String) -> Bool {
        argument.count > 2 && argument.hasPrefix("-") && !argument.hasPrefix("--") && argument.dropFirst().allSatisfy { $0 == "v" }
    }
}
