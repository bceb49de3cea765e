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
/// The common read commands (`directlyParsed`) go further: found by their words alone,
/// they read the line from a table of their own (`DirectlyParsed`), so that a routed line
/// of theirs never touches the parser, whose first use in a process costs more than the
/// rest of the command's client work. A line the table is not sure of goes on to the leaf.
///
/// Anything else goes to the full parser, which alone knows the tree: help, `--version`,
/// completion scripts and requests, a group's default subcommand, and every line the leaf
/// does not accept, so that errors and help name the whole command path as before.
enum LeafRoute {
    /// The parsed leaf command, or nil when the full parser must decide.
    static func parse(_ arguments: [String]) -> ParsableCommand? {
        guard !arguments.contains(where: isForTheFullParser) else { return nil }
        // A command that reads its line itself, named by its canonical words (`path`):
        // no configuration built, no parser (`DirectlyParsed`).
        for direct in directlyParsed where startsWithWords(of: direct, arguments) {
            let words = direct.path.split(separator: " ").count
            if let command = direct.parseDirectly(Array(arguments.dropFirst(words))) { return command }
            break
        }
        let path = CommandPath(arguments)
        guard path.unknown == nil, !path.words.isEmpty, path.command.configuration.subcommands.isEmpty else { return nil }
        return parse(path.command, Array(arguments.dropFirst(path.words.count)))
    }

    /// Whether the line begins with the command's words (`lot show`), aliases aside.
    private static func startsWithWords(of command: any DirectlyParsed.Type, _ arguments: [String]) -> Bool {
        let words = command.path.split(separator: " ")
        return arguments.count >= words.count && zip(words, arguments).allSatisfy { $0 == $1 }
    }

    /// The commands whose lines gmp reads itself (`DirectlyParsed`), found by their words;
    /// `DirectParseTests` checks that every adopting command is here, and that its `path`
    /// names it in the tree.
    static let directlyParsed: [any DirectlyParsed.Type] = [
        DbStatus.self, LotShow.self, ReleaseCheckCommand.self, TraceMaterial.self, TraceLot.self, AuditVerify.self,
        TraceDonor.self, MaterialTrace.self, MaterialShow.self, UnitShow.self, ShipShow.self, DonorShow.self, LotLabel.self,
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
