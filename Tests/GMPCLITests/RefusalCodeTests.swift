import Foundation
import Testing
@testable import GMPCLI
import GMPDatabase
import PostgresClient

@Suite("Refusal SQLSTATEs: one per kind, documented, and the only codes the rules raise")
struct RefusalCodeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("docs/errors.md lists every code with its condition, exit code and meaning, and nothing else")
    func documented() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docs/errors.md"), encoding: .utf8)
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("| GM") }.map { line in
            line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let expected = RefusalCode.allCases.map { code in
            [code.rawValue, code.name,
             String(Failure(PostgresError(sqlState: code.rawValue, message: "m"), target: nil).exitCode.rawValue),
             code.meaning]
        }
        #expect(rows == expected)
    }

    @Test("every ERRCODE in sql/code/ is a documented gmp code or PostgreSQL's own; none is the catch-all P0001")
    func onlyKnownCodes() throws {
        let folder = Self.root.appendingPathComponent("sql/code")
        var used: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".sql") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: #/ERRCODE = '([0-9A-Za-z_]+)'/#) { used.insert(String(match.1)) }
        }
        let gmp = Set(RefusalCode.allCases.map(\.rawValue))
        let postgres: Set<String> = ["insufficient_privilege", "invalid_parameter_value", "unique_violation",
                                     "serialization_failure", "22007"]
        #expect(used.subtracting(gmp).subtracting(postgres).isEmpty, "\(used.subtracting(gmp).subtracting(postgres))")
        #expect(!used.contains("P0001") && !used.contains("P0002"))
        #expect(gmp.isSubset(of: used), "a documented code no rule raises: \(gmp.subtracting(used))")
    }
}
