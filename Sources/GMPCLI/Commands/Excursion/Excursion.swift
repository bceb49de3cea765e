import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp excursion`: temperature excursions of storage devices.
struct Excursion: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "excursion",
        abstract: "List temperature excursions and assess them (QA).",
        discussion: """
            A reading above a device's limit opens an excursion by itself; it lists every \
            unit that was in the device meanwhile. While it is open those units are neither \
            released nor shipped. Once a reading is back within the limit, QA closes it with \
            a signed impact assessment; nothing about it changes afterwards.
            """,
        subcommands: [ExcursionList.self, ExcursionAssess.self])
}

struct ExcursionList: GMPCommand {
    static let path = "excursion list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List excursions with the units they affect, newest first.",
        discussion: """
            Examples:
              gmp excursion list --open
              gmp excursion list --device LN2-01 --json
              gmp excursion list --csv --bom > excursions.csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Flag(help: "Only open ones (not yet assessed).") var open = false
    @Option(help: ArgumentHelp("Only this device's.", valueName: "device")) var device: String?

    func validate() throws { try format.requireOne(json: options.json) }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try Excursions(db).list(openOnly: open, device: device)
        }
        let columns = ["id", "status", "device", "started_at", "ended_at", "peak_celsius", "limit_celsius", "units",
                       "assessment", "assessed_by"]
        let cells = rows.map { x in
            [x.id, x.status, x.device, x.startedAt.iso8601, x.endedAt?.iso8601 ?? "", x.peakCelsius, x.limitCelsius,
             x.units.map(\.unit).joined(separator: " "), x.assessment ?? "", x.assessedBy ?? ""]
        }
        if format.csv {
            format.write(header: columns, rows: cells)
            return
        }
        try context.output.document(rows)
        context.output.data(rows.isEmpty ? "no excursions" : textTable(
            header: ["EXCURSION", "STATUS", "DEVICE", "STARTED (UTC)", "ENDED (UTC)", "PEAK °C", "LIMIT °C", "UNITS", "ASSESSMENT"],
            rows: rows.map { x in
                [x.id, x.status, x.device, x.startedAt.iso8601, x.endedAt?.iso8601 ?? "ongoing", x.peakCelsius, x.limitCelsius,
                 x.units.isEmpty ? "none" : x.units.map(\.unit).joined(separator: ", "),
                 x.assessment.map { "\($0) [\(x.assessedBy ?? "")]" } ?? ""]
            }, rightAligned: [5, 6]))
    }
}

struct ExcursionAssess: GMPCommand {
    static let path = "excursion assess"
    static let configuration = CommandConfiguration(
        commandName: "assess", abstract: "Close an excursion with its impact assessment, with your e-signature (QA).",
        discussion: """
            Examples:
              gmp excursion assess EXC26-00001 --assessment "peak −141.5 °C below the glass transition: no impact; lid-closing retrained"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The excursion, e.g. EXC26-00001.", valueName: "id")) var id: String
    @Option(help: ArgumentHelp("The impact on the units and what was decided.", valueName: "text")) var assessment: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.runAndReport(connection, function: "gmp.assess_excursion(uuid, text, text)",
                                      refusal: "assess excursions", fix: "QA assesses excursions",
                                      signing: SigningIntent(record: "assessment of excursion \(id)", meaning: .approved,
                                                             statement: assessment),
                                      passwordStdin: passwordStdin, record: id, done: "assessed \(id)", next: "; it is closed",
                                      in: context) { db, challenge in
            try Excursions.assess(on: db, challenge: challenge, excursion: id, assessment: assessment)
        }
    }
}
