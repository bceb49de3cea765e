import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import GMPDatabase

/// The embedded server against the real PostgreSQL programs installed on this machine.
/// Only the lifecycle test runs initdb (a few seconds); the others need no cluster.
@Suite("Embedded PostgreSQL server")
struct EmbeddedClusterTests {
    // MARK: Locating the programs

    @Test func locateFindsDebianServerPrograms() throws {
        let installation = try PostgresInstallation.locate(binDirectory: nil)
        // The highest version with server programs (a client-only install has no initdb).
        let installed = PostgresInstallation.installedDebianVersions(preferring: nil).filter {
            PostgresInstallation.hasRequiredPrograms("/usr/lib/postgresql/\($0)/bin")
        }
        #expect(installation.majorVersion == installed.first)
        #expect(installation.binDirectory == "/usr/lib/postgresql/\(installation.majorVersion)/bin")
        for program in PostgresInstallation.requiredPrograms {
            #expect(FileManager.default.isExecutableFile(atPath: installation.path(of: program)))
        }
        // An explicit directory is read the same way; a non-Debian path asks `postgres --version`.
        let explicit = try PostgresInstallation.locate(binDirectory: installation.binDirectory + "/")
        #expect(explicit == installation)
        #expect(try PostgresInstallation.reportedMajorVersion(of: installation.binDirectory) == installation.majorVersion)
    }

