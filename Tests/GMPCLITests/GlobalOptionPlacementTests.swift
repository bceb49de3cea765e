import Testing
@testable import GMPCLI

@Suite("Global options may stand before the command")
struct GlobalOptionPlacementTests {
    @Test("leading global options move behind the command words", arguments: [
        (["--json", "db", "status"], ["db", "status", "--json"]),
        (["-d", "host=/x dbname=y", "doctor"], ["doctor", "-d", "host=/x dbname=y"]),
        (["--database=host=/x", "-vv", "--color", "never", "db", "migrate", "-q"],
         ["db", "migrate", "-q", "--database=host=/x", "-vv", "--color", "never"]),
        (["db", "status", "--json"], ["db", "status", "--json"]),
        (["--json"], ["--json"]),
        (["--help"], ["--help"]),
        (["--frobnicate", "db", "status"], ["--frobnicate", "db", "status"]),
        (["-d"], ["-d"]),
        // `--` ends the options: they go before it, not behind it as positionals.
        (["--json", "lot", "show", "--", "-LOT"], ["lot", "show", "--json", "--", "-LOT"]),
        (["-d", "x", "--json", "lot", "show", "A", "--", "--json"], ["lot", "show", "A", "-d", "x", "--json", "--", "--json"]),
    ])
    func reorder(input: [String], expected: [String]) {
        #expect(GlobalOptionPlacement.reorder(input) == expected)
    }
}
