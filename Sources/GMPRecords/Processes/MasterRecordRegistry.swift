#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Master batch record versions in the database (sql/code/23_master_records.sql): import
/// as a draft, QA approval with a signature, the version each lot is made under, the
/// parameter values of executed steps and their second-person checks.
public struct MasterRecordRegistry {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// One version as `gmp process list` shows it; status is draft, approved or superseded.
    public struct Version: Encodable, Sendable, Equatable {
        public let id: String
        public let code: String
        public let version: Int
        public let title: String
        public let productKind: String
        public let stage: String
        public let status: String
        public let supersededBy: String?
        public let importedBy: String
        public let importedAt: Timestamp
        public let approvedBy: String?
        public let approvedAt: Timestamp?
        public let sourceSha256: String
        public let steps: Int
        public let lots: Int
    }

    /// One step of a version with its parameters' limits as printed.
    public struct StepRow: Codable, Sendable, Equatable {
        public let ordinal: Int
        public let kind: String
        public let procedure: String
        public let check: String
        public let parameters: [ParameterRow]
        public let materials: [String]
        public let equipment: [String]
    }

    public struct ParameterRow: Codable, Sendable, Equatable {
        public let name: String
        public let unit: String
        public let limit: String
    }

    /// A parameter value given with a step: `NAME=VALUE[UNIT]`.
    public struct ParameterValue: Sendable, Equatable {
        public let name: String
        public let value: ExactDecimal
        /// nil: the master's unit.
        public let unit: String?

        public init(name: String, value: ExactDecimal, unit: String?) {
            self.name = name
            self.value = value
            self.unit = unit
        }

        /// Parses `NAME=VALUE[UNIT]`: `seeding_density=4000`, `incubation_temperature=37.0°C`,
        /// `centrifugation_force=400 x g`. nil when it is not of that form.
        public init?(argument: String) {
            guard let equals = argument.firstIndex(of: "=") else { return nil }
            let name = String(argument[..<equals]).trimmingWhitespace
            let rest = argument[argument.index(after: equals)...].trimmingWhitespace
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-") }
            guard !name.isEmpty, let value = ExactDecimal(String(number)) else { return nil }
            let unit = rest.dropFirst(number.count).trimmingWhitespace
            self.init(name: name, value: value, unit: unit.isEmpty ? nil : unit)
        }
    }

    /// Imports a parsed file as a draft; returns its id, CODE@VERSION.
    public func importDraft(_ record: MasterRecord, source: String) throws -> String {
        let document = JSONText(MasterRecordDocument.json(for: record))
        return try connection.query("SELECT gmp.import_master_record(\(document)::jsonb, \(source)) AS id")[0].decode("id")
    }

    /// QA approves, signing "approved". Call inside ``SignatureCeremony/sign(password:_:)``.
    public static func approve(on db: PostgresConnection, challenge: UUID, id: String, statement: String?) throws -> Int64 {
        try db.query("SELECT gmp.approve_master_record(\(challenge), \(id), \(statement)) AS id")[0].decode("id")
    }

    /// A second person checks a step, signing "verified". Call inside the signing ceremony.
    public static func check(on db: PostgresConnection, challenge: UUID, step: Int64, statement: String?) throws -> Int64 {
        try db.query("SELECT gmp.check_step(\(challenge), \(step), \(statement)) AS id")[0].decode("id")
    }

    /// Records parameter values on the lot's step just recorded in this transaction;
    /// returns the names of those outside the master's limits (each opened a deviation).
    public func record(_ values: [ParameterValue], on lot: DonationIdentificationNumber) throws -> [String] {
        try values.compactMap { v in
            let within: Bool = try connection.query("""
                SELECT gmp.record_step_parameter(\(lot.value), \(v.name), \(v.value)::numeric, \(v.unit)::text) AS within
                """)[0].decode("within")
            return within ? nil : v.name
        }
    }

    /// The version a lot is made under, CODE@VERSION; nil when it has none.
    public func master(of lot: DonationIdentificationNumber) throws -> String? {
        try connection.query("""
            SELECT master_code || '@' || master_version AS id FROM gmp.lot_master_record WHERE din = \(lot.value)
            """).first?.decode("id")
    }

    /// The id of the lot's latest step (the one `gmp lot check` names).
    public func latestStep(of lot: DonationIdentificationNumber) throws -> Int64? {
        try connection.query("SELECT max(id) AS id FROM gmp.manufacturing_step WHERE din = \(lot.value)")[0].decode("id")
    }

    /// The deviations opened by out-of-range parameters of the lot's latest step.
    public func deviationsOfLatestStep(_ lot: DonationIdentificationNumber) throws -> [String] {
        try connection.query("""
            SELECT p.deviation_id FROM gmp.step_parameter p
            WHERE p.step_id = (SELECT max(id) FROM gmp.manufacturing_step WHERE din = \(lot.value)) AND p.deviation_id IS NOT NULL
            ORDER BY p.name
            """).map { try $0.decode("deviation_id") }
    }

    public func versions(code: String? = nil) throws -> [Version] {
        try connection.query("""
            SELECT id, code, version, title, product_kind, stage, status, superseded_by, imported_by, imported_at,
                   approved_by, approved_at, source_sha256, steps, lots
            FROM gmp.master_record_overview WHERE \(code)::text IS NULL OR code = \(code)
            ORDER BY code, version
            """).map { row in
            Version(id: try row.decode("id"), code: try row.decode("code"), version: try row.decode("version"),
                    title: try row.decode("title"), productKind: try row.decode("product_kind"),
                    stage: try row.decode("stage"), status: try row.decode("status"),
                    supersededBy: try row.decode("superseded_by"), importedBy: try row.decode("imported_by"),
                    importedAt: try row.decode("imported_at"), approvedBy: try row.decode("approved_by"),
                    approvedAt: try row.decode("approved_at"), sourceSha256: try row.decode("source_sha256"),
                    steps: try row.decode("steps"), lots: try row.decode("lots"))
        }
    }

    /// The steps of a version, in order, with parameters, materials and equipment.
    public func steps(of id: String) throws -> [StepRow] {
        let json: String = try connection.query("""
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'ordinal', s.ordinal, 'kind', s.kind, 'procedure', s.procedure_code,
                       'check', CASE WHEN s.check_required THEN 'required' ELSE 'none' END,
                       'parameters', coalesce((SELECT jsonb_agg(jsonb_build_object('name', p.name, 'unit', p.unit,
                                                   'limit', gmp_rules.parameter_limit_text(p)) ORDER BY p.ordinal)
                                               FROM gmp.master_parameter p WHERE p.master_id = s.master_id AND p.kind = s.kind), '[]'),
                       'materials', coalesce((SELECT jsonb_agg(m.category ORDER BY m.category) FROM gmp.master_material m
                                              WHERE m.master_id = s.master_id AND m.kind = s.kind), '[]'),
                       'equipment', coalesce((SELECT jsonb_agg(e.equipment_kind ORDER BY e.equipment_kind) FROM gmp.master_equipment e
                                              WHERE e.master_id = s.master_id AND e.kind = s.kind), '[]'))
                       ORDER BY s.ordinal), '[]')::text AS steps
            FROM gmp.master_step s WHERE s.master_id = \(id)
            """)[0].decode("steps")
        return try JSONDecoder().decode([StepRow].self, from: Data(json.utf8))
    }
}
