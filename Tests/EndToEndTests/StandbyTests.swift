import Foundation
import PostgresClient
import Testing
import TestSupport

/// gmp against a primary and its streaming hot standby, a failover, and a restore from
/// a base backup and archived WAL (issue 18, docs/high-availability.md): the built
/// binary, on private throwaway clusters, never the shared test server.
@Suite("A hot standby, a failover and a restore, end to end", .serialized)
struct StandbyTests {
    typealias Site = DonorLotCommandTests.Site

    /// A private primary in `root`, migrated, with the facility applied and an account for
    /// each role; `settings` go to its postgresql.conf.
    static func primarySite(in root: String, settings: [String] = [],
                            clusters: inout [PrivateCluster]) throws -> (PrivateCluster, Site) {
        let primary = try PrivateCluster.create(in: root, name: "primary", settings: settings)
        clusters.append(primary)
        try primary.start()
        try primary.connect(database: "postgres").execute("CREATE DATABASE gmp TEMPLATE template0 ENCODING 'UTF8'")
        let database = primary.connectionString()
        let migrate = try GMPBinary.run(["db", "migrate", "--database", database])
        guard migrate.status == 0 else { throw TestSetupError("gmp db migrate failed: \(migrate)") }
        let configPath = root + "/gmp.yaml"
        try "facility:\n  isbt128_facility: G1234\n  max_passage: 3\n  max_population_doublings: 12\n"
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let site = Site(database: database, configPath: configPath,
                        operatorAccount: try TestAccount.create(in: database, roles: ["operator"]),
                        qc: try TestAccount.create(in: database, roles: ["qc"]),
                        director: try TestAccount.create(in: database, roles: ["director"], fullName: "Dana Director"),
                        qa: try TestAccount.create(in: database, roles: ["qa"]),
                        admin: try TestAccount.create(in: database, roles: ["admin"]))
        let apply = try site.gmp(site.admin, ["facility", "apply", "--reason", "x", "--json"])
        guard apply.status == 0 else { throw TestSetupError("facility apply failed: \(apply)") }
        return (primary, site)
    }

    /// The same site (accounts, configuration) on another server.
    static func site(_ site: Site, on database: String) -> Site {
        Site(database: database, configPath: site.configPath, operatorAccount: site.operatorAccount, qc: site.qc,
             director: site.director, qa: site.qa, admin: site.admin)
    }

    /// A registered donor's id.
    static func registerDonor(_ site: Site, _ name: String) throws -> String {
        let run = try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", name, "--json"])
        #expect(run.status == 0, "\(run)")
        return try #require(try run.json()["donor"] as? String, "\(run)")
    }

    /// `gmp audit verify --json` as QA: the verdict, with the exit status.
    static func verify(_ site: Site) throws -> (run: GMPRun, document: [String: Any]) {
        let run = try site.gmp(site.qa, ["audit", "verify", "--json"])
        return (run, (try? run.json()) ?? [:])
    }

    /// Output with the figures that differ from run to run (verify's duration) blanked.
    static func withoutTimings(_ text: String) -> String {
        text.replacing(/"(seconds|events_per_second|rows_per_second)" *: *[0-9.e+-]+/) { "\"\($0.output.1)\": _" }
    }

