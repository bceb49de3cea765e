#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp spec`: specifications, the controlled documents lots are judged against.
struct Spec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec",
        abstract: "Import, approve and assign specifications (release criteria).",
        discussion: """
            A specification is a YAML file (format: gmp help qc-and-release; examples: gmp docs --spec uc-msc). \
            'gmp spec import FILE' loads it as a draft version, CODE@VERSION; QA approves it \
            with an e-signature ('gmp spec approve CODE@VERSION'), and only then can a lot be \
            judged against it ('gmp spec assign LOT CODE'). An approved version is never \
            edited: change the file and import it again, which makes a new version. Each lot \
            keeps the version it was assigned, and every report names it.
            """,
        subcommands: [SpecImport.self, SpecApprove.self, SpecAssign.self, SpecList.self, SpecShow.self])
}

/// `gmp spec import FILE`.
struct SpecImport: GMPCommand {
    static let path = "spec import"
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Load a specification file as a draft version (QC, QA).",
        discussion: """
            Examples:
              gmp docs --spec uc-msc > uc-msc.yaml
              gmp spec import uc-msc.yaml
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The specification file (YAML).", valueName: "file"), completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    struct Document: Encodable {
        let id: String
        let status: String
        let criteria: Int
    }

    func execute(in context: CommandContext) throws {
        let (specification, source) = try ControlledDocumentFile.read(
            file, example: "a specification file; gmp docs --spec uc-msc > uc-msc.yaml writes an example",
            parse: SpecificationFile.parse)
        let connection = try context.connect(startingEmbedded: false)
        let id = try connection.transaction { db in try SpecificationRegistry(db).importDraft(specification, source: source) }
        try context.output.document(Document(id: id, status: "draft", criteria: specification.criteria.count))
        context.output.data("imported \(id) (draft, \(specification.criteria.count) criteria); QA approves it: gmp spec approve \(id)")
    }
}

/// `gmp spec approve CODE@VERSION` (QA, signed).
struct SpecApprove: ControlledDocumentApproval {
    static let path = "spec approve"
    static let document = "specification"
    static let function = "gmp.approve_specification(uuid, text, text)"
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a draft specification version with your e-signature (QA; not its importer).",
        discussion: """
            Examples:
              gmp spec approve UC-MSC-DP@1 --statement "reviewed against the release specification SOP"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The version, CODE@VERSION.", valueName: "id")) var id: String
    @Option(help: ArgumentHelp("Your statement, signed with the approval.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    static func approve(on db: PostgresConnection, challenge: UUID, id: String, statement: String?) throws -> Int64 {
        try SpecificationRegistry.approve(on: db, challenge: challenge, id: id, statement: statement)
    }
}

/// `gmp spec assign LOT CODE[@VERSION] [--max-dose M]` (signed when a dose is given).
struct SpecAssign: GMPCommand {
    static let path = "spec assign"
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Fix the approved specification version a lot is judged against (QC, QA).",
        discussion: """
            CODE alone takes the latest approved version. A dose-based endotoxin limit (K/M) \
            needs the lot's maximum dose M in mL per kg per hour (--max-dose), within the \
            range the specification permits, and --intrathecal when that is the route \
            (K = 0.2 EU/kg instead of 5). The dose is an input of the release: it is set \
            with your e-signature (meaning "determined"), and whoever sets it does not \
            release or reject the lot. Fixed once.

            Examples:
              gmp spec assign G1234260000014 UC-MSC-DP
              gmp spec assign G1234260000014 UC-MSC-DP --max-dose 0.2 --statement "maximum dose from the infusion plan"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String
    @Argument(help: ArgumentHelp("CODE or CODE@VERSION.", valueName: "specification")) var specification: String
    @Option(help: ArgumentHelp("Maximum dose, mL per kg per hour (M of K/M), within the specification's range.",
                               valueName: "decimal")) var maxDose: ExactDecimal?
    @Flag(help: "The route is intrathecal.") var intrathecal = false
    @Option(help: ArgumentHelp("Your statement, signed with the dose.", valueName: "text")) var statement: String?
    @Flag(help: "Read your password from the first line of standard input (with --max-dose).") var passwordStdin = false

    struct Document: Encodable {
        let lot: String
        let specification: String
        let maxDoseMlPerKgH: String?
        let intrathecal: Bool
        /// The signature over the assignment when a dose was set.
        let signature: Int64?
        let signer: String?
        let meaning: String?
    }

    func execute(in context: CommandContext) throws {
        let din = try LotArgument.din(lot)
        if let maxDose, maxDose.isNegative || maxDose.isZero {
            throw Failure(exitCode: .usage, problem: "--max-dose \(maxDose) is not above zero", fix: "give the maximum dose in mL/kg/h, e.g. 0.2")
        }
        let connection = try context.connect(startingEmbedded: false)
        let function = "gmp.assign_specification(uuid, text, text, numeric, boolean, text)"
        var signature: Int64?
        let assigned: String
        if maxDose == nil {
            // READ COMMITTED: the rule locks the lot it assigns to (docs/concurrency.md).
            assigned = try connection.transaction(WriteIsolation.lockedRows) { db in
                try SpecificationRegistry.assign(on: db, challenge: nil, din, specification: specification, maxDose: nil,
                                                 intrathecal: intrathecal, statement: statement)
            }
        } else {
            (assigned, signature) = try SignedAction.run(connection, function: function, refusal: "assign specifications",
                                                         fix: "QC or QA people assign specifications",
                                                         signing: SigningIntent(
                                                            record: "specification \(specification) for lot \(din.eyeReadable), maximum dose \(maxDose?.description ?? "") mL/kg/h",
                                                            meaning: .determined, statement: statement),
                                                         passwordStdin: passwordStdin,
                                                         isolation: WriteIsolation.lockedRows) { db, challenge in
                let id = try SpecificationRegistry.assign(on: db, challenge: challenge, din, specification: specification,
                                                          maxDose: maxDose, intrathecal: intrathecal, statement: statement)
                let signature: Int64 = try db.query("""
                    SELECT id FROM gmp.signature
                    WHERE record_table = 'gmp.lot_specification' AND record_key = \(din.value) AND challenge = \(challenge)
                    """)[0].decode("id")
                return (id, signature)
            }
        }
        try context.output.document(Document(lot: din.eyeReadable, specification: assigned,
                                             maxDoseMlPerKgH: maxDose?.description, intrathecal: intrathecal,
                                             signature: signature, signer: signature.map { _ in connection.userName },
                                             meaning: signature.map { _ in SignatureMeaning.determined.rawValue }))
        if let maxDose, let signature {
            context.output.data("signed: \(connection.userName) determined the maximum dose of lot \(din.eyeReadable): "
                                + "\(maxDose) mL/kg/h\(intrathecal ? ", intrathecal" : "") (signature \(signature)); "
                                + "it is judged against \(assigned)")
        } else {
            context.output.data("lot \(din.eyeReadable) is judged against \(assigned)")
        }
    }
}

/// `gmp spec list [CODE]`.
struct SpecList: GMPCommand {
    static let path = "spec list"
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List specification versions and their status.",
        discussion: """
            Examples:
              gmp spec list
              gmp spec list UC-MSC-DP --json
              gmp spec list --csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Argument(help: ArgumentHelp("Only this code.", valueName: "code")) var code: String?

