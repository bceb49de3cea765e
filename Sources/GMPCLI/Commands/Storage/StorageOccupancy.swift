import ArgumentParser
import GMPRecords
import GMPRules

/// `gmp storage occupancy LOCATION`: capacity and use per device.
struct StorageOccupancyCommand: GMPCommand {
    static let path = "storage occupancy"
    static let configuration = CommandConfiguration(
        commandName: "occupancy",
        abstract: "Per device under a location: boxes, positions, occupied, free, % used; table, --json or --csv.",
        discussion: """
            Given a rack, box or canister, the whole device it is in is reported.

            Examples:
              gmp storage occupancy SITE-A
              gmp storage occupancy LN2-01 --csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: ArgumentHelp("A site, device, or a location inside a device.", valueName: "location")) var location: String

    static let csvHeader = ["device", "kind", "path", "max_celsius", "boxes", "positions", "occupied", "free", "percent_used"]

    struct Document: Encodable {
        let location: String
        let devices: [DeviceOccupancy]
        let positions: Int64
        let occupied: Int64
        let free: Int64
    }

    func validate() throws {
        try format.requireOne(json: options.json)
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        // One statement: a snapshot of its own, no transaction needed.
        let devices = try StorageLocations(connection).occupancy(location)
        let positions = devices.reduce(0) { $0 + $1.positions }, occupied = devices.reduce(0) { $0 + $1.occupied }
        try context.output.document(Document(location: location.uppercased(), devices: devices, positions: positions,
                                              occupied: occupied, free: positions - occupied))
        guard !options.json else { return }
        if format.csv {
            format.write(CSV.line(Self.csvHeader) + devices.map { d in
                CSV.line([d.device, d.kind, d.path, d.maxCelsius, String(d.boxes), String(d.positions),
                                      String(d.occupied), String(d.free), d.percentUsed])
            }.joined())
            return
        }
        let rows = devices.map { d in
            [d.device, d.kind, "≤ " + d.maxCelsius, String(d.boxes), String(d.positions), String(d.occupied),
             String(d.free), d.percentUsed + " %"]
        }
        let table = textTable(header: ["DEVICE", "KIND", "LIMIT °C", "BOXES", "POSITIONS", "OCCUPIED", "FREE", "USED"],
                              rows: rows, rightAligned: [3, 4, 5, 6, 7])
        context.output.data(devices.isEmpty ? "no tank, freezer or shipper under \(location.uppercased())"
                                            : table)
    }
}
