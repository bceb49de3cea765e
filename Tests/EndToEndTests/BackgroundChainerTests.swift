import Foundation
import PostgresClient
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 19, background chaining (extension/gmp_chainer, docs/audit-trail.md): with the
/// library preloaded, a worker chains the audit trail every gmp_chainer.naptime_ms, so
/// events written by gmp or by any other client are chained with no reader and no further
/// writer, and no gmp write finds chaining due (none sends chain_if_due after its commit).
/// It survives a failing pass and a server crash. Private clusters (the shared test
/// server loads the library but names no database: scripts/lib/throwaway-postgres.sh).
@Suite("the background chainer, end to end", .serialized)
struct BackgroundChainerTests {
    typealias Site = DonorLotCommandTests.Site

    /// The settings gmp's embedded server has (EmbeddedCluster+Chainer.swift), a shorter
    /// nap, and function calls counted for every session (the worker's too).
    static let settings = ["shared_preload_libraries = 'plpgsql,gmp_chainer'", "gmp_chainer.databases = 'gmp'",
                           "gmp_chainer.naptime_ms = 100", "gmp.audit_chain_events = 20000", "track_functions = 'pl'"]

    /// A private cluster loading the chainer, with a migrated gmp site, an audited table
    /// gmp.chainer_probe for plain-SQL writes, and the worker up.
    static func withChainerSite(_ body: (PrivateCluster, Site) throws -> Void) throws {
        let root = try PrivateCluster.makeRoot()
        var clusters: [PrivateCluster] = []
        defer { PrivateCluster.removeRoot(root, clusters: clusters) }
        let (cluster, site) = try StandbyTests.primarySite(in: root, settings: settings, clusters: &clusters)
        let superuser = try cluster.connect()
        try superuser.execute("SELECT set_config('gmp.reason', 'background chainer test table', false)")
        try superuser.execute("CREATE TABLE gmp.chainer_probe (id bigserial PRIMARY KEY, note text NOT NULL)")
        try superuser.execute("SELECT gmp_audit.audit_table('gmp.chainer_probe', 'id')")
        // The database did not exist when the server started: the worker comes up at its
        // next try (5 s after the last).
        _ = try workerPid(cluster)
        try body(cluster, site)
    }

    /// The worker's process id, once it is connected to gmp (at most 30 s).
    static func workerPid(_ cluster: PrivateCluster, differentFrom old: Int32? = nil) throws -> Int32 {
        var pid: Int32 = 0
        try cluster.waitUntil(timeoutSeconds: 30, "the gmp_chainer worker") {
            let rows = try cluster.connect().query("""
                SELECT pid FROM pg_stat_activity WHERE backend_type = 'gmp_chainer' AND datname = 'gmp'
                """)
            guard let row = rows.first else { return false }
            pid = try row.decode("pid")
            return pid != old
        }
        return pid
    }

    /// One row into the audited probe table from a plain session that leaves its event
    /// pending (gmp.audit_chain = lazy, never due here), as a bulk loader would.
    static func lazyWrite(_ cluster: PrivateCluster, _ note: String) throws {
        let session = try cluster.connect()
        try session.execute("SET gmp.audit_chain = 'lazy'")
        try session.execute("SET gmp.audit_chain_wait_ms = 3600000")
        try session.execute("INSERT INTO gmp.chainer_probe (note) VALUES (\(note))")
    }

    /// Waits (at most 30 s, no reader chaining meanwhile) until the event of `note` is chained.
    static func waitChained(_ cluster: PrivateCluster, _ note: String) throws {
        try cluster.waitUntil(timeoutSeconds: 30, "the event of \(note) to be chained") {
            try cluster.connect().query("""
                SELECT count(*) AS n FROM gmp_audit.event WHERE new_values ->> 'note' = \(note)
                """)[0].decode("n", as: Int64.self) == 1
        }
    }