    @Test func locateWithBogusDirectoryNamesTheAptFix() throws {
        let error = #expect(throws: EmbeddedServerError.self) {
            try PostgresInstallation.locate(binDirectory: "/nonexistent/pg/bin")
        }
        #expect(error == .binariesMissing(searched: ["/nonexistent/pg/bin"]))
        #expect(error?.description.contains("apt-get install -y postgresql") == true)
    }

    @Test func versionOutputIsParsed() {
        #expect(PostgresInstallation.parseMajorVersion("postgres (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)\n") == 15)
        #expect(PostgresInstallation.parseMajorVersion("postgres (PostgreSQL) 17beta1") == 17)
        #expect(PostgresInstallation.parseMajorVersion("something else") == nil)
    }

    // MARK: Layout

    @Test func layoutDerivesPathsAndRejectsBadRoots() throws {
        let layout = try EmbeddedLayout(root: "/var/lib/gmp/")
        #expect(layout.root == "/var/lib/gmp")
        #expect(layout.dataDirectory == "/var/lib/gmp/pgdata")
        #expect(layout.socketDirectory == "/var/lib/gmp/run")
        #expect(layout.logFile == "/var/lib/gmp/server.log")
        #expect(layout.socketPath == "/var/lib/gmp/run/.s.PGSQL.5432")

        #expect(throws: EmbeddedServerError.rootNotAbsolute("var/lib/gmp")) {
            try EmbeddedLayout(root: "var/lib/gmp")
        }
        // 89 bytes of root is the most that fits: 89 + "/run/.s.PGSQL.5432" (18) = 107.
        let longest = "/" + String(repeating: "a", count: 88)
        #expect(try EmbeddedLayout(root: longest).socketPath.utf8.count == 107)
        let tooLong = longest + "a"
        let error = #expect(throws: EmbeddedServerError.self) { try EmbeddedLayout(root: tooLong) }
        #expect(error == .socketPathTooLong(path: tooLong + "/run/.s.PGSQL.5432", length: 108, limit: 107))
        #expect(error?.description.contains("108 bytes") == true)
        #expect(error?.description.contains("GMP_DATA_DIR") == true)
    }

    @Test func defaultRootFollowsRootThenXDGThenHome() {
        let environment = ["XDG_DATA_HOME": "/home/ana/data", "HOME": "/home/ana"]
        #expect(EmbeddedLayout.defaultRoot(environment: environment, effectiveUserIsRoot: true) == "/var/lib/gmp")
        #expect(EmbeddedLayout.defaultRoot(environment: environment, effectiveUserIsRoot: false) == "/home/ana/data/gmp")
        #expect(EmbeddedLayout.defaultRoot(environment: ["HOME": "/home/ana"], effectiveUserIsRoot: false)
                == "/home/ana/.local/share/gmp")
        // A relative XDG_DATA_HOME is invalid by the XDG rules and ignored.
        #expect(EmbeddedLayout.defaultRoot(environment: ["XDG_DATA_HOME": "data", "HOME": "/home/ana"],
                                           effectiveUserIsRoot: false) == "/home/ana/.local/share/gmp")
    }

    // MARK: Server account

    @Test func serverAccountRules() throws {
        let asRoot = try ServerAccount.resolve(configuredUser: nil, effectiveUID: 0)
        #expect(asRoot.name == "postgres")
        #expect(asRoot.switchesUser)
        #expect(asRoot.peerMappedUsers == ["root", "postgres"])
        let invocation = asRoot.invocation(of: "/bin/initdb", ["-D", "x"])
        #expect(invocation.executable == "/usr/sbin/runuser")
        #expect(invocation.arguments == ["-u", "postgres", "--", "/bin/initdb", "-D", "x"])

        let missing = #expect(throws: EmbeddedServerError.self) {
            try ServerAccount.resolve(configuredUser: "gmp-no-such-user", effectiveUID: 0)
        }
        #expect(missing == .serverAccountMissing(user: "gmp-no-such-user"))
        #expect(missing?.fix.contains("apt-get install -y postgresql") == true)
        #expect(missing?.fix.contains("embedded.server_user") == true)
        #expect(throws: EmbeddedServerError.serverAccountIsRoot(user: "root")) {
            try ServerAccount.resolve(configuredUser: "root", effectiveUID: 0)
        }

        // Not root: the current account runs everything itself.
        let postgresUID = asRoot.uid
        let direct = try ServerAccount.resolve(configuredUser: nil, effectiveUID: postgresUID)
        #expect(direct.name == "postgres" && !direct.switchesUser && direct.peerMappedUsers == ["postgres"])
        #expect(direct.invocation(of: "/bin/pg_ctl", ["stop"]).executable == "/bin/pg_ctl")
        #expect(throws: EmbeddedServerError.serverAccountNotSwitchable(configured: "nobody", current: "postgres")) {
            try ServerAccount.resolve(configuredUser: "nobody", effectiveUID: postgresUID)
        }
    }

    // MARK: Cluster state and lifecycle

    @Test func fullLifecycle() throws {
        try withScratchCluster { cluster in
            let layout = cluster.layout
            #expect(cluster.state() == .uninitialized)
            #expect(try cluster.initialize() == true)
            #expect(try cluster.initialize() == false)
            #expect(cluster.state() == .stopped)
            #expect(!FileManager.default.fileExists(atPath: layout.stagingDirectory))
            #expect(EmbeddedCluster.dataVersion(in: layout) == cluster.installation.majorVersion)
            try expectOwnedByServerAccount(cluster, [layout.root, layout.dataDirectory, layout.socketDirectory,
                                                     layout.logFile, layout.dataDirectory + "/pg_hba.conf"])

            #expect(try cluster.start() == true)
            guard case .running(let pid) = cluster.state() else {
                Issue.record("expected a running server, got \(cluster.state())")
                return
            }
            #expect(kill(pid, 0) == 0)
            #expect(try cluster.start() == false)
            #expect(FileManager.default.fileExists(atPath: layout.socketPath))

            // Root reaches gmp_owner through the peer map, over the socket only.
            let query = try Subprocess.run("/usr/bin/psql", [
                "-X", "-h", layout.socketDirectory, "-U", EmbeddedCluster.superuser, "-d", "postgres",
                "-tAc", "select current_user || ' ' || current_setting('data_checksums') || ' ' || current_setting('TimeZone')",
            ])
            #expect(query.status == 0, "psql: \(query.output)")
            #expect(query.output.trimmingCharacters(in: .whitespacesAndNewlines) == "gmp_owner on UTC")

            let hba = try String(contentsOfFile: layout.dataDirectory + "/pg_hba.conf", encoding: .utf8)
            #expect(hba.contains("local   all   all         scram-sha-256"))
            #expect(hba.contains("local   all   gmp_owner   peer map=gmp_owner"))
            let ident = try String(contentsOfFile: layout.dataDirectory + "/pg_ident.conf", encoding: .utf8)
            #expect(ident.contains("gmp_owner root gmp_owner\n") && ident.contains("gmp_owner postgres gmp_owner\n"))

            #expect(try cluster.stop() == true)
            #expect(cluster.state() == .stopped)
            // pg_ctl returns once the server has removed its pid file and socket; the
            // process itself may linger a moment longer, so its pid is not checked.
            #expect(!FileManager.default.fileExists(atPath: layout.socketPath))
            #expect(try cluster.stop() == false)
        }
    }

    /// Issue 20, item 2: the server logs every failed and successful login to the jsonlog
    /// gmp reads, and slows wrong passwords; a cluster made before that gets it at start.
    @Test func olderClusterGetsTheLoginWatchAtStart() throws {
        try withScratchCluster { cluster in
            try cluster.initialize()
            try expectBlockAddedOnceAtStart(
                cluster, marker: EmbeddedCluster.loginWatchMarker,
                query: "select current_setting('logging_collector') || ' ' || current_setting('log_destination') || ' ' "
                    + "|| current_setting('log_connections') || ' ' || current_setting('auth_delay.milliseconds', true)"
            ) { answer in
                #expect(answer == "on stderr,jsonlog on 1s")
            }
        }
    }

    /// Issue 14: every backend would otherwise load PL/pgSQL itself (~1 ms of server CPU
    /// per gmp command); the postmaster preloads it, next to auth_delay, in a new cluster
    /// and, from its next start, in one made before.
    @Test func olderClusterGetsPLpgSQLPreloadedAtStart() throws {
        try withScratchCluster { cluster in
            try cluster.initialize()
            try expectBlockAddedOnceAtStart(
                cluster, marker: EmbeddedCluster.preloadMarker,
                query: "select current_setting('shared_preload_libraries') || ' ' || current_setting('auth_delay.milliseconds', true)"
            ) { answer in
                // gmp_chainer and gmp_audit_native too when installed: their blocks follow, repeating the line.
                let libraries = "plpgsql,auth_delay" + (cluster.chainerAvailable ? ",gmp_chainer" : "")
                    + (cluster.nativeAuditAvailable ? ",gmp_audit_native" : "")
                #expect(answer == "\(libraries) 1s")
            }
        }
    }

    /// Issue 19: the audit trail's background chainer (extension/gmp_chainer) is preloaded
    /// for database gmp when the installation has it, in a new cluster and, from its next
    /// start, in one made before; without the library nothing is added (the server would
    /// not start with it preloaded but missing).
    @Test func olderClusterGetsTheChainerAtStartWhenInstalled() throws {
        try withScratchCluster { cluster in
            try cluster.initialize()
            guard cluster.chainerAvailable else {
                let made = try String(contentsOfFile: cluster.layout.dataDirectory + "/postgresql.conf", encoding: .utf8)
                #expect(!made.contains(EmbeddedCluster.chainerMarker), "not installed: not preloaded")
                return
            }
            try expectBlockAddedOnceAtStart(
                cluster, marker: EmbeddedCluster.chainerMarker,
                query: "select current_setting('shared_preload_libraries') || ' ' || current_setting('gmp_chainer.databases')"
                    + " || ' ' || current_setting('gmp_chainer.naptime_ms') || ' ' || current_setting('gmp.audit_chain_events')"
            ) { answer in
                let libraries = "plpgsql" + (cluster.authDelayAvailable ? ",auth_delay" : "") + ",gmp_chainer"
                    + (cluster.nativeAuditAvailable ? ",gmp_audit_native" : "")
                #expect(answer == "\(libraries) gmp 200ms 20000")
            }
        }
    }

    /// Issue 18: what a fresh backend pays before its statements run (docs/server-settings.md).
    /// A new cluster asks for huge pages and preloads the audit trigger's library when
    /// installed; one made before gets both at its next start; the server runs with
    /// malloc on transparent huge pages; and what its shared memory lives on is read as
    /// the kernel shows it.
    @Test func freshBackendSettingsInNewAndOlderClusters() throws {
        try withScratchCluster { cluster in
            let layout = cluster.layout
            try cluster.initialize()
            let made = try String(contentsOfFile: layout.dataDirectory + "/postgresql.conf", encoding: .utf8)
            let marker = try #require(made.range(of: EmbeddedCluster.freshBackendMarker), "a new cluster has it")
            #expect(made[marker.lowerBound...].contains("\nhuge_pages = try\n"))
            #expect(SharedMemoryPages.of(layout) == nil, "no server running")
            try expectBlockAddedOnceAtStart(
                cluster, marker: EmbeddedCluster.freshBackendMarker,
                query: "select current_setting('huge_pages') || ' ' || current_setting('shared_preload_libraries')"
            ) { answer in
                let libraries = "plpgsql" + (cluster.authDelayAvailable ? ",auth_delay" : "")
                    + (cluster.chainerAvailable ? ",gmp_chainer" : "") + (cluster.nativeAuditAvailable ? ",gmp_audit_native" : "")
                #expect(answer == "try \(libraries)")

                guard case .running(let pid) = cluster.state() else {
                    Issue.record("expected a running server, got \(cluster.state())")
                    return
                }
                // The postmaster's environment (root reads it): malloc's huge pages asked for.
                let environ = try #require(FileManager.default.contents(atPath: "/proc/\(pid)/environ"))
                #expect(environ.split(separator: 0).contains { String(decoding: $0, as: UTF8.self)
                    .hasPrefix("GLIBC_TUNABLES=") && String(decoding: $0, as: UTF8.self).contains("glibc.malloc.hugetlb=1") })
                // Huge pages exactly when the kernel mapped the shared memory on them.
                let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
                let pages = try #require(SharedMemoryPages.of(layout))
                if maps.contains("/anon_hugepage") {
                    guard case .huge(let kilobytes) = pages else {
                        Issue.record("maps show huge pages, read \(pages)")
                        return
                    }
                    #expect(kilobytes > 0)
                } else {
                    #expect(pages == .ordinary)
                }
            }
        }
    }

    /// What every "a cluster made before this block gets it at its next start" test does
    /// around its own check: cut the block that starts at `marker` from a new cluster's
    /// postgresql.conf (as in a cluster made before gmp wrote it), start, and the block is
    /// there again exactly once; `check` gets psql's answer to `query` while the server
    /// runs; a second start adds nothing.
    private func expectBlockAddedOnceAtStart(
        _ cluster: EmbeddedCluster, marker: String, query: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        whileRunning check: (_ answer: String) throws -> Void
    ) throws {
        let path = cluster.layout.dataDirectory + "/postgresql.conf"
        let made = try String(contentsOfFile: path, encoding: .utf8)
        let cut = try #require(made.range(of: marker), "a new cluster has it", sourceLocation: sourceLocation)
        try String(made[..<cut.lowerBound]).write(toFile: path, atomically: false, encoding: .utf8)
        let blocks = { try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: marker).count - 1 }
        try cluster.start()
        defer { _ = try? cluster.stop() }
        #expect(try blocks() == 1, "added once", sourceLocation: sourceLocation)
        let answer = try Subprocess.run("/usr/bin/psql", [
            "-X", "-h", cluster.layout.socketDirectory, "-U", EmbeddedCluster.superuser, "-d", "postgres", "-tAc", query,
        ])
        try check(answer.output.trimmingCharacters(in: .whitespacesAndNewlines))
        try cluster.stop()
        try cluster.start()
        #expect(try blocks() == 1, "a second start adds nothing", sourceLocation: sourceLocation)
    }

    @Test func sharedMemoryPagesReadFromProcStatus() {
        let status = "Name:\tpostgres\nUmask:\t0077\nState:\tS (sleeping)\nVmRSS:\t   22000 kB\nHugetlbPages:\t   16384 kB\n"
        #expect(SharedMemoryPages.parse(status: status) == .huge(kilobytes: 16_384))
        #expect(SharedMemoryPages.parse(status: status.replacing("   16384 kB", with: "       0 kB")) == .ordinary)
        // A pid reused by another program, or a kernel before 4.4 without the line: unknown.
        #expect(SharedMemoryPages.parse(status: status.replacing("postgres", with: "bash")) == nil)
        #expect(SharedMemoryPages.parse(status: "Name:\tpostgres\nVmRSS:\t1 kB\n") == nil)
    }

    @Test func serverEnvironmentAsksMallocForHugePages() {
        #expect(EmbeddedCluster.serverEnvironment(from: ["LANG": "C"])
                == ["LANG": "C", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"])
        #expect(EmbeddedCluster.serverEnvironment(from: ["GLIBC_TUNABLES": "glibc.malloc.arena_max=2"])["GLIBC_TUNABLES"]
                == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1")
        // The caller's own choice for malloc's huge pages stands.
        #expect(EmbeddedCluster.serverEnvironment(from: ["GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"])["GLIBC_TUNABLES"]
                == "glibc.malloc.hugetlb=0")
    }

    @Test func stalePidFileReadsAsStopped() throws {
        try withScratchCluster { cluster in
            // Only files decide the state, so a hand-made "cluster" is enough here.
            let layout = cluster.layout
            try FileManager.default.createDirectory(atPath: layout.dataDirectory, withIntermediateDirectories: true)
            try "15\n".write(toFile: layout.versionFile, atomically: false, encoding: .utf8)
            #expect(cluster.state() == .stopped)

            // A pid from a process that has exited.
            let exited = Process()
            exited.executableURL = URL(fileURLWithPath: "/bin/true")
            try exited.run()
            exited.waitUntilExit()
            try "\(exited.processIdentifier)\n\(layout.dataDirectory)\n".write(
                toFile: layout.pidFile, atomically: false, encoding: .utf8)
            #expect(cluster.state() == .stopped)

            // A pid that was reused by an unrelated live process (this test runner).
            try "\(getpid())\n\(layout.dataDirectory)\n".write(toFile: layout.pidFile, atomically: false, encoding: .utf8)
            #expect(cluster.state() == .stopped)
        }
    }

    @Test func startWithoutClusterThrows() throws {
        try withScratchCluster { cluster in
            #expect(throws: EmbeddedServerError.notInitialized(dataDirectory: cluster.layout.dataDirectory)) {
                try cluster.start()
            }
            let stopped = try cluster.stop()
            #expect(stopped == false)
        }
    }

    @Test func dataDirectoryWithOtherFilesIsRefused() throws {
        try withScratchCluster { cluster in
            let layout = cluster.layout
            try FileManager.default.createDirectory(atPath: layout.dataDirectory, withIntermediateDirectories: true)
            try "not a cluster".write(toFile: layout.dataDirectory + "/notes.txt", atomically: false, encoding: .utf8)
            #expect(throws: EmbeddedServerError.dataDirectoryNotACluster(path: layout.dataDirectory)) {
                try cluster.initialize()
            }
        }
    }

    @Test func failedInitdbLeavesNoCluster() throws {
        try withScratchCluster { cluster in
            // An initdb that gets as far as PG_VERSION and then fails.
            let bin = cluster.layout.root + "-fakebin"
            defer { try? FileManager.default.removeItem(atPath: bin) }
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            for program in PostgresInstallation.requiredPrograms {
                let script = program == "initdb"
                    ? "#!/bin/sh\necho 15 > \"$2/PG_VERSION\"\necho 'initdb: disk on fire' >&2\nexit 1\n"
                    : "#!/bin/sh\nexit 1\n"
                try script.write(toFile: "\(bin)/\(program)", atomically: false, encoding: .utf8)
                chmod("\(bin)/\(program)", 0o755)
            }
            chmod(bin, 0o755)
            let broken = EmbeddedCluster(
                layout: cluster.layout, installation: PostgresInstallation(binDirectory: bin, majorVersion: 15),
                account: cluster.account)

            let error = #expect(throws: EmbeddedServerError.self) { try broken.initialize() }
            guard case .commandFailed(let command, let status, let output) = error else {
                Issue.record("expected commandFailed, got \(String(describing: error))")
                return
            }
            #expect(command.contains("initdb") && status == 1 && output.contains("disk on fire"))
            #expect(broken.state() == .uninitialized)
            #expect(!FileManager.default.fileExists(atPath: cluster.layout.dataDirectory))
            #expect(!FileManager.default.fileExists(atPath: cluster.layout.stagingDirectory))
        }
    }

    @Test func longCommandOutputIsCut() throws {
        let error = #expect(throws: EmbeddedServerError.self) {
            try Subprocess.run("/bin/sh", ["-c", "head -c 200000 /dev/zero | tr '\\0' x; exit 3"]).checked()
        }
        guard case .commandFailed(_, let status, let output) = error else {
            Issue.record("expected commandFailed, got \(String(describing: error))")
            return
        }
        #expect(status == 3)
        #expect(output.utf8.count <= EmbeddedServerError.excerptLimit + 3)
    }
}

