#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp material`: material types and lots, from receipt to every lot they reached.
struct Material: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "material",
        abstract: "Reagent and material lots: types, receipt, QA release or rejection, opening, list, show, trace.",
        discussion: """
            A material lot (culture medium, platelet lysate, enzyme, DMSO, buffer, kit, bag or \
            vial) is received into quarantine with its supplier lot, expiry and the supplier's \
            certificate (its SHA-256 is bound to the lot). QA releases or rejects it with an \
            e-signature; a released lot can still be rejected (a supplier's recall), and then \
            no lot that consumed it can be released. Steps and QC results name what they \
            consumed with --material LOT:QUANTITY UNIT; the database refuses a lot in \
            quarantine, rejected, expired, or past its use-by after opening.

            Examples:
              gmp material type add MEM-ALPHA --name "alpha-MEM" \\
                  --category culture_medium --storage "2-8 °C"
              gmp material receive MEM-ALPHA --supplier "Fisher Scientific" \\
                  --manufacturer Gibco --supplier-lot 2841733 --quantity 500 --unit mL \\
                  --expires 2027-03-31 --days-after-opening 28 \\
                  --condition "intact, cold" --certificate coa.pdf
              gmp material release MAT26-00001
              gmp material open MAT26-00001
              gmp lot step G1234260000014 isolation \\
                  --material "MAT26-00001:50 mL"
              gmp trace material MAT26-00001 --csv
            """,
        subcommands: [MaterialTypeCommand.self, MaterialReceive.self, MaterialRelease.self, MaterialReject.self,
                      MaterialOpen.self, MaterialList.self, MaterialShow.self, MaterialTrace.self])
}

/// `gmp material type add|list`
struct MaterialTypeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "type", abstract: "The register of material types.",
        subcommands: [MaterialTypeAdd.self, MaterialTypeList.self])
}

struct MaterialTypeAdd: GMPCommand {
    static let path = "material type add"
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a material type (operators, QC, QA).",
        discussion: """
            Categories: \(MaterialVocabulary.categories.joined(separator: ", ")).

            Examples:
              gmp material type add MEM-ALPHA --name "alpha-MEM culture medium" --category culture_medium --storage "2–8 °C"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("Its code: A–Z, 0–9 and '-', 2–32 characters (MEM-ALPHA).", valueName: "code")) var code: String
    @Option(help: ArgumentHelp("Its name.", valueName: "text")) var name: String
    @Option(help: ArgumentHelp("Its category.", valueName: "category")) var category: String
    // Unconditional: a storage condition may start with a minus sign ("-20 °C").
    @Option(parsing: .unconditional,
            help: ArgumentHelp("How it is stored: \"2–8 °C\", \"-20 °C\", \"room temperature\".", valueName: "text"))
    var storage: String

    func execute(in context: CommandContext) throws {
        guard MaterialVocabulary.categories.contains(category) else {
            throw Failure(exitCode: .usage, problem: "\"\(category)\" is not a material category",
                          fix: "use \(MaterialVocabulary.categories.joined(separator: ", "))")
        }
        let connection = try context.connect(startingEmbedded: false)
        try connection.transaction(WriteIsolation.lockedRows) { db in
            try Materials(db).addType(code: code, name: name, category: category, storageCondition: storage)
        }
        try context.output.document(Materials.TypeRow(code: code, name: name, category: category, storageCondition: storage))
        context.output.data("added material type \(code) (\(category))")
    }
}

struct MaterialTypeList: GMPCommand {
    static let path = "material type list"
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the material types.",
        discussion: """
            Examples:
              gmp material type list
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat

    func validate() throws {
        try format.requireOne(json: options.json)
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in try Materials(db).types() }
        if format.csv {
            format.write(CSV.line(["code", "name", "category", "storage_condition"])
                + rows.map { CSV.line([$0.code, $0.name, $0.category, $0.storageCondition]) }.joined())
            return
        }
        try context.output.document(rows)
        context.output.data(rows.isEmpty ? "no material types"
                            : textTable(header: ["TYPE", "CATEGORY", "NAME", "STORAGE"],
                                        rows: rows.map { [$0.code, $0.category, $0.name, $0.storageCondition] }))
    }
}

