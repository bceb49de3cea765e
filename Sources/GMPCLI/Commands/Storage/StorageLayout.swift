import ArgumentParser
import GMPRecords

/// `gmp storage layout BOX`: the box as a grid of divisions.
struct StorageLayoutCommand: GMPCommand {
    static let path = "storage layout"
    static let configuration = CommandConfiguration(
        commandName: "layout",
        abstract: "Show a box as a grid: row letters down, columns across, each position its unit's division or '.'.",
        discussion: """
            Below the grid, each occupied position with its unit. --json: the box and its units.

            Examples:
              gmp storage layout LN2-01-R1-B01
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The box.", valueName: "box")) var box: String

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let layout = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try StorageLocations(db).layout(box: box)
        }
        try context.output.document(layout)
        let rows = layout.box.rows ?? 0, columns = layout.box.columns ?? 0
        var lines = ["\(layout.box.path): \(rows) × \(columns), \(layout.units.count) of \(rows * columns) used", "",
                     layout.grid.render()]
        if !layout.units.isEmpty { lines.append("") }
        lines += layout.units.map { "\($0.position.padding(4))\($0.unit)" }
        context.output.data(lines.joined(separator: "\n"))
    }
}
