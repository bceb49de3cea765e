import Foundation
import GMPRecords
import PostgresClient
import Testing
import TestSupport

/// Issue 20, item 2: login guessing had no limit and raised no alert, and the login
/// password is the signing password. The attack: connect again and again with guessed
/// passwords (psql, or any client). Failed logins are read from the server's jsonlog
/// (gmp_audit.record_failed_logins), recorded as security events, and lock the account
/// at five in a row.
@Suite("Failed logins: counted from the server log, alerted, and locking at five in a row")
struct FailedLoginTests {
    /// One wrong-password login, as a guesser makes it.
    static func guess(_ person: TestAccount, _ password: String = "not the password at all") {
        #expect(throws: ConnectionError.self, "a wrong password is refused at login") {
            _ = try TestServer.connect(person.connectionString(password: password))
        }
    }

    static func events(_ admin: PostgresConnection, _ account: String, _ kind: String) throws -> [String] {
        try admin.query("""
            SELECT detail FROM gmp_audit.security_event WHERE account_id = \(account) AND kind = \(kind) ORDER BY id
            """).map { try $0.decode("detail") }
    }

    /// Reads the log as `reader` until `account` has `count` events of `kind`: the server
    /// writes its log through the logging collector, a moment after the login failed.
    static func readLog(as reader: PostgresConnection, until count: Int, _ kind: String, of account: String,
                        admin: PostgresConnection) throws {
        let deadline = Date().addingTimeInterval(10)
        repeat {
            try FailedLogins.record(on: reader)
            if try events(admin, account, kind).count >= count { return }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
    }

    static func canLogIn(_ admin: PostgresConnection, _ account: String) throws -> Bool {
        try admin.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = \(account)")[0].decode("rolcanlogin")
    }

    @Test("five wrong logins in a row are recorded, lock the account (the right password then fails) and are alerts")
    func fiveWrongLoginsLock() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qa"])
            let colleague = try TestAccount.create(in: database, roles: ["operator"])
            let admin = try TestServer.connect(database)
            let reader = try colleague.connect()
            try FailedLogins.record(on: reader)  // this database starts reading the log here
            for _ in 1...5 { Self.guess(person) }
            // Any person's connection reads the log: no privilege beyond gmp_person is needed.
            try Self.readLog(as: reader, until: 5, "login_failed", of: person.id, admin: admin)
            let failures = try Self.events(admin, person.id, "login_failed")
            #expect(failures.count == 5, "\(failures)")
            #expect(failures.last?.contains("5 of 5 in a row") == true, "\(failures)")
            #expect(try Self.events(admin, person.id, "account_locked") == ["5 failed logins in a row"])
            #expect(try admin.query("SELECT locked_at IS NOT NULL AS locked FROM gmp.account WHERE id = \(person.id)")[0]
                .decode("locked", as: Bool.self))
            #expect(try !Self.canLogIn(admin, person.id))
            #expect(throws: ConnectionError.self, "the right password no longer logs in") { _ = try person.connect() }
            // gmp audit alerts lists them as alerts.
            let alerts = try SecurityEvent.list(on: admin, since: nil)
                .filter { $0.account == person.id && SecurityEvent.alertKinds.contains($0.kind) }
            #expect(alerts.filter { $0.kind == "login_failed" }.count == 5)
            #expect(alerts.contains { $0.kind == "account_locked" })
            // Read once: reading again records nothing twice.
            #expect(try FailedLogins.record(on: reader) == 0)
            #expect(try Self.events(admin, person.id, "login_failed").count == 5)

            // An administrator's unlock lets the person in again and starts the count afresh.
            try admin.execute("SELECT gmp.enable_account(\(person.id), 'identity confirmed by phone')")
            _ = try person.connect()
            Self.guess(person)
            try Self.readLog(as: reader, until: 6, "login_failed", of: person.id, admin: admin)
            #expect(try Self.events(admin, person.id, "login_failed").last?.contains("1 of 5 in a row") == true)
            #expect(try Self.canLogIn(admin, person.id))
        }
    }

    @Test("a successful login ends a run of failures, and is listed with them")
    func successEndsRun() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qc"])
            let admin = try TestServer.connect(database)
            try FailedLogins.record(on: admin)
            for _ in 1...4 { Self.guess(person) }
            _ = try person.connect()  // the person types it right
            try Self.readLog(as: admin, until: 1, "login_succeeded", of: person.id, admin: admin)
            #expect(try Self.events(admin, person.id, "login_failed").count == 4)
            #expect(try Self.events(admin, person.id, "login_succeeded") == ["logged in after 4 failed login(s) in a row"])
            for _ in 1...4 { Self.guess(person) }
            try Self.readLog(as: admin, until: 8, "login_failed", of: person.id, admin: admin)
            #expect(try Self.events(admin, person.id, "login_failed").last?.contains("4 of 5 in a row") == true)
            #expect(try Self.events(admin, person.id, "account_locked").isEmpty)
            #expect(try Self.canLogIn(admin, person.id))
        }
    }

    /// Records through `gmp_audit.record_failed_logins()` as gmp does on connecting, and
    /// says how often that called the full reader, `gmp_audit.read_failed_logins()`: the
    /// difference within the transaction, as the session's counts not yet flushed (at most
    /// once a second) also hold its earlier transactions' calls.
    static func recordCountingReads(_ admin: PostgresConnection) throws -> (recorded: Int, reads: Int64) {
        try admin.transaction { db in
            try db.execute("SET LOCAL track_functions = 'pl'")
            let readerCalls = {
                try db.query("""
                    SELECT coalesce(sum(calls), 0)::bigint AS n FROM pg_stat_xact_user_functions
                    WHERE schemaname = 'gmp_audit' AND funcname = 'read_failed_logins'
                    """)[0].decode("n") as Int64
            }
            let before = try readerCalls()
            let recorded = try FailedLogins.record(on: db)
            return (recorded, try readerCalls() - before)
        }
    }

    @Test("a connection that finds no failed login new in the log is answered by the quick look; a failure is still read and recorded")
    func quickLookWhenNothingNew() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qc"])
            let admin = try TestServer.connect(database)
            try FailedLogins.record(on: admin)  // this database starts reading the log here
            // Only successful logins since the last read (the person's, the reader's own): the
            // full reader is not called. Other tests share the server's log, and a failed login
            // of theirs sends the look on to the reader. The reader moves the stored position
            // only once it has read 16 kB without finding one of this database's accounts, so a
            // failure of theirs can stay in view for many looks while the suite runs: keep
            // logging in (each login writes log lines), catching up and looking again.
            var quick = false
            let settle = Date().addingTimeInterval(30)
            while !quick && Date() < settle {
                _ = try person.connect()
                _ = try Self.recordCountingReads(admin)
                let again = try Self.recordCountingReads(admin)
                quick = again.reads == 0 && again.recorded == 0
            }
            #expect(quick, "record_failed_logins() called read_failed_logins() although the log held nothing new for it")

            // A wrong password: the look finds it and the reader records it.
            Self.guess(person)
            var read: (recorded: Int, reads: Int64) = (0, 0)
            let deadline = Date().addingTimeInterval(10)
            while read.recorded == 0 && Date() < deadline {
                let next = try Self.recordCountingReads(admin)
                read = (read.recorded + next.recorded, read.reads + next.reads)
                if read.recorded == 0 { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(read.recorded == 1 && read.reads >= 1, "\(read)")
            #expect(try Self.events(admin, person.id, "login_failed").count == 1)
        }
    }

    @Test("a session holding the read position in an open transaction stalls no other reader")
    func heldPositionStallsNobody() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qc"])
            let admin = try TestServer.connect(database)
            let holder = try TestAccount.create(in: database, roles: ["operator"]).connect()
            let other = try TestAccount.create(in: database, roles: ["operator"]).connect()
            try FailedLogins.record(on: admin)
            Self.guess(person)
            try holder.execute("BEGIN")
            let deadline = Date().addingTimeInterval(10)
            var recorded = 0
            while recorded == 0 && Date() < deadline {
                recorded = try FailedLogins.record(on: holder)
                if recorded == 0 { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(recorded == 1, "the holder recorded the failure in its open transaction")
            Self.guess(person)  // a second line, which the other reader would record
            Thread.sleep(forTimeInterval: 0.3)
            let start = Date()
            #expect(try FailedLogins.record(on: other) == 0)
            #expect(Date().timeIntervalSince(start) < 2, "not waited for the holder's lock (lock_timeout is 10 s)")
            try holder.execute("COMMIT")
            try Self.readLog(as: other, until: 2, "login_failed", of: person.id, admin: admin)
            #expect(try Self.events(admin, person.id, "login_failed").count == 2)
        }
    }

    @Test("the log is out of every person's reach but through the one function; the test server watches logins")
    func logOutOfReach() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["admin", "qa", "auditor"])
            let connection = try person.connect()
            // The server the tests run on is set up as gmp's embedded one is: nothing blinds gmp.
            #expect(try FailedLogins.watchProblems(on: connection) == [])
            DonorAndLotRulesTests.expectSQLState("42501", "reading the log directly") {
                _ = try connection.query("SELECT pg_read_file(pg_current_logfile('jsonlog'))")
            }
            DonorAndLotRulesTests.expectSQLState("42501", "moving the read position") {
                try connection.execute("UPDATE gmp_audit.login_log_position SET log_offset = 0")
            }
            DonorAndLotRulesTests.expectSQLState("42501", "locking someone through the lock helper") {
                _ = try connection.query("SELECT gmp_rules.lock_after_failed_logins(\(person.id), 5)")
            }
        }
    }
}
