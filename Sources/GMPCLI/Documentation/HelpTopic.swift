/// `gmp help TOPIC`: the parser's own `help` shows a command's help; a word that is a
/// documentation topic and no command is sent to `gmp docs` instead, so that errors and
/// help can say "gmp help signatures" and mean the text that ships with the binary.
enum HelpTopic {
    static func route(_ arguments: [String]) -> [String] {
        guard arguments.count >= 2, arguments[0] == "help", Documentation.topic(arguments[1]) != nil,
              !GMP.configuration.subcommands.contains(where: { $0._commandName == arguments[1] }) else {
            return arguments
        }
        return ["docs"] + arguments.dropFirst()
    }
}