/// `gmp material receive TYPE …`
struct MaterialReceive: GMPCommand {
    static let path = "material receive"
    static let configuration = CommandConfiguration(
        commandName: "receive", abstract: "Receive a material lot into quarantine (operators, QC).",
        discussion: """
            The supplier's certificate of analysis is read from --certificate and its SHA-256 \
            is bound to the lot. Units: \(MaterialVocabulary.units.joined(separator: ", ")).

            Examples:
              gmp material receive MEM-ALPHA --supplier "Acme Media" --manufacturer "Acme Media" --supplier-lot A1234 --quantity 500 --unit mL --expires 2027-03-31 --condition "intact, 4 °C" --certificate coa-A1234.pdf
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The material type (gmp material type list).", valueName: "type")) var type: String
    @Option(help: ArgumentHelp("The supplier.", valueName: "text")) var supplier: String
    @Option(help: ArgumentHelp("Who made it (21 CFR 1271.210(d)): the supplier's name again when it makes what it supplies.",
                               valueName: "text"))
    var manufacturer: String
    @Option(help: ArgumentHelp("The supplier's lot number.", valueName: "text")) var supplierLot: String
    @Option(help: ArgumentHelp("The quantity received.", valueName: "number")) var quantity: ExactDecimal
    @Option(help: ArgumentHelp("Its unit.", valueName: "unit")) var unit: String
    @Option(help: ArgumentHelp("The supplier's expiry date.", valueName: "YYYY-MM-DD")) var expires: CalendarDate
    @Option(help: ArgumentHelp("Days it may be used after opening, when the supplier gives a limit.", valueName: "days"))
    var daysAfterOpening: Int?
    @Option(help: ArgumentHelp("Its condition on receipt (packaging, temperature).", valueName: "text")) var condition: String
    @Option(help: ArgumentHelp("The supplier's certificate of analysis (PDF or any file).", valueName: "file"))
    var certificate: String
    @Option(parsing: .unconditional, help: ArgumentHelp("How it is stored, when not as its type says.", valueName: "text"))
    var storage: String?
    @Option(help: ArgumentHelp("When it was received (default: now).", valueName: "time")) var at: TimeArgument?

    struct Document: Encodable {
        let id: String
        let status: String
        let certificateSha256: String
    }

    func execute(in context: CommandContext) throws {
        guard MaterialVocabulary.units.contains(unit) else {
            throw Failure(exitCode: .usage, problem: "\"\(unit)\" is not a unit of material",
                          fix: "use \(MaterialVocabulary.units.joined(separator: ", "))")
        }
        if let days = daysAfterOpening, days < 1 {
            throw Failure(exitCode: .usage, problem: "--days-after-opening \(days) is not a number of days it may be used",
                          fix: "give 1 or more days, or leave it out when the supplier gives no limit after opening")
        }
        guard let bytes = FileManager.default.contents(atPath: certificate), !bytes.isEmpty else {
            throw Failure(exitCode: .usage, problem: "cannot read the certificate \(certificate), or it is empty",
                          fix: "give the supplier's certificate of analysis file with --certificate FILE")
        }
        let sha256 = SupplierCertificate.sha256Hex(bytes)
        let receipt = Materials.Receipt(type: type, supplier: supplier, manufacturer: manufacturer, supplierLot: supplierLot, quantity: quantity, unit: unit,
                                        receivedAt: at?.timestamp, condition: condition, expiresOn: expires,
                                        daysAfterOpening: daysAfterOpening, certificateSha256: sha256,
                                        storageCondition: storage)
        let connection = try context.connect(startingEmbedded: false)
        let id = try connection.transaction(WriteIsolation.lockedRows) { db in try Materials(db).receive(receipt) }
        try context.output.document(Document(id: id, status: "quarantine", certificateSha256: sha256))
        context.output.data("received \(id): \(quantity) \(unit) of \(type), supplier lot \(supplierLot); in quarantine until QA releases it")
    }
}

struct MaterialRelease: GMPCommand {
    static let path = "material release"
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Release a material lot for use, with your e-signature (QA).",
        discussion: """
            Examples:
              gmp material release MAT26-00001 --statement "certificate of analysis and receipt checked"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The material lot.", valueName: "material-lot"), completion: ObjectCompletion.materialLots) var id: String
    @Option(help: ArgumentHelp("Your statement, signed with the release.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.runAndReport(connection, function: "gmp.release_material(uuid, text, text)",
                                      refusal: "release material lots", fix: "QA releases material lots",
                                      signing: SigningIntent(record: "material lot \(id)", meaning: .released, statement: statement),
                                      passwordStdin: passwordStdin, record: id, done: "released material lot \(id)",
                                      isolation: WriteIsolation.lockedRows, in: context) { db, challenge in
            try Materials.release(on: db, challenge: challenge, lot: id, statement: statement)
        }
    }
}

struct MaterialReject: GMPCommand {
    static let path = "material reject"
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a material lot, also a released one (a recall), with your e-signature (QA).",
        discussion: """
            No lot that consumed a rejected material lot can be released afterwards.

            Examples:
              gmp material reject MAT26-00001 --reason "supplier recall R-2026-11"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The material lot.", valueName: "material-lot"), completion: ObjectCompletion.materialLots) var id: String
    @Option(help: ArgumentHelp("Why (required).", valueName: "text")) var reason: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.runAndReport(connection, function: "gmp.reject_material(uuid, text, text)",
                                      refusal: "reject material lots", fix: "QA rejects material lots",
                                      signing: SigningIntent(record: "material lot \(id)", meaning: .rejected, statement: reason),
                                      passwordStdin: passwordStdin, record: id, done: "rejected material lot \(id)",
                                      next: "; gmp trace material \(id) lists the lots it reached", isolation: WriteIsolation.lockedRows, in: context) { db, challenge in
            try Materials.reject(on: db, challenge: challenge, lot: id, reason: reason)
        }
    }
}

struct MaterialOpen: GMPCommand {
    static let path = "material open"
    static let configuration = CommandConfiguration(
        commandName: "open", abstract: "Record the opening of a released material lot; its use-by after opening starts.",
        discussion: """
            Examples:
              gmp material open MAT26-00001
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The material lot.", valueName: "material-lot"), completion: ObjectCompletion.materialLots) var id: String
    @Option(help: ArgumentHelp("When it was opened (default: now).", valueName: "time")) var at: TimeArgument?

