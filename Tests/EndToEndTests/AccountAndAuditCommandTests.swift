import Foundation
import Testing
import TestSupport

/// `gmp user …` and `gmp audit …` as people run them: the built binary, its stdout,
/// --json and exit codes.
@Suite("user and audit commands, end to end")
struct AccountAndAuditCommandTests {
    /// Runs gmp against `database` as `person` (their password in PGPASSWORD).
    static func gmp(_ database: String, as person: TestAccount? = nil, _ arguments: [String],
                    stdin: String? = nil, environment: [String: String] = [:]) throws -> GMPRun {
        guard let person else { return try GMPBinary.run(arguments + ["--database", database], environment: environment, stdin: stdin) }
        return try GMPBinary.run(arguments + ["--database", database, "--user", person.id],
                                 environment: environment.merging(["PGPASSWORD": person.password]) { $1 }, stdin: stdin)
    }

    @Test("user add, list, show and --json; ids are never reused; bad input is refused with the right exit code")
    func accounts() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestAccount.create(in: database, roles: ["admin"])
            let id = "p" + UUID().uuidString.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(8)
            let add = try Self.gmp(database, as: admin, ["user", "add", id, "--name", "Jordan Lee", "--role", "qc",
                                                         "--reason", "new analyst", "--json"])
            #expect(add.status == 0, "\(add)")
            #expect((try add.json()["temporary_password"] as? String)?.count == 20)
            let list = try Self.gmp(database, as: admin, ["user", "list"])
            #expect(list.stdout.contains(id) && list.stdout.contains("Jordan Lee"), "\(list)")
            let show = try Self.gmp(database, as: admin, ["user", "show", id, "--json"])
            #expect(try show.json()["roles"] as? [String] == [], "a proposal until a second administrator approves")
            #expect(try show.json()["pending_roles"] as? [String] == ["qc"])
            #expect(try show.json()["must_change_password"] as? Bool == true)
            #expect(try show.json()["password_set_by"] as? String == admin.id)

            expectOneLineError(try Self.gmp(database, as: admin, ["user", "add", id, "--name", "Someone Else"]),
                               exit: 65, mentioning: ["already used"])
            expectOneLineError(try Self.gmp(database, as: admin, ["user", "grant", id, "wizard", "--reason", "x"]), exit: 64)
            expectOneLineError(try Self.gmp(database, as: admin, ["user", "disable", id]), exit: 64, mentioning: ["--reason"])
            expectOneLineError(try Self.gmp(database, as: admin, ["user", "grant", admin.id, "qa", "--reason", "x"]),
                               exit: 77, mentioning: ["own account"])
            let disable = try Self.gmp(database, as: admin, ["user", "disable", id, "--reason", "left the company"])
            #expect(disable.status == 0 && disable.stdout == "\(id): disabled\n", "\(disable)")

