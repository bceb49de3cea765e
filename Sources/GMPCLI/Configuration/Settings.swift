#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPDatabase
import GMPRules
import PostgresClient

/// Where a configured connection came from, for messages and `gmp doctor`.
/// The connection string itself is never shown: it may hold a password.
enum ConnectionSource: Equatable, CustomStringConvertible {
    case flag
    case environment(String)
    case libpqEnvironment([String])
    case configFile(String)

    var description: String {
        switch self {
        case .flag: "the --database option"
        case .environment(let name): "the \(name) environment variable"
        case .libpqEnvironment(let names): "the libpq environment (\(names.joined(separator: ", ")))"
        case .configFile(let path): "database.connection in \(path)"
        }
    }
}

/// Where one setting's value came from, lowest precedence first: gmp's built-in default,
/// the configuration file, an environment variable, a command-line flag.
enum SettingOrigin: Equatable, CustomStringConvertible {
    case builtIn
    case file(String)
    case environment(String)
    case flag(String)

    /// The kind, as `gmp config show --json` names it.
    var kind: String {
        switch self {
        case .builtIn: "default"
        case .file: "file"
        case .environment: "environment"
        case .flag: "flag"
        }
    }

    /// The file, variable or flag, if any.
    var detail: String? {
        switch self {
        case .builtIn: nil
        case .file(let name), .environment(let name), .flag(let name): name
        }
    }

    var description: String { detail.map { "\(kind) (\($0))" } ?? kind }
}

/// Which server gmp talks to.
enum DatabaseTarget: Equatable {
    /// A server someone configured: used as-is, never started or stopped by gmp.
    case configured(connectionString: String, source: ConnectionSource)
    /// gmp's own private server under this directory.
    case embedded(EmbeddedSettings)
}

/// How the embedded server is laid out and run.
struct EmbeddedSettings: Equatable {
    var root: String
    var serverUser: String?
    var binDirectory: String?
}

/// Everything a command needs to know from flags, environment and configuration file,
/// resolved once with the precedence documented in the README:
/// flags, then environment (`GMP_*`, libpq's `PG*`), then the file, then defaults.
struct Settings: Equatable {
    var target: DatabaseTarget
    var connectTimeoutSeconds: Int
    var color: ColorChoice
    /// The personal account to log in as (--user, GMP_USER); nil leaves it to the
    /// connection string, libpq's PGUSER, or the embedded server's owner.
    var user: String?
    /// The configuration file that was read, if any.
    var configPath: String?
    /// The configuration file's facility section, if any (gmp facility apply).
    var facility: ConfigFile.Facility? = nil
    /// The configured ISBT 128 product description codes, by product (labels).
    var productCodes: [String: String] = [:]
    /// Where each setting's value came from, by configuration key (`gmp config show`).
    var origins: [String: SettingOrigin] = [:]

    /// libpq variables that name a server; any of them means "a server is configured".
    static let libpqTargetVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"]

    /// Resolves settings. Pure: the environment and file are passed in.
    static func resolve(databaseFlag: String?, userFlag: String? = nil, colorFlag: ColorChoice?, environment: [String: String],
                        file: ConfigFile?, configPath: String?, effectiveUserIsRoot: Bool) throws -> Settings {
        var origins: [String: SettingOrigin] = [:]
        let fileOrigin = SettingOrigin.file(configPath ?? "the configuration file")
        let target = try resolveTarget(databaseFlag: databaseFlag, environment: environment, file: file,
                                       configPath: configPath, effectiveUserIsRoot: effectiveUserIsRoot, origins: &origins)
        let timeout = file?.database?.connectTimeout ?? 5
        origins["database.connect_timeout"] = file?.database?.connectTimeout == nil ? .builtIn : fileOrigin
        guard timeout >= 1 else {
            throw ConfigurationError(problem: "database.connect_timeout must be at least 1 second (it is \(timeout))",
                                     fix: "set a whole number of seconds, e.g. 5")
        }
        // NO_COLOR (no-color.org) beats the file but not an explicit flag.
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let color = colorFlag ?? (noColor ? .never : nil) ?? file?.output?.color ?? .auto
        origins["output.color"] = colorFlag != nil ? .flag("--color") : noColor ? .environment("NO_COLOR")
            : file?.output?.color != nil ? fileOrigin : .builtIn
        let user = nonEmpty(userFlag) ?? nonEmpty(environment["GMP_USER"])
        origins["user"] = nonEmpty(userFlag) != nil ? .flag("--user") : user != nil ? .environment("GMP_USER")
            : nonEmpty(environment["PGUSER"]) != nil ? .environment("PGUSER") : .builtIn
        for key in ["isbt128_facility", "max_passage", "max_population_doublings"] {
            origins["facility." + key] = file?.facility == nil ? .builtIn : fileOrigin
        }
        for product in ProductDescriptionCodes.products {
            origins["product_codes." + product] = file?.productCodes?[product] == nil ? .builtIn : fileOrigin
        }
        return Settings(target: target, connectTimeoutSeconds: timeout, color: color, user: user, configPath: configPath,
                        facility: file?.facility, productCodes: file?.productCodes ?? [:], origins: origins)
    }

