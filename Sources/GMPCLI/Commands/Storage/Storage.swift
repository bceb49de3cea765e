import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp storage`: the storage tree, box layouts, where units are, how full devices are.
struct Storage: ParsableCommand {
    /// The `gmp storage` commands, the temperature logs (`gmp storage readings`) among them.
    static let subcommands: [ParsableCommand.Type] = [
        StorageAdd.self, StorageShow.self, StorageLayoutCommand.self, StorageFind.self, StorageOccupancyCommand.self,
        Readings.self,
    ]

    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Storage locations from site to box: add, show, box layouts, find units, occupancy, temperature readings.",
        discussion: """
            Storage is a tree: site › tank, freezer or dry shipper (a device, with its \
            temperature limit and the product kinds it may hold) › racks and canisters, \
            nested as deep as needed › boxes of rows × columns. A position is a box's row \
            letter and column number, such as C7. Location ids are upper case: letters, \
            digits, '.', '_' and '-' (SITE-A, LN2-01, LN2-01-R1-B01). Nothing is ever \
            changed or deleted; units go in and out with 'gmp unit'.

            Examples:
              gmp storage add SITE-A --kind site --name "Cell therapy unit"
              gmp storage add LN2-01 --kind tank --in SITE-A --max-celsius -150 --holds cells
              gmp storage add LN2-01-R1 --kind rack --in LN2-01
              gmp storage add LN2-01-R1-B01 --kind box --in LN2-01-R1 --rows 9 --columns 9
              gmp storage layout LN2-01-R1-B01
            """,
        subcommands: subcommands)
}

/// `gmp storage add ID --kind KIND …`
struct StorageAdd: GMPCommand {
    static let path = "storage add"
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a site, device, rack, canister or box (operators, administrators).",
        discussion: """
            Examples:
              gmp storage add SITE-A --kind site --name "Cell processing facility"
              gmp storage add LN2-01-R1-B01 --kind box --in LN2-01-R1 --rows 9 --columns 9
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The new location's id: A–Z, 0–9, '.', '_', '-'; at most 32 characters.", valueName: "id"))
    var id: String
    @Option(help: ArgumentHelp("site, tank, freezer, shipper, rack, canister or box.", valueName: "kind"))
    var kind: LocationKind
    @Option(name: .customLong("in"), help: ArgumentHelp("The location it is inside (all but a site).", valueName: "parent"))
    var parent: String?
    @Option(help: ArgumentHelp("A name people know it by.", valueName: "text")) var name: String?
    // Unconditional: the limit is usually negative, which the parser would take for an option.
    @Option(parsing: .unconditional,
            help: ArgumentHelp("A device's upper temperature limit in °C, e.g. -150 for LN2 vapour.", valueName: "°C"))
    var maxCelsius: ExactDecimal?
    @Option(help: ArgumentHelp("A device's product kinds, comma-separated: cells, conditioned_medium, extracellular_vesicles.",
                               valueName: "kinds"))
    var holds: String?
    @Option(help: ArgumentHelp("A box's rows, 1–26 (lettered A–Z).", valueName: "n")) var rows: Int?
    @Option(help: ArgumentHelp("A box's columns, 1–99.", valueName: "n")) var columns: Int?

    func execute(in context: CommandContext) throws {
        let kinds = try holds.map { list in
            try list.split(separator: ",").map { word in
                let text = word.trimmingWhitespace
                guard let kind = ProductKind(rawValue: text) else { throw StorageInputError.unknownProductKind(text) }
                return kind
            }
        }
        let location = NewStorageLocation(id: id, kind: kind, parent: parent, name: name, maxCelsius: maxCelsius,
                                          holds: kinds, rows: rows, columns: columns)
        guard location.problems.isEmpty else {
            throw Failure(exitCode: .usage, problem: location.problems.joined(separator: "; "),
                          fix: "see 'gmp storage add --help'")
        }
        let connection = try context.connect(startingEmbedded: false)
        let added = try connection.transaction { db -> StorageLocations.Location in
            let stored = try StorageLocations(db).add(location)
            return try StorageLocations(db).tree(under: stored)[0]
        }
        try context.output.document(added)
        context.output.data("added \(added.kind) \(added.path)" + StorageText.details(added))
    }
}

extension LocationKind: ExpressibleByArgument {}

/// `gmp storage show [LOCATION]`
struct StorageShow: GMPCommand {
    static let path = "storage show"
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show the storage tree (all sites, or one location and everything inside it).",
        discussion: """
            Examples:
              gmp storage show
              gmp storage show LN2-01
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("A location (default: every site).", valueName: "location")) var location: String?

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let tree = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try StorageLocations(db).tree(under: location)
        }
        try context.output.document(tree)
        let top = tree.map(\.depth).min() ?? 0
        let lines = tree.map { node in
            // The shallowest locations show their whole path, the rest their id under it.
            (node.depth == top ? node.path : String(repeating: "  ", count: node.depth - top) + node.id)
                + "  " + node.kind + StorageText.details(node)
        }
        context.output.data(lines.isEmpty ? "no storage locations yet: gmp storage add SITE --kind site" : lines.joined(separator: "\n"))
    }
}

/// Text shared by the storage commands.
enum StorageText {
    /// ", ≤ -150.00 °C, holds cells", ", 9 × 9, 12 of 81 used", and the name.
    static func details(_ location: StorageLocations.Location) -> String {
        var parts: [String] = []
        if let limit = location.maxCelsius { parts.append("≤ \(limit) °C") }
        if let holds = location.holds { parts.append("holds " + holds.joined(separator: ", ")) }
        if let rows = location.rows, let columns = location.columns {
            parts.append("\(rows) × \(columns), \(location.occupied ?? 0) of \(rows * columns) used")
        }
        if let name = location.name { parts.append("\"\(name)\"") }
        return parts.isEmpty ? "" : ", " + parts.joined(separator: ", ")
    }
}
