import ArgumentParser

/// The command words of a command line, matched against gmp's command tree, so that a
/// usage error names the command it is about (`gmp lot --help`), and an unknown command
/// is called that, not blamed on the global options before it.
struct CommandPath {
    /// The words that named commands, from the root: ["lot", "step"].
    let words: [String]
    /// The deepest command they reach.
    let command: ParsableCommand.Type
    /// The first word that should have named a subcommand of `command` and did not.
    let unknown: String?

    init(_ arguments: [String], root: ParsableCommand.Type = GMP.self) {
        var command = root
        var words: [String] = []
        var unknown: String?
        var index = GlobalOptionPlacement.leadingCount(arguments)
        while index < arguments.count {
            let word = arguments[index]
            let subcommands = Self.subcommands(of: command)
            guard !subcommands.isEmpty, !word.hasPrefix("-") else { break }
            guard let next = subcommands.first(where: { Self.names(of: $0).contains(word) }) else {
                unknown = word
                break
            }
            command = next
            words.append(word)
            index += 1
        }
        self.words = words
        self.command = command
        self.unknown = unknown
    }

    /// `gmp lot`
    var text: String { (["gmp"] + words).joined(separator: " ") }

    /// The names a command answers to: its name and its aliases (`lot`, `batch`).
    static func names(of command: ParsableCommand.Type) -> [String] {
        [command.configuration.commandName ?? String(describing: command).lowercased()] + command.configuration.aliases
    }

    /// A command's subcommands; the root's without building its configuration (`GMP.subcommandTypes`).
    static func subcommands(of command: ParsableCommand.Type) -> [ParsableCommand.Type] {
        ObjectIdentifier(command) == ObjectIdentifier(GMP.self) ? GMP.subcommandTypes : command.configuration.subcommands
    }

    /// The subcommands' names, for the message that lists them.
    var subcommandNames: [String] {
        command.configuration.subcommands.map { Self.names(of: $0)[0] }
    }
}
