import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Issue 20, items 5 and 6: an administrator alone can neither sign as someone else
/// (reset their password, log in as them, change it, sign) nor obtain a signing role
/// through an account they control. Every attack runs as the administrator, in plain SQL.
@Suite("Dual control of accounts: password resets and role grants need a second person")
struct AccountDualControlTests {
    static let known = "the administrator knows this one"

    /// The person behind `id`, logged in with `password`.
    static func login(_ database: String, _ id: String, _ password: String) throws -> PostgresConnection {
        try TestAccount(id: id, password: password, database: database).connect()
    }

    /// Replaces the password through gmp (the owner's path, signed with the current one);
    /// returns a session with the new password.
    static func changePassword(_ database: String, _ id: String, from old: String, to new: String) throws -> PostgresConnection {
        try SignatureCeremony(try login(database, id, old)).sign(password: old) { db, challenge in
            _ = try db.execute("SELECT gmp.change_password(\(challenge), \(new))")
        }
        return try login(database, id, new)
    }

    static func holds(_ superuser: PostgresConnection, _ id: String, _ role: String) throws -> Bool {
        try superuser.query("SELECT pg_has_role(\(id), \("gmp_" + role), 'MEMBER') AS m")[0].decode("m")
    }

    static func confirm(_ confirmer: TestAccount, _ id: String) throws -> Int64 {
        try SignatureCeremony(try confirmer.connect()).sign(password: confirmer.password) { db, challenge in
            try AccountDirectory.confirmIdentity(on: db, challenge: challenge, of: id, statement: "met in person")
        }
    }

    static func kinds(_ superuser: PostgresConnection, _ id: String) throws -> [String] {
        try superuser.query("SELECT kind FROM gmp_audit.security_event WHERE account_id = \(id) ORDER BY id")
            .map { try $0.decode("kind") }
    }

    @Test("item 5: an administrator who resets a person's password, logs in as them and changes it signs nothing")
    func resetThenSignAsThem() throws {
        try TestServer.withMigratedDatabase { database in
            let superuser = try TestServer.connect(database)
            let admin = try TestAccount.create(in: database, roles: ["admin"])
            let victim = try TestAccount.create(in: database, roles: ["qa"], fullName: "Victor Victim")
            let confirmer = try TestAccount.create(in: database, roles: ["qa"], fullName: "Carla Confirmer")
            try admin.connect().execute("SELECT gmp.reset_password(\(victim.id), \(Self.known), 'forgot it')")

            // A second person cannot confirm before the owner has set their own password.
            DonorAndLotRulesTests.expectSQLState("GM003", "a confirmation of a temporary password") {
                _ = try Self.confirm(confirmer, victim.id)
            }
            let impostor = try Self.changePassword(database, victim.id, from: Self.known, to: "the impostor's own choice")
            DonorAndLotRulesTests.expectSQLState("42501", "a signature by the account the administrator reset") {
                _ = try SignatureTests.review(impostor, password: "the impostor's own choice")
            }
            DonorAndLotRulesTests.expectSQLState("42501", "unsigned work in the reset account's name") {
                try impostor.execute("SELECT gmp.record_checkpoint(1, (SELECT hash FROM gmp_audit.event WHERE seq = 1), '0123456789abcdef')")
            }
            #expect(try superuser.query("SELECT count(*) AS n FROM gmp.signature")[0].decode("n", as: Int64.self) == 0)

            // The owner's path: a QA person who is not the administrator confirms, signing "verified".
            let signature = try Self.confirm(confirmer, victim.id)
            let row = try superuser.query("SELECT signer, meaning, record_table, intact FROM gmp.signature_status WHERE id = \(signature)")[0]
            #expect(try row.decode("signer", as: String.self) == confirmer.id)
            #expect(try row.decode("meaning", as: String.self) == "verified")
            #expect(try row.decode("record_table", as: String.self) == "gmp.identity_confirmation")
            _ = try SignatureTests.review(impostor, password: "the impostor's own choice")
            #expect(try Self.kinds(superuser, victim.id).suffix(3) == ["password_reset", "password_changed", "identity_confirmed"])
            // Nothing left to confirm.
            DonorAndLotRulesTests.expectSQLState("GM003", "a second confirmation") { _ = try Self.confirm(confirmer, victim.id) }
        }
    }

