#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing

/// GMPRules depends on PostgresClient for value types only (ExactDecimal, Timestamp, the
/// binary COPY row the chain verifier reads). The compiler cannot hold it to that, so
/// this does: no source of GMPRules names a type of PostgresClient's connection, query,
/// result or error parts. Those names are read from PostgresClient's own sources, so a
/// type added there is covered without touching this test.
@Suite("GMPRules does no database I/O")
struct LayerTests {
    /// PostgresClient's folders that talk to a server (Values and CopyBinary do not).
    static let ioFolders = ["Connection", "Query", "Result", "Errors"]

    @Test("no GMPRules source names a PostgresClient connection, query, result or error type")
    func noDatabaseTypes() throws {
        var ioTypes: Set<String> = []
        for folder in Self.ioFolders {
            for file in try Self.swiftFiles(in: "Sources/PostgresClient/" + folder) {
                ioTypes.formUnion(Self.publicTypeNames(in: try Self.code(of: file)))
            }
        }
        // The list is read, not assumed: the names the rule is about must be in it.
        #expect(ioTypes.isSuperset(of: ["PostgresConnection", "SQLQuery", "PostgresRow", "QueryResult", "CopyWriter"]))
        let files = try Self.swiftFiles(in: "Sources/GMPRules")
        #expect(files.count > 50)
        for file in files {
            let used = Self.identifiers(in: try Self.code(of: file)).intersection(ioTypes)
            #expect(used.isEmpty, "\(file) uses \(used.sorted().joined(separator: ", "))")
        }
    }

    /// The Swift files under `folder` (relative to the repository), as absolute paths.
    static func swiftFiles(in folder: String) throws -> [String] {
        let root = RepositoryFiles.path(folder)
        return try FileManager.default.subpathsOfDirectory(atPath: root)
            .filter { $0.hasSuffix(".swift") }.sorted().map { root + "/" + $0 }
    }

    /// The file's text without `//` comments, so that prose may name what code may not use.
    static func code(of file: String) throws -> String {
        let data = try #require(FileManager.default.contents(atPath: file))
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.firstRange(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line) }
            .joined(separator: "\n")
    }

    /// Names declared `public struct|class|enum|protocol|typealias|actor Name` at the start of a line.
    static func publicTypeNames(in code: String) -> Set<String> {
        let kinds: Set<Substring> = ["struct", "class", "enum", "protocol", "typealias", "actor"]
        var names: Set<String> = []
        for line in code.split(separator: "\n") where line.hasPrefix("public ") {
            let words = line.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") })
            if let kind = words.firstIndex(where: kinds.contains), kind + 1 < words.count {
                names.insert(String(words[kind + 1]))
            }
        }
        return names
    }

    /// Every identifier-like word in `code`.
    static func identifiers(in code: String) -> Set<String> {
        Set(code.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init))
    }
}
