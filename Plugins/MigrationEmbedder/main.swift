// Writes sql/V####__name.sql files into a Swift source as exact string literals.
// Usage: MigrationEmbedder OUTPUT.swift FILE.sql…
// Refuses (and so fails the build) on a badly named file, a gap or a duplicate in the
// numbering, or a file that is not UTF-8: such a tree must never produce a binary.
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

/// A Swift string literal holding `text` exactly (every scalar escaped as needed).
func literal(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

let arguments = CommandLine.arguments.dropFirst()
guard let outputPath = arguments.first else { fail("usage: MigrationEmbedder OUTPUT FILE…") }

var entries: [String] = []
var expected = 1
for path in arguments.dropFirst() {
    let fileName = URL(fileURLWithPath: path).lastPathComponent
    // V0001__create_ledger.sql: V, four digits, two underscores, a snake_case name.
    let pattern = #/^V(\d{4})__([a-z0-9_]+)\.sql$/#
    guard let match = fileName.wholeMatch(of: pattern), let version = Int(match.1) else {
        fail("\(fileName): migration files are named V0001__snake_case_name.sql")
    }
    guard version == expected else {
        fail("\(fileName): expected version \(expected); migrations are numbered 1, 2, 3 … without gaps or duplicates")
    }
    guard let data = FileManager.default.contents(atPath: path),
          let text = String(data: data, encoding: .utf8) else {
        fail("\(fileName): not readable as UTF-8")
    }
    entries.append("    EmbeddedMigration(version: \(version), name: \(literal(String(match.2))), sql: \(literal(text))),")
    expected += 1
}

let source = """
// Generated at build time by the EmbedMigrations plugin from sql/*.sql. Do not edit.

/// The migrations this binary was built with, in version order.
let embeddedMigrations: [EmbeddedMigration] = [
\(entries.joined(separator: "\n"))
]

"""
do {
    try source.write(toFile: outputPath, atomically: true, encoding: .utf8)
} catch {
    fail("cannot write \(outputPath): \(error)")
}