    @Test("item 5: the administrator who set the password cannot confirm it, even holding qa; a new account is held too")
    func resetterCannotConfirm() throws {
        try TestServer.withMigratedDatabase { database in
            let adminQA = try TestAccount.create(in: database, roles: ["admin", "qa"])
            let victim = try TestAccount.create(in: database, roles: ["operator"])
            try adminQA.connect().execute("SELECT gmp.reset_password(\(victim.id), \(Self.known), 'forgot it')")
            _ = try Self.changePassword(database, victim.id, from: Self.known, to: "a new and long password")
            DonorAndLotRulesTests.expectSQLState("GM005", "the resetter confirming") { _ = try Self.confirm(adminQA, victim.id) }

            // A new account is the same: its creator knew the first password.
            let made = "n" + UUID().uuidString.lowercased().filter { $0.isLetter }.prefix(10)
            try adminQA.connect().execute("SELECT gmp.add_account(\(made), 'New Person', \(Self.known), '{qa}', 'new hire')")
            try TestServer.connect(database).execute("SELECT gmp.approve_role(\(made), 'qa', 'the database owner approves')")
            let session = try Self.changePassword(database, made, from: Self.known, to: "a new and long password")
            DonorAndLotRulesTests.expectSQLState("42501", "unsigned work by an unconfirmed new account") {
                try session.execute("SELECT gmp.record_checkpoint(1, (SELECT hash FROM gmp_audit.event WHERE seq = 1), '0123456789abcdef')")
            }
        }
    }

