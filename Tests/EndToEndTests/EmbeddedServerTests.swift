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