    struct Document: Encodable {
        let id: String
        let openedAt: Timestamp
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let opened = try connection.transaction(WriteIsolation.lockedRows) { db in try Materials(db).open(id, at: at?.timestamp) }
        try context.output.document(Document(id: id, openedAt: opened))
        context.output.data("opened \(id) at \(opened)")
    }
}

struct MaterialList: GMPCommand {
    static let path = "material list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List material lots, newest first: table, --json or --csv.",
        discussion: """
            Examples:
              gmp material list --usable
              gmp material list --status quarantine --product MEM-ALPHA --from 2026-11-01 --csv
              gmp material list --json
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Flag(help: "Only lots usable now: released, in date, within their use-by after opening.") var usable = false
    @Option(help: ArgumentHelp("Only those in this status: quarantine, released or rejected.", valueName: "status"))
    var status: String?
    @Option(help: ArgumentHelp("Only this material type (its code).", valueName: "type")) var product: String?
    @OptionGroup var dates: DateRangeOptions

    static let listing = Listing<Materials.Row>(
        columns: ["id", "type", "supplier", "supplier_lot", "quantity", "unit", "expires_on", "opened_at", "status", "usable"],
        cells: { [$0.id, $0.type, $0.supplier, $0.supplierLot, $0.quantity, $0.unit, $0.expiresOn,
                  $0.openedAt?.iso8601 ?? "", $0.status, $0.usable ? "true" : "false"] },
        empty: "no material lots", rightAligned: [4])

    func validate() throws {
        try format.requireOne(json: options.json)
        if let status, !["quarantine", "released", "rejected"].contains(status) {
            throw ValidationError("--status is quarantine, released or rejected")
        }
    }

    func execute(in context: CommandContext) throws {
        let filter = ListFilter(status: status, product: product, from: dates.from, to: dates.to)
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try Materials(db).list(usableOnly: usable, filter)
        }
        try Self.listing.print(rows, format: format, in: context)
    }
}

struct MaterialShow: GMPCommand {
    static let path = "material show"
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "A material lot: receipt, certificate, dispositions, opening and every consumption.",
        discussion: """
            Examples:
              gmp material show MAT26-00001
              gmp material show MAT26-00001 --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The material lot.", valueName: "material-lot"), completion: ObjectCompletion.materialLots) var id: String

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let materials = Materials(connection)
        try context.output.serverDocument({ try materials.documentJSON(id) }, orLines: {
            let m = try materials.document(id)
            var page = TextPage()
            page.lines(MaterialText.summary(m))
            var names = MaterialText.LotNames()
            MaterialText.consumptions(m.consumptions ?? [], to: &page, names: &names)
            return [page.text]
        })
    }
}

