import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp trace`: traceability both ways (21 CFR 1271.290), the report a recall needs.
struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Trace a lot back to its donor, a donor or a material lot forward to every lot: table, --json or --csv.",
        subcommands: [TraceLot.self, TraceDonor.self, TraceMaterial.self])
}

/// Table, --json or --csv (with --bom): the options of every list-like command.
struct TraceFormat: ParsableArguments {
    @Flag(help: "CSV (RFC 4180) for spreadsheets, with a header row; values a spreadsheet would run as formulas get a leading '.")
    var csv = false
    @Flag(help: "With --csv: begin with the UTF-8 byte order mark, for spreadsheets that otherwise guess the encoding.")
    var bom = false

    func validate() throws {
        if bom && !csv { throw ValidationError("--bom goes with --csv") }
    }

    /// Writes a whole CSV text (header and rows) to stdout, with the BOM when asked.
    func write(_ csv: String) {
        StandardStream.output.write((bom ? CSV.byteOrderMark : "") + csv)
    }

    /// Writes the header and rows as CSV to stdout.
    func write(header: [String], rows: [[String]]) {
        write(CSV.line(header) + rows.map(CSV.line).joined())
    }
}

/// `gmp trace donor CODE`
struct TraceDonor: GMPCommand {
    static let path = "trace donor"
    static let configuration = CommandConfiguration(
        commandName: "donor",
        abstract: "Every collection, lot and unit of a donor (and of a birth mother's newborns).",
        discussion: """
            Under each lot, every unit with where it is now: its storage position, the person \
            holding it, or the shipment and consignee it went to. CSV: one row per lot. \
            --json: the document described in gmp help traceability.

            Examples:
              gmp trace donor D26-000001
              gmp trace donor D26-000001 --csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: "The donor code.", completion: ObjectCompletion.donors) var donor: String

    static let csvHeader = ["din", "check_character", "stage", "product_kind", "intended_use", "status", "parent",
                            "collection", "donor", "eligibility", "consent_withdrawn", "reactive_tests", "units",
                            "unit_volume_ml", "cryopreserved_at", "expires_on"]

    func validate() throws {
        if format.csv && options.json { throw ValidationError("choose one of --csv and --json") }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let trace = Traceability(connection)
        if options.json {
            try context.output.serverDocument(try trace.donorJSON(donor))
            return
        }
        let document = try trace.donor(donor)
        if format.csv {
            var out = CSV.line(Self.csvHeader)
            for lot in document.lots {
                out += CSV.line([
                    lot.din, lot.checkCharacter, lot.stage, lot.productKind, lot.intendedUse, lot.status, lot.parent ?? "",
                    lot.collection, lot.donor, lot.eligibility ?? "", lot.consentWithdrawn ? "true" : "false",
                    lot.reactiveTests.joined(separator: "; "), lot.units.map(String.init) ?? "", lot.unitVolumeMl ?? "",
                    lot.cryopreservedAt ?? "", lot.expiresOn,
                ])
            }
            format.write(out)
            return
        }
        var lines = DonorText.summary(document.donor, newborns: document.newborns)
        for collection in document.collections { lines += DonorText.collection(collection) }
        lines.append("lots           \(document.lots.count)")
        if !document.lots.isEmpty {
            lines += indentedTable(header: ["LOT", "STAGE", "STATUS", "FROM", "UNITS"], rows: document.lots.map { lot in
                [lot.eyeReadable, lot.stage, lot.status, lot.parent ?? lot.collection, lot.units.map(String.init) ?? ""]
            }, rightAligned: [4])
        }
        // Each unit's whereabouts: where it is, or which consignee received it (1271.290).
        let units = document.lots.flatMap { $0.whereabouts ?? [] }
        if !units.isEmpty {
            lines.append("units          \(units.count)")
            lines += indentedTable(header: ["UNIT", "WHERE"], rows: units.map { [$0.unit, $0.description] })
        }
        context.output.data(lines.joined(separator: "\n"))
    }
}

/// `gmp trace lot LOT`
struct TraceLot: GMPCommand {
    static let path = "trace lot"
    static let configuration = CommandConfiguration(
        commandName: "lot",
        abstract: "A lot back to its parent lots, tissue, donor, eligibility and the evidence behind it.",
        discussion: """
            CSV: one row per link (lot, parent, collection, donor, screening result, material consumed, equipment used).

            Examples:
              gmp trace lot G1234260000014
              gmp trace lot G1234260000014 --json
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String

    func validate() throws {
        if format.csv && options.json { throw ValidationError("choose one of --csv and --json") }
    }

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        let connection = try context.connect(startingEmbedded: false)
        let trace = Traceability(connection)
        if options.json {
            try context.output.serverDocument(try trace.lotJSON(din))
            return
        }
        let document = try trace.lot(din)
        if format.csv {
            var out = CSV.line(["link", "id", "kind", "state", "date", "detail"])
            let l = document.lot
            out += CSV.line(["lot", l.din + l.checkCharacter, l.stage, l.status, l.createdAt, l.productKind])
            for a in document.lineage {
                out += CSV.line(["parent", a.din + a.checkCharacter, a.stage, a.status, "", ""])
            }
            let c = document.collection
            out += CSV.line(["collection", c.id, c.source, c.eligibility?.outcome ?? "not determined",
                                         c.collectedAt, "\(c.amount) \(c.amountUnit) at \(c.site)"])
            out += CSV.line(["donor", document.donor.code, document.donor.intendedUse,
                                         document.donor.consentWithdrawn ? "consent withdrawn" : "consent in force",
                                         document.donor.registeredAt, document.donor.birthMother.map { "birth mother \($0)" } ?? ""])
            for s in document.screening {
                out += CSV.line(["screening", s.donor, s.test, s.result, s.specimenOn, "\(s.testKit); \(s.analyst)"])
            }
            for m in document.materials ?? [] {
                out += CSV.line(["material", m.materialLot, m.type, "supplier lot \(m.supplierLot)", m.usedAt,
                                             "\(m.quantity) \(m.unit) in \(m.lot)"])
            }
            for e in document.equipment ?? [] {
                out += CSV.line(["equipment", e.equipment, e.kind, e.name, e.usedAt,
                                             (e.stepId.map { "step \($0)" } ?? e.resultId.map { "QC result \($0)" } ?? "")
                                                + " in \(e.lot)"])
            }
            format.write(out)
            return
        }
        var lines = LotText.summary(document.lot)
        for ancestor in document.lineage {
            let id = (try? DonationIdentificationNumber(stored: ancestor.din).eyeReadable) ?? ancestor.din
            lines.append("parent         \(id) (\(ancestor.stage), \(ancestor.status))")
        }
        lines += DonorText.collection(document.collection)
        lines += DonorText.summary(document.donor, newborns: [])
        lines.append("screening      \(document.screening.count) result(s)")
        if !document.screening.isEmpty {
            lines += indentedTable(header: ["SPECIMEN", "TEST", "RESULT", "TEST KIT", "ANALYST"], rows: document.screening.map { s in
                [s.specimenOn, s.test, s.result, s.testKit, s.analyst]
            })
        }
        lines += LotText.steps(document.steps)
        // What went into it (21 CFR 1271.210(d)): the lot's and its cell banks' consumptions.
        let materials = document.materials ?? []
        func inLot(_ din: String) -> String {
            din == document.lot.din ? "" : (try? DonationIdentificationNumber(stored: din).eyeReadable) ?? din
        }
        lines.append(materials.isEmpty ? "materials      none recorded" : "materials      \(materials.count)")
        if !materials.isEmpty {
            lines += indentedTable(header: ["USED (UTC)", "MATERIAL LOT", "TYPE", "QUANTITY", "UNIT", "SUPPLIER LOT", "IN LOT"],
                                   rows: materials.map { m in
                [m.usedAt, m.materialLot, m.type, m.quantity, m.unit, m.supplierLot, inLot(m.lot)]
            }, rightAligned: [3])
        }
        // Which instruments (21 CFR 211.182): the lot's and its cell banks' equipment.
        let equipment = document.equipment ?? []
        lines.append(equipment.isEmpty ? "equipment      none recorded" : "equipment      \(equipment.count)")
        if !equipment.isEmpty {
            lines += indentedTable(header: ["USED (UTC)", "EQUIPMENT", "KIND", "BY", "IN LOT"], rows: equipment.map { e in
                [e.usedAt, e.equipment, e.kind, e.stepId.map { "step \($0)" } ?? e.resultId.map { "QC result \($0)" } ?? "", inLot(e.lot)]
            })
        }
        context.output.data(lines.joined(separator: "\n"))
    }
}

extension TraceFormat {
    /// `--csv`, `--bom`, as `DirectArguments` reads them.
    static let directArguments = DirectArguments<TraceFormat>([
        .flag("--csv") { $0.csv = $1 },
        .flag("--bom") { $0.bom = $1 },
    ])
}

extension TraceLot: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([
        .globalOptions, .group(TraceFormat.directArguments) { $0.format = $1 }, .argument { $0.lot = $1 },
    ])
}

extension TraceMaterial: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([
        .globalOptions, .group(TraceFormat.directArguments) { $0.format = $1 }, .argument { $0.id = $1 },
    ])
}

extension TraceDonor: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([
        .globalOptions, .group(TraceFormat.directArguments) { $0.format = $1 }, .argument { $0.donor = $1 },
    ])
}
