import Foundation
import Testing
@testable import GMPDatabase

/// The docs name each rule's one home, and say true things about it.
@Suite("Docs: the routine index is generated from sql/code/, and every home a doc names defines what it claims")
struct RoutineDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// docs/routines.md as the shipped code files make it.
    static func renderedIndex() -> String {
        var lines = [
            "# Routines and their one home",
            "",
            "Generated from `sql/code/` (the test RoutineDocsTests fails when this page differs; to",
            "regenerate: `GMP_UPDATE_DOCS=1 scripts/test --filter RoutineDocsTests`). Each routine — function,",
            "trigger function or view — is defined in exactly one file; `gmp db code NAME` shows the",
            "definition in force in a database, now or at any past time. docs/migrations.md explains the layout.",
            "",
            "\(CodeFile.shipped.flatMap(\.routines).count) routines in \(CodeFile.shipped.count) files.",
        ]
        for file in CodeFile.shipped {
            // The file's opening paragraph, without its "-- audit: " lead.
            let paragraph = file.sql.split(separator: "\n", omittingEmptySubsequences: false)
                .prefix(while: { $0.hasPrefix("-- ") }).map { $0.dropFirst(3) }.joined(separator: " ")
            let summary = String(paragraph.dropFirst("\(file.name): ".count))
            lines += ["", "## \(file.fileName)", "", summary, ""]
            guard !file.routines.isEmpty else {
                lines.append("No routines: privileges only.")
                continue
            }
            lines += ["| routine | kind | line |", "|---|---|---|"]
            for routine in file.routines.sorted(by: { $0.identity < $1.identity }) {
                lines.append("| `\(routine.identity)` | \(routine.kind) | \(routine.line) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("docs/routines.md lists every routine under its one home, as generated")
    func index() throws {
        let url = Self.root.appendingPathComponent("docs/routines.md")
        let expected = Self.renderedIndex()
        if ProcessInfo.processInfo.environment["GMP_UPDATE_DOCS"] == "1" {
            try Data(expected.utf8).write(to: url)
        }
        let actual = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "docs/routines.md is stale: GMP_UPDATE_DOCS=1 scripts/test --filter RoutineDocsTests")
    }

    /// README.md and every page under docs/.
    static func pages() throws -> [(name: String, text: String)] {
        var urls = [root.appendingPathComponent("README.md")]
        let docs = root.appendingPathComponent("docs")
        if let walker = FileManager.default.enumerator(at: docs, includingPropertiesForKeys: nil) {
            for case let url as URL in walker where url.pathExtension == "md" { urls.append(url) }
        }
        return try urls.map { url in
            (String(url.path.dropFirst(root.path.count + 1)), try String(contentsOf: url, encoding: .utf8))
        }
    }

    @Test("every sql/ path a doc names exists; the old flat layout (sql/V0009) is named nowhere")
    func pathsExist() throws {
        let migrations = Migration.shipped.map(\.fileName)
        for (page, text) in try Self.pages() {
            for match in text.matches(of: #/sql/(code|migrations)/([A-Za-z0-9_*]+(\.sql)?)/#) {
                let folder = String(match.1), name = String(match.2)
                let files = folder == "code" ? CodeFile.shipped.map(\.fileName) : migrations
                // A file, a version (V0012), or a pattern (V*.sql).
                let exists = files.contains { file in
                    file == name || file.hasPrefix(name + "__")
                        || (name.contains("*") && file.hasPrefix(String(name.prefix(while: { $0 != "*" }))))
                }
                #expect(exists, "\(page) names sql/\(folder)/\(name), which does not exist")
            }
            #expect(text.firstMatch(of: #/sql/V\d{4}/#) == nil, "\(page) names the old flat layout sql/V…")
        }
    }

    @Test("a routine named beside a home (`gmp_rules.release_blockers` … sql/code/10_release.sql) lives there")
    func namedHomesAreTrue() throws {
        let homes = Dictionary(grouping: CodeFile.shipped.flatMap(\.routines)) { home in
            String(home.identity.prefix(while: { $0 != "(" }))
        }
        var checked = 0
        for (page, text) in try Self.pages() {
            for line in text.split(separator: "\n") {
                // Each `schema.name` with the first sql/code/ file named after it on the line.
                for match in line.matches(of: #/`(gmp[a-z_]*\.[a-z0-9_]+)[^`]*`[^`]*?sql/code/([0-9]{2}_[a-z_]+\.sql)/#) {
                    let name = String(match.1), file = String(match.2)
                    guard let places = homes[name] else { continue }  // a table or column, not a routine
                    checked += 1
                    #expect(places.contains { $0.fileName == file },
                            "\(page): \(name) is said to live in sql/code/\(file); its home is \(places.map(\.location))")
                }
            }
        }
        #expect(checked >= 8, "the docs name fewer homes than they did: \(checked)")
    }
}
