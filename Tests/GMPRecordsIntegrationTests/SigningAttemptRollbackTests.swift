import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Issue 20, item 1: a failed signing attempt counts whatever the caller's transaction
/// does. The attack: wrap the password check in BEGIN … ROLLBACK to guess without limit.
@Suite("Signing attempts: a wrong password counts even when the caller rolls its check back")
struct SigningAttemptRollbackTests {

    /// One guess as the attacker makes it through psql: a challenge, a committed wrong
    /// proof, then the check inside a transaction that is rolled back.
    static func guessAndRollBack(_ connection: PostgresConnection) throws -> String {
        let challenge: UUID = try connection.query("SELECT challenge FROM gmp.begin_signing()")[0].decode("challenge")
        _ = try connection.execute("SELECT gmp.submit_signing_proof(\(challenge), decode(repeat('00', 32), 'hex'))")
        try connection.execute("BEGIN")
        let outcome: String = try connection.query("SELECT outcome FROM gmp.authenticate_signer(\(challenge))")[0]
            .decode("outcome")
        try connection.execute("ROLLBACK")
        return outcome
    }

    static func securityEvents(_ admin: PostgresConnection, _ account: String, _ kind: String) throws -> [String] {
        try admin.query("""
            SELECT detail FROM gmp_audit.security_event WHERE account_id = \(account) AND kind = \(kind) ORDER BY id
            """).map { try $0.decode("detail") }
    }

    @Test("each rolled-back wrong guess counts, and the fifth locks signing even with the right password")
    func rolledBackGuessesCount() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let admin = try TestServer.connect(database)
            let attacker = try person.connect()
            for attempt in 1...5 {
                #expect(try Self.guessAndRollBack(attacker) == (attempt == 5 ? "locked" : "rejected"))
                #expect(try SignatureTests.account(admin, person.id).failed == attempt,
                        "the overview counts rolled-back guess \(attempt)")
            }
            // A sixth guess cannot even start, and the right password signs nothing.
            DonorAndLotRulesTests.expectSQLState("42501", "a new ceremony after five rolled-back failures") {
                _ = try attacker.query("SELECT challenge FROM gmp.begin_signing()")
            }
            #expect { try SignatureTests.review(attacker, password: person.password) } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
            #expect(try admin.query("SELECT count(*) AS n FROM gmp.signature")[0].decode("n", as: Int64.self) == 0)
            // gmp audit alerts shows the five before anything has recorded them.
            let listed = try SecurityEvent.list(on: admin, since: nil).filter { $0.account == person.id }
            #expect(listed.filter { $0.id == nil && $0.kind == "signing_failed" }.count == 5, "\(listed)")
            // The administrator's unlock records the five, says they were rolled back, and locks
            // before it unlocks, so the trail shows the whole story.
            try admin.execute("SELECT gmp.enable_account(\(person.id), 'identity confirmed by phone')")
            let failures = try Self.securityEvents(admin, person.id, "signing_failed")
            #expect(failures.count == 5)
            #expect(failures.allSatisfy { $0.contains("the caller rolled its check back") }, "\(failures)")
            #expect(try Self.securityEvents(admin, person.id, "account_locked").count == 1)
            #expect(try Self.securityEvents(admin, person.id, "account_unlocked").count == 1)
            #expect(try SignatureTests.account(admin, person.id).failed == 0)
            #expect(try SecurityEvent.list(on: admin, since: nil).allSatisfy { $0.id != nil }, "recorded once, not twice")
            _ = try SignatureTests.review(try person.connect(), password: person.password)
        }
    }

    @Test("a later check records the guesses rolled back before it, with their own security events")
    func laterCheckRecordsThem() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let admin = try TestServer.connect(database)
            let attacker = try person.connect()
            for _ in 1...2 { _ = try Self.guessAndRollBack(attacker) }
            #expect(throws: SigningRefused(account: person.id, failedAttempts: 3, locked: false)) {
                try SignatureTests.review(attacker, password: "a third wrong guess")
            }
            let failures = try Self.securityEvents(admin, person.id, "signing_failed")
            #expect(failures.count == 3)
            #expect(failures.filter { $0.contains("rolled its check back") }.count == 2, "\(failures)")
            #expect(try admin.query("SELECT failed_signing_attempts AS n FROM gmp.account WHERE id = \(person.id)")[0]
                .decode("n", as: Int.self) == 3)
            // The right password then resets the count, rolled-back guesses included.
            _ = try SignatureTests.review(attacker, password: person.password)
            #expect(try SignatureTests.account(admin, person.id).failed == 0)
        }
    }

    @Test("nothing in the transaction that submits a password tells whether it was right")
    func verdictUnreadableBeforeCommit() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let admin = try TestServer.connect(database)
            let attacker = try person.connect()
            // Four failures recorded: a fifth would lock, the tell the attacker looks for.
            for _ in 1...4 { _ = try? SignatureTests.review(attacker, password: "wrong") }
            #expect(try SignatureTests.account(admin, person.id).failed == 4)
            let challenge: UUID = try attacker.query("SELECT challenge FROM gmp.begin_signing()")[0].decode("challenge")
            try attacker.execute("BEGIN")
            _ = try attacker.execute("SELECT gmp.submit_signing_proof(\(challenge), decode(repeat('00', 32), 'hex'))")
            // The check refuses a proof from its own transaction, before looking at it …
            try attacker.execute("SAVEPOINT probe")
            DonorAndLotRulesTests.expectSQLState("GM009", "checking a proof submitted in the same transaction") {
                _ = try attacker.query("SELECT outcome FROM gmp.authenticate_signer(\(challenge))")
            }
            try attacker.execute("ROLLBACK TO SAVEPOINT probe")
            // … the overview still says four, and a new ceremony still starts.
            #expect(try SignatureTests.account(attacker, person.id).failed == 4)
            _ = try attacker.query("SELECT challenge FROM gmp.begin_signing()")
            DonorAndLotRulesTests.expectSQLState("42501", "reading the verdict directly") {
                _ = try attacker.query("SELECT proof_valid FROM gmp_audit.signing_challenge")
            }
            try attacker.execute("ROLLBACK")
            // Rolled back before commit, the entry was never made: nothing counts.
            #expect(try SignatureTests.account(admin, person.id).failed == 4)
        }
    }

    @Test("a challenge takes one password entry")
    func oneEntryPerChallenge() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let connection = try person.connect()
            let challenge: UUID = try connection.query("SELECT challenge FROM gmp.begin_signing()")[0].decode("challenge")
            _ = try connection.execute("SELECT gmp.submit_signing_proof(\(challenge), decode(repeat('00', 32), 'hex'))")
            DonorAndLotRulesTests.expectSQLState("GM009", "a second password entry for one challenge") {
                _ = try connection.execute("SELECT gmp.submit_signing_proof(\(challenge), decode(repeat('00', 32), 'hex'))")
            }
        }
    }

    @Test("the one-step check of earlier versions refuses, naming the two steps that replace it")
    func oneStepCheckRefused() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let connection = try person.connect()
            let challenge: UUID = try connection.query("SELECT challenge FROM gmp.begin_signing()")[0].decode("challenge")
            do {
                _ = try connection.query("SELECT * FROM gmp.authenticate_signer(\(challenge), decode(repeat('00', 32), 'hex'))")
                Issue.record("the one-step check was accepted")
            } catch let error as PostgresError {
                #expect(error.sqlState == "GM009")
                #expect(error.hint?.contains("gmp.submit_signing_proof") == true, "\(error)")
            }
            #expect(try SignatureTests.account(TestServer.connect(database), person.id).failed == 0)
        }
    }
}
