import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp storage readings list [--device D]`: the readings imports, with their voids.
struct ReadingsList: GMPCommand {
    static let path = "storage readings list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List readings imports, newest first, with QA's voids.",
        discussion: """
            Examples:
              gmp storage readings list --device LN2-01
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("Only this device's.", valueName: "device")) var device: String?

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try TemperatureReadings(db).list(device: device)
        }
        try context.output.document(rows)
        let lines = rows.map { i in
            "\(i.importId)  \(i.device)  \(i.rows) readings  \(i.firstAt) – \(i.lastAt)  by \(i.importedBy)"
                + (i.excursionsOpened.isEmpty ? "" : "  opened \(i.excursionsOpened.joined(separator: ", "))")
                + (i.voided.map { "\n      VOIDED by \($0.by) at \($0.at): \($0.reason)" } ?? "")
        }
        context.output.data(lines.isEmpty ? "no readings imports" : lines.joined(separator: "\n"))
    }
}

/// `gmp storage readings void IMPORT --reason …` (QA, signed): a wrongly imported log
/// stops counting; nothing is deleted.
struct ReadingsVoid: GMPCommand {
    static let path = "storage readings void"
    static let configuration = CommandConfiguration(
        commandName: "void",
        abstract: "Void a wrongly imported log, with your e-signature (QA).",
        discussion: """
            The import and its readings stay, marked voided with the reason: they no longer \
            count for the device's time order or its excursions, so the device's real \
            readings (or a corrected file) load again. An excursion the voided readings \
            opened and nobody assessed is voided with them; one they ended goes on again. \
            Only the device's latest import that counts may be voided.

            Examples:
              gmp storage readings void 42 --reason "logger LG-7 was out of calibration"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The readings import, e.g. 42 (gmp storage readings list).", valueName: "import"))
    var importID: Int64
    @Option(help: ArgumentHelp("What is wrong with the log, signed with the void (required).", valueName: "text"))
    var reason: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.runAndReport(connection, function: "gmp.void_readings_import(uuid, bigint, text)",
                                      refusal: "void readings imports", fix: "QA voids readings imports",
                                      signing: SigningIntent(record: "voiding of readings import \(importID)", meaning: .approved,
                                                             statement: reason),
                                      passwordStdin: passwordStdin, record: String(importID),
                                      done: "voided readings import \(importID)",
                                      next: "; its readings no longer count: gmp storage readings list, gmp excursion list",
                                      in: context) { db, challenge in
            try TemperatureReadings.void(on: db, challenge: challenge, importID: importID, reason: reason)
        }
    }
}
