import Foundation
import Testing
import PostgresClient
import TestSupport

/// Issue 19's failure paths of a write, through the binary: the server out of disk, the
/// connection lost inside COMMIT, a stalled client holding a record's row lock.
extension DatabaseFailureTests {
    typealias Site = DonorLotCommandTests.Site

    static func registerDonor(_ site: Site, killAfter: TimeInterval? = nil) throws -> GMPRun {
        try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", "Failure Example", "--json"],
                     killAfter: killAfter)
    }

    static func donors(_ database: PostgresConnection) throws -> Int64 {
        try database.query("SELECT count(*) AS n FROM gmp.donor")[0].decode("n")
    }

    @Test("disk full (SQLSTATE 53100) during a write: 69, the server out of resources, nothing changed")
    func diskFull() throws {
        try DonorLotCommandTests.withSite { site in
            let superuser = try TestServer.connect(site.database)
            // The server's own words when it cannot extend a file, raised where a write
            // would meet them: no test machine's disk is filled for this.
            try superuser.execute(script: SQLScript(shippedWithBinary: """
                CREATE FUNCTION public.disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'could not extend file "base/16384/24576": No space left on device' USING ERRCODE = '53100';
                END $$;
                CREATE TRIGGER disk_full BEFORE INSERT ON gmp.donor FOR EACH ROW EXECUTE FUNCTION public.disk_full();
                """))
            let before = try Self.donors(superuser)
            let run = try Self.registerDonor(site)
            expectOneLineError(run, exit: 69, mentioning: ["out of resources", "No space left on device", "free disk space"])
            #expect(!run.stderr.contains("internal error"), "\(run)")
            #expect(try Self.donors(superuser) == before)
        }
    }

    /// The server's own words for each resource failure a write can meet (issue 19, item 3:
    /// "and other server-resource classes"), and what the fix must name.
    static let resourceFailures: [(sqlState: String, message: String, says: String, fix: String)] = [
        ("53200", "out of memory", "out of resources", "free disk space or memory"),
        ("53400", "temporary file size exceeds temp_file_limit (1024kB)", "out of resources", "free disk space or memory"),
        ("58030", "could not write to file \"base/16384/24576\": Input/output error", "could not read or write its files",
         "check the server's disk"),
    ]

    @Test("out of memory (53200), a configured limit (53400), an I/O error (58030) during a write: 69 with the administrator's fix, never 'internal error', nothing changed",
          arguments: 0..<3)
    func otherResourceFailures(index: Int) throws {
        let failure = Self.resourceFailures[index]
        try DonorLotCommandTests.withSite { site in
            let superuser = try TestServer.connect(site.database)
            // The failure to raise is a row of its own, so that one trigger raises each.
            try superuser.execute(script: SQLScript(shippedWithBinary: """
                CREATE TABLE public.resource_failure (state text NOT NULL, message text NOT NULL);
                CREATE FUNCTION public.resource_failure() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE f public.resource_failure;
                BEGIN
                    SELECT * INTO STRICT f FROM public.resource_failure;
                    RAISE EXCEPTION USING MESSAGE = f.message, ERRCODE = f.state;
                END $$;
                CREATE TRIGGER resource_failure BEFORE INSERT ON gmp.donor FOR EACH ROW EXECUTE FUNCTION public.resource_failure();
                GRANT SELECT ON public.resource_failure TO PUBLIC;
                """))
            try superuser.execute("INSERT INTO public.resource_failure VALUES (\(failure.sqlState), \(failure.message))")
            let before = try Self.donors(superuser)
            let run = try Self.registerDonor(site)
            expectOneLineError(run, exit: 69, mentioning: [failure.says, failure.sqlState, failure.fix, "nothing was changed"])
            #expect(!run.stderr.contains("internal error"), "\(run)")
            #expect(try Self.donors(superuser) == before)
        }
    }

    @Test("the connection lost inside COMMIT: 69, the outcome said to be unknown with the lookup, never 'nothing was committed'; the lookup answers")
    func connectionLostInsideCommit() throws {
        try DonorLotCommandTests.withSite { site in
            let superuser = try TestServer.connect(site.database)
            // A check deferred to COMMIT that takes its time: the command is inside COMMIT
            // when its session is ended.
            try superuser.execute(script: SQLScript(shippedWithBinary: """
                CREATE FUNCTION public.slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$;
                CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON gmp.donor DEFERRABLE INITIALLY DEFERRED
                    FOR EACH ROW EXECUTE FUNCTION public.slow_commit();
                """))
            let before = try Self.donors(superuser)
            let result = Locked<GMPRun?>(nil)
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                result.mutate { $0 = try? Self.registerDonor(site, killAfter: 90) }
                done.signal()
            }
            var terminated = false
            for _ in 0..<600 where !terminated {
                let sleeping = try superuser.query("""
                    SELECT pid FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name = 'gmp donor register' AND wait_event = 'PgSleep'
                    """)
                if let row = sleeping.first {
                    let pid: Int32 = try row.decode("pid")
                    _ = try superuser.query("SELECT pg_terminate_backend(\(pid)) AS ended")
                    terminated = true
                } else {
                    usleep(50_000)
                }
            }
            done.wait()
            #expect(terminated, "the command was seen inside its COMMIT")
            let run = try #require(result.value)
            expectOneLineError(run, exit: 69, mentioning: ["unknown", "gmp db transaction"])
            #expect(!run.stderr.contains("nothing was committed"), "\(run)")
            // The lookup the error names, one token (the id and the receipt's request id),
            // tells the truth: cut inside COMMIT, before its commit record, the transaction
            // did not commit, its receipt is not there, and nothing was recorded.
            let token = try #require(run.stderr.firstMatch(of: /'gmp db transaction (\d+:[0-9a-f-]{36})'/)?.1, "\(run)")
            let asked = try site.gmp(site.qa, ["db", "transaction", String(token), "--json"])
            #expect(asked.status == 0, "\(asked)")
            #expect(try asked.json()["status"] as? String == "aborted", "\(asked)")
            #expect(try asked.json()["exact"] as? Bool == true, "\(asked)")
            #expect(try Self.donors(superuser) == before)
        }
    }

    @Test("a stalled client holding a lot's row lock: a write on another lot goes at once; one on that lot gives up after lock_timeout (10 s) with 75")
    func stalledClientHoldingALot() throws {
        try DonorLotCommandTests.withSite { site in
            let donation = try DonorLotCommandTests.donation(in: site)
            let held = try DonorLotCommandTests.createLot(in: site, ["--collection", donation.collection])
            let free = try DonorLotCommandTests.createLot(in: site, ["--collection", donation.collection])
            let stalled = try TestServer.connect(site.database)
            try stalled.execute("BEGIN")
            try stalled.execute("SELECT din FROM gmp.lot WHERE din = \(held.din) FOR UPDATE")
            defer { try? stalled.execute("ROLLBACK") }

            var start = Date()
            try site.expectSuccess { try site.gmp(site.qa, ["lot", "hold", free.keyed, "--reason", "investigation"]) }
            #expect(Date().timeIntervalSince(start) < 8, "a write on another lot did not wait for the stalled client")

            start = Date()
            let run = try site.gmp(site.qa, ["lot", "hold", held.keyed, "--reason", "investigation"], killAfter: 60)
            let waited = Date().timeIntervalSince(start)
            expectOneLineError(run, exit: 75, mentioning: ["held a record", "lock timeout"])
            #expect(waited >= 9 && waited < 30, "waited \(waited) s, not lock_timeout's 10 s")
        }
    }
}
