#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules

/// The configuration file (`config/gmp.yaml` documents every key).
///
/// Every key is optional; unknown keys are refused so that a typo (`conection:`) is
/// caught instead of silently ignored.
struct ConfigFile: Equatable {
    struct Database: Equatable {
        /// A libpq connection string or URI of a configured server; never with a password.
        var connection: String?
        var connectTimeout: Int?
    }

    struct Embedded: Equatable {
        var dataDir: String?
        var serverUser: String?
        var binDir: String?
    }

    struct Output: Equatable {
        var color: ColorChoice?
    }

    /// This facility's identity and manufacturing limits. The database holds the values
    /// in force; `gmp facility apply` copies them there (an administrator, with a reason).
    struct Facility: Equatable {
        var isbt128Facility: String?
        var maxPassage: Int?
        var maxPopulationDoublings: Int?
        /// The manufacturer's name and address, printed on certificates (ICH Q7 §11.4).
        var name: String? = nil
        var address: String? = nil
    }

    var database: Database?
    var embedded: Embedded?
    var output: Output?
    var facility: Facility?
    /// The ISBT 128 product description code ICCBBA assigned to each product, by product
    /// ("master_cell_bank/cells"); a product left out prints a placeholder.
    var productCodes: [String: String]?

    /// The keys this file may contain, by section.
    static let knownKeys: [String: Set<String>] = [
        "database": ["connection", "connect_timeout"],
        "embedded": ["data_dir", "server_user", "bin_dir"],
        "output": ["color"],
        "facility": ["isbt128_facility", "max_passage", "max_population_doublings", "name", "address"],
        "product_codes": Set(ProductDescriptionCodes.products),
    ]

    /// Parses YAML text; `path` is only used in messages.
    static func parse(_ text: String, path: String) throws -> ConfigFile {
        let root: YAMLNode?
        do {
            // gmp's own reader of the YAML its files use: every scalar stays its text (the
            // values below are read by key and type), and no YAML library links the whole
            // of Foundation into every command (docs/benchmarks.md, "Without full Foundation").
            root = try YAMLReader.read(text)
        } catch let error as YAMLError {
            throw ConfigurationError(problem: "\(path) is not valid YAML (\(error))",
                                     fix: "correct the file; gmp config init ./gmp.yaml writes one that shows every key")
        }
        guard let root else { return ConfigFile() }
        guard let sections = root.mapping else {
            throw ConfigurationError(problem: "\(path) must be a mapping of sections (database, embedded, output, facility, product_codes)",
                                     fix: "start from the file gmp config init writes")
        }
        var present: [String: YAMLNode] = [:]
        for (key, value) in sections {
            let name = key.string ?? "?"
            present[name] = value
            guard let allowed = knownKeys[name] else {
                throw ConfigurationError(problem: "\(path): unknown section '\(name)'",
                                         fix: "use one of: \(knownKeys.keys.sorted().joined(separator: ", "))")
            }
            for (subkey, _) in value.mapping ?? [] where !allowed.contains(subkey.string ?? "") {
                throw ConfigurationError(problem: "\(path): unknown key '\(name).\(subkey.string ?? "?")'",
                                         fix: "use one of: \(allowed.sorted().map { "\(name).\($0)" }.joined(separator: ", "))")
            }
        }
        // One parse: the values are read from the tree already composed.
        var file = ConfigFile()
        let values = ConfigValues(sections: present, path: path)
        if present["database"] != nil {
            file.database = Database(connection: try values.string("database", "connection"),
                                     connectTimeout: try values.int("database", "connect_timeout"))
        }
        if present["embedded"] != nil {
            file.embedded = Embedded(dataDir: try values.string("embedded", "data_dir"),
                                     serverUser: try values.string("embedded", "server_user"),
                                     binDir: try values.string("embedded", "bin_dir"))
        }
        if present["output"] != nil {
            file.output = Output(color: try values.string("output", "color").map { text in
                guard let color = ColorChoice(rawValue: text) else {
                    throw values.invalid("output", "color", "must be one of auto, always, never")
                }
                return color
            })
        }
        if present["facility"] != nil {
            file.facility = Facility(isbt128Facility: try values.string("facility", "isbt128_facility"),
                                     maxPassage: try values.int("facility", "max_passage"),
                                     maxPopulationDoublings: try values.int("facility", "max_population_doublings"),
                                     name: try values.string("facility", "name"),
                                     address: try values.string("facility", "address"))
        }
        if present["product_codes"] != nil {
            var codes: [String: String] = [:]
            for product in ProductDescriptionCodes.products {
                guard let code = try values.string("product_codes", product) else { continue }
                guard ProductDescriptionCodes.isWellFormed(code) else {
                    throw values.invalid("product_codes", product,
                                         "'\(code)' is not an ISBT 128 product description code (a capital letter and four digits, e.g. S1234)")
                }
                codes[product] = code
            }
            file.productCodes = codes
        }
        return file
    }
}

/// Reads scalar values from the composed YAML, with errors that name the key.
private struct ConfigValues {
    let sections: [String: YAMLNode]
    let path: String

    func invalid(_ section: String, _ key: String, _ why: String) -> ConfigurationError {
        ConfigurationError(problem: "\(path): '\(section).\(key)' is not valid: \(why)",
                           fix: "correct the value; gmp config init ./gmp.yaml writes a file that documents each key")
    }

    /// The scalar at section.key, nil when absent or null.
    private func scalar(_ section: String, _ key: String) throws -> YAMLNode.Scalar? {
        guard let node = sections[section]?.mapping?.first(where: { $0.key.string == key })?.value,
              !node.isNull else { return nil }
        guard let scalar = node.scalar else { throw invalid(section, key, "expected a single value") }
        return scalar
    }

    func string(_ section: String, _ key: String) throws -> String? {
        try scalar(section, key)?.string
    }

    func int(_ section: String, _ key: String) throws -> Int? {
        guard let scalar = try scalar(section, key) else { return nil }
        guard let value = Int(scalar.string) else { throw invalid(section, key, "expected a whole number, got '\(scalar.string)'") }
        return value
    }
}

/// A configuration that cannot be used: exit code 78.
struct ConfigurationError: Error, Equatable {
    let problem: String
    let fix: String
}
