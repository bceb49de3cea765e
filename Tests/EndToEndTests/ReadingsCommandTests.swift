import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp storage readings import` and `gmp excursion list|assess` as people run them:
/// the built binary, its one-line errors with line numbers, --json and exit codes. The
/// rules themselves are tried in SQL by ReadingsAndExcursionsTests.
@Suite("storage readings and excursion commands, end to end")
struct ReadingsCommandTests {
    typealias Site = DonorLotCommandTests.Site

    /// A site with tank LN2-E2E (limit -150 °C) and a directory for readings files.
    static func withTank(_ body: (Site, String) throws -> Void) throws {
        try DonorLotCommandTests.withSite { site in
            let op = try site.operatorAccount.connect()
            try op.execute("SELECT gmp.add_location('SITE-E2E', 'site', NULL, 'Site', NULL, NULL, NULL, NULL)")
            try op.execute("SELECT gmp.add_location('LN2-E2E', 'tank', 'SITE-E2E', 'Tank', -150, '{cells}', NULL, NULL)")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-readings-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try body(site, directory)
        }
    }

    static func write(_ lines: [String], to path: String) throws {
        try (["device,read_at,celsius"] + lines).map { $0 + "\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func readings(_ site: Site) throws -> Int64 {
        try TestServer.connect(site.database).query("SELECT count(*) AS n FROM gmp.temperature_reading")[0].decode("n")
    }

    @Test("a malformed file is refused whole: exit 65, one line naming the bad lines, nothing loaded; --json lists them")
    func malformedFile() throws {
        try Self.withTank { site, directory in
            let path = directory + "/bad.csv"
            try Self.write(["LN2-E2E,2026-12-01T10:00:00Z,-182.4", "LN2-E2E,2026-12-01T10:01:00Z,−182,4",
                            "LN2-E2E,2026-12-01T10:02:00Z,NaN", "LN2-E2E,2026-12-01 10:03,-190",
                            "LN2-XX,2026-12-01T10:04:00Z,-190", "LN2-E2E,2026-12-01T10:00:00Z,-190"], to: path)
            let run = try site.expectRefused(exit: 65, mentioning: ["nothing loaded", "line 3", "line 4", "line 5",
                                                                      "line 6", "line 7", "decimal comma"]) {
                try site.gmp(site.operatorAccount, ["storage", "readings", "import", path])
            }
            #expect(run.stdout.isEmpty)
            let json = try site.expectRefused(exit: 65) {
                try site.gmp(site.operatorAccount, ["storage", "readings", "import", path, "--json"])
            }
            let problems = try #require(try json.json()["problems"] as? [[String: Any]])
            #expect(problems.map { $0["line"] as? Int } == [3, 4, 5, 6, 7])
            #expect(problems.map { $0["kind"] as? String } == ["decimalComma", "celsius", "time", "unknownDevice", "duplicate"])
            #expect(problems.allSatisfy { ($0["fix"] as? String)?.isEmpty == false })
            #expect(try Self.readings(site) == 0)
        }
    }

    @Test("a good file loads: --json names the import, its span and the excursion it opened; an overlapping load is refused, the next one loads")
    func goodFile() throws {
        try Self.withTank { site, directory in
            let path = directory + "/good.csv"
            try Self.write(["LN2-E2E,2026-12-01T10:00:00Z,-182.4", "LN2-E2E,2026-12-01T11:01:00+01:00,-121",
                            "LN2-E2E,2026-12-01T10:02:00Z,-190"], to: path)
            let run = try site.expectSuccess { try site.gmp(site.operatorAccount, ["storage", "readings", "import", path, "--json"]) }
            let documents = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
            let imported = try #require(documents.first)
            #expect(documents.count == 1)
            #expect(imported["device"] as? String == "LN2-E2E" && imported["rows"] as? Int == 3)
            #expect(imported["first_at"] as? String == "2026-12-01T10:00:00.000000Z")
            #expect(imported["last_at"] as? String == "2026-12-01T10:02:00.000000Z")
            #expect((imported["file_sha256"] as? String)?.count == 64)
            let opened = try #require(imported["excursions_opened"] as? [String])
            #expect(opened.count == 1 && opened[0].hasPrefix("EXC"))
            #expect(run.stderr.isEmpty, "no progress off a terminal: \(run.stderr)")
            // The same file again overlaps the import it made: refused whole, naming it.
            try site.expectRefused(exit: 65, mentioning: ["overlap readings import",
                                                          "import only the readings after 2026-12-01 10:02:00+00"]) {
                try site.gmp(site.operatorAccount, ["storage", "readings", "import", path])
            }
            #expect(try Self.readings(site) == 3)
            // The device's next file, from the minute after, loads.
            let next = directory + "/next.csv"
            try Self.write(["LN2-E2E,2026-12-01T10:03:00Z,-190"], to: next)
            try site.expectSuccess { try site.gmp(site.operatorAccount, ["storage", "readings", "import", next]) }
            #expect(try Self.readings(site) == 4)
            let text = try site.expectSuccess { try site.gmp(site.qa, ["excursion", "list", "--open"]) }
            #expect(text.stdout.split(separator: "\n").contains { $0.contains(opened[0]) && $0.contains("-121.00") && $0.contains("-150.00") },
                    "the excursion's row with its peak and limit: \(text)")
        }
    }

    @Test("who may: QA does not import; only QA assesses, signed; --device and a missing file are refused")
    func permissions() throws {
        try Self.withTank { site, directory in
            let path = directory + "/log.csv"
            try Self.write(["LN2-E2E,2026-12-01T10:00:00Z,-120", "LN2-E2E,2026-12-01T10:01:00Z,-190"], to: path)
            try site.expectRefused(exit: 77, mentioning: ["permission denied"]) {
                try site.gmp(site.qa, ["storage", "readings", "import", path])
            }
            try site.expectRefused(exit: 65, mentioning: ["line 2", "--device"]) {
                try site.gmp(site.operatorAccount, ["storage", "readings", "import", path, "--device", "LN2-OTHER"])
            }
            try site.expectRefused(exit: 64, mentioning: ["cannot read"]) {
                try site.gmp(site.operatorAccount, ["storage", "readings", "import", directory + "/missing.csv"])
            }
            try site.expectSuccess { try site.gmp(site.qc, ["storage", "readings", "import", path, "--device", "LN2-E2E"]) }
            let list = try site.expectSuccess { try site.gmp(site.operatorAccount, ["excursion", "list", "--json"]) }
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            let id = try #require(rows.first?["id"] as? String)
            #expect(rows.first?["status"] as? String == "open" && rows.first?["ended_at"] as? String == "2026-12-01T10:01:00.000000Z")
            try site.expectRefused(exit: 77, mentioning: ["may not assess excursions"]) {
                try site.signed(site.operatorAccount, ["excursion", "assess", id, "--assessment", "no impact"])
            }
            let signed = try site.expectSuccess {
                try site.signed(site.qa, ["excursion", "assess", id, "--assessment", "1 min at -120 °C: no impact", "--json"])
            }
            #expect(try signed.json()["meaning"] as? String == "approved" && signed.json()["record"] as? String == id)
            try site.expectRefused(exit: 65, mentioning: ["was assessed by"]) {
                try site.signed(site.qa, ["excursion", "assess", id, "--assessment", "again"])
            }
            let open = try site.expectSuccess { try site.gmp(site.qa, ["excursion", "list", "--open", "--json"]) }
            #expect(open.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]"
                    || open.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        }
    }

    @Test("a line later than the server's clock allows is named like any bad line: exit 65, nothing loaded; --json kind future")
    func futureLine() throws {
        try Self.withTank { site, directory in
            let path = directory + "/2099.csv"
            try Self.write(["LN2-E2E,2026-12-01T10:00:00Z,-182.4", "LN2-E2E,2099-01-01T00:00:00Z,-182.5",
                            "LN2-E2E,2099-01-01T00:01:00Z,-182.5"], to: path)
            try site.expectRefused(exit: 65, mentioning: ["nothing loaded", "line 3", "line 4", "in the future"]) {
                try site.gmp(site.operatorAccount, ["storage", "readings", "import", path])
            }
            let json = try site.expectRefused(exit: 65) {
                try site.gmp(site.operatorAccount, ["storage", "readings", "import", path, "--json"])
            }
            let problems = try #require(try json.json()["problems"] as? [[String: Any]])
            #expect(problems.map { $0["line"] as? Int } == [3, 4])
            #expect(problems.map { $0["kind"] as? String } == ["future", "future"])
            #expect((problems.first?["problem"] as? String)?.contains("2099-01-01T00:00:00.000000Z") == true)
            #expect(try Self.readings(site) == 0)
        }
    }

    @Test("QA voids a wrongly imported log, signed: listed as voided with its reason, its excursion voided, the real log loads; operators may not")
    func voidImport() throws {
        try Self.withTank { site, directory in
            let wrong = directory + "/wrong.csv", real = directory + "/real.csv"
            try Self.write(["LN2-E2E,2026-12-03T10:00:00Z,-120", "LN2-E2E,2026-12-03T10:01:00Z,-121"], to: wrong)
            try Self.write(["LN2-E2E,2026-12-02T10:00:00Z,-190", "LN2-E2E,2026-12-02T10:01:00Z,-189"], to: real)
            let loaded = try site.expectSuccess {
                try site.gmp(site.operatorAccount, ["storage", "readings", "import", wrong, "--json"])
            }
            let documents = try #require(try JSONSerialization.jsonObject(with: Data(loaded.stdout.utf8)) as? [[String: Any]])
            let importID = try #require(documents.first?["import_id"] as? Int)
            let excursion = try #require((documents.first?["excursions_opened"] as? [String])?.first)
            try site.expectRefused(exit: 65, mentioning: ["come before readings import \(importID)",
                                                          "gmp storage readings void \(importID)"]) {
                try site.gmp(site.operatorAccount, ["storage", "readings", "import", real])
            }
            try site.expectRefused(exit: 77, mentioning: ["may not void readings imports"]) {
                try site.signed(site.operatorAccount, ["storage", "readings", "void", String(importID), "--reason", "wrong tank"])
            }
            let signed = try site.expectSuccess {
                try site.signed(site.qa, ["storage", "readings", "void", String(importID), "--reason",
                                          "the log of tank LN2-E3, exported under the wrong id", "--json"])
            }
            #expect(try signed.json()["meaning"] as? String == "approved" && signed.json()["record"] as? String == String(importID))
            let list = try site.expectSuccess { try site.gmp(site.operatorAccount, ["storage", "readings", "list", "--json"]) }
            let imports = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            let voided = try #require(imports.first?["voided"] as? [String: Any])
            #expect(voided["by"] as? String == site.qa.id)
            #expect(voided["reason"] as? String == "the log of tank LN2-E3, exported under the wrong id")
            let text = try site.expectSuccess { try site.gmp(site.qa, ["storage", "readings", "list", "--device", "LN2-E2E"]) }
            #expect(text.stdout.contains("VOIDED by \(site.qa.id)"), "\(text)")
            let excursions = try site.expectSuccess { try site.gmp(site.qa, ["excursion", "list", "--json"]) }
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(excursions.stdout.utf8)) as? [[String: Any]])
            #expect(rows.first { $0["id"] as? String == excursion }?["status"] as? String == "voided")
            try site.expectRefused(exit: 65, mentioning: ["was voided with readings import \(importID)"]) {
                try site.signed(site.qa, ["excursion", "assess", excursion, "--assessment", "no impact"])
            }
            try site.expectSuccess { try site.gmp(site.operatorAccount, ["storage", "readings", "import", real]) }
            #expect(try Self.readings(site) == 4)
            try site.expectRefused(exit: 65, mentioning: ["was voided by"]) {
                try site.signed(site.qa, ["storage", "readings", "void", String(importID), "--reason", "again"])
            }
            try site.expectRefused(exit: 65, mentioning: ["no readings import 999999"]) {
                try site.signed(site.qa, ["storage", "readings", "void", "999999", "--reason", "no such import"])
            }
        }
    }
}