    @Test("reads on the standby agree with the primary; a write there is refused with the fix; a multi-host string finds the promoted standby")
    func standbyAndFailover() throws {
        let root = try PrivateCluster.makeRoot()
        var clusters: [PrivateCluster] = []
        defer { PrivateCluster.removeRoot(root, clusters: clusters) }
        let (primary, site) = try Self.primarySite(in: root, clusters: &clusters)

        // A donor, screened, and a lot in process: records for every read command.
        let donation = try DonorLotCommandTests.donation(in: site)
        try DonorLotCommandTests.screen(in: site, donation.tested, DonorLotCommandTests.livingDonorPanel)
        let lot = try DonorLotCommandTests.createLot(in: site, ["--collection", donation.collection])

        let standby = try PrivateCluster.baseBackup(of: primary, in: root, name: "standby", standby: true)
        clusters.append(standby)
        try standby.configure(["hot_standby = on"])
        try standby.start()
        #expect(try standby.inRecovery())

        // Written after the standby started: it arrives by streaming.
        #expect(try DonorLotCommandTests.step(in: site, lot, "isolation").status == 0)
        // Events another client staged and left to gmp to chain (gmp.audit_chain =
        // after_commit): pending in the standby's snapshot, where nothing may chain them.
        let pendingWriter = try primary.connect()
        try pendingWriter.execute("SELECT set_config('gmp.audit_chain', 'after_commit', false)")
        try pendingWriter.execute("""
            SELECT gmp.add_account(\("p" + UUID().uuidString.prefix(8).lowercased()), 'Pending Person',
                                   'correct horse battery staple', '{operator}'::text[], 'test: events left pending')
            """)
        try standby.waitForReplay(of: primary)
        let onStandby = Self.site(site, on: standby.connectionString())

        // The standby verifies the trail exactly, its pending events replayed as pending.
        let standbyVerify = try Self.verify(onStandby)
        #expect(standbyVerify.run.status == 0, "\(standbyVerify.run)")
        #expect(standbyVerify.document["intact"] as? Bool == true, "\(standbyVerify.run)")
        let standbyPending = try #require(standbyVerify.document["pending_events"] as? Int, "\(standbyVerify.run)")
        #expect(standbyPending > 0, "\(standbyVerify.run)")
        // Connecting to a standby writes nothing: no login watch, no chaining, not even
        // one that fails quietly (-vv shows the debug lines that would say so).
        let verbose = try onStandby.gmp(site.qa, ["audit", "verify", "-vv"])
        #expect(verbose.status == 0, "\(verbose)")
        for attempt in ["failed logins not read", "could not chain", "read-only transaction"] {
            #expect(!verbose.stderr.contains(attempt), "\(verbose)")
        }
        // The primary chains them first: the same trail, all of it chained.
        let primaryVerify = try Self.verify(site)
        #expect(primaryVerify.run.status == 0, "\(primaryVerify.run)")
        #expect(primaryVerify.document["pending_events"] as? Int == 0, "\(primaryVerify.run)")
        #expect(primaryVerify.document["events"] as? Int
                == (standbyVerify.document["events"] as? Int).map { $0 + standbyPending }, "\(primaryVerify.run)")
        try standby.waitForReplay(of: primary)