/// The material trace, under both of its names: one behaviour, two places in the tree.
protocol MaterialTraceCommand: GMPCommand {
    var format: TraceFormat { get }
    var id: String { get }
}

extension MaterialTraceCommand {
    func validate() throws {
        try format.requireOne(json: options.json)
    }

    func execute(in context: CommandContext) throws {
        try MaterialText.trace(id, format: format, context)
    }
}

/// `gmp material trace LOT`, also `gmp trace material LOT`.
struct MaterialTrace: MaterialTraceCommand {
    static let path = "material trace"
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Every lot a material lot reached (and the lots made from them), with their units and consignees.",
        discussion: """
            CSV: one row per unit (or per lot without units). --json: the server's document.

            Examples:
              gmp material trace MAT26-00001
              gmp trace material MAT26-00001 --csv > recall-MAT26-00001.csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: ArgumentHelp("The material lot.", valueName: "material-lot"), completion: ObjectCompletion.materialLots) var id: String
}

/// `gmp trace material LOT`: the same report as `gmp material trace`.
struct TraceMaterial: MaterialTraceCommand {
    static let path = "trace material"
    static let configuration = CommandConfiguration(
        commandName: "material", abstract: MaterialTrace.configuration.abstract,
        discussion: MaterialTrace.configuration.discussion)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: ArgumentHelp("The material lot.", valueName: "material-lot"), completion: ObjectCompletion.materialLots) var id: String
}

/// The `--material LOT:QUANTITY UNIT` option of `gmp lot step` and `gmp qc record`.
struct MaterialOptions: ParsableArguments {
    @Option(name: .customLong("material"), help: ArgumentHelp(
        "A material lot consumed, with quantity and unit: \"MAT26-00001:50 mL\" (repeat for more).",
        valueName: "lot:qty unit"))
    var materials: [String] = []

    /// Parsed and checked before anything is sent: a malformed one exits 64 with its fix.
    func uses() throws -> [MaterialUse] {
        try materials.map { text throws(MaterialInputError) in try MaterialUse(parsing: text) }
    }
}

extension MaterialTrace: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([
        .globalOptions, .group(TraceFormat.directArguments) { $0.format = $1 }, .argument { $0.id = $1 },
    ])
}

extension MaterialShow: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([.globalOptions, .argument { $0.id = $1 }])
}
