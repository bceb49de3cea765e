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
            """)

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Only open ones (not yet assessed).") var open = false
    @Option(help: ArgumentHelp("Only this device's.", valueName: "device")) var device: String?

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try Excursions(db).list(openOnly: open, device: device)
        }
        try context.output.document(rows)
        let lines = rows.map { x in
            let span = "\(x.startedAt) – \(x.endedAt.map(\.description) ?? "ongoing")"
            let units = x.units.isEmpty ? "no units" : "units: " + x.units.map(\.unit).joined(separator: ", ")
            return "\(x.id)  \(x.status.padding(6)) \(x.device)  \(span)  peak \(x.peakCelsius) °C (limit \(x.limitCelsius) °C)  \(units)"
                + (x.assessment.map { "\n             assessment: \($0) [\(x.assessedBy ?? "")]" } ?? "")
        }
        context.output.data(lines.isEmpty ? "no excursions" : lines.joined(separator: "\n"))
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
        let signature = try SignedAction.run(connection, function: "gmp.assess_excursion(uuid, text, text)",
                                             refusal: "assess excursions", fix: "QA assesses excursions",
                                             signing: SigningIntent(record: "assessment of excursion \(id)", meaning: .approved,
                                                                    statement: assessment),
                                             passwordStdin: passwordStdin) { db, challenge in
            try Excursions.assess(on: db, challenge: challenge, excursion: id, assessment: assessment)
        }
        try context.output.document(SignedDocument(record: id, signature: signature, signer: connection.userName,
                                                   meaning: SignatureMeaning.approved.rawValue))
        context.output.data("signed: \(connection.userName) assessed \(id) (signature \(signature)); it is closed")
    }
}
