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
        return try? path.command.parse(Array(arguments.dropFirst(path.words.count)))
    }

    /// Words the parser answers itself, with the whole tree: help, version, completions,
    /// its help dump. (A leaf parsed alone would throw on them too; this keeps it plain.)
    private static func isForTheFullParser(_ argument: String) -> Bool {
        builtIn.contains(argument) || argument.hasPrefix("---") || argument.hasPrefix("--generate-completion-script")
    }

    private static let builtIn: Set<String> = ["-h", "-help", "--help", "--help-hidden", "-help-hidden",
                                               "--version", "--experimental-dump-help"]
}
