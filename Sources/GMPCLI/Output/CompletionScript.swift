import ArgumentParser

/// swift-argument-parser's completion scripts leave out command aliases (`gmp batch` for
/// `gmp lot`): each alias is added here to the script it wrote, completing as its command.
enum CompletionScript {
    /// Each alias of a top-level command, with the command it stands for.
    static var aliases: [(alias: String, command: String)] {
        GMP.configuration.subcommands.flatMap { type in
            type.configuration.aliases.map { ($0, type._commandName) }
        }
    }

    /// The script with the aliases added; `shell` is bash, zsh or fish.
    static func withAliases(_ script: String, shell: String) -> String {
        aliases.reduce(script) { script, pair in add(pair.alias, for: pair.command, to: script, shell: shell) }
    }

    private static func add(_ alias: String, for command: String, to script: String, shell: String) -> String {
        var lines = script.components(separatedBy: "\n")
        switch shell {
        case "bash", "zsh":
            // The top-level dispatch (`db|config|…|lot|…)`), the words offered, and the
            // alias's function calling the command's.
            guard let dispatch = lines.firstIndex(where: { $0.contains("|\(command)|") && $0.hasSuffix(")") }) else { return script }
            lines[dispatch] = lines[dispatch].replacing("|\(command)|", with: "|\(command)|\(alias)|")
            if let words = lines.firstIndex(where: { $0.contains("compgen -W '") && $0.contains(" \(command) ") }) {
                lines[words] = lines[words].replacing(" \(command) ", with: " \(command) \(alias) ")
            }
            if let described = lines.firstIndex(where: { $0.trimmingPrefix(while: \.isWhitespace).hasPrefix("'\(command):") }) {
                lines.insert(lines[described].replacing("'\(command):", with: "'\(alias):"), at: described + 1)
            }
            lines.append("_gmp_\(alias)() { _gmp_\(command) \"$@\"; }")
        case "fish":
            // The parser's top-level case names the alias too; every completion of the
            // command's words is repeated for the alias's.
            if let top = lines.firstIndex(of: "        case '\(command)'") {
                lines[top] = "        case '\(command)' '\(alias)'"
            }
            lines = lines.flatMap { line -> [String] in
                if line.contains("\"gmp \(command)") {
                    return [line, line.replacing("\"gmp \(command)", with: "\"gmp \(alias)")]
                }
                if line.contains("positional \"gmp\" -eq 1' -fa '\(command)'") {
                    return [line, line.replacing("-fa '\(command)'", with: "-fa '\(alias)'")]
                }
                return [line]
            }
        default:
            break
        }
        return lines.joined(separator: "\n")
    }
}
