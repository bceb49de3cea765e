#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Specification versions in the database (sql/code/07_specifications.sql): import as a draft, QA approval
/// with a signature, assignment to a lot. Versions are numbered by the database.
public struct SpecificationRegistry {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// One version as `gmp spec list` shows it.
    public struct Version: Encodable, Sendable, Equatable {
        public let id: String
        public let code: String
        public let version: Int
        public let title: String
        public let productKind: String
        public let stage: String
        public let status: String
        public let importedBy: String
        public let importedAt: Timestamp
        public let approvedBy: String?
        public let approvedAt: Timestamp?
        public let sourceSha256: String
        public let lots: Int
    }

    /// One criterion with the limit as every report prints it.
    public struct CriterionRow: Codable, Sendable, Equatable {
        public let ordinal: Int
        public let test: String
        public let name: String
        public let method: String
        public let kind: String
        public let limit: String
        public let unit: String?
        public let maxRetests: Int
        /// A K/M criterion's permitted range of a lot's maximum dose, "0.1–4 mL/kg/h";
        /// nil for other kinds and for versions approved before ranges were declared.
        public let maxDose: String?
    }

    /// Imports a parsed file as a draft; returns its id, CODE@VERSION.
    public func importDraft(_ specification: Specification, source: String) throws -> String {
        let document = JSONText(SpecificationDocument.json(for: specification))
        return try connection.query("SELECT gmp.import_specification(\(document)::jsonb, \(source)) AS id")[0].decode("id")
    }

    /// QA approves, signing "approved". Call inside ``SignatureCeremony/sign(password:_:)``.
    public static func approve(on db: PostgresConnection, challenge: UUID, id: String, statement: String?) throws -> Int64 {
        try db.query("SELECT gmp.approve_specification(\(challenge), \(id), \(statement)) AS id")[0].decode("id")
    }

    /// Fixes the version a lot is judged against (CODE picks the latest approved);
    /// returns the version assigned. With a maximum dose the assignment is signed
    /// ("determined"): call it inside ``SignatureCeremony/sign(password:_:)`` and pass its
    /// challenge; without one, `challenge` is nil.
    public static func assign(on db: PostgresConnection, challenge: UUID?, _ lot: DonationIdentificationNumber,
                              specification: String, maxDose: ExactDecimal?, intrathecal: Bool,
                              statement: String?) throws -> String {
        try db.query("""
            SELECT gmp.assign_specification(\(challenge), \(lot.value), \(specification), \(maxDose)::numeric,
                                            \(intrathecal), \(statement)) AS id
            """)[0].decode("id")
    }

    public func versions(code: String? = nil) throws -> [Version] {
        try connection.query("""
            SELECT s.id, s.code, s.version, s.title, s.product_kind, s.stage, s.status, s.imported_by, s.imported_at,
                   s.approved_by, s.approved_at, encode(s.source_sha256, 'hex') AS source_sha256,
                   (SELECT count(*)::int FROM gmp.lot_specification ls WHERE ls.specification_id = s.id) AS lots
            FROM gmp.specification s WHERE \(code)::text IS NULL OR s.code = \(code)
            ORDER BY s.code, s.version
            """).map { row in
            Version(id: try row.decode("id"), code: try row.decode("code"), version: try row.decode("version"),
                    title: try row.decode("title"), productKind: try row.decode("product_kind"),
                    stage: try row.decode("stage"), status: try row.decode("status"),
                    importedBy: try row.decode("imported_by"), importedAt: try row.decode("imported_at"),
                    approvedBy: try row.decode("approved_by"), approvedAt: try row.decode("approved_at"),
                    sourceSha256: try row.decode("source_sha256"), lots: try row.decode("lots"))
        }
    }

    /// The criteria of a version, with limits as printed (no dose: K/M shows as a formula).
    public func criteria(of id: String) throws -> [CriterionRow] {
        try connection.query("""
            SELECT c.ordinal, c.test, c.name, c.method, c.kind, gmp_rules.limit_text(c, NULL, false) AS limit_text,
                   c.unit, c.max_retests, c.max_dose_min || '–' || c.max_dose_max || ' ' || c.max_dose_unit AS max_dose
            FROM gmp.criterion c WHERE c.specification_id = \(id) ORDER BY c.ordinal
            """).map { row in
            CriterionRow(ordinal: try row.decode("ordinal"), test: try row.decode("test"), name: try row.decode("name"),
                         method: try row.decode("method"), kind: try row.decode("kind"),
                         limit: try row.decode("limit_text"), unit: try row.decode("unit"),
                         maxRetests: try row.decode("max_retests"), maxDose: try row.decode("max_dose"))
        }
    }
}