    func validate() throws { try format.requireOne(json: options.json) }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let versions = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try SpecificationRegistry(db).versions(code: code)
        }
        if format.csv {
            format.write(header: ["id", "status", "product_kind", "stage", "title", "approved_by", "lots"], rows: versions.map { v in
                [v.id, v.status, v.productKind, v.stage, v.title, v.approvedBy ?? "", String(v.lots)]
            })
            return
        }
        try context.output.document(versions)
        let rows = versions.map { v in
            [v.id, v.status, "\(v.productKind), \(v.stage)", v.title, v.approvedBy ?? "", String(v.lots)]
        }
        context.output.data(rows.isEmpty ? "no specification yet: gmp spec import FILE"
                                         : textTable(header: ["SPECIFICATION", "STATUS", "FOR", "TITLE", "APPROVED BY", "LOTS"],
                                                     rows: rows, rightAligned: [5]))
    }
}

/// `gmp spec show CODE@VERSION`: the criteria, with limits exactly as evaluated.
struct SpecShow: GMPCommand {
    static let path = "spec show"
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a version's criteria and limits.",
        discussion: """
            Examples:
              gmp spec show UC-MSC-DP@1
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The version, CODE@VERSION.", valueName: "id")) var id: String

    struct Document: Encodable {
        let specification: SpecificationRegistry.Version
        let criteria: [SpecificationRegistry.CriterionRow]
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let (version, criteria) = try connection.transaction(.repeatableRead, readOnly: true) { db in
            let registry = SpecificationRegistry(db)
            return (try registry.versions(code: String(id.prefix { $0 != "@" })).first { $0.id == id },
                    try registry.criteria(of: id))
        }
        guard let version else {
            throw Failure(exitCode: .refused, problem: "no specification \(id)", fix: "gmp spec list shows every version (CODE@VERSION)")
        }
        try context.output.document(Document(specification: version, criteria: criteria))
        var lines = ["\(version.id)  \(version.title)  (\(version.status)\(version.approvedBy.map { ", approved by \($0)" } ?? ""))",
                     "for \(version.productKind), \(version.stage); file sha256 \(version.sourceSha256)", ""]
        lines.append(textTable(header: ["TEST", "LIMIT", "RETESTS", "NAME", "METHOD", "M"], rows: criteria.map { c in
            [c.test, c.limit + (c.unit.map { " " + $0 } ?? ""), "≤ \(c.maxRetests)", c.name, c.method, c.maxDose ?? ""]
        }, rightAligned: [2]))
        context.output.data(lines.joined(separator: "\n"))
    }
}
