import ArgumentParser
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The root command: `gmp`.
public struct GMP: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "gmp",
        abstract: "GMP records for MSC manufacturing: donors, lots, QC, release, storage and custody.",
        discussion: """
            gmp keeps a facility's GMP records in PostgreSQL, where the database itself \
            enforces release criteria, chain of custody and the audit trail.

            With no database configured, gmp runs its own private PostgreSQL server \
            (the embedded server, under GMP_DATA_DIR). A configured server is used as-is: \
            --database, GMP_DATABASE, libpq's PG* variables, or database.connection in \
            the configuration file, in that order.

            Getting started:
              gmp db start        create and start the embedded server
              gmp db migrate      bring the schema up to date
              gmp doctor          check the set-up and explain any problem

            Every command takes --json for one JSON document on stdout. Errors are one \
            line on stderr: what went wrong and how to fix it.

            Exit codes:
            \(GMPExitCode.table)

            Documentation, built in: gmp help TOPIC (gmp docs lists the topics); \
            the manual page: man gmp. A starter configuration: gmp config init.

            Shell completions: gmp --generate-completion-script bash|zsh|fish
            """,
        version: version,
        subcommands: subcommandTypes
    )

    /// The top-level commands, in help's order. Apart from `configuration` so that finding
    /// an ordinary command's leaf (`CommandPath`) does not build the root's help text
    /// (the exit-code table and the rest: start-up, issue 18).
    static let subcommandTypes: [ParsableCommand.Type] = [
        Db.self, Config.self, User.self, Facility.self, Donor.self, Tissue.self, Lot.self, Label.self, Spec.self, ProcessCommand.self, QC.self, Deviation.self, Material.self, Equipment.self,
        Sop.self, Training.self,
        Release.self, Coa.self, BatchRecordCommand.self, Storage.self, UnitCommand.self, CustodyCommand.self, Excursion.self, Ship.self,
        Trace.self, RecallCommand.self, Audit.self, Todo.self, Doctor.self, Docs.self,
    ]

    public init() {}

    /// Runs gmp with the process's arguments and returns the exit status.
    public static func runMain(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Int32 {
        _ = loggingBootstrap
        // `gmp --version` alone: the version, without building the command tree first
        // (start-up, issue 18); the parser would print the same line.
        if arguments == ["--version"] {
            StandardStream.output.write(version + "\n")
            return 0
        }
        var command: ParsableCommand
        do {
            let routed = HelpTopic.route(GlobalOptionPlacement.reorder(arguments))
            command = try LeafRoute.parse(routed) ?? parseAsRoot(routed)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help, --version, completion scripts: data, on stdout.
                var text = fullMessage(for: error)
                if let flag = arguments.firstIndex(of: "--generate-completion-script"), flag + 1 < arguments.count {
                    text = CompletionScript.withAliases(text, shell: arguments[flag + 1])
                }
                StandardStream.output.write(text + "\n")
                return 0
            }
            // One line, whatever the parser said (a list of valid values spans several).
            var message = self.message(for: error).split(whereSeparator: \.isNewline)
                .map(\.trimmingWhitespace).filter { !$0.isEmpty }.joined(separator: " ")
            let path = CommandPath(arguments)
            var fix = "see '\(path.text) --help'"
            if let unknown = path.unknown {
                // Named for what it is, before the parser blames an option placed after it.
                message = "\(path.text) has no command '\(unknown)' (it has: \(path.subcommandNames.joined(separator: ", ")))"
            }
            // The parser reads "-3" as an option and says only that a value is missing:
            // name the number, which no gmp value (result, count, amount) may be.
            if let negative = arguments.first(where: NumberText.isNegativeNumber) {
                message += " (\(negative) is read as an option: a value cannot be negative)"
                fix = "no quantity gmp records is below zero; check the value"
            }
            StandardStream.error.write(Style(enabled: Terminal.colorStderrByDefault()).red("error:") + " \(message); fix: \(fix)\n")
            return code.rawValue
        }
        do {
            try command.run()
            return 0
        } catch let exit as ArgumentParser.ExitCode {
            return exit.rawValue
        } catch {
            // `gmp` alone or `gmp db` show help; other errors here come from commands
            // that are not GMPCommands.
            let code = exitCode(for: error)
            if code == .success {
                StandardStream.output.write(fullMessage(for: error) + "\n")
                return 0
            }
            StandardStream.error.write("error: \(message(for: error)); fix: see 'gmp --help'\n")
            return code.rawValue
        }
    }
}

/// Routes swift-log (and with it the server's notices) to stderr, once per process.
private let loggingBootstrap: Void = LoggingSystem.bootstrap { _ in StderrLogHandler(logLevel: .warning) }
