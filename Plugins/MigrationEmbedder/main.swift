// Writes sql/migrations/V####__name.sql and sql/code/NN_name.sql into a Swift source as
// exact string literals, each with the SHA-256 of its bytes (SHA256.swift), so that no
// command hashes them at run time.
// Usage: MigrationEmbedder OUTPUT.swift --migrations FILE.sql… --code FILE.sql…
//
// Refuses (and so fails the build) on a badly named file, a gap or a duplicate in the
// numbering, a file that is not UTF-8, a routine defined in two homes, a routine defined
// by a numbered migration written after routines got homes, or a routine of the numbered
// migrations that has no home: such a tree must never produce a binary.
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

func read(_ path: String) -> (name: String, text: String) {
    let fileName = URL(fileURLWithPath: path).lastPathComponent
    guard let data = FileManager.default.contents(atPath: path),
          let text = String(data: data, encoding: .utf8) else {
        fail("\(fileName): not readable as UTF-8")
    }
    return (fileName, text)
}

/// The last numbered migration written before routines had one home each in sql/code/.
/// Those files stay as applied (their checksums are in every database); from the next
/// version on, a numbered migration changes tables and data only.
let lastMigrationDefiningRoutines = 18

var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 1 else { fail("usage: MigrationEmbedder OUTPUT --migrations FILE… --code FILE…") }
let outputPath = arguments.removeFirst()
let codeAt = arguments.firstIndex(of: "--code") ?? arguments.endIndex
guard arguments.first == "--migrations" else { fail("usage: MigrationEmbedder OUTPUT --migrations FILE… --code FILE…") }
let migrationPaths = arguments[1..<codeAt]
let codePaths = codeAt < arguments.endIndex ? arguments[(codeAt + 1)...] : []

// Numbered migrations.
var migrationEntries: [String] = []
/// Routines the early migrations left defined (each needs a home), and where.
var routinesOfMigrations: [RoutineReference: String] = [:]
var expected = 1
for path in migrationPaths {
    let (fileName, text) = read(path)
    // V0001__create_ledger.sql: V, four digits, two underscores, a snake_case name.
    let pattern = #/^V(\d{4})__([a-z0-9_]+)\.sql$/#
    guard let match = fileName.wholeMatch(of: pattern), let version = Int(match.1) else {
        fail("\(fileName): migration files are named V0001__snake_case_name.sql")
    }
    guard version == expected else {
        fail("\(fileName): expected version \(expected); migrations are numbered 1, 2, 3 … without gaps or duplicates")
    }
    for statement in splitStatements(text) {
        switch routineStatement(statement) {
        case .defines(let routine)?:
            guard version <= lastMigrationDefiningRoutines else {
                fail("\(fileName):\(statement.line): defines \(routine.kind.rawValue) \(routine.identity); "
                     + "a numbered migration changes tables and data only: define routines in their home under sql/code/ (docs/migrations.md)")
            }
            routinesOfMigrations[routine] = "\(fileName):\(statement.line)"
        case .drops(let routine)?:
            routinesOfMigrations[routine] = nil
        case .moves(let routine, let renamed)?:
            routinesOfMigrations[renamed] = routinesOfMigrations.removeValue(forKey: routine)
        case nil:
            break
        }
    }
    migrationEntries.append("    EmbeddedMigration(version: \(version), name: \(literal(String(match.2))), "
                            + "checksum: \(literal(sha256Hex(Array(text.utf8)))), sql: \(literal(text))),")
    expected += 1
}

// Code files: the one home of each routine's current definition.
var codeEntries: [String] = []
var homes: [RoutineReference: String] = [:]
var previousOrder = 0
for path in codePaths {
    let (fileName, text) = read(path)
    // 01_audit.sql: two digits giving the order they are applied in, a snake_case name.
    let pattern = #/^(\d{2})_([a-z0-9_]+)\.sql$/#
    guard let match = fileName.wholeMatch(of: pattern), let order = Int(match.1) else {
        fail("\(fileName): code files are named NN_snake_case_name.sql (NN: the order they are applied in)")
    }
    guard order > previousOrder else {
        fail("\(fileName): two code files have order \(order); each NN is used once")
    }
    previousOrder = order
    var routines: [String] = []
    for statement in splitStatements(text) {
        switch routineStatement(statement) {
        case .defines(let routine)?:
            if let home = homes[routine] {
                fail("\(fileName):\(statement.line): \(routine.kind.rawValue) \(routine.identity) is already defined at \(home); "
                     + "a routine has one home: keep one definition")
            }
            homes[routine] = "\(fileName):\(statement.line)"
            routines.append("EmbeddedRoutine(identity: \(literal(routine.identity)), kind: \(literal(routine.kind.rawValue)), line: \(statement.line))")
        case .drops(let routine)?:
            fail("\(fileName):\(statement.line): drops \(routine.identity); a routine is dropped by a numbered migration, and its home removed")
        case .moves(let routine, _)?:
            fail("\(fileName):\(statement.line): renames or moves \(routine.identity); that is a numbered migration's work, with the home updated")
        case nil:
            break
        }
    }
    codeEntries.append("""
            EmbeddedCodeFile(order: \(order), name: \(literal(String(match.2))), checksum: \(literal(sha256Hex(Array(text.utf8)))),
                         sql: \(literal(text)), routines: [
                    \(routines.joined(separator: ",\n            "))
                ]),
        """)
}

let homeless = routinesOfMigrations.filter { homes[$0.key] == nil }.sorted { $0.value < $1.value }
if let (routine, place) = homeless.first {
    fail("\(routine.kind.rawValue) \(routine.identity), defined at \(place), has no home under sql/code/; "
         + "every routine in force has exactly one (\(homeless.count) missing)")
}

let source = """
// Generated at build time by the EmbedMigrations plugin from sql/. Do not edit.

/// The migrations this binary was built with, in version order.
let embeddedMigrations: [EmbeddedMigration] = [
\(migrationEntries.joined(separator: "\n"))
]

/// The code files (sql/code/) this binary was built with, in the order they apply.
let embeddedCodeFiles: [EmbeddedCodeFile] = [
\(codeEntries.joined(separator: "\n"))
]

"""
do {
    try source.write(toFile: outputPath, atomically: true, encoding: .utf8)
} catch {
    fail("cannot write \(outputPath): \(error)")
}
