import Foundation
import Testing
@testable import GMPCLI
import GMPRules

@Suite("Settings: flags, then environment, then the file, then defaults")
struct SettingsTests {
    func resolve(flag: String? = nil, color: ColorChoice? = nil, env: [String: String] = [:],
                 yaml: String? = nil, root: Bool = true) throws -> Settings {
        let file = try yaml.map { try ConfigFile.parse($0, path: "test.yaml") }
        return try Settings.resolve(databaseFlag: flag, colorFlag: color, environment: env, file: file,
                                    configPath: yaml == nil ? nil : "test.yaml", effectiveUserIsRoot: root)
    }

    let fileWithServer = "database:\n  connection: \"host=file.example dbname=gmp\"\n"

    @Test("no configuration means the embedded server in its default place")
    func defaults() throws {
        let settings = try resolve(env: ["HOME": "/home/ann"])
        #expect(settings.target == .embedded(EmbeddedSettings(root: "/var/lib/gmp", serverUser: nil, binDirectory: nil)))
        #expect(try resolve(env: ["HOME": "/home/ann"], root: false).target
            == .embedded(EmbeddedSettings(root: "/home/ann/.local/share/gmp", serverUser: nil, binDirectory: nil)))
        #expect(settings.connectTimeoutSeconds == 5)
        #expect(settings.color == .auto)
    }

    @Test("--database beats GMP_DATABASE, which beats PG*, which beats the file")
    func targetPrecedence() throws {
        let env = ["GMP_DATABASE": "dbname=from_env", "PGHOST": "/run/pg"]
        #expect(try resolve(flag: "dbname=from_flag", env: env, yaml: fileWithServer).target
            == .configured(connectionString: "dbname=from_flag", source: .flag))
        #expect(try resolve(env: env, yaml: fileWithServer).target
            == .configured(connectionString: "dbname=from_env", source: .environment("GMP_DATABASE")))
        #expect(try resolve(env: ["PGHOST": "/run/pg", "PGUSER": "ann"], yaml: fileWithServer).target
            == .configured(connectionString: "", source: .libpqEnvironment(["PGHOST", "PGUSER"])))
        #expect(try resolve(yaml: fileWithServer).target
            == .configured(connectionString: "host=file.example dbname=gmp", source: .configFile("test.yaml")))
    }

    @Test("GMP_DATA_DIR beats embedded.data_dir")
    func dataDirectoryPrecedence() throws {
        let yaml = "embedded:\n  data_dir: /srv/gmp\n  server_user: pgsvc\n"
        #expect(try resolve(yaml: yaml).target == .embedded(EmbeddedSettings(root: "/srv/gmp", serverUser: "pgsvc", binDirectory: nil)))
        #expect(try resolve(env: ["GMP_DATA_DIR": "/data/gmp"], yaml: yaml).target
            == .embedded(EmbeddedSettings(root: "/data/gmp", serverUser: "pgsvc", binDirectory: nil)))
    }

    @Test("a password in the file's connection string is refused")
    func noSecretsInFiles() {
        #expect(throws: ConfigurationError.self) {
            try resolve(yaml: "database:\n  connection: \"host=x password=hunter2\"\n")
        }
        #expect(throws: ConfigurationError.self) {
            try resolve(yaml: "database:\n  connection: \"postgresql://ann:hunter2@x/gmp\"\n")
        }
    }

    @Test("a malformed connection string in the file is a configuration error")
    func malformedInFile() {
        #expect { try resolve(yaml: "database:\n  connection: \"host=x port\"\n") } throws: { error in
            (error as? ConfigurationError)?.problem.contains("malformed connection string") == true
        }
    }

    @Test("colour: --color, then NO_COLOR, then the file")
    func color() throws {
        #expect(try resolve(env: ["NO_COLOR": "1"], yaml: "output:\n  color: always\n").color == .never)
        #expect(try resolve(color: .always, env: ["NO_COLOR": "1"]).color == .always)
        #expect(try resolve(yaml: "output:\n  color: never\n").color == .never)
        #expect(try resolve(env: ["NO_COLOR": ""]).color == .auto)
    }

    @Test("connect_timeout must be a positive whole number")
    func timeout() throws {
        #expect(try resolve(yaml: "database:\n  connect_timeout: 12\n").connectTimeoutSeconds == 12)
        #expect(throws: ConfigurationError.self) { try resolve(yaml: "database:\n  connect_timeout: 0\n") }
        #expect(throws: ConfigurationError.self) { try resolve(yaml: "database:\n  connect_timeout: soon\n") }
    }
}

