import Foundation
import Testing
import TestSupport

@Suite("The embedded server from first use to stop, through the binary")
struct EmbeddedServerTests {
    @Test("status before creation, start (twice), migrate, doctor, status, stop (twice), doctor after stop")
    func lifecycle() throws {
        try withPrivateDataDirectory { root, environment in
            expectOneLineError(try GMPBinary.run(["db", "status"], environment: environment), exit: 69,
                               mentioning: ["no embedded server", "gmp db start"])

            let start = try GMPBinary.run(["db", "start", "--json"], environment: environment)
            #expect(start.status == 0, "\(start)")
            let started = try start.json()
            #expect(started["state"] as? String == "running")
            #expect(started["initialized_now"] as? Bool == true)
            #expect(started["started_now"] as? Bool == true)
            #expect((started["pid"] as? Int ?? 0) > 0)

            let again = try GMPBinary.run(["db", "start"], environment: environment)
            #expect(again.status == 0, "\(again)")
            #expect(again.stdout.contains("already running"))

            let migrate = try GMPBinary.run(["db", "migrate"], environment: environment)
            #expect(migrate.status == 0, "\(migrate)")

            let doctor = try GMPBinary.run(["doctor", "--json"], environment: environment)
            #expect(doctor.status == 0, "\(doctor)")
            #expect(try doctor.json()["healthy"] as? Bool == true)

            let status = try GMPBinary.run(["db", "status", "--json"], environment: environment)
            #expect(status.status == 0, "\(status)")
            let document = try status.json()
            #expect((document["target"] as? [String: Any])?["data_directory"] as? String == root)
            #expect((document["server"] as? [String: Any])?["user"] as? String == "gmp_owner")
            #expect((document["server"] as? [String: Any])?["database"] as? String == "gmp")
            #expect((document["schema"] as? [String: Any])?["up_to_date"] as? Bool == true)

            // Only the socket: no TCP listener, and password authentication for everyone but the owner.
            let hba = try String(contentsOfFile: root + "/pgdata/pg_hba.conf", encoding: .utf8)
            #expect(hba.contains("scram-sha-256"))
            let stop = try GMPBinary.run(["db", "stop", "--json"], environment: environment)
            #expect(stop.status == 0, "\(stop)")
            #expect(try stop.json()["stopped_now"] as? Bool == true)
            let stopAgain = try GMPBinary.run(["db", "stop"], environment: environment)
            #expect(stopAgain.status == 0)
            #expect(stopAgain.stdout.contains("not running"))

            expectOneLineError(try GMPBinary.run(["doctor"], environment: environment), exit: 69, mentioning: ["gmp db start"])
        }
    }

    /// Issue 18 (docs/server-settings.md): with huge pages reserved (as root; 80 more,
    /// given back afterwards) the server's shared memory may land on them. db status and
    /// doctor say which, as the kernel's view of the postmaster shows it; PostgreSQL 15
    /// has no setting that tells.
    @Test("db status and doctor say whether the shared memory is on huge pages, as /proc shows it")
    func sharedMemoryPages() throws {
        let found = Self.reserveHugePages(80)
        defer { found.map { try? "\($0)\n".write(toFile: Self.hugePagesSetting, atomically: false, encoding: .utf8) } }
        try withPrivateDataDirectory { _, environment in
            let start = try GMPBinary.run(["db", "start", "--json"], environment: environment)
            #expect(start.status == 0, "\(start)")
            let pid = try #require(try start.json()["pid"] as? Int)
            let onHugePages = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8).contains("/anon_hugepage")
            #expect(try GMPBinary.run(["db", "migrate"], environment: environment).status == 0)

            let status = try GMPBinary.run(["db", "status", "--json"], environment: environment)
            #expect(status.status == 0, "\(status)")
            let server = try #require(try status.json()["server"] as? [String: Any])
            #expect(server["shared_memory_pages"] as? String == (onHugePages ? "huge" : "ordinary"), "\(server)")
            let text = try GMPBinary.run(["db", "status"], environment: environment)
            #expect(text.stdout.contains(onHugePages ? "memory   shared memory on huge pages"
                                                     : "memory   shared memory on ordinary pages"), "\(text.stdout)")

            let doctor = try GMPBinary.run(["doctor", "--json"], environment: environment)
            let checks = try #require(try doctor.json()["checks"] as? [[String: Any]])
            let embedded = try #require(checks.first { $0["name"] as? String == "embedded" })
            #expect((embedded["detail"] as? String ?? "").contains(onHugePages ? "shared memory on huge pages (" : "shared memory on ordinary pages"),
                    "\(embedded)")
            #expect(embedded["status"] as? String == "ok")
        }
    }

    static let hugePagesSetting = "/proc/sys/vm/nr_hugepages"

    /// Raises vm.nr_hugepages by `pages` when this process may (root); the value found, to
    /// put back, or nil when nothing was changed.
    private static func reserveHugePages(_ pages: Int) -> Int? {
        guard getuid() == 0, let text = try? String(contentsOfFile: hugePagesSetting, encoding: .utf8),
              let found = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              (try? "\(found + pages)\n".write(toFile: hugePagesSetting, atomically: false, encoding: .utf8)) != nil
        else { return nil }
        return found
    }

    @Test("first use: db migrate alone creates and starts the embedded server")
    func firstUse() throws {
        try withPrivateDataDirectory { _, environment in
            let migrate = try GMPBinary.run(["db", "migrate"], environment: environment)
            #expect(migrate.status == 0, "\(migrate)")
            #expect(migrate.stderr.contains("created the embedded database cluster"))
            #expect(migrate.stdout.contains("code file(s); schema version") && migrate.stdout.contains("up to date"), "\(migrate)")
        }
    }

    @Test("missing PostgreSQL programs: 69, naming the apt command, and nothing is created")
    func missingPrograms() throws {
        try withPrivateDataDirectory { root, environment in
            let run = try GMPBinary.run(["db", "start"], environment: environment.merging(["GMP_PG_BINDIR": "/nonexistent/bin"]) { $1 })
            expectOneLineError(run, exit: 69, mentioning: ["apt-get install -y postgresql"])
            #expect(!FileManager.default.fileExists(atPath: root + "/pgdata"))
        }
    }

    /// Runs `body` with a fresh embedded data directory (GMP_DATA_DIR) and stops its
    /// server and removes it afterwards, whatever happened. The path is short: the
    /// server's socket path must fit in 107 bytes.
    private func withPrivateDataDirectory(_ body: (String, [String: String]) throws -> Void) throws {
        let root = "/tmp/gmp-e2e-" + UUID().uuidString.prefix(8).lowercased()
        let environment = ["GMP_DATA_DIR": root]
        defer {
            _ = try? GMPBinary.run(["db", "stop"], environment: environment)
            try? FileManager.default.removeItem(atPath: root)
        }
        try body(root, environment)
    }
}