    /// Issue 13: approving and declining make their first checks through one function
    /// (gmp_rules.role_proposal_to_decide), so they refuse alike and in one order.
    @Test("approving and declining a role proposal refuse alike: no reason, then one's own account, then no open proposal")
    func decidingRefusesAlike() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try TestAccount.create(in: database, roles: ["admin"])
            let target = try TestAccount.create(in: database, roles: ["operator"])
            let session = try admin.connect()
            let deciders: [(String, (String, String) throws -> Void)] = [
                ("approve", { id, reason in try session.execute("SELECT gmp.approve_role(\(id), 'qa', \(reason))") }),
                ("decline", { id, reason in try session.execute("SELECT gmp.decline_role(\(id), 'qa', \(reason))") }),
            ]
            for (name, decide) in deciders {
                DonorAndLotRulesTests.expectSQLState("GM008", "\(name): no reason, on one's own account") {
                    try decide(admin.id, " ")
                }
                DonorAndLotRulesTests.expectSQLState("42501", "\(name): one's own account") {
                    try decide(admin.id, "ok")
                }
                DonorAndLotRulesTests.expectSQLState("GM001", "\(name): no open proposal") {
                    try decide(target.id, "ok")
                }
            }
        }
    }

    @Test("item 6: an administrator cannot obtain qa through a second administrator account they create")
    func secondAdminAccount() throws {
        try TestServer.withMigratedDatabase { database in
            let superuser = try TestServer.connect(database)
            let admin = try TestAccount.create(in: database, roles: ["admin"])
            let other = try TestAccount.create(in: database, roles: ["admin"], fullName: "Olivia Other")
            let confirmer = try TestAccount.create(in: database, roles: ["qa"])
            let sidekick = "s" + UUID().uuidString.lowercased().filter { $0.isLetter }.prefix(10)
            try admin.connect().execute("SELECT gmp.add_account(\(sidekick), 'Sid Kick', \(Self.known), '{admin}', 'second admin')")
            #expect(try !Self.holds(superuser, sidekick, "admin"), "a proposal, not a grant")
            let asSidekick = try Self.changePassword(database, sidekick, from: Self.known, to: "a new and long password")
            DonorAndLotRulesTests.expectSQLState("42501", "the unapproved sidekick granting qa") {
                try asSidekick.execute("SELECT gmp.grant_role(\(admin.id), 'qa', 'help me out')")
            }
            DonorAndLotRulesTests.expectSQLState("GM005", "the proposer approving their own proposal") {
                try admin.connect().execute("SELECT gmp.approve_role(\(sidekick), 'admin', 'looks fine')")
            }
            #expect(try !Self.holds(superuser, admin.id, "qa"))

            // Even once a second administrator approved the sidekick (and QA confirmed it),
            // the line of creation cannot complete a grant between the two of them.
            try other.connect().execute("SELECT gmp.approve_role(\(sidekick), 'admin', 'second admin needed')")
            _ = try Self.confirm(confirmer, sidekick)
            #expect(try Self.holds(superuser, sidekick, "admin"))
            let puppet = "p" + UUID().uuidString.lowercased().filter { $0.isLetter }.prefix(10)
            try admin.connect().execute("SELECT gmp.add_account(\(puppet), 'Pat Puppet', \(Self.known), '{qa}', 'puppet')")
            DonorAndLotRulesTests.expectSQLState("GM005", "the sidekick approving its creator's proposal") {
                try asSidekick.execute("SELECT gmp.approve_role(\(puppet), 'qa', 'ok')")
            }
            try admin.connect().execute("SELECT gmp.decline_role(\(puppet), 'qa', 'withdrawn')")
            try asSidekick.execute("SELECT gmp.grant_role(\(puppet), 'qa', 'puppet again')")
            DonorAndLotRulesTests.expectSQLState("GM005", "the creator approving the sidekick's proposal") {
                try admin.connect().execute("SELECT gmp.approve_role(\(puppet), 'qa', 'ok')")
            }
            try asSidekick.execute("SELECT gmp.grant_role(\(admin.id), 'qa', 'help me out')")
            DonorAndLotRulesTests.expectSQLState("42501", "approving a role for oneself") {
                try admin.connect().execute("SELECT gmp.approve_role(\(admin.id), 'qa', 'ok')")
            }
            #expect(try !Self.holds(superuser, puppet, "qa") && !Self.holds(superuser, admin.id, "qa"))

            // An independent second administrator completes it: dual control, recorded.
            try other.connect().execute("SELECT gmp.approve_role(\(puppet), 'qa', 'QA hire confirmed')")
            #expect(try Self.holds(superuser, puppet, "qa"))
            let row = try superuser.query("""
                SELECT granted_by, approved_by FROM gmp.account_role WHERE account_id = \(puppet) AND role = 'qa'
                """)[0]
            #expect(try row.decode("granted_by", as: String.self) == sidekick)
            #expect(try row.decode("approved_by", as: String.self) == other.id)
            #expect(try Self.kinds(superuser, puppet).filter { $0.hasPrefix("role_") }
                    == ["role_proposed", "role_declined", "role_proposed", "role_granted"])
            // Role changes and resets are alerts by default (gmp audit alerts).
            let alerts = try SecurityEvent.list(on: superuser, since: nil).filter { SecurityEvent.alertKinds.contains($0.kind) }
            #expect(Set(alerts.map(\.kind)).isSuperset(of: ["role_proposed", "role_granted"]))
            try other.connect().execute("SELECT gmp.revoke_role(\(puppet), 'qa', 'left QA')")
            #expect(try Self.kinds(superuser, puppet).last == "role_revoked")
            #expect(SecurityEvent.alertKinds.isSuperset(of: ["password_reset", "role_revoked"]))
        }
    }

    @Test("item 6: a decider whose role was given during the lot's life by someone who recorded its results may not release it")
    func grantByParticipant() throws {
        try QCReleaseSite.with { s in
            let database = s.site.database
            let analystAdmin = try TestAccount.create(in: database, roles: ["qc", "admin"], fullName: "Ann Analyst")
            let other = try TestAccount.create(in: database, roles: ["admin"])
            let third = try TestAccount.create(in: database, roles: ["admin"])
            let din = try s.lot()
            let analystSession = try analystAdmin.connect()
            for value in QCReleaseSite.passing {
                let recorded = try s.record(din, value.test, value.value, unit: value.unit, qualifier: value.qualifier,
                                            outcomes: value.outcomes, as: analystSession)
                try s.verify(recorded.id)
            }
            // The analyst proposes qa for a colleague during the lot's life; another admin approves.
            let colleague = try TestAccount.create(in: database, roles: [])
            try analystSession.execute("SELECT gmp.grant_role(\(colleague.id), 'qa', 'needs QA')")
            try other.connect().execute("SELECT gmp.approve_role(\(colleague.id), 'qa', 'ok')")
            DonorAndLotRulesTests.expectSQLState("42501", "release by a QA whose role came from the lot's analyst") {
                try s.release(din, as: colleague, session: try colleague.connect())
            }
            // Approved by the analyst: the same.
            let second = try TestAccount.create(in: database, roles: [])
            try other.connect().execute("SELECT gmp.grant_role(\(second.id), 'qa', 'needs QA')")
            try analystSession.execute("SELECT gmp.approve_role(\(second.id), 'qa', 'ok')")
            DonorAndLotRulesTests.expectSQLState("42501", "release by a QA whose role the lot's analyst approved") {
                try s.release(din, as: second, session: try second.connect())
            }
            // Given by people with no part in the lot: the release stands.
            let independent = try TestAccount.create(in: database, roles: [])
            try other.connect().execute("SELECT gmp.grant_role(\(independent.id), 'qa', 'needs QA')")
            try third.connect().execute("SELECT gmp.approve_role(\(independent.id), 'qa', 'ok')")
            try s.release(din, as: independent, session: try independent.connect())
        }
    }
}