    @Test("gmp's and a plain session's events are chained with no reader and no further writer; writes send no chain_if_due; status and doctor report the worker")
    func chainsWithoutReadersOrWriters() throws {
        try Self.withChainerSite { cluster, site in
            let superuser = try cluster.connect()
            try cluster.waitUntil(timeoutSeconds: 30, "the set-up's events to be chained") {
                try LazyChainingCommandTests.state(site.database).pending == 0
            }
            // Longer than gmp.audit_chain_wait_ms (2 s) with nothing written: without the
            // worker, the next write would find chaining due and chain after its commit.
            usleep(2_500_000)
            let asked = try LazyChainingCommandTests.calls(superuser, "chain_due")
            let sent = try LazyChainingCommandTests.calls(superuser, "chain_if_due")
            let head = try LazyChainingCommandTests.state(site.database).head
            for name in ["Background Example One", "Background Example Two"] {
                try site.expectSuccess {
                    try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", name])
                }
            }
            #expect(try LazyChainingCommandTests.eventually { try LazyChainingCommandTests.calls(superuser, "chain_due") >= asked + 2 },
                    "both writes asked in their receipt statement")
            #expect(try LazyChainingCommandTests.calls(superuser, "chain_if_due") == sent, "neither found chaining due")
            try cluster.waitUntil(timeoutSeconds: 30, "the registrations' events to be chained") {
                let state = try LazyChainingCommandTests.state(site.database)
                return state.pending == 0 && state.head > head
            }

            try Self.lazyWrite(cluster, "written in psql's way")
            try Self.waitChained(cluster, "written in psql's way")

            let status = try site.expectSuccess { try site.gmp(site.qa, ["db", "status", "--json"]) }
            let server = try #require(try status.json()["server"] as? [String: Any], "\(status)")
            #expect(server["background_chainer"] as? Bool == true, "\(status)")
            let doctor = try site.gmp(site.qa, ["doctor", "--json"])
            let checks = try #require(try doctor.json()["checks"] as? [[String: Any]], "\(doctor)")
            let chainer = try #require(checks.first { $0["name"] as? String == "chainer" }, "\(doctor)")
            #expect(chainer["status"] as? String == "ok" && (chainer["detail"] as? String)?.hasPrefix("running") == true, "\(chainer)")
        }
    }

    /// Issue 18: a plain session's COMMIT chaining its own events was most of its audited
    /// write (docs/benchmarks.md, "The issue's own measure"); with a worker chaining the
    /// database, it leaves them to the worker: the C trigger inserts directly (nothing is
    /// queued for the COMMIT), the PL/pgSQL's chain_at_commit fires and chains nothing.
    /// What the INSERT queued is fired before the COMMIT (SET CONSTRAINTS … IMMEDIATE), so
    /// that the transaction's own function calls can be counted; the worker cannot chain
    /// the event before it commits.
    @Test("while the worker chains the database, a plain session leaves its events to it instead of chaining at its COMMIT, with either audit trigger")
    func plainSessionsLeaveChainingToTheWorker() throws {
        try Self.withChainerSite { cluster, site in
            let superuser = try cluster.connect()
            let seen: Bool = try superuser.query("SELECT gmp_audit.chained_in_background() AS seen")[0].decode("seen")
            #expect(seen, "the worker is connected")
            let notes = ["left to the worker by the C trigger", "left to the worker by the PL/pgSQL"]
            for (note, native) in zip(notes, [true, false]) {
                try superuser.execute("SELECT gmp_audit.bind_audit_implementation(\(native))")
                let session = try cluster.connect()
                try session.execute("BEGIN")
                try session.execute("INSERT INTO gmp.chainer_probe (note) VALUES (\(note))")
                try session.execute("SET CONSTRAINTS gmp_audit.chain_at_commit IMMEDIATE")
                let calls = try session.query("""
                    SELECT coalesce(pg_stat_get_xact_function_calls('gmp_audit.chain_at_commit()'::regprocedure), 0) AS fired,
                           coalesce(pg_stat_get_xact_function_calls('gmp_audit.chain_batch(integer,boolean)'::regprocedure), 0)
                               AS chained
                    """)[0]
                try session.execute("COMMIT")
                #expect(try calls.decode("fired", as: Int64.self) == (native ? 0 : 1), "\(note): chain_at_commit queued")
                #expect(try calls.decode("chained", as: Int64.self) == 0, "\(note): the session chained")
            }
            for note in notes {
                try Self.waitChained(cluster, note)
            }
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
            #expect(try verify.json()["intact"] as? Bool == true, "\(verify)")
        }
    }

    @Test("the worker survives a failing pass (logged, no restart) and a server crash (restarted), and chains after each")
    func survivesErrorsAndCrashes() throws {
        try Self.withChainerSite { cluster, site in
            let pid = try Self.workerPid(cluster)
            // Once it chains at its pace: a worker that connected while the site was still
            // being migrated found no entry point and looks again only 5 s later, which can
            // outlast the lock below (a slower migrate, gmp_audit_native 1.2's, made it so).
            try Self.lazyWrite(cluster, "before a failed pass")
            try Self.waitChained(cluster, "before a failed pass")
            // Its passes fail while the staging table is locked (its lock_timeout is 1 s).
            let holder = try cluster.connect()
            try holder.execute("BEGIN")
            try holder.execute("LOCK TABLE gmp_audit.pending_event IN ACCESS EXCLUSIVE MODE")
            usleep(2_500_000)
            try holder.execute("ROLLBACK")
            let log = try String(contentsOfFile: cluster.logFile, encoding: .utf8)
            #expect(log.contains("lock timeout") && log.contains("gmp_chainer chaining the audit trail of database \"gmp\""),
                    "the failed pass is logged with its context: \(log.suffix(1500))")
            try Self.lazyWrite(cluster, "after a failed pass")
            try Self.waitChained(cluster, "after a failed pass")
            #expect(try Self.workerPid(cluster) == pid, "the same worker: an error does not end it")

            // A crash: the server ends every process and starts again, the worker with it.
            #expect(kill(pid, SIGKILL) == 0)
            let restarted = try Self.workerPid(cluster, differentFrom: pid)
            #expect(restarted != pid)
            try Self.lazyWrite(cluster, "after the crash")
            try Self.waitChained(cluster, "after the crash")

            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
            #expect(try verify.json()["intact"] as? Bool == true, "\(verify)")
        }
    }

    @Test("a database that does not exist yet is waited for quietly (one FATAL, one LOG line, no exit every 5 s) and served once created")
    func waitsQuietlyForItsDatabase() throws {
        let root = try PrivateCluster.makeRoot()
        var clusters: [PrivateCluster] = []
        defer { PrivateCluster.removeRoot(root, clusters: clusters) }
        let cluster = try PrivateCluster.create(in: root, name: "primary", settings: Self.settings)
        clusters.append(cluster)
        try cluster.start()
        func log() -> String { (try? String(contentsOfFile: cluster.logFile, encoding: .utf8)) ?? "" }
        try cluster.waitUntil(timeoutSeconds: 30, "the worker to wait for database gmp quietly") {
            log().contains("database \"gmp\" does not exist or takes no connections: waiting for it quietly")
        }
        try cluster.connect(database: "postgres").execute("CREATE DATABASE gmp TEMPLATE template0 ENCODING 'UTF8'")
        _ = try Self.workerPid(cluster)
        let text = log()
        #expect(text.components(separatedBy: "FATAL:  database \"gmp\" does not exist").count == 2,
                "one FATAL only, at the first try: \(text.suffix(3000))")
        #expect(text.components(separatedBy: "waiting for it quietly").count == 2, "one LOG line: \(text.suffix(3000))")
    }

    /// Issue 18: every chained event leaves a dead row in the staging table, which
    /// autovacuum visits at most once a minute; the worker vacuums it itself once it has
    /// chained gmp_chainer.vacuum_events events (docs/audit-trail.md "Background chaining").
    @Test("the worker vacuums the staging table after gmp_chainer.vacuum_events chained events, and chains on")
    func vacuumsTheStagingTable() throws {
        try Self.withChainerSite { cluster, site in
            let superuser = try cluster.connect()
            try superuser.execute("ALTER SYSTEM SET gmp_chainer.vacuum_events = 50")
            try superuser.execute("SELECT pg_reload_conf()")
            try cluster.waitUntil(timeoutSeconds: 30, "the set-up's events to be chained") {
                try LazyChainingCommandTests.state(site.database).pending == 0
            }
            func vacuums() throws -> Int64 {
                try cluster.connect().query("""
                    SELECT coalesce(sum(vacuum_count), 0)::bigint AS n FROM pg_stat_user_tables
                    WHERE schemaname = 'gmp_audit' AND relname = 'pending_event'
                    """)[0].decode("n")
            }
            let before = try vacuums()
            // 60 events in one transaction, left pending (lazy, never due): one batch of 60 ≥ 50.
            let session = try cluster.connect()
            try session.execute("SET gmp.audit_chain = 'lazy'")
            try session.execute("SET gmp.audit_chain_wait_ms = 3600000")
            try session.execute("INSERT INTO gmp.chainer_probe (note) SELECT 'vacuum ' || i FROM generate_series(1, 60) i")
            try Self.waitChained(cluster, "vacuum 60")
            try cluster.waitUntil(timeoutSeconds: 30, "the worker's vacuum of the staging table") { try vacuums() > before }
            // The chaining goes on after it, and the trail is whole.
            try Self.lazyWrite(cluster, "after the vacuum")
            try Self.waitChained(cluster, "after the vacuum")
            #expect(try LazyChainingCommandTests.state(site.database).pending == 0)
            try site.expectSuccess { try site.gmp(site.qa, ["audit", "verify"]) }
        }
    }

    @Test("a server that chains no database in the background: db status and doctor say so")
    func reportedAbsent() throws {
        try DonorLotCommandTests.withSite { site in
            let status = try site.expectSuccess { try site.gmp(site.qa, ["db", "status", "--json"]) }
            let server = try #require(try status.json()["server"] as? [String: Any], "\(status)")
            #expect(server["background_chainer"] as? Bool == false, "\(status)")
            let doctor = try site.gmp(site.qa, ["doctor", "--json"])
            let checks = try #require(try doctor.json()["checks"] as? [[String: Any]], "\(doctor)")
            let chainer = try #require(checks.first { $0["name"] as? String == "chainer" }, "\(doctor)")
            #expect(chainer["status"] as? String == "ok" && (chainer["detail"] as? String)?.hasPrefix("none") == true, "\(chainer)")
        }
    }
}
