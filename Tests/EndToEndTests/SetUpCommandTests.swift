import Foundation
import Testing
import TestSupport

/// Issue 16, item 5: a first set-up from the binary alone. `gmp config init` writes the
/// configuration gmp was built with, `gmp config show` says where each value came from,
/// `gmp facility apply` works from that file, and the documentation help and errors name
/// is built in (`gmp help TOPIC`).
@Suite("set-up without the source tree: config init and show, facility apply, help topics")
struct SetUpCommandTests {
    /// A scratch directory standing in for a new user's home; removed afterwards.
    static func withHome<T>(_ body: (String) throws -> T) throws -> T {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-home-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        return try body(home)
    }

    /// The shipped starter file, read from the sources this test was built from.
    static var shippedConfiguration: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return try String(contentsOf: root.appendingPathComponent("config/gmp.yaml"), encoding: .utf8)
        }
    }

    @Test("config init writes the shipped file where gmp reads it, never over an existing one without --force")
    func configInit() throws {
        try Self.withHome { home in
            let environment = ["XDG_CONFIG_HOME": home + "/config", "HOME": home]
            let first = try GMPBinary.run(["config", "init", "--json"], environment: environment)
            #expect(first.status == 0, "\(first)")
            let path = home + "/config/gmp/gmp.yaml"
            #expect(try first.json()["path"] as? String == path)
            #expect(try first.json()["replaced"] as? Bool == false)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == (try Self.shippedConfiguration))

            try "facility:\n  isbt128_facility: W9999\n".write(toFile: path, atomically: true, encoding: .utf8)
            let again = try GMPBinary.run(["config", "init"], environment: environment)
            expectOneLineError(again, exit: 65, mentioning: [path, "--force"])
            #expect(try String(contentsOfFile: path, encoding: .utf8).contains("W9999"), "an existing file is kept")
            let forced = try GMPBinary.run(["config", "init", "--force"], environment: environment)
            #expect(forced.status == 0 && forced.stdout == "wrote \(path) (replaced)\n", "\(forced)")

            // A broken file is what init --force repairs, and help works meanwhile.
            try "database: [\n".write(toFile: path, atomically: true, encoding: .utf8)
            expectOneLineError(try GMPBinary.run(["config", "show"], environment: environment), exit: 78, mentioning: ["gmp config init"])
            #expect(try GMPBinary.run(["help", "errors"], environment: environment).status == 0)
            #expect(try GMPBinary.run(["config", "init", "--force"], environment: environment).status == 0)
            #expect(try GMPBinary.run(["config", "show"], environment: environment).status == 0)

            // An explicit path, in a directory that does not exist yet.
            let elsewhere = home + "/etc/gmp/site.yaml"
            let explicit = try GMPBinary.run(["config", "init", elsewhere], environment: environment)
            #expect(explicit.status == 0, "\(explicit)")
            #expect(FileManager.default.fileExists(atPath: elsewhere))
        }
    }

    @Test("config show: each value and where it came from (default, file, environment, flag), --json")
    func configShow() throws {
        try Self.withHome { home in
            let path = home + "/gmp.yaml"
            try """
                database:
                  connect_timeout: 9
                output:
                  color: always
                facility:
                  isbt128_facility: W9999
                  max_passage: 4
                  max_population_doublings: 20

                """.write(toFile: path, atomically: true, encoding: .utf8)
            let run = try GMPBinary.run(["config", "show", "--json", "--color", "never", "-U", "quinn"],
                                        environment: ["GMP_CONFIG": path, "GMP_DATA_DIR": home + "/data"])
            #expect(run.status == 0, "\(run)")
            let settings = try #require(try run.json()["settings"] as? [[String: Any]], "\(run)")
            func entry(_ key: String) -> (value: String?, origin: String?, source: String?) {
                let found = settings.first { $0["key"] as? String == key }
                return (found?["value"] as? String, found?["origin"] as? String, found?["source"] as? String)
            }
            #expect(entry("config_file").value == path && entry("config_file").origin == "environment"
                    && entry("config_file").source == "GMP_CONFIG")
            #expect(entry("database.connection").value == nil && entry("database.connection").origin == "default")
            #expect(entry("embedded.data_dir").value == home + "/data" && entry("embedded.data_dir").origin == "environment")
            #expect(entry("database.connect_timeout").value == "9" && entry("database.connect_timeout").origin == "file")
            #expect(entry("database.connect_timeout").source == path)
            #expect(entry("output.color").value == "never" && entry("output.color").origin == "flag"
                    && entry("output.color").source == "--color")
            #expect(entry("user").value == "quinn" && entry("user").origin == "flag")
            #expect(entry("facility.isbt128_facility").value == "W9999" && entry("facility.isbt128_facility").origin == "file")
            #expect(entry("embedded.server_user").origin == "default")

            let text = try GMPBinary.run(["config", "show"], environment: ["GMP_CONFIG": path, "NO_COLOR": "1"])
            #expect(text.status == 0, "\(text)")
            let color = try #require(text.stdout.split(separator: "\n").first { $0.hasPrefix("output.color") }, "\(text)")
            #expect(color.contains("never") && color.contains("environment: NO_COLOR"), "\(text)")
            #expect(text.stdout.contains("(the embedded server)"))
        }
    }

    @Test("a new user sets up the facility from the file config init wrote, in a directory with no gmp sources")
    func facilityApplyWithoutSources() throws {
        try TestServer.withMigratedDatabase { database in
            try Self.withHome { home in
                let admin = try TestAccount.create(in: database, roles: ["admin"])
                let environment = ["XDG_CONFIG_HOME": home, "HOME": home, "PGPASSWORD": admin.password]
                let before = try GMPBinary.run(["facility", "apply", "--reason", "first set-up", "-d", database, "-U", admin.id],
                                               environment: environment)
                expectOneLineError(before, exit: 78, mentioning: ["gmp config init"])
                #expect(!before.stderr.contains("config/gmp.yaml"), "the fix names what ships: \(before)")
                #expect(try GMPBinary.run(["config", "init"], environment: environment).status == 0)
                let apply = try GMPBinary.run(["facility", "apply", "--reason", "first set-up", "--json", "-d", database, "-U", admin.id],
                                              environment: environment, workingDirectory: home)
                #expect(apply.status == 0, "\(apply)")
                #expect(try apply.json()["isbt128_facility"] as? String == "G1234", "the starter file's example number")
                #expect(try apply.json()["max_passage"] as? Int == 10)
            }
        }
    }

    @Test("gmp help TOPIC prints the documentation built into the binary; gmp help COMMAND still shows the command's help")
    func helpTopics() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let signatures = try String(contentsOf: root.appendingPathComponent("docs/signatures.md"), encoding: .utf8)
        let topic = try GMPBinary.run(["help", "signatures"])
        #expect(topic.status == 0, "\(topic)")
        #expect(topic.stdout.trimmingCharacters(in: .newlines) == signatures.trimmingCharacters(in: .newlines))
        let list = try GMPBinary.run(["docs"])
        for name in ["errors", "signatures", "qc-and-release", "storage-and-distribution", "json-output"] {
            #expect(list.stdout.contains(name), "\(name) missing from \(list)")
        }
        let command = try GMPBinary.run(["help", "lot", "create"])
        #expect(command.status == 0 && command.stdout.contains("--stage"), "\(command)")
        expectOneLineError(try GMPBinary.run(["docs", "no-such-topic"]), exit: 64, mentioning: ["signatures"])
        let spec = try GMPBinary.run(["docs", "--spec", "uc-msc"])
        #expect(spec.stdout.hasPrefix(try String(contentsOf: root.appendingPathComponent("config/specs/uc-msc.yaml"), encoding: .utf8)
            .trimmingCharacters(in: .newlines)), "\(spec)")
    }

    @Test("no help page points to a file of the sources (docs/*.md, config/…); every 'gmp help TOPIC' it names exists")
    func helpPointsToWhatShips() throws {
        let dump = try GMPBinary.run(["--experimental-dump-help"])
        #expect(dump.status == 0)
        for path in ["docs/", "config/gmp.yaml", "config/specs", "in the gmp sources"] {
            #expect(!dump.stdout.contains(path), "a help page names \(path), which does not ship with the binary")
        }
        let named = Set(dump.stdout.matches(of: /gmp help ([a-z][a-z-]+)/).map { String($0.1) })
        #expect(!named.isEmpty)
        let commands: Set<String> = ["lot", "db", "user"]
        for topic in named.subtracting(commands) {
            #expect(try GMPBinary.run(["help", topic]).status == 0, "gmp help \(topic) is named but does not exist")
        }
    }
}
