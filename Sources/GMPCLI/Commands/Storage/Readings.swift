import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp storage readings`: storage devices' temperature logs. Mounted under `gmp storage`.
struct Readings: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readings",
        abstract: "Load storage devices' temperature logs.",
        discussion: """
            A log is CSV: the header device,read_at,celsius, then one reading per line, \
            e.g. LN2-01,2026-12-01T10:00:00Z,-182.4 (time with Z or its offset, degrees \
            with a point). A reading above the device's limit opens an excursion by \
            itself: gmp excursion list. A reading may be at most a few minutes ahead of \
            the server's clock. QA voids a wrongly imported log with a signature: its \
            readings are kept but count no more.
            """,
        subcommands: [ReadingsImport.self, ReadingsList.self, ReadingsVoid.self])
}

/// `gmp storage readings import FILE`.
struct ReadingsImport: GMPCommand {
    static let path = "storage readings import"
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load a temperature log, whole or not at all (operator, QC).",
        discussion: """
            Every line is checked first: device, time, value, readings repeated in the file, \
            readings later than the server's clock allows. \
            A file with any bad line is refused whole with every line number, and nothing \
            is loaded. Then each device's readings are loaded in one transaction. A \
            device's log is imported in time order: a file whose readings overlap (or \
            come before) the device's previous import is refused whole, naming it.

            Examples:
              gmp storage readings import ln2-01-2026-12.csv --device LN2-01
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The log file (CSV).", valueName: "file"), completion: .file(extensions: ["csv"]))
    var file: String
    @Option(help: ArgumentHelp("The one device every line must name.", valueName: "device")) var device: String?

    /// `--json` when the file is refused: every problem, then the error line on stderr.
    struct RefusedDocument: Encodable {
        let file: String
        let loaded: Int
        let problems: [Problem]

        struct Problem: Encodable {
            let line: Int
            let kind: String
            let problem: String
            let fix: String
        }
    }

    func execute(in context: CommandContext) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Failure(exitCode: .usage, problem: "cannot read \(file)",
                          fix: "give the path of a readings file (CSV: device,read_at,celsius)")
        }
        let connection = try context.connect(startingEmbedded: false)
        let known = try TemperatureReadings(connection).deviceIDs()
        // The database refuses readings beyond this too; asked first, so that every such
        // line is named like any other bad line.
        let acceptedUntil = try TemperatureReadings(connection).acceptedUntil()
        let readings: TemperatureReadingsFile
        do {
            readings = try TemperatureReadingsFile(bytes: [UInt8](data), knownDevices: known, device: device,
                                                   acceptedUntil: acceptedUntil.microsecondsSinceEpoch)
        } catch {
            try context.output.document(RefusedDocument(file: file, loaded: 0, problems: error.problems.map {
                .init(line: $0.line, kind: $0.kind.rawValue, problem: $0.problem, fix: $0.fix)
            }))
            throw Failure(exitCode: .refused, problem: "\(file) refused, nothing loaded: \(error.summary())", fix: error.fix)
        }
        let progress = LineProgress(output: context.output, label: "loading readings:", total: readings.rowCount)
        defer { progress.finish() }
        // An import that overlaps the device's earlier ones is refused by the database,
        // naming the earlier import and its span (sql/code/13_readings.sql).
        let imported = try connection.transaction(.readCommitted, retry: .never) { db in
            try TemperatureReadings(db).load(readings, progress: progress.update)
        }
        progress.finish()
        try context.output.document(imported)
        context.output.data(imported.map { i in
            "imported \(i.rows) readings of \(i.device) from \(i.firstAt) to \(i.lastAt) (import \(i.importId))"
                + (i.excursionsOpened.isEmpty ? ""
                   : "; opened excursion\(i.excursionsOpened.count == 1 ? "" : "s") \(i.excursionsOpened.joined(separator: ", ")): gmp excursion list --open")
        }.joined(separator: "\n"))
    }
}

/// "loading readings: 300000 of 1000000…" on stderr, rewritten in place, only on a
/// terminal and without --json or --quiet.
final class LineProgress {
    private let enabled: Bool
    private let label: String
    private let total: Int
    private var shown = false

    init(output: Output, label: String, total: Int) {
        enabled = !output.json && !output.quiet && Terminal.isTerminal(2)
        self.label = label
        self.total = total
    }

    func update(_ count: Int) {
        guard enabled else { return }
        StandardStream.error.write("\r\(label) \(count) of \(total)…")
        shown = true
    }

    func finish() {
        if shown { StandardStream.error.write("\r\u{1B}[K") }
        shown = false
    }
}
