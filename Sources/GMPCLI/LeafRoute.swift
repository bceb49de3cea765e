import ArgumentParser

/// Parses an ordinary command line straight into its leaf command (start-up cost, issue 18).
///
/// swift-argument-parser's `parseAsRoot` first builds the whole tree of gmp's commands
/// (every command's configuration, alias checks) and decodes each command on the way
/// down; that cost every run about as much as psql spends starting. The command words
/// alone name the leaf (`CommandPath`), and no group command in gmp declares an option or
/// argument of its own (`LeafRouteTests` checks), so parsing the rest of the line as the
/// leaf's yields the same command.
///
/// Anything else goes to the full parser, which alone knows the tree: help, `--version`,
/// completion scripts and requests, a group's default subcommand, and every line the leaf
/// does not accept, so that errors and help name the whole command path as before.
enum LeafRoute {
    /// The parsed leaf command, or nil when the full parser must decide.
    static func parse(_ arguments: [String]) -> ParsableCommand? {
        guard !arguments.contains(where: isForTheFullParser) else { return nil }
        let path = CommandPath(arguments)
        guard path.unknown == nil, !path.words.isEmpty, path.command.configuration.subcommands.isEmpty else { return nil }
        let line = Array(arguments.dropFirst(path.words.count))
        // Compared by identity: a cast to `DirectlyParsed.Type` would scan every
        // protocol-conformance record of the binary.
        if let direct = directlyParsed.first(where: { ObjectIdentifier($0) == ObjectIdentifier(path.command) }),
           let command = direct.parseDirectly(line) {
            return command
        }
        return parse(path.command, line)
    }

    /// The commands whose lines gmp reads itself (`DirectlyParsed`); `DirectParseTests`
    /// checks that every adopting command is here.
    static let directlyParsed: [any DirectlyParsed.Type] = [
        DbStatus.self, LotShow.self, ReleaseCheckCommand.self, TraceMaterial.self, TraceLot.self, AuditVerify.self,
    ]

    private static func parse<Command: ParsableCommand>(_ command: Command.Type, _ arguments: [String]) -> ParsableCommand? {
        try? Leaf<Command>.parse(arguments).command
    }

    /// Words the parser answers itself, with the whole tree: help, version, completions,
    /// its help dump. (A leaf parsed alone would throw on them too; this keeps it plain.)
    private static func isForTheFullParser(_ argument: String) -> Bool {
        builtIn.contains(argument) || argument.hasPrefix("---") || argument.hasPrefix("--generate-completion-script")
    }

    private static let builtIn = ["-h", "-help", "--help", "--help-hidden", "-help-hidden",
                                               "--version", "--experimental-dump-help"]
}

/// A leaf command parsed on its own, as the one option group of a pseudo-command.
///
/// Parsed as it is, a leaf is the parser's root, and a root pays for two checks that a
/// routed line never needs (the lines that do go to the full parser, `LeafRoute`): the
/// request for a completion script, which decodes two commands of the parser's own (61%
/// of the parser's instructions on `gmp db status`, and most of its conformance scans),
/// and its help names, whose `-h` the parser prints through `String(describing:)`. The
/// parser skips the first for a pseudo-command (`_superCommandName`) and builds no names
/// from an empty list. The leaf's own options, arguments and validation are the same:
/// `@OptionGroup` decodes and validates the wrapped command.
struct Leaf<Command: ParsableCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Command.configuration.commandName ?? "leaf", _superCommandName: "gmp", helpNames: [])
    }

    @OptionGroup var command: Command
}
