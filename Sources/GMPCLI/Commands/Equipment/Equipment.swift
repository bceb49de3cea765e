#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp equipment`: the register, status, calibration and maintenance of equipment.
struct Equipment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "equipment",
        abstract: "Equipment: register, list, show, calibrate, maintain, status (in or out of service).",
        discussion: """
            Biosafety cabinets, incubators, centrifuges, cell counters, flow cytometers, \
            controlled-rate freezers and storage devices (the tanks, freezers and shippers of \
            gmp storage, named, not copied) are registered with their calibration and \
            maintenance intervals. Calibrations (as found / as left) and maintenance are \
            signed by the person who performed them. Steps and QC results name the equipment \
            they used with --equipment ID; the database refuses equipment out of service, or \
            whose calibration or maintenance was overdue at the step's time. A calibration \
            found out of tolerance lists every step and QC result since the last good \
            calibration and opens a deviation on each affected lot still open, which blocks \
            its release until QA closes it.

            Examples:
              gmp equipment register BSC-01 --kind biosafety_cabinet \\
                  --name "Class II cabinet, room 2" --calibration-interval 182 \\
                  --maintenance-interval 365
              gmp equipment calibrate BSC-01 --as-found in --as-left in \\
                  --reference "cert 2026-118"
              gmp equipment maintain BSC-01 --note "HEPA filter changed"
              gmp lot step G1234260000014 isolation --equipment BSC-01
              gmp equipment calibrate BSC-01 --as-found out --as-left in
              gmp equipment status BSC-01 out-of-service --reason "airflow alarm"
              gmp equipment list --csv
            """,
        subcommands: [EquipmentRegisterCommand.self, EquipmentList.self, EquipmentShow.self, EquipmentCalibrate.self,
                      EquipmentMaintain.self, EquipmentStatus.self])
}