@Suite("The configuration file is strict")
struct ConfigFileTests {
    @Test("unknown sections and keys are refused with the valid ones named", arguments: [
        ("databse:\n  connection: x\n", "unknown section 'databse'"),
        ("database:\n  conection: x\n", "unknown key 'database.conection'"),
        ("output:\n  colour: never\n", "unknown key 'output.colour'"),
    ])
    func unknownKeys(yaml: String, message: String) {
        #expect { try ConfigFile.parse(yaml, path: "f.yaml") } throws: { error in
            (error as? ConfigurationError)?.problem.contains(message) == true
        }
    }

    @Test("invalid YAML and invalid values are refused", arguments: [
        "database: [unclosed\n", "- a list\n", "output:\n  color: sometimes\n",
    ])
    func invalid(yaml: String) {
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse(yaml, path: "f.yaml") }
    }

    @Test("an empty file is an empty configuration")
    func empty() throws {
        #expect(try ConfigFile.parse("", path: "f.yaml") == ConfigFile())
        #expect(try ConfigFile.parse("# only comments\n", path: "f.yaml") == ConfigFile())
    }

    @Test("the documented config/gmp.yaml parses and sets what it says")
    func shippedFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/gmp.yaml").path
        let file = try ConfigFile.parse(String(contentsOfFile: path, encoding: .utf8), path: path)
        #expect(file.database?.connection == nil)
        #expect(file.database?.connectTimeout == 5)
        #expect(file.output?.color == .auto)
        #expect(file.facility == ConfigFile.Facility(isbt128Facility: "G1234", maxPassage: 10, maxPopulationDoublings: 40,
                                                     name: "Example Cell Therapy Facility",
                                                     address: "1 Example Road\nExample City, EX 00000\n"))
        #expect(file.productCodes == [:], "the starter file names no product code: labels say they carry a placeholder")
    }

    @Test("product codes: per product, validated, their origin kept; a product left out keeps its placeholder")
    func productCodes() throws {
        let file = try ConfigFile.parse("product_codes:\n  drug_product/cells: S1234\n", path: "f.yaml")
        #expect(file.productCodes == ["drug_product/cells": "S1234"])
        let settings = try Settings.resolve(databaseFlag: nil, colorFlag: nil, environment: [:], file: file,
                                            configPath: "f.yaml", effectiveUserIsRoot: false)
        #expect(settings.productCodes == ["drug_product/cells": "S1234"])
        #expect(settings.origins["product_codes.drug_product/cells"] == .file("f.yaml"))
        #expect(settings.origins["product_codes.master_cell_bank/cells"] == .builtIn)
        #expect(ProductDescriptionCodes.code(stage: "drug_product", productKind: "cells", configured: settings.productCodes) == "S1234")
        #expect(ProductDescriptionCodes.code(stage: "master_cell_bank", productKind: "cells", configured: settings.productCodes) == "S9001")
        for bad in ["S123", "s1234", "S12345", "SS123", "S 123"] {
            #expect { try ConfigFile.parse("product_codes:\n  drug_product/cells: \"\(bad)\"\n", path: "f.yaml") } throws: { error in
                (error as? ConfigurationError)?.problem.contains("'product_codes.drug_product/cells' is not valid") == true
            }
        }
        #expect { try ConfigFile.parse("product_codes:\n  drug_product/cell: S1234\n", path: "f.yaml") } throws: { error in
            (error as? ConfigurationError)?.problem.contains("unknown key 'product_codes.drug_product/cell'") == true
        }
    }

    @Test("a value of the wrong kind names its key", arguments: [
        ("facility:\n  max_passage: ten\n", "'facility.max_passage' is not valid"),
        ("database:\n  connection: [a, b]\n", "'database.connection' is not valid"),
        ("output:\n  color: sometimes\n", "'output.color' is not valid"),
    ])
    func wrongKind(yaml: String, message: String) {
        #expect { try ConfigFile.parse(yaml, path: "f.yaml") } throws: { error in
            (error as? ConfigurationError)?.problem.contains(message) == true
        }
    }

    @Test("an explicit --config path that does not exist is an error; default places are optional")
    func locator() throws {
        #expect(throws: ConfigurationError.self) {
            try ConfigLocator.load(explicitPath: "/nonexistent/gmp.yaml", environment: [:])
        }
        #expect(try ConfigLocator.load(explicitPath: nil, environment: ["XDG_CONFIG_HOME": "/nonexistent"]) == nil
                || FileManager.default.fileExists(atPath: "/etc/gmp/gmp.yaml"))
        #expect(ConfigLocator.defaultPaths(environment: ["HOME": "/home/ann"]) == ["/home/ann/.config/gmp/gmp.yaml", "/etc/gmp/gmp.yaml"])
    }
}
