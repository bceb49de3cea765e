#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp process`: master batch records, the approved processes lots are made under.
struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Import, approve and show master batch records (the approved manufacturing process).",
        discussion: """
            A master batch record is a YAML file (format: gmp help master-batch-records; \
            examples: gmp docs --process uc-msc). 'gmp process import FILE' loads it as a draft \
            version, CODE@VERSION; QA approves it with an e-signature ('gmp process approve \
            CODE@VERSION'), and only then are lots made under it ('gmp lot create --process \
            CODE'). An approved version is never edited: change the file and import it again; \
            once approved, the new version supersedes the old one for new lots.
            """,
        subcommands: [ProcessImport.self, ProcessApprove.self, ProcessList.self, ProcessShow.self])
}

/// `gmp process import FILE`.
struct ProcessImport: GMPCommand {
    static let path = "process import"
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Load a master batch record file as a draft version (QC, QA).",
        discussion: """
            Examples:
              gmp docs --process uc-msc > uc-msc.yaml
              gmp process import uc-msc.yaml
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The master batch record file (YAML).", valueName: "file"), completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    struct Document: Encodable {
        let id: String
        let status: String
        let steps: Int
    }

    func execute(in context: CommandContext) throws {
        let (record, source) = try ControlledDocumentFile.read(
            file, example: "a master batch record file; gmp docs --process uc-msc > uc-msc.yaml writes an example",
            parse: ProcessFile.parse)
        let connection = try context.connect(startingEmbedded: false)
        let id = try connection.transaction { db in try MasterRecordRegistry(db).importDraft(record, source: source) }
        try context.output.document(Document(id: id, status: "draft", steps: record.steps.count))
        context.output.data("imported \(id) (draft, \(record.steps.count) steps); QA approves it: gmp process approve \(id)")
    }
}

/// `gmp process approve CODE@VERSION` (QA, signed).
struct ProcessApprove: ControlledDocumentApproval {
    static let path = "process approve"
    static let document = "master batch record"
    static let function = "gmp.approve_master_record(uuid, text, text)"
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a draft master batch record version with your e-signature (QA; not its importer).",
        discussion: """
            Examples:
              gmp process approve UC-MSC-MBR@1 --statement "reviewed against the validated process"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The version, CODE@VERSION.", valueName: "id")) var id: String
    @Option(help: ArgumentHelp("Your statement, signed with the approval.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    static func approve(on db: PostgresConnection, challenge: UUID, id: String, statement: String?) throws -> Int64 {
        try MasterRecordRegistry.approve(on: db, challenge: challenge, id: id, statement: statement)
    }
}

/// `gmp process list [CODE]`: table, --json or --csv.
struct ProcessList: GMPCommand {
    static let path = "process list"
    static let configuration = CommandConfiguration(commandName: "list",
        abstract: "List master batch record versions and their status (draft, approved, superseded).",
        discussion: """
            Examples:
              gmp process list
              gmp process list UC-MSC-MBR --json
              gmp process list --csv > processes.csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: ArgumentHelp("Only this code.", valueName: "code")) var code: String?

    static let header = ["PROCESS", "STATUS", "FOR", "TITLE", "APPROVED BY", "STEPS", "LOTS"]

    func validate() throws {
        try format.requireOne(json: options.json)
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let versions = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try MasterRecordRegistry(db).versions(code: code)
        }
        let rows = versions.map { v in
            [v.id, v.status, "\(v.productKind), \(v.stage)", v.title, v.approvedBy ?? "", String(v.steps), String(v.lots)]
        }
        if format.csv {
            format.write(header: ["id", "status", "product_kind", "stage", "title", "approved_by", "approved_at", "steps", "lots"],
                         rows: versions.map { v in
                             [v.id, v.status, v.productKind, v.stage, v.title, v.approvedBy ?? "",
                              v.approvedAt.map { "\($0)" } ?? "", String(v.steps), String(v.lots)]
                         })
            return
        }
        try context.output.document(versions)
        context.output.data(rows.isEmpty ? "no master batch record yet: gmp process import FILE"
                                         : textTable(header: Self.header, rows: rows, rightAligned: [5, 6]))
    }
}

/// `gmp process show CODE@VERSION`: the steps, parameters and requirements.
struct ProcessShow: GMPCommand {
    static let path = "process show"
    static let configuration = CommandConfiguration(commandName: "show",
        abstract: "Show a version's steps, parameters with their limits, materials and equipment.",
        discussion: """
            Examples:
              gmp process show UC-MSC-MBR@1
              gmp process show UC-MSC-MBR@1 --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The version, CODE@VERSION.", valueName: "id")) var id: String

    struct Document: Encodable {
        let process: MasterRecordRegistry.Version
        let steps: [MasterRecordRegistry.StepRow]
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let (version, steps) = try connection.transaction(.repeatableRead, readOnly: true) { db in
            let registry = MasterRecordRegistry(db)
            return (try registry.versions(code: String(id.prefix { $0 != "@" })).first { $0.id == id },
                    try registry.steps(of: id))
        }
        guard let version else {
            throw Failure(exitCode: .refused, problem: "no master batch record \(id)",
                          fix: "gmp process list shows every version (CODE@VERSION)")
        }
        try context.output.document(Document(process: version, steps: steps))
        var lines = ["\(version.id)  \(version.title)  (\(version.status)"
                        + (version.approvedBy.map { ", approved by \($0)" } ?? "")
                        + (version.supersededBy.map { ", superseded by \($0)" } ?? "") + ")",
                     "for \(version.productKind), \(version.stage); file sha256 \(version.sourceSha256)"]
        for step in steps {
            lines.append("")
            lines.append("\(step.ordinal). \(step.kind)  \(step.procedure)  check: \(step.check)")
            lines += step.parameters.map { "   \($0.name.padding(26)) \($0.limit)" }
            if !step.materials.isEmpty { lines.append("   materials: \(step.materials.joined(separator: ", "))") }
            if !step.equipment.isEmpty { lines.append("   equipment: \(step.equipment.joined(separator: ", "))") }
        }
        context.output.data(lines.joined(separator: "\n"))
    }
}