struct EquipmentRegisterCommand: GMPCommand {
    static let path = "equipment register"
    static let configuration = CommandConfiguration(
        commandName: "register", abstract: "Register equipment, in service (operators, QC, QA).",
        discussion: """
            Kinds: \(EquipmentVocabulary.kinds.joined(separator: ", ")). A storage_device names the \
            tank, freezer or shipper of gmp storage it is (--storage-device; default: the same id). \
            Without an interval, that kind of record is not required before use.

            Examples:
              gmp equipment register BSC-01 --kind biosafety_cabinet --name "Class II cabinet, room 2" --calibration-interval 365
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("Its id: A–Z, 0–9, '.', '_', '-', up to 32 characters (BSC-01).", valueName: "id"))
    var id: String
    @Option(help: ArgumentHelp("Its kind.", valueName: "kind")) var kind: String
    @Option(help: ArgumentHelp("Its name and place.", valueName: "text")) var name: String
    @Option(help: ArgumentHelp("The storage device it is (kind storage_device).", valueName: "location"))
    var storageDevice: String?
    @Option(help: ArgumentHelp("Days between calibrations.", valueName: "days")) var calibrationInterval: Int?
    @Option(help: ArgumentHelp("Days between maintenance.", valueName: "days")) var maintenanceInterval: Int?

    func execute(in context: CommandContext) throws {
        guard EquipmentVocabulary.kinds.contains(kind) else {
            throw Failure(exitCode: .usage, problem: "\"\(kind)\" is not a kind of equipment",
                          fix: "use \(EquipmentVocabulary.kinds.joined(separator: ", "))")
        }
        guard EquipmentVocabulary.isEquipmentID(id) else {
            throw Failure(exitCode: .usage, problem: "\"\(id)\" is not an equipment id",
                          fix: "use A–Z, 0–9, '.', '_', '-', up to 32 characters, e.g. BSC-01")
        }
        for (option, days) in [("--calibration-interval", calibrationInterval), ("--maintenance-interval", maintenanceInterval)] {
            if let days, !(1...3660).contains(days) {
                throw Failure(exitCode: .usage, problem: "\(option) \(days) is not an interval in days",
                              fix: "give 1 to 3660 days, or leave it out when that record is not required")
            }
        }
        let entry = EquipmentRegister.Entry(id: id, kind: kind, name: name, storageDevice: storageDevice,
                                            calibrationIntervalDays: calibrationInterval,
                                            maintenanceIntervalDays: maintenanceInterval)
        let connection = try context.connect(startingEmbedded: false)
        try connection.transaction(WriteIsolation.lockedRows) { db in try EquipmentRegister(db).register(entry) }
        try context.output.document(entry)
        context.output.data("registered \(id) (\(kind)), in service"
                            + (calibrationInterval == nil && maintenanceInterval == nil ? ""
                               : "; calibrate and maintain it before use (gmp equipment calibrate|maintain)"))
    }
}

struct EquipmentList: GMPCommand {
    static let path = "equipment list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "The register: status, next calibration and maintenance, usable now.",
        discussion: """
            Examples:
              gmp equipment list
              gmp equipment list --csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat

    func validate() throws {
        try format.requireOne(json: options.json)
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let rows = try connection.transaction(.repeatableRead, readOnly: true) { db in try EquipmentRegister(db).list() }
        if format.csv {
            var out = CSV.line(["id", "kind", "name", "storage_device", "status", "calibration_due_at",
                                            "maintenance_due_at", "usable", "unusable_because"])
            for r in rows {
                out += CSV.line([r.id, r.kind, r.name, r.storageDevice ?? "", r.status,
                                             r.calibrationDueAt?.description ?? "", r.maintenanceDueAt?.description ?? "",
                                             r.usable ? "true" : "false", r.unusableBecause ?? ""])
            }
            format.write(out)
            return
        }
        try context.output.document(rows)
        context.output.data(rows.isEmpty ? "no equipment" : textTable(
            header: ["EQUIPMENT", "KIND", "STATUS", "CALIBRATION DUE", "MAINTENANCE DUE", "NOT USABLE NOW"],
            rows: rows.map { r in
                [r.id, r.kind, r.status.replacing("_", with: " "), r.calibrationDueAt?.description ?? "-",
                 r.maintenanceDueAt?.description ?? "-", r.unusableBecause ?? ""]
            }))
    }
}

struct EquipmentShow: GMPCommand {
    static let path = "equipment show"
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "One piece of equipment: status changes, calibrations, maintenance, every use.",
        discussion: """
            Examples:
              gmp equipment show BSC-01
              gmp equipment show BSC-01 --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The equipment.", valueName: "id"), completion: ObjectCompletion.equipment) var id: String

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let register = EquipmentRegister(connection)
        try context.output.serverDocument({ try register.documentJSON(id) },
                                          orLines: { EquipmentText.summary(try register.document(id)) })
    }
}

/// How a calibration found or left the equipment, as typed: `in` or `out` (of tolerance).
enum Tolerance: String, ExpressibleByArgument, CaseIterable {
    case `in`, out

    var stored: String { self == .in ? "in_tolerance" : "out_of_tolerance" }
}

/// What `gmp equipment calibrate|maintain` share: when, next due, reference, note, password.
struct ServiceOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The equipment.", valueName: "id"), completion: ObjectCompletion.equipment) var id: String
    @Option(help: ArgumentHelp("When it was performed (default: now).", valueName: "time")) var at: TimeArgument?
    @Option(help: ArgumentHelp("When the next one is due, when earlier than the interval says.", valueName: "time"))
    var due: TimeArgument?
    @Option(help: ArgumentHelp("The certificate or work order.", valueName: "text")) var reference: String?
    @Option(help: ArgumentHelp("A note, signed with the record.", valueName: "text")) var note: String?
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    /// Records it, signed by the person who performed it, then reads it back in the same session.
    func record(_ kind: EquipmentRegister.ServiceRecord.Kind, asFound: Tolerance?, asLeft: Tolerance?,
                in context: CommandContext) throws -> EquipmentDocument.Service {
        let service = EquipmentRegister.ServiceRecord(kind: kind, equipment: id, performedAt: at?.timestamp,
                                                      dueAt: due?.timestamp, asFound: asFound?.stored,
                                                      asLeft: asLeft?.stored, reference: reference, note: note)
        let connection = try context.connect(startingEmbedded: false)
        let recorded = try SignedAction.run(
            connection, function: "gmp.record_equipment_service(uuid, text, text, timestamp with time zone, "
                + "timestamp with time zone, text, text, text, text)",
            refusal: "record calibrations and maintenance", fix: "operators, QC and QA record them",
            signing: SigningIntent(record: "\(kind.rawValue) of \(id)" + (asLeft.map { ", left \($0.rawValue) of tolerance" } ?? ""),
                                   meaning: .performed, statement: note),
            passwordStdin: passwordStdin, isolation: WriteIsolation.lockedRows) { db, challenge in
            try EquipmentRegister.record(service, on: db, challenge: challenge)
        }
        let document = try EquipmentRegister(connection).service(recorded)
        try context.output.document(document)
        context.output.data(EquipmentText.recorded(document, signer: connection.userName).joined(separator: "\n"))
        return document
    }
}

struct EquipmentCalibrate: GMPCommand {
    static let path = "equipment calibrate"
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Record a calibration, as found and as left, signed by you as its performer.",
        discussion: """
            Found out of tolerance: every step and QC result that used the equipment since its last \
            good calibration is listed, with its lot, and a deviation is opened on each lot (and each \
            lot made from it) whose record is still open, in the same transaction. Left out of \
            tolerance: the equipment may not be used until a calibration leaves it in tolerance.

