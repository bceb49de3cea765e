#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Yams

/// The configuration file (`config/gmp.yaml` documents every key).
///
/// Every key is optional; unknown keys are refused so that a typo (`conection:`) is
/// caught instead of silently ignored.
struct ConfigFile: Decodable, Equatable {
    struct Database: Decodable, Equatable {
        /// A libpq connection string or URI of a configured server; never with a password.
        var connection: String?
        var connectTimeout: Int?
    }

    struct Embedded: Decodable, Equatable {
        var dataDir: String?
        var serverUser: String?
        var binDir: String?
    }

    struct Output: Decodable, Equatable {
        var color: ColorChoice?
    }

    /// This facility's identity and manufacturing limits. The database holds the values
    /// in force; `gmp facility apply` copies them there (an administrator, with a reason).
    struct Facility: Decodable, Equatable {
        var isbt128Facility: String?
        var maxPassage: Int?
        var maxPopulationDoublings: Int?
    }

    var database: Database?
    var embedded: Embedded?
    var output: Output?
    var facility: Facility?

    /// The keys this file may contain, by section.
    static let knownKeys: [String: Set<String>] = [
        "database": ["connection", "connect_timeout"],
        "embedded": ["data_dir", "server_user", "bin_dir"],
        "output": ["color"],
        "facility": ["isbt128_facility", "max_passage", "max_population_doublings"],
    ]

    /// Parses YAML text; `path` is only used in messages.
    static func parse(_ text: String, path: String) throws -> ConfigFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(problem: "\(path) is not valid YAML (\(Self.firstLine(of: error)))",
                                     fix: "correct the file; config/gmp.yaml in the gmp sources shows every key")
        }
        guard let root else { return ConfigFile() }
        guard let sections = root.mapping else {
            throw ConfigurationError(problem: "\(path) must be a mapping of sections (database, embedded, output, facility)",
                                     fix: "start from config/gmp.yaml in the gmp sources")
        }
        for (key, value) in sections {
            let name = key.string ?? "?"
            guard let allowed = knownKeys[name] else {
                throw ConfigurationError(problem: "\(path): unknown section '\(name)'",
                                         fix: "use one of: \(knownKeys.keys.sorted().joined(separator: ", "))")
            }
            for (subkey, _) in value.mapping ?? [:] where !allowed.contains(subkey.string ?? "") {
                throw ConfigurationError(problem: "\(path): unknown key '\(name).\(subkey.string ?? "?")'",
                                         fix: "use one of: \(allowed.sorted().map { "\(name).\($0)" }.joined(separator: ", "))")
            }
        }
        do {
            let decoder = YAMLDecoder()
            return try decoder.decode(ConfigFile.self, from: text, userInfo: [:])
        } catch {
            throw ConfigurationError(problem: "\(path): \(Self.describe(error))",
                                     fix: "correct the value; config/gmp.yaml in the gmp sources documents each key")
        }
    }

    enum CodingKeys: String, CodingKey {
        case database, embedded, output, facility
    }

    private static func firstLine(of error: Error) -> String {
        String(String(describing: error).split(separator: "\n").first ?? "")
    }

    private static func describe(_ error: Error) -> String {
        guard let decoding = error as? DecodingError else { return firstLine(of: error) }
        switch decoding {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "\(key.isEmpty ? "value" : "'\(key)'") is not valid: \(context.debugDescription)"
        case .keyNotFound(let key, _):
            return "missing key '\(key.stringValue)'"
        @unknown default:
            return firstLine(of: error)
        }
    }
}

extension ConfigFile.Database {
    enum CodingKeys: String, CodingKey {
        case connection
        case connectTimeout = "connect_timeout"
    }
}

extension ConfigFile.Embedded {
    enum CodingKeys: String, CodingKey {
        case dataDir = "data_dir"
        case serverUser = "server_user"
        case binDir = "bin_dir"
    }
}

extension ConfigFile.Facility {
    enum CodingKeys: String, CodingKey {
        case isbt128Facility = "isbt128_facility"
        case maxPassage = "max_passage"
        case maxPopulationDoublings = "max_population_doublings"
    }
}

/// A configuration that cannot be used: exit code 78.
struct ConfigurationError: Error, Equatable {
    let problem: String
    let fix: String
}
