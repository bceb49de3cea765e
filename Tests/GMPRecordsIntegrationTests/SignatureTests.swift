import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

@Suite("Electronic signatures: re-authentication, failure counting, lockout, broken content")
struct SignatureTests {
    static func review(_ connection: PostgresConnection, password: String, through seq: Int64 = 1) throws -> Int64 {
        try SignatureCeremony(connection).sign(password: password) { db, challenge in
            try AuditTrail.signReview(on: db, challenge: challenge, through: seq, statement: "test review")
        }
    }

    static func account(_ admin: PostgresConnection, _ id: String) throws -> (failed: Int, locked: Bool, canLogIn: Bool) {
        let row = try admin.query("""
            SELECT failed_signing_attempts, locked_at IS NOT NULL AS locked, can_log_in
            FROM gmp.account_overview WHERE id = \(id)
            """)[0]
        return (try row.decode("failed_signing_attempts"), try row.decode("locked"), try row.decode("can_log_in"))
    }

    @Test("the right password signs: name, meaning and content hash are stored, and the signature is intact")
    func signs() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"], fullName: "Quinn Adams")
            let id = try Self.review(try person.connect(), password: person.password)
            let row = try TestServer.connect(database).query("""
                SELECT signer, printed_name, meaning, record_table, record_key, octet_length(content_hash) AS bytes, intact
                FROM gmp.signature_status WHERE id = \(id)
                """)[0]
            #expect(try row.decode("signer", as: String.self) == person.id)
            #expect(try row.decode("printed_name", as: String.self) == "Quinn Adams")
            #expect(try row.decode("meaning", as: String.self) == "reviewed")
            #expect(try row.decode("record_key", as: String.self) == "1")
            #expect(try row.decode("bytes", as: Int.self) == 32)
            #expect(try row.decode("intact", as: Bool.self))
        }
    }

    @Test("a wrong password is refused and counted, and nothing is signed")
    func wrongPasswordCounted() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let admin = try TestServer.connect(database)
            #expect(throws: SigningRefused(account: person.id, failedAttempts: 1, locked: false)) {
                try Self.review(try person.connect(), password: "not the password at all")
            }
            #expect(try Self.account(admin, person.id).failed == 1)
            #expect(try admin.query("SELECT count(*) AS n FROM gmp.signature")[0].decode("n", as: Int64.self) == 0)
            #expect(try admin.query("""
                SELECT count(*) AS n FROM gmp_audit.security_event WHERE account_id = \(person.id) AND kind = 'signing_failed'
                """)[0].decode("n", as: Int64.self) == 1)
            // A correct password afterwards resets the count.
            _ = try Self.review(try person.connect(), password: person.password)
            #expect(try Self.account(admin, person.id).failed == 0)
        }
    }

    @Test("five wrong passwords in a row lock the account and stop its logins until an admin enables it")
    func lockout() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let admin = try TestServer.connect(database)
            let connection = try person.connect()
            for attempt in 1...5 {
                #expect(throws: SigningRefused(account: person.id, failedAttempts: attempt, locked: attempt == 5)) {
                    try Self.review(connection, password: "wrong guess number \(attempt)")
                }
            }
            let state = try Self.account(admin, person.id)
            #expect(state.locked && !state.canLogIn)
            // Even the right password cannot sign now, and no new login is possible.
            #expect { try Self.review(connection, password: person.password) } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
            #expect { try person.connect() } throws: { ($0 as? ConnectionError)?.kind == .authenticationFailed }
            #expect(try admin.query("""
                SELECT count(*) AS n FROM gmp_audit.security_event WHERE account_id = \(person.id) AND kind = 'account_locked'
                """)[0].decode("n", as: Int64.self) == 1)
            try admin.execute("SELECT gmp.enable_account(\(person.id), 'identity confirmed by phone')")
            _ = try Self.review(try person.connect(), password: person.password)
        }
    }

    @Test("a signature whose signed content changed afterwards shows as broken")
    func brokenWhenContentChanges() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let id = try Self.review(try person.connect(), password: person.password, through: 3)
            let intact = { try TestServer.connect(database).query("SELECT intact FROM gmp.signature_status WHERE id = \(id)")[0]
                .decode("intact", as: Bool.self) }
            #expect(try intact())
            try Tampering.asSuperuser(database, "UPDATE gmp_audit.event SET reason = 'rewritten' WHERE seq = 3")
            #expect(try intact() == false)
        }
    }

    @Test("a temporary password cannot sign; a challenge cannot be reused; a session without the proof cannot sign")
    func ceremonyGuards() throws {
        try TestServer.withMigratedDatabase { database in
            let temporary = try TestAccount.create(in: database, roles: ["qa"], temporary: true)
            #expect { try Self.review(try temporary.connect(), password: temporary.password) } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let connection = try person.connect()
            // Straight to the signing function with an unauthenticated challenge: refused.
            #expect {
                try connection.transaction { db in
                    let challenge: UUID = try db.query("SELECT challenge FROM gmp.begin_signing()")[0].decode("challenge")
                    return try AuditTrail.signReview(on: db, challenge: challenge, through: 1, statement: nil)
                }
            } throws: { ($0 as? PostgresError)?.kind == .permissionDenied }
        }
    }

    /// Session settings that change how a value is written as text (issue 20, item 4).
    static let textSettings: [(name: String, value: String)] = [
        ("bytea_output", "escape"), ("DateStyle", "SQL, DMY"), ("IntervalStyle", "sql_standard"),
        ("extra_float_digits", "-15"), ("TimeZone", "Pacific/Chatham"), ("search_path", "public"),
        ("lc_monetary", "POSIX"), ("lc_numeric", "POSIX"), ("lc_time", "POSIX"),
    ]

    @Test("a signer's own session settings do not make their valid signature read broken",
          arguments: SignatureTests.textSettings.map { "\($0.name)=\($0.value)" })
    func signerSettingsDoNotBreak(setting: String) throws {
        let (name, value) = (String(setting.split(separator: "=")[0]), String(setting.split(separator: "=")[1]))
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let id = try SignatureCeremony(try person.connect()).sign(password: person.password) { db, challenge in
                try db.execute("SELECT set_config(\(name), \(value), true)")
                return try AuditTrail.signReview(on: db, challenge: challenge, through: 3, statement: "test review")
            }
            let intact: Bool = try TestServer.connect(database)
                .query("SELECT intact FROM gmp.signature_status WHERE id = \(id)")[0].decode("intact")
            #expect(intact, "signed under \(name) = \(value)")
        }
    }

    @Test("a viewer's session settings do not make an intact signature look broken",
          arguments: SignatureTests.textSettings.map { "\($0.name)=\($0.value)" })
    func viewerSettingsDoNotBreak(setting: String) throws {
        let (name, value) = (String(setting.split(separator: "=")[0]), String(setting.split(separator: "=")[1]))
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let id = try Self.review(try person.connect(), password: person.password, through: 3)
            let intact: Bool = try person.connect().transaction { db in
                try db.execute("SELECT set_config(\(name), \(value), true)")
                return try db.query("SELECT intact FROM gmp.signature_status WHERE id = \(id)")[0].decode("intact")
            }
            #expect(intact, "viewed under \(name) = \(value)")
        }
    }

    @Test("a record's content hash is the same under every session setting, for every type whose text depends on one",
          arguments: SignatureTests.textSettings.map { "\($0.name)=\($0.value)" })
    func contentHashIgnoresSettings(setting: String) throws {
        let (name, value) = (String(setting.split(separator: "=")[0]), String(setting.split(separator: "=")[1]))
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            try db.execute("""
                CREATE TABLE public.settings_probe (id integer PRIMARY KEY, b bytea, ts timestamptz, d date, i interval,
                    f double precision, r real, m money, tr tstzrange, dr daterange, n numeric)
                """)
            try db.execute("""
                INSERT INTO public.settings_probe VALUES (1, '\\x00ff5c27'::bytea, '2026-03-04 05:06:07.123456+00',
                    '2026-03-04', '1 year 2 mons 3 days 04:05:06.5', 1.2345678901, 1.2345678, 12.34,
                    tstzrange('2026-03-04 05:06:07+00', '2026-03-05 05:06:07+00'), daterange('2026-03-04', '2026-03-09'), 1.50)
                """)
            // The content is read as gmp_definer (issue 20, definer owner), which reads gmp's
            // tables only: a probe table outside them is shown to it.
            try db.execute("GRANT SELECT ON public.settings_probe TO gmp_definer")
            let hash: SQLQuery = "SELECT encode(gmp_rules.content_hash('public.settings_probe', '1'), 'hex') AS h"
            let plain: String = try db.query(hash)[0].decode("h")
            let changed: String = try db.transaction { tx in
                try tx.execute("SELECT set_config(\(name), \(value), true)")
                return try tx.query(hash)[0].decode("h")
            }
            #expect(changed == plain, "content hash under \(name) = \(value)")
        }
    }

    /// Issue 20, item 3: the server's VALID UNTIL stops new logins only; a session opened
    /// before the password expired must not sign.
    @Test("an expired password cannot sign from a session opened before it expired; no failure is counted",
          arguments: ["account", "role", "both"])
    func expiredPasswordCannotSign(where expired: String) throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let connection = try person.connect()
            let admin = try TestServer.connect(database)
            // A ceremony started while the password was still valid.
            let started: UUID = try connection.query("SELECT challenge FROM gmp.begin_signing()")[0].decode("challenge")
            if expired != "role" {
                try admin.transaction { db in
                    try db.execute("SELECT set_config('gmp.reason', 'test: the password expired', true)")
                    try db.execute("UPDATE gmp.account SET password_expires_at = now() - interval '1 minute' WHERE id = \(person.id)")
                }
            }
            if expired != "account" {
                try Tampering.asSuperuser(database, "ALTER ROLE \"\(person.id)\" VALID UNTIL '2000-01-01 00:00:00+00'")
            }
            DonorAndLotRulesTests.expectSQLState("GM009", "signing with a password expired in the \(expired)") {
                _ = try Self.review(connection, password: person.password)
            }
            #expect(try Self.account(admin, person.id).failed == 0, "an expired password is not a wrong guess")
            #expect(try admin.query("SELECT count(*) AS n FROM gmp.signature")[0].decode("n", as: Int64.self) == 0)
            // A ceremony started before the expiry is refused at the password, before it is
            // checked (so nothing is counted), not only ceremonies started after it.
            DonorAndLotRulesTests.expectSQLState("GM009", "authenticating with an expired password") {
                _ = try connection.execute("SELECT gmp.submit_signing_proof(\(started), decode(repeat('00', 32), 'hex'))")
            }
            #expect(try Self.account(admin, person.id).failed == 0)
        }
    }

    @Test("a disabled account cannot sign from a session still open, whether disabled in gmp or by NOLOGIN")
    func disabledAccountCannotSign() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let connection = try person.connect()
            try Tampering.asSuperuser(database, "ALTER ROLE \"\(person.id)\" NOLOGIN")
            DonorAndLotRulesTests.expectSQLState("42501", "signing after the login was taken away") {
                _ = try Self.review(connection, password: person.password)
            }
            try Tampering.asSuperuser(database, "ALTER ROLE \"\(person.id)\" LOGIN")
            let other = try TestAccount.create(in: database, roles: ["qa"])
            let still = try other.connect()
            try TestServer.connect(database).transaction { db in
                try db.execute("SELECT set_config('gmp.reason', 'test: disabled while a session stays open', true)")
                try db.execute("UPDATE gmp.account SET status = 'disabled' WHERE id = \(other.id)")
            }
            DonorAndLotRulesTests.expectSQLState("42501", "signing with a disabled account") {
                _ = try Self.review(still, password: other.password)
            }
            #expect(try TestServer.connect(database).query("SELECT count(*) AS n FROM gmp.signature")[0]
                .decode("n", as: Int64.self) == 0)
        }
    }
}