            let qc = try TestAccount.create(in: database, roles: ["qc"])
            expectOneLineError(try Self.gmp(database, as: qc, ["user", "disable", admin.id, "--reason", "x"]),
                               exit: 77, mentioning: ["permission denied"])
        }
    }

    @Test("passwd, then a signed review; a wrong password exits 77, is counted and shows in alerts")
    func signing() throws {
        try TestServer.withMigratedDatabase { database in
            let temporary = try TestAccount.create(in: database, roles: ["qa"], temporary: true)
            expectOneLineError(try Self.gmp(database, as: temporary, ["audit", "review", "--password-stdin"],
                                            stdin: temporary.password + "\n"),
                               exit: 77, mentioning: ["temporary password"])
            let newPassword = "a fresh and long passphrase"
            let passwd = try Self.gmp(database, as: temporary, ["user", "passwd", "--password-stdin"],
                                      stdin: "\(temporary.password)\n\(newPassword)\n")
            #expect(passwd.status == 0, "\(passwd)")
            let person = TestAccount(id: temporary.id, password: newPassword, database: database)
            let review = try Self.gmp(database, as: person, ["audit", "review", "--password-stdin", "--json"],
                                      stdin: newPassword + "\n")
            #expect(review.status == 0, "\(review)")
            #expect(try review.json()["meaning"] as? String == "reviewed")
            expectOneLineError(try Self.gmp(database, as: person, ["audit", "review", "--password-stdin"], stdin: "guess\n"),
                               exit: 77, mentioning: ["failed attempt 1 of 5"])
            let alerts = try Self.gmp(database, as: person, ["audit", "alerts", "--json"])
            #expect(alerts.status == 65)
            #expect(try alerts.json()["alerts"] as? Int == 2, "the qa role given at set-up, and the wrong password")
            let report = try Self.gmp(database, as: person, ["audit", "report", "--table", "gmp_audit.event"])
            #expect(report.stdout.contains("signature: reviewed by Test Person (\(person.id))"), "\(report)")
            #expect(report.stdout.contains(": intact"))
            // Streamed, yet fitted to the terminal: each event's line cut with …, its values
            // wrapped onto indented lines with every character kept; a pipe gets each whole.
            let fitted = try Self.gmp(database, as: person, ["audit", "report", "--table", "gmp_audit.event"],
                                      environment: ["COLUMNS": "60"])
            #expect(fitted.status == report.status, "\(fitted)")
            let lines = fitted.stdout.split(separator: "\n")
            #expect(lines.allSatisfy { $0.count <= 60 }, "a line is wider than 60: \(lines.first { $0.count > 60 } ?? "")")
            #expect(lines.filter { !$0.hasPrefix(" ") }.contains { $0.contains("…") }, "\(fitted)")
            #expect(fitted.stdout.replacingOccurrences(of: "\n          ", with: "")
                        .contains("signature: reviewed by Test Person (\(person.id))"), "\(fitted)")
            let piped = report.stdout.split(separator: "\n")
            #expect(piped.contains { $0.count > 60 } && !piped.contains { $0.contains("…") }, "\(report)")
            #expect(piped.filter { !$0.hasPrefix(" ") }.count == lines.filter { !$0.hasPrefix(" ") }.count, "one line per event")
        }
    }

    @Test("dual control: add proposes roles, a second admin approves, QA confirms the owner; resets and role changes alert")
    func dualControl() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestAccount.create(in: database, roles: ["admin"])
            let second = try TestAccount.create(in: database, roles: ["admin"])
            let qa = try TestAccount.create(in: database, roles: ["qa"])
            let id = "d" + UUID().uuidString.lowercased().filter { $0.isLetter }.prefix(8)
            let add = try Self.gmp(database, as: admin, ["user", "add", id, "--name", "Dee Dual", "--role", "qa",
                                                         "--reason", "new QA", "--json"])
            #expect(add.status == 0, "\(add)")
            #expect(try add.json()["roles"] as? [String] == [])
            #expect(try add.json()["proposed_roles"] as? [String] == ["qa"])
            #expect(try add.json()["awaits_confirmation"] as? Bool == true)
            let temporary = try #require(try add.json()["temporary_password"] as? String)

            expectOneLineError(try Self.gmp(database, as: admin, ["user", "approve", id, "qa", "--reason", "mine"]),
                               exit: 77, mentioning: ["second administrator"])
            let pending = try Self.gmp(database, as: second, ["user", "pending", "--json"])
            #expect(pending.status == 0, "\(pending)")
            let roles = try #require(try pending.json()["roles"] as? [[String: Any]])
            #expect(roles.contains { $0["account"] as? String == id && $0["role"] as? String == "qa"
                                     && $0["proposed_by"] as? String == admin.id })
            let identities = try #require(try pending.json()["identities"] as? [[String: Any]])
            #expect(identities.contains { $0["account"] as? String == id && $0["owner_set_password"] as? Bool == false })
            let approve = try Self.gmp(database, as: second, ["user", "approve", id, "qa", "--reason", "hire confirmed", "--json"])
            #expect(approve.status == 0, "\(approve)")
            #expect(try approve.json()["change"] as? String == "granted qa")

            let own = "a long password of her own"
            let passwd = try Self.gmp(database, as: TestAccount(id: id, password: temporary, database: database),
                                      ["user", "passwd", "--password-stdin"], stdin: "\(temporary)\n\(own)\n")
            #expect(passwd.status == 0, "\(passwd)")
            let person = TestAccount(id: id, password: own, database: database)
            expectOneLineError(try Self.gmp(database, as: person, ["audit", "review", "--password-stdin"], stdin: own + "\n"),
                               exit: 77, mentioning: ["confirm"])
            expectOneLineError(try Self.gmp(database, as: admin, ["user", "confirm", id, "--password-stdin"],
                                            stdin: admin.password + "\n"),
                               exit: 77, mentioning: ["permission denied"])
            let confirm = try Self.gmp(database, as: qa, ["user", "confirm", id, "--password-stdin", "--json",
                                                          "--statement", "met in person"], stdin: qa.password + "\n")
            #expect(confirm.status == 0, "\(confirm)")
            #expect(try confirm.json()["meaning"] as? String == "verified")
            #expect(try Self.gmp(database, as: person, ["audit", "review", "--password-stdin"], stdin: own + "\n").status == 0)

            let grant = try Self.gmp(database, as: admin, ["user", "grant", id, "admin", "--reason", "cover", "--json"])
            #expect(grant.status == 0, "\(grant)")
            #expect((try grant.json()["change"] as? String)?.hasPrefix("proposed admin") == true)
            #expect(try Self.gmp(database, as: admin, ["user", "decline", id, "admin", "--reason", "withdrawn"]).status == 0)
            expectOneLineError(try Self.gmp(database, as: second, ["user", "approve", id, "admin", "--reason", "x"]),
                               exit: 65, mentioning: ["no proposal"])
            let reset = try Self.gmp(database, as: admin, ["user", "passwd", id, "--reason", "forgot it", "--json"])
            #expect(reset.status == 0, "\(reset)")

            let alerts = try Self.gmp(database, as: qa, ["audit", "alerts", "--json"])
            #expect(alerts.status == 65)
            let events = try #require(try alerts.json()["events"] as? [[String: Any]]).filter { $0["account"] as? String == id }
            #expect(events.map { $0["kind"] as? String } == ["role_proposed", "role_granted", "role_proposed", "password_reset"],
                    "\(events)")
            #expect(events.allSatisfy { $0["alert"] as? Bool == true })
            let all = try Self.gmp(database, as: qa, ["audit", "alerts", "--all"])
            #expect(all.stdout.contains("identity_confirmed") && all.stdout.contains("role_declined"), "\(all)")
            // Fitted to the terminal (COLUMNS=60, … where cut), whole through a pipe (issue 16).
            try TerminalOutputTests.expectTableFits("TIME (UTC)") { try Self.gmp(database, as: qa, ["audit", "alerts", "--all"], environment: $0) }
        }
    }

    @Test("five wrong logins: audit alerts lists each and the lockout (exit 65, --json); the right password is then refused")
    func failedLogins() throws {
        try TestServer.withMigratedDatabase { database in
            let qa = try TestAccount.create(in: database, roles: ["qa"])
            let victim = try TestAccount.create(in: database, roles: ["operator"])
            // Set-up's role grants are alerts (issue 20, item 6); no login has failed yet.
            let quiet = try Self.gmp(database, as: qa, ["audit", "alerts", "--json"])
            let before = try #require(try quiet.json()["events"] as? [[String: Any]])
            #expect(before.allSatisfy { $0["kind"] as? String == "role_granted" }, "\(quiet)")
            let guesser = TestAccount(id: victim.id, password: "a guessed password", database: database)
            for _ in 1...5 {
                expectOneLineError(try Self.gmp(database, as: guesser, ["db", "status"]), exit: 77)
            }
            // The server logs through its collector: the lines arrive a moment later.
            var events: [[String: Any]] = []
            var alerts = quiet
            let deadline = Date().addingTimeInterval(10)
            repeat {
                alerts = try Self.gmp(database, as: qa, ["audit", "alerts", "--json"])
                events = (try alerts.json()["events"] as? [[String: Any]] ?? []).filter { $0["account"] as? String == victim.id }
                if events.contains(where: { $0["kind"] as? String == "account_locked" }) { break }
                Thread.sleep(forTimeInterval: 0.1)
            } while Date() < deadline
            #expect(alerts.status == 65, "\(alerts)")
            #expect(events.filter { $0["kind"] as? String == "login_failed" && $0["alert"] as? Bool == true }.count == 5,
                    "\(events)")
            #expect(events.last?["kind"] as? String == "account_locked" && events.last?["detail"] as? String == "5 failed logins in a row",
                    "\(events)")
            let text = try Self.gmp(database, as: qa, ["audit", "alerts"])
            #expect(text.stdout.contains("login_failed") && text.stdout.contains("5 of 5 in a row"), "\(text)")
            expectOneLineError(try Self.gmp(database, as: victim, ["db", "status"]), exit: 77)
        }
    }

    @Test("verify, checkpoint, and a rewritten history caught by the checkpoint (exit 65 naming the event)")
    func verifyAndCheckpoint() throws {
        try TestServer.withMigratedDatabase { database in
            let qa = try TestAccount.create(in: database, roles: ["qa"])
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-e2e-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }

            let verify = try Self.gmp(database, as: qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
            #expect(try verify.json()["intact"] as? Bool == true)
            #expect(try Self.gmp(database, ["audit", "keygen", "--out", "\(directory)/qa.key"]).status == 0)
            let checkpoint = try Self.gmp(database, as: qa, ["audit", "checkpoint", "--key", "\(directory)/qa.key",
                                                             "--out", "\(directory)/one.checkpoint"])
            #expect(checkpoint.status == 0, "\(checkpoint)")
            let withCheckpoint = ["audit", "verify", "--checkpoint", "\(directory)/one.checkpoint",
                                  "--public-key", "\(directory)/qa.key.pub"]
            #expect(try Self.gmp(database, as: qa, withCheckpoint).status == 0)

            // The owner rewrites event 5 and recomputes every later hash and the head.
            try Tampering.rewriteHistory(database, at: 5)
            #expect(try Self.gmp(database, as: qa, ["audit", "verify"]).status == 0, "self-consistent without a checkpoint")
            let seq = checkpoint.stdout.split(separator: " ")[3].trimmingCharacters(in: .punctuationCharacters)
            expectOneLineError(try Self.gmp(database, as: qa, withCheckpoint), exit: 65,
                               mentioning: ["audit trail broken at event \(seq)", "checkpoint"])
            expectOneLineError(try Self.gmp(database, as: qa, ["audit", "verify", "--checkpoint", "\(directory)/one.checkpoint"]),
                               exit: 64, mentioning: ["--public-key"])
        }
    }

    @Test("report: CSV with a header, and --json with a count")
    func report() throws {
        try TestServer.withMigratedDatabase { database in
            let auditor = try TestAccount.create(in: database, roles: ["auditor"])
            let csv = try Self.gmp(database, as: auditor, ["audit", "report", "--table", "gmp.account", "--key", auditor.id, "--csv"])
            #expect(csv.status == 0, "\(csv)")
            let lines = csv.stdout.split(separator: "\r\n")
            #expect(lines.first == "seq,occurred_at,actor,actor_name,action,table,record_key,reason,old_values,new_values,signature_meaning,signature_name,signature_time,signature_intact")
            #expect(lines.count >= 3 && lines.dropFirst().allSatisfy { $0.contains(",gmp.account,\(auditor.id),") })
            let json = try Self.gmp(database, as: auditor, ["audit", "report", "--actor", auditor.id, "--json"])
            #expect(try json.json()["count"] as? Int == 0)
            #expect(try json.json()["complete"] as? Bool == true)
            expectOneLineError(try Self.gmp(database, as: auditor, ["audit", "report", "--key", "x"]), exit: 64)
            // Refused before any event: stdout stays empty, not an opened JSON document.
            let operatorAccount = try TestAccount.create(in: database, roles: ["operator"])
            for format in ["--json", "--csv"] {
                let refused = try Self.gmp(database, as: operatorAccount, ["audit", "report", format])
                expectOneLineError(refused, exit: 77, mentioning: ["permission denied"])
                #expect(refused.stdout.isEmpty, "\(format): \(refused)")
            }
        }
    }
}
