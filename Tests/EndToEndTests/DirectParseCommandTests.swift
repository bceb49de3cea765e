import Testing
import TestSupport

/// The commands that read their routed lines themselves (`DirectlyParsed`, start-up, issue
/// 18), through the built binary: a line read by the table and the same command spelled in
/// a form the table leaves to the parser (`-d=…`, grouped `-qq`) give the same output and
/// exit code; usage errors are still the parser's.
@Suite("routed lines read without the argument parser, through the binary (issue 18)")
struct DirectParseCommandTests {
    /// Pairs of lines meaning the same command: the first read by the table, the second by
    /// the parser (a single-dash option with `=`, a grouped short flag).
    private static func pairs(_ database: String) -> [([String], [String])] {
        let lot = "G1234260000014"
        return [
            (["lot", "show", lot, "--json", "--database", database], ["lot", "show", lot, "--json", "-d=" + database]),
            (["lot", "show", "--database=" + database, "--json", "--json", "--", lot], ["lot", "show", "-d=" + database, "--json", lot]),
            (["release", "check", lot, "-q", "--database", database], ["release", "check", lot, "-qq", "-d=" + database]),
            (["trace", "lot", lot, "--csv", "--bom", "-d", database], ["trace", "lot", lot, "--csv", "--bom", "-d=" + database]),
            (["--json", "trace", "material", "MAT26-00001", "-d", database], ["trace", "material", "MAT26-00001", "--json", "-d=" + database]),
            (["trace", "material", "MAT26-00001", "--color", "never", "-d", database],
             ["trace", "material", "MAT26-00001", "--color", "never", "-d=" + database]),
            (["audit", "verify", "--no-reconcile", "-q", "-d", database], ["audit", "verify", "--no-reconcile", "-qq", "-d=" + database]),
        ]
    }

    @Test("a line read by the table and one read by the parser give the same output and exit code")
    func sameAsParser() throws {
        try TestServer.withMigratedDatabase { database in
            for (direct, parsed) in Self.pairs(database) {
                let one = try GMPBinary.run(direct)
                let other = try GMPBinary.run(parsed)
                #expect(one.status == other.status, "\(direct): \(one)\n\(parsed): \(other)")
                #expect(one.stdout == other.stdout, "\(direct): \(one)\n\(parsed): \(other)")
                #expect(one.stderr == other.stderr, "\(direct): \(one)\n\(parsed): \(other)")
            }
            // db status and audit verify: the same document but for what the server reports
            // of itself at the time (backends, timings): compare what the line chose.
            let status = try GMPBinary.run(["db", "status", "--json", "--database", database])
            let statusParsed = try GMPBinary.run(["db", "status", "--json", "-d=" + database])
            #expect(status.status == 0 && statusParsed.status == 0, "\(status)\n\(statusParsed)")
            #expect(try (status.json()["schema"] as? [String: Any])?["version"] as? Int
                == (statusParsed.json()["schema"] as? [String: Any])?["version"] as? Int)
            let verify = try GMPBinary.run(["audit", "verify", "--json", "--database", database])
            #expect(verify.status == 0, "\(verify)")
            #expect(try verify.json()["intact"] as? Bool == true)
        }
    }

    @Test("lines the table leaves to the parser are answered by it: usage errors, help",
          arguments: [
              (["db", "status", "--color", "purple"], ["purple"]),
              (["lot", "show"], ["Missing expected argument"]),
              (["lot", "show", "A", "B"], ["Unexpected argument 'B'"]),
              (["trace", "lot", "G1234260000014", "--bom"], ["--bom goes with --csv"]),
              (["trace", "material", "MAT26-00001", "--csv", "--json"], ["choose one of --csv and --json"]),
              (["audit", "verify", "--checkpoint", "a.json"], ["--checkpoint needs --public-key"]),
              (["release", "check", "G1234260000014", "--config"], ["--config"]),
          ])
    func parserErrors(_ line: [String], _ words: [String]) throws {
        expectOneLineError(try GMPBinary.run(line), exit: 64, mentioning: words)
    }

    @Test("help is the parser's")
    func help() throws {
        let run = try GMPBinary.run(["trace", "lot", "--json", "-h"])
        #expect(run.status == 0 && run.stdout.contains("USAGE: gmp trace lot"), "\(run)")
    }
}