        // Every read command answers on the standby exactly as on the primary.
        let reads: [(TestAccount, [String])] = [
            (site.qa, ["audit", "verify", "--json"]),
            (site.qa, ["audit", "report", "--csv"]),
            (site.qa, ["audit", "report", "--json", "--table", "gmp.lot"]),
            (site.qa, ["trace", "donor", donation.tested, "--json"]),
            (site.qa, ["trace", "lot", lot.keyed, "--json"]),
            (site.qa, ["release", "check", lot.keyed, "--json"]),
            (site.operatorAccount, ["lot", "show", lot.keyed, "--json"]),
            (site.operatorAccount, ["lot", "list", "--json"]),
        ]
        for (person, arguments) in reads {
            let onPrimary = try site.gmp(person, arguments)
            let there = try onStandby.gmp(person, arguments)
            #expect(there.status == onPrimary.status, "\(arguments): primary \(onPrimary)\nstandby \(there)")
            #expect(Self.withoutTimings(there.stdout) == Self.withoutTimings(onPrimary.stdout),
                    "\(arguments): primary \(onPrimary)\nstandby \(there)")
            #expect(there.stderr == onPrimary.stderr, "\(arguments): primary \(onPrimary)\nstandby \(there)")
            #expect(!there.stdout.isEmpty, "\(arguments): \(there)")
        }

        // A write on the standby: one line naming the fix, exit 69, nothing written.
        let eventsBefore = try standby.connect().query("SELECT count(*) AS n FROM gmp_audit.event")[0].decode("n", as: Int64.self)
        for arguments in [["donor", "register", "--use", "allogeneic", "--name", "Written To The Standby"],
                          ["lot", "step", lot.keyed, "passage"] + DonorLotCommandTests.passage] {
            expectOneLineError(try onStandby.gmp(site.operatorAccount, arguments), exit: 69,
                               mentioning: ["accepts reads only", "25006", "primary", "target_session_attrs=read-write"])
        }
        try standby.waitForReplay(of: primary)
        #expect(try standby.connect().query("SELECT count(*) AS n FROM gmp_audit.event")[0].decode("n", as: Int64.self)
                == eventsBefore)

        // Both servers in one connection string, the standby first: libpq picks the primary.
        let bothServers = "host=\(standby.directory),\(primary.directory) port=5432,5432 dbname=gmp "
            + "target_session_attrs=read-write"
        let anywhere = Self.site(site, on: bothServers)
        let beforeFailover = try Self.registerDonor(anywhere, "Written Before The Failover")

        // Failover: the primary is lost, the standby promoted; the same string now reaches it.
        try standby.waitForReplay(of: primary)
        try primary.stop()
        try standby.promote()
        try standby.waitUntil(timeoutSeconds: 30, "the promotion") { try !standby.inRecovery() }
        let afterFailover = try Self.registerDonor(anywhere, "Written After The Failover")
        for donor in [beforeFailover, afterFailover] {
            let show = try onStandby.gmp(site.operatorAccount, ["donor", "show", donor, "--json"])
            #expect(show.status == 0, "\(show)")
        }
        let promotedVerify = try Self.verify(anywhere)
        #expect(promotedVerify.run.status == 0, "\(promotedVerify.run)")
        #expect(promotedVerify.document["intact"] as? Bool == true, "\(promotedVerify.run)")
        #expect(promotedVerify.document["pending_events"] as? Int == 0, "\(promotedVerify.run)")
    }

    @Test("a base backup and archived WAL restore to a named point: gmp audit verify exits 0 there, later writes up to the point are present")
    func backupAndRestore() throws {
        let root = try PrivateCluster.makeRoot()
        var clusters: [PrivateCluster] = []
        defer { PrivateCluster.removeRoot(root, clusters: clusters) }
        let archive = root + "/archive"
        try FileManager.default.createDirectory(atPath: archive, withIntermediateDirectories: false)
        try PrivateCluster.giveToServerUser(archive)
        let (primary, site) = try Self.primarySite(in: root, settings: [
            "archive_mode = on", "archive_command = 'test ! -f \(archive)/%f && cp %p \(archive)/%f'",
        ], clusters: &clusters)
        let beforeBackup = try Self.registerDonor(site, "Registered Before The Backup")

        let backup = try PrivateCluster.baseBackup(of: primary, in: root, name: "restored", standby: false)
        let afterBackup = try Self.registerDonor(site, "Registered After The Backup")
        let admin = try primary.connect()
        try admin.execute("SELECT pg_create_restore_point('before-the-mistake')")
        let afterPoint = try Self.registerDonor(site, "Registered After The Restore Point")
        let segment: String = try admin.query("SELECT pg_walfile_name(pg_switch_wal()) AS f")[0].decode("f")
        try primary.waitUntil(timeoutSeconds: 30, "WAL segment \(segment) to be archived") {
            FileManager.default.fileExists(atPath: archive + "/" + segment)
        }
        try primary.stop()

        // The restore, as docs/high-availability.md gives it.
        try backup.configure([
            "archive_mode = off", "restore_command = 'cp \(archive)/%f %p'",
            "recovery_target_name = 'before-the-mistake'", "recovery_target_action = 'promote'",
        ])
        try backup.signal("recovery.signal")
        clusters.append(backup)
        try backup.start()
        try backup.waitUntil(timeoutSeconds: 60, "the restore to finish") { try !backup.inRecovery() }

        let restored = Self.site(site, on: backup.connectionString())
        let verified = try Self.verify(restored)
        #expect(verified.run.status == 0, "\(verified.run)")
        #expect(verified.document["intact"] as? Bool == true, "\(verified.run)")
        for donor in [beforeBackup, afterBackup] {
            let show = try restored.gmp(site.operatorAccount, ["donor", "show", donor, "--json"])
            #expect(show.status == 0, "\(show)")
        }
        let absent = try restored.gmp(site.operatorAccount, ["donor", "show", afterPoint, "--json"])
        expectOneLineError(absent, exit: 65, mentioning: [afterPoint])
    }
}