// MARK: - Helpers

/// Runs `body` with a cluster under a fresh, short temporary root, and afterwards stops
/// any server it started and removes the root, whether `body` passed, failed or threw.
private func withScratchCluster(_ body: (EmbeddedCluster) throws -> Void) throws {
    var template = Array("/tmp/gmpe.XXXXXX".utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
        throw EmbeddedServerError.fileSystem(path: "/tmp", operation: "create a temporary directory in", reason: "mkdtemp failed")
    }
    let base = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    // mkdtemp makes the directory 0700; the server account must be able to pass through.
    chmod(base, 0o755)
    let cluster = try EmbeddedCluster(
        layout: EmbeddedLayout(root: base + "/gmp"),
        installation: PostgresInstallation.locate(binDirectory: nil),
        account: ServerAccount.resolve(configuredUser: nil))
    defer {
        if case .running(let pid) = cluster.state(), (try? cluster.stop()) != true {
            kill(pid, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: base)
    }
    try body(cluster)
}

private func expectOwnedByServerAccount(_ cluster: EmbeddedCluster, _ paths: [String],
                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
    for path in paths {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let owner = (attributes[.ownerAccountID] as? NSNumber)?.uint32Value
        #expect(owner == cluster.account.uid, "\(path) is owned by uid \(owner.map(String.init) ?? "?")",
                sourceLocation: sourceLocation)
    }
}
