import Foundation
import Testing
import TestSupport

/// `gmp audit verify` checking the tables against the trail (issue 20, item 12), through
/// the built binary: exit codes, the one-line error, --json, --no-reconcile, and a
/// checkpoint refused while the tables differ.
@Suite("audit verify reconciles the tables, end to end")
struct ReconciliationCommandTests {
    static func gmp(_ database: String, as person: TestAccount, _ arguments: [String]) throws -> GMPRun {
        try AccountAndAuditCommandTests.gmp(database, as: person, arguments)
    }

    @Test("a row changed with its triggers off: exit 65 naming table, key and field; --json names both values; the chain alone still verifies")
    func silentChange() throws {
        try TestServer.withMigratedDatabase { database in
            let qa = try TestAccount.create(in: database, roles: ["qa"])
            let analyst = try TestAccount.create(in: database, roles: ["qc"], fullName: "Casey Analyst")
            let clean = try Self.gmp(database, as: qa, ["audit", "verify", "--json"])
            #expect(clean.status == 0, "\(clean)")
            let document = try clean.json()
            let reconciliation = try #require(document["reconciliation"] as? [String: Any])
            #expect(reconciliation["consistent"] as? Bool == true)
            #expect((reconciliation["rows_checked"] as? Int ?? 0) > 0 && (reconciliation["tables"] as? Int ?? 0) > 10)
            #expect((reconciliation["findings"] as? [Any])?.isEmpty == true)
            let text = try Self.gmp(database, as: qa, ["audit", "verify"])
            #expect(text.status == 0 && text.stdout.contains("tables agree with the audit trail:"), "\(text)")

            // A checkpoint (format v2 or v3) signs the record tables as the trail replays them too.
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-e2e-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            #expect(try AccountAndAuditCommandTests.gmp(database, ["audit", "keygen", "--out", "\(directory)/qa.key"]).status == 0)
            let checkpoint = try Self.gmp(database, as: qa, ["audit", "checkpoint", "--key", "\(directory)/qa.key",
                                                             "--out", "\(directory)/one.checkpoint", "--json"])
            #expect(checkpoint.status == 0, "\(checkpoint)")
            #expect((try checkpoint.json()["rows"] as? Int ?? 0) > 0)
            let file = try String(contentsOfFile: "\(directory)/one.checkpoint", encoding: .utf8)
            // v3 where the person may read the cluster's identity (pg_control_system), v2 otherwise.
            #expect((file.hasPrefix("gmp-audit-checkpoint-v2\n") || file.hasPrefix("gmp-audit-checkpoint-v3\n"))
                    && file.contains("\ntables: "), "\(file)")
            let withCheckpoint = ["audit", "verify", "--checkpoint", "\(directory)/one.checkpoint",
                                  "--public-key", "\(directory)/qa.key.pub"]
            #expect(try Self.gmp(database, as: qa, withCheckpoint).status == 0)

            // The printed name that signatures carry, changed by the owner with the triggers off.
            try Tampering.silently(database, tables: ["gmp.account"],
                                   "UPDATE gmp.account SET full_name = 'Somebody Else' WHERE id = '\(analyst.id)'")
            expectOneLineError(try Self.gmp(database, as: qa, ["audit", "verify"]), exit: 65,
                               mentioning: ["1 difference", "gmp.account id=\(analyst.id)", "full_name"])
            let json = try Self.gmp(database, as: qa, ["audit", "verify", "--json"])
            #expect(json.status == 65)
            let found = try json.json()
            #expect(found["intact"] as? Bool == false)
            let findings = try #require((found["reconciliation"] as? [String: Any])?["findings"] as? [[String: Any]])
            #expect(findings.count == 1)
            #expect(findings.first?["problem"] as? String == "row_differs")
            #expect(findings.first?["table"] as? String == "gmp.account")
            #expect(findings.first?["key"] as? String == "id=\(analyst.id)")
            let fields = findings.first?["fields"] as? [[String: String]]
            #expect(fields == [["name": "full_name", "trail": "\"Casey Analyst\"", "table": "\"Somebody Else\""]])

            let chainOnly = try Self.gmp(database, as: qa, ["audit", "verify", "--no-reconcile", "--json"])
            #expect(chainOnly.status == 0, "\(chainOnly)")
            #expect(try chainOnly.json()["reconciliation"] is NSNull)
            // The checkpoint taken before the change still matches the trail; the tables do not.
            expectOneLineError(try Self.gmp(database, as: qa, withCheckpoint), exit: 65, mentioning: ["gmp.account"])

            expectOneLineError(try Self.gmp(database, as: qa, ["audit", "checkpoint", "--key", "\(directory)/qa.key",
                                                               "--out", "\(directory)/two.checkpoint"]),
                               exit: 65, mentioning: ["tables differ"])
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/two.checkpoint"))
        }
    }

    /// Issue 18: a v3 checkpoint (for one who may read the cluster's identity) and verify
    /// reconciling from it; --full, a forged checkpoint, and a change made since.
    @Test("checkpoint v3 and verify from it: only the changes read, a silent change still exit 65, --full, a forged file refused")
    func incrementalFromCheckpoint() throws {
        try TestServer.withMigratedDatabase { database in
            let qa = try TestAccount.create(in: database, roles: ["qa"])
            let analyst = try TestAccount.create(in: database, roles: ["qc"], fullName: "Casey Analyst")
            try Tampering.asSuperuser(database, "GRANT EXECUTE ON FUNCTION pg_catalog.pg_control_system() TO gmp_qa")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-e2e-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            #expect(try AccountAndAuditCommandTests.gmp(database, ["audit", "keygen", "--out", "\(directory)/qa.key"]).status == 0)
            let checkpoint = try Self.gmp(database, as: qa, ["audit", "checkpoint", "--key", "\(directory)/qa.key",
                                                             "--out", "\(directory)/three.checkpoint", "--json"])
            #expect(checkpoint.status == 0, "\(checkpoint)")
            let seq = try checkpoint.json()["seq"] as? Int
            let file = try String(contentsOfFile: "\(directory)/three.checkpoint", encoding: .utf8)
            #expect(file.hasPrefix("gmp-audit-checkpoint-v3\n") && file.contains("\nxmin: "), "\(file)")
            let withCheckpoint = ["audit", "verify", "--checkpoint", "\(directory)/three.checkpoint",
                                  "--public-key", "\(directory)/qa.key.pub", "--json"]
            let clean = try Self.gmp(database, as: qa, withCheckpoint)
            #expect(clean.status == 0, "\(clean)")
            let reconciliation = try #require(try clean.json()["reconciliation"] as? [String: Any])
            #expect(reconciliation["incremental_from"] as? Int == seq && reconciliation["full_because"] is NSNull)

            try Tampering.silently(database, tables: ["gmp.account"],
                                   "UPDATE gmp.account SET full_name = 'Somebody Else' WHERE id = '\(analyst.id)'")
            expectOneLineError(try Self.gmp(database, as: qa, Array(withCheckpoint.dropLast())), exit: 65,
                               mentioning: ["gmp.account id=\(analyst.id)", "full_name"])
            let full = try Self.gmp(database, as: qa, withCheckpoint + ["--full"])
            #expect(full.status == 65)
            #expect((try full.json()["reconciliation"] as? [String: Any])?["incremental_from"] is NSNull)

            // The xmin moved on in the file: its signature no longer holds.
            let forged = file.replacingOccurrences(of: "\nxmin: ", with: "\nxmin: 1")
            try forged.write(toFile: "\(directory)/forged.checkpoint", atomically: true, encoding: .utf8)
            let refused = try Self.gmp(database, as: qa, ["audit", "verify", "--checkpoint", "\(directory)/forged.checkpoint",
                                                          "--public-key", "\(directory)/qa.key.pub"])
            #expect(refused.status != 0 && refused.stderr.contains("signature"), "\(refused)")
        }
    }

    /// Issue 18: the merges run with `jit` off (compiling their ~80 branches cost more than
    /// the work). A trail that refuses to be read for a merge with `jit` on still verifies.
    @Test("audit verify reconciles with jit off: a trail that refuses merges under JIT still reconciles, consistent")
    func mergesWithoutJIT() throws {
        try TestServer.withMigratedDatabase { database in
            let qa = try TestAccount.create(in: database, roles: ["qa"])
            try Tampering.refuseJITInMerges(database)
            let run = try Self.gmp(database, as: qa, ["audit", "verify", "--json"])
            #expect(!run.stderr.contains("jit on") && !run.stdout.contains("jit on"), "\(run)")
            let reconciliation = try #require(try run.json()["reconciliation"] as? [String: Any], "\(run)")
            #expect(reconciliation["consistent"] as? Bool == true, "\(run)")
            #expect((reconciliation["rows_checked"] as? Int ?? 0) > 0)
        }
    }
}
