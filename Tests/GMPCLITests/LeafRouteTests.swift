import ArgumentParser
import Foundation
import Testing
@testable import GMPCLI

/// Start-up cost (issue 18): an ordinary command line is parsed as its leaf command
/// alone (`LeafRoute`), not through the whole command tree. It must give exactly the
/// command the full parser gives, and leave everything else to the full parser.
@Suite("command lines parsed straight into their leaf command (start-up cost, issue 18)")
struct LeafRouteTests {
    /// Every command in the tree with the words that name it (`DirectParseTests` too).
    static func commands() -> [(words: [String], type: ParsableCommand.Type)] {
        var found: [(words: [String], type: ParsableCommand.Type)] = []
        func walk(_ command: ParsableCommand.Type, words: [String]) {
            found.append((words, command))
            for sub in command.configuration.subcommands {
                walk(sub, words: words + [sub.configuration.commandName!])
            }
        }
        walk(GMP.self, words: [])
        return found
    }

    /// A command's whole value, wrappers and all, for comparing two parses (`DirectParseTests` too).
    static func dumped(_ command: ParsableCommand) -> String {
        var text = ""
        dump(command, to: &text)
        return text
    }

    @Test("no group command declares an option or argument of its own, which the leaf route would skip")
    func groupsHaveNoArguments() {
        let groups = Self.commands().filter { !$0.type.configuration.subcommands.isEmpty }
        #expect(groups.count > 10)
        for group in groups {
            #expect(Mirror(reflecting: group.type.init()).children.isEmpty,
                    "gmp \(group.words.joined(separator: " ")) has properties: parse it through the tree")
        }
    }

    @Test("every leaf gives the same command as the full parser, or leaves the line to it")
    func sameAsFullParser() throws {
        let leaves = Self.commands().filter { $0.type.configuration.subcommands.isEmpty && !$0.words.isEmpty }
        #expect(leaves.count > 50)
        var routed = 0
        for leaf in leaves {
            for tail in [["--json"], [], ["X-1", "--json"], ["-q", "-v", "--color", "never"], ["--unknown-option"]] {
                let line = leaf.words + tail
                let full = try? GMP.parseAsRoot(line)
                guard let fast = LeafRoute.parse(line) else { continue }
                routed += 1
                let expected = try #require(full, "\(line): the leaf route accepted what the full parser refuses")
                #expect(type(of: fast) == type(of: expected), "\(line)")
                #expect(Self.dumped(fast) == Self.dumped(expected), "\(line)")
            }
        }
        #expect(routed > 50, "the leaf route should take most plain command lines")
    }

    /// Lines built from each leaf's own arguments, as the parser describes them
    /// (`--experimental-dump-help`): every option of the leaf's own in each of its
    /// spellings with a good, a bad and a missing value, every flag, and the positional
    /// arguments given or left out. The global options, the same for every leaf, are
    /// spelled out in full on every tenth leaf (`sameAsFullParser` tries them on all).
    private static func lines(for words: [String], in helpDump: [String: Any], globals: Bool) throws -> [[String]] {
        var command = try #require(helpDump["command"] as? [String: Any])
        for word in words {
            let subcommands = (command["subcommands"] as? [[String: Any]]) ?? []
            command = try #require(subcommands.first { $0["commandName"] as? String == word }, "\(words)")
        }
        let arguments = (command["arguments"] as? [[String: Any]]) ?? []
        var tails: [[String]] = [[], ["--json"]]
        for argument in arguments {
            let names = (argument["names"] as? [[String: Any]]) ?? []
            let spellings = names.compactMap { name -> (String, Bool)? in
                guard let kind = name["kind"] as? String, let text = name["name"] as? String else { return nil }
                return (kind == "long" ? "--" + text : "-" + text, kind == "long")
            }
            guard globals || !spellings.contains(where: { GlobalOptionPlacement.valued.contains($0.0) || GlobalOptionPlacement.flags.contains($0.0) })
            else { continue }
            let values = ((argument["allValues"] as? [String]).map { Array($0.prefix(1)) } ?? ["1"]) + ["bogus"]
            for (spelled, long) in spellings where spelled != "--help" && spelled != "-h" {
                tails.append([spelled])
                if argument["kind"] as? String == "option" {
                    for value in values {
                        tails.append([spelled, value])
                        if long { tails.append([spelled + "=" + value]) }
                    }
                }
            }
        }
        let positionals = [[], ["X-1"], ["1", "2"]]
        return positionals.flatMap { given in tails.map { words + given + $0 } }
    }

    @Test("every leaf's options in every spelling give the same command as the full parser, or go to it")
    func everyOptionSameAsFullParser() throws {
        let leaves = Self.commands().filter { $0.type.configuration.subcommands.isEmpty && !$0.words.isEmpty }
        // The whole tree as the parser describes it (`gmp --experimental-dump-help`).
        let helpDump = try #require(try JSONSerialization.jsonObject(with: Data(GMP._dumpHelp().utf8)) as? [String: Any])
        var routed = 0
        var lines = 0
        for (index, leaf) in leaves.enumerated() {
            for line in try Self.lines(for: leaf.words, in: helpDump, globals: index % 10 == 0) {
                lines += 1
                guard let fast = LeafRoute.parse(line) else { continue }
                routed += 1
                let full: ParsableCommand
                do {
                    full = try GMP.parseAsRoot(line)
                } catch {
                    Issue.record("\(line): the leaf route accepted what the full parser refuses: \(GMP.message(for: error))")
                    continue
                }
                #expect(type(of: fast) == type(of: full), "\(line)")
                #expect(Self.dumped(fast) == Self.dumped(full), "\(line)")
            }
        }
        #expect(routed > 500 && lines > routed, "\(routed) of \(lines) lines routed")
    }

    @Test("the lines the benchmarks time take the leaf route, with their values")
    func benchmarkedLines() throws {
        let status = try #require(LeafRoute.parse(["db", "status", "--json"]) as? DbStatus)
        #expect(status.options.json)
        let global = try #require(LeafRoute.parse(GlobalOptionPlacement.reorder(["-U", "qa1", "--json", "db", "status"])) as? DbStatus)
        #expect(global.options.user == "qa1" && global.options.json)
    }

    @Test("help, version, completions, default subcommands and bad lines go to the full parser",
          arguments: [
              ["db", "status", "--help"], ["db", "status", "-h"], ["help", "db", "status"], ["db", "--version"],
              ["db", "status", "--version"], ["--generate-completion-script", "bash"],
              ["db", "status", "--generate-completion-script=bash"], ["---completion", "db", "--", "st"],
              ["db", "status", "--experimental-dump-help"], ["db"], ["db", "nonsense"], [],
              ["batch-record", "LOT-1"], ["db", "status", "--color", "sometimes"], ["db", "status", "extra"],
              ["db", "--json", "status"],
          ])
    func fullParserLines(_ line: [String]) {
        #expect(LeafRoute.parse(line) == nil, "\(line)")
    }

    /// The lines above never reach the leaf route, so it need not answer them: a leaf
    /// parsed as the parser's root looked for a completion-script request and built its
    /// help names on every run (most of the parser's cost; start-up, issue 18).
    @Test("a routed leaf is parsed without the parser's checks for completion scripts and help")
    func noBuiltInChecks() throws {
        for line in [["--generate-completion-script", "bash"], ["--help"], ["-h"]] {
            do {
                let parsed = try Leaf<DbStatus>.parse(line)
                Issue.record("\(line) parsed as \(parsed)")
            } catch {
                // Refused as an unknown option: neither a script nor help was produced.
                #expect(Leaf<DbStatus>.exitCode(for: error) == .validationFailure, "\(line)")
                #expect(Leaf<DbStatus>.message(for: error).contains("Unknown option"), "\(line)")
            }
        }
        let parsed = try Leaf<DbStatus>.parse(["--json", "-U", "qa1"]).command
        #expect(parsed.options.json && parsed.options.user == "qa1")
    }

    /// `CommandPath` reads the root's subcommands from `GMP.subcommandTypes`, so that
    /// finding a leaf does not build the root's help text; they must stay the tree's.
    @Test("the root's subcommands the leaf route walks are those the full parser knows, aliases too")
    func rootSubcommands() throws {
        #expect(CommandPath.subcommands(of: GMP.self).map(ObjectIdentifier.init)
            == GMP.configuration.subcommands.map(ObjectIdentifier.init))
        let alias = try #require(LeafRoute.parse(["batch", "show", "G1234260000014", "--json"]))
        #expect(Self.dumped(alias) == Self.dumped(try GMP.parseAsRoot(["batch", "show", "G1234260000014", "--json"])))
        #expect(CommandPath(["trace", "material", "X"]).words == ["trace", "material"])
    }

    @Test("gmp --version prints what the parser would print")
    func versionShortcut() {
        do {
            _ = try GMP.parseAsRoot(["--version"])
            Issue.record("the parser did not ask for the version")
        } catch {
            #expect(GMP.fullMessage(for: error) == GMP.version)
        }
    }
}
