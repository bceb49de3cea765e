import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// `gmp config show`: every setting in force, and whether it came from gmp's default,
/// the configuration file, the environment or a flag.
struct ConfigShow: GMPCommand {
    static let path = "config show"
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show each setting in force and where it came from: default, file, environment or flag.",
        discussion: """
            Precedence, highest first: command-line flags, environment variables (GMP_*, \
            libpq's PG*), the configuration file, gmp's defaults. A password in a \
            connection string is never shown.

            Examples:
              gmp config show
              GMP_DATA_DIR=/srv/gmp gmp config show --json
            """)

    @OptionGroup var options: GlobalOptions

    /// One setting: its key in the configuration file, its value, where it came from.
    struct Entry: Encodable {
        let key: String
        let value: String?
        let origin: String
        let source: String?
    }

    struct Document: Encodable {
        let configFile: String?
        let settings: [Entry]
    }

    func execute(in context: CommandContext) throws {
        let settings = context.settings
        let environment = ProcessInfo.processInfo.environment
        var entries: [Entry] = []
        func add(_ key: String, _ value: String?) {
            let origin = settings.origins[key] ?? .builtIn
            entries.append(Entry(key: key, value: value, origin: origin.kind, source: origin.detail))
        }
        let configOrigin = ConfigLocator.origin(explicitPath: options.config, environment: environment)
        entries.append(Entry(key: "config_file", value: settings.configPath, origin: configOrigin.kind, source: configOrigin.detail))
        switch settings.target {
        case .configured(let string, _):
            add("database.connection", Self.withoutPassword(string))
        case .embedded(let embedded):
            add("database.connection", nil)
            add("embedded.data_dir", embedded.root)
            add("embedded.server_user", embedded.serverUser)
            add("embedded.bin_dir", embedded.binDirectory)
        }
        add("database.connect_timeout", String(settings.connectTimeoutSeconds))
        add("output.color", settings.color.rawValue)
        add("user", settings.user ?? environment["PGUSER"].flatMap { $0.isEmpty ? nil : $0 })
        add("facility.isbt128_facility", settings.facility?.isbt128Facility)
        add("facility.max_passage", settings.facility?.maxPassage.map(String.init))
        add("facility.max_population_doublings", settings.facility?.maxPopulationDoublings.map(String.init))
        for product in ProductDescriptionCodes.products {
            let code = settings.productCodes[product] ?? ProductDescriptionCodes.placeholders[product] ?? ""
            add("product_codes." + product, code + (ProductDescriptionCodes.isPlaceholder(code) ? " (placeholder)" : ""))
        }
        try context.output.document(Document(configFile: settings.configPath, settings: entries))
        let rows = entries.map { entry in
            [entry.key, entry.value ?? Self.unset(entry.key), entry.source.map { "\(entry.origin): \($0)" } ?? entry.origin]
        }
        context.output.data(textTable(header: ["SETTING", "VALUE", "FROM"], rows: rows))
    }

    /// What an unset value means, in words.
    static func unset(_ key: String) -> String {
        switch key {
        case "config_file": "(none found)"
        case "database.connection": "(the embedded server)"
        case "embedded.server_user": "(postgres, when run as root)"
        case "embedded.bin_dir": "(the newest /usr/lib/postgresql/*/bin)"
        case "user": "(the server's default login)"
        default: "(not set)"
        }
    }

    /// The connection string with any password replaced, for display.
    static func withoutPassword(_ string: String) -> String {
        guard let parameters = try? ConnectionString.parse(string), !(parameters["password"] ?? "").isEmpty else { return string }
        return (try? ConnectionString.replacing("password", with: "********", in: string)) ?? "(contains a password)"
    }
}