            Example:
              gmp equipment calibrate BSC-01 --as-found out --as-left in --reference "cert 2026-131"
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var service: ServiceOptions
    @Option(help: ArgumentHelp("How it was found: in or out (of tolerance).", valueName: "in|out")) var asFound: Tolerance
    @Option(help: ArgumentHelp("How it was left: in or out (of tolerance).", valueName: "in|out")) var asLeft: Tolerance

    func execute(in context: CommandContext) throws {
        _ = try service.record(.calibration, asFound: asFound, asLeft: asLeft, in: context)
    }
}

struct EquipmentMaintain: GMPCommand {
    static let path = "equipment maintain"
    static let configuration = CommandConfiguration(
        commandName: "maintain", abstract: "Record a maintenance, signed by you as its performer.",
        discussion: "Example:\n  gmp equipment maintain INC-02 --note \"door gasket replaced; CO2 sensor checked\"")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var service: ServiceOptions

    func execute(in context: CommandContext) throws {
        _ = try service.record(.maintenance, asFound: nil, asLeft: nil, in: context)
    }
}

struct EquipmentStatus: GMPCommand {
    static let path = "equipment status"
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Take equipment out of service (anyone who uses it) or return it to service (QA), signed.",
        discussion: "Example:\n  gmp equipment status BSC-01 out-of-service --reason \"airflow alarm\"")

    enum State: String, ExpressibleByArgument, CaseIterable {
        case outOfService = "out-of-service", inService = "in-service"
    }

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The equipment.", valueName: "id"), completion: ObjectCompletion.equipment) var id: String
    @Argument(help: ArgumentHelp("out-of-service or in-service.", valueName: "state")) var state: State
    @Option(help: ArgumentHelp("Why (required).", valueName: "text")) var reason: String
    @Flag(help: "Read your password from the first line of standard input.") var passwordStdin = false

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let inService = state == .inService
        let stateInWords = state.rawValue.replacing("-", with: " ")
        try SignedAction.runAndReport(
            connection,
            function: inService ? "gmp.return_equipment_to_service(uuid, text, text)"
                                : "gmp.take_equipment_out_of_service(uuid, text, text)",
            refusal: inService ? "return equipment to service" : "take equipment out of service",
            fix: inService ? "QA returns equipment to service" : "operators, QC and QA take equipment out of service",
            signing: SigningIntent(record: "\(id) \(stateInWords)", meaning: .approved, statement: reason),
            passwordStdin: passwordStdin, record: id, done: "put \(id) \(stateInWords)",
            isolation: WriteIsolation.lockedRows, in: context) { db, challenge in
            try EquipmentRegister.changeStatus(of: id, inService: inService, reason: reason, on: db, challenge: challenge)
        }
    }
}

/// The `--equipment ID` option of `gmp lot step` and `gmp qc record`.
struct EquipmentOptions: ParsableArguments {
    @Option(name: .customLong("equipment"), help: ArgumentHelp(
        "Equipment used, by id (repeat for more); refused when out of service or overdue.", valueName: "id"),
        completion: ObjectCompletion.equipment)
    var equipment: [String] = []

    /// Checked before anything is sent: a malformed id exits 64 with its fix.
    func ids() throws -> [String] {
        for id in equipment where !EquipmentVocabulary.isEquipmentID(id) {
            throw Failure(exitCode: .usage, problem: "\"\(id)\" is not an equipment id",
                          fix: "copy it from gmp equipment list")
        }
        return equipment
    }
}