    private static func resolveTarget(databaseFlag: String?, environment: [String: String], file: ConfigFile?,
                                      configPath: String?, effectiveUserIsRoot: Bool,
                                      origins: inout [String: SettingOrigin]) throws -> DatabaseTarget {
        if let flag = databaseFlag {
            origins["database.connection"] = .flag("--database")
            return .configured(connectionString: flag, source: .flag)
        }
        if let value = environment["GMP_DATABASE"], !value.isEmpty {
            origins["database.connection"] = .environment("GMP_DATABASE")
            return .configured(connectionString: value, source: .environment("GMP_DATABASE"))
        }
        let libpq = libpqTargetVariables.filter { !(environment[$0] ?? "").isEmpty }
        if !libpq.isEmpty {
            origins["database.connection"] = .environment(libpq.joined(separator: ", "))
            // An empty string makes libpq read the PG* variables (and ~/.pgpass) itself.
            return .configured(connectionString: "", source: .libpqEnvironment(libpq))
        }
        if let connection = file?.database?.connection, !connection.isEmpty {
            let path = configPath ?? "the configuration file"
            let parameters: [String: String]
            do {
                parameters = try ConnectionString.parse(connection)
            } catch let error as ConnectionError {
                throw ConfigurationError(problem: "database.connection in \(path): \(error.message)",
                                         fix: "write a libpq connection string (host=… dbname=…) or a postgresql:// URI")
            }
            if !(parameters["password"] ?? "").isEmpty {
                throw ConfigurationError(problem: "database.connection in \(path) contains a password",
                                         fix: "remove it; put passwords in ~/.pgpass or PGPASSWORD, never in a configuration file")
            }
            origins["database.connection"] = .file(path)
            return .configured(connectionString: connection, source: .configFile(path))
        }
        origins["database.connection"] = .builtIn
        /// An embedded setting: its environment variable, else the file, else the default.
        func embedded(_ key: String, _ variable: String, _ fileValue: String?) -> String? {
            if let value = nonEmpty(environment[variable]) {
                origins["embedded." + key] = .environment(variable)
                return value
            }
            origins["embedded." + key] = nonEmpty(fileValue) == nil ? .builtIn : .file(configPath ?? "the configuration file")
            return nonEmpty(fileValue)
        }
        let root = embedded("data_dir", "GMP_DATA_DIR", file?.embedded?.dataDir)
            ?? EmbeddedLayout.defaultRoot(environment: environment, effectiveUserIsRoot: effectiveUserIsRoot)
        return .embedded(EmbeddedSettings(
            root: root,
            serverUser: embedded("server_user", "GMP_SERVER_USER", file?.embedded?.serverUser),
            binDirectory: embedded("bin_dir", "GMP_PG_BINDIR", file?.embedded?.binDir)))
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}

/// Finds and reads the configuration file: `--config`, else `GMP_CONFIG`, else
/// `$XDG_CONFIG_HOME/gmp/gmp.yaml` (or `~/.config/gmp/gmp.yaml`), else `/etc/gmp/gmp.yaml`.
/// A file named explicitly must exist; the default places are optional.
enum ConfigLocator {
    static func load(explicitPath: String?, environment: [String: String]) throws -> (ConfigFile, String)? {
        if let path = explicitPath ?? environment["GMP_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let text = read(path) else {
                throw ConfigurationError(problem: "cannot read the configuration file \(path)",
                                         fix: "check the path given by --config or GMP_CONFIG")
            }
            return (try ConfigFile.parse(text, path: path), path)
        }
        for path in defaultPaths(environment: environment) {
            if let text = read(path) { return (try ConfigFile.parse(text, path: path), path) }
        }
        return nil
    }

    /// Where the choice of file came from: --config, GMP_CONFIG, or the default places.
    static func origin(explicitPath: String?, environment: [String: String]) -> SettingOrigin {
        if explicitPath != nil { return .flag("--config") }
        if !(environment["GMP_CONFIG"] ?? "").isEmpty { return .environment("GMP_CONFIG") }
        return .builtIn
    }

    static func defaultPaths(environment: [String: String]) -> [String] {
        var paths: [String] = []
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            paths.append(xdg + "/gmp/gmp.yaml")
        } else if let home = environment["HOME"], !home.isEmpty {
            paths.append(home + "/.config/gmp/gmp.yaml")
        }
        paths.append("/etc/gmp/gmp.yaml")
        return paths
    }

    private static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
    }
}
