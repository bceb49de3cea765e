import Testing
import TestSupport

@Suite("gmp's command line")
struct CLIBasicsTests {
    @Test("--help teaches: getting started, the exit-code table, the subcommands")
    func help() throws {
        let run = try GMPBinary.run(["--help"])
        #expect(run.status == 0)
        for text in ["gmp db start", "gmp doctor", "Exit codes:", "64", "65", "69", "70", "75", "77", "78", "--json", "db", "doctor"] {
            #expect(run.stdout.contains(text), "missing \(text)")
        }
        #expect(run.stderr.isEmpty)
    }

    @Test("--version prints the version")
    func version() throws {
        let run = try GMPBinary.run(["--version"])
        #expect(run.status == 0)
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }

    @Test("subcommand help describes the command")
    func subcommandHelp() throws {
        let run = try GMPBinary.run(["db", "migrate", "--help"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("forward only"))
        #expect(run.stdout.contains("--database"))
    }

    @Test("an unknown option or command is a usage error: exit 64, one line")
    func usage() throws {
        expectOneLineError(try GMPBinary.run(["db", "status", "--frobnicate"]), exit: 64, mentioning: ["--frobnicate"])
        expectOneLineError(try GMPBinary.run(["lots"]), exit: 64)
        expectOneLineError(try GMPBinary.run(["db", "status", "--color", "purple"]), exit: 64)
    }

    @Test("a usage error's fix names the command it is about; an unknown command is called that, even after global options")
    func usageNamesTheCommand() throws {
        let option = try GMPBinary.run(["db", "migrate", "--bogus"])
        expectOneLineError(option, exit: 64)
        #expect(option.stderr.hasSuffix("fix: see 'gmp db migrate --help'\n"), "\(option)")
        #expect(!option.stderr.contains("<command>"))
        let unknown = try GMPBinary.run(["-U", "quinn", "lot", "bogus"])
        expectOneLineError(unknown, exit: 64, mentioning: ["gmp lot has no command 'bogus'", "create, step, check, show", "see 'gmp lot --help'"])
        #expect(!unknown.stderr.contains("-U"), "the global option is not to blame: \(unknown)")
        let alias = try GMPBinary.run(["batch", "lst"])
        expectOneLineError(alias, exit: 64, mentioning: ["gmp batch has no command 'lst'"])
    }

    @Test("shell completions are generated")
    func completions() throws {
        let run = try GMPBinary.run(["--generate-completion-script", "bash"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("_gmp"))
    }
}

@Suite("Global options before the command")
struct GlobalOptionsFirstTests {
    @Test("gmp --json -d … db status works like gmp db status --json -d …")
    func leadingOptions() throws {
        let run = try GMPBinary.run(["--json", "-d", "host=/nonexistent-gmp-dir", "db", "status"])
        expectOneLineError(run, exit: 69, mentioning: ["the --database option"])
    }
}
