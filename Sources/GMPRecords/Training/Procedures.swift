#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Controlled procedures (sql/code/22_training.sql): versions approved by QA with a
/// signature, what each code covers, and naming the procedure a step or result follows.
/// Numbering, dates and coverage are the database's rules.
public struct Procedures {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// A version to approve: the first (`gmp sop register`) or the next (`gmp sop revise`).
    /// A revision keeps the title and retraining window when they are nil.
    public struct NewVersion: Sendable, Equatable {
        public let code: String
        public let title: String?
        public let effectiveOn: CalendarDate
        public let retrainWithinDays: Int?
        public let covers: [ProcedureCoverage]

        public init(code: String, title: String?, effectiveOn: CalendarDate, retrainWithinDays: Int?,
                    covers: [ProcedureCoverage]) {
            self.code = code
            self.title = title
            self.effectiveOn = effectiveOn
            self.retrainWithinDays = retrainWithinDays
            self.covers = covers
        }
    }

    /// One version of a procedure, as listed and shown.
    public struct Version: Encodable, Sendable, Equatable {
        public let code: String
        public let version: Int
        public let title: String
        public let effectiveOn: String
        public let retrainWithinDays: Int
        public let approvedBy: String
        public let approvedAt: Timestamp
        /// In force now: the latest version whose effective date has come.
        public let inForce: Bool
        /// What the code covers (step kinds and QC tests), whichever version declared it.
        public let covers: [String]
    }

    /// Approves `version` (a revision when `revision`), signed "approved"; returns its
    /// number. Call inside a signature ceremony.
    public static func approve(_ version: NewVersion, revision: Bool, on db: PostgresConnection,
                               challenge: UUID) throws -> Int {
        let (kinds, tests) = ProcedureCoverage.split(version.covers)
        let retrain = version.retrainWithinDays.map(Int64.init)
        if revision {
            return try db.query("""
                SELECT gmp.revise_procedure(\(challenge), \(version.code), \(version.title), \(version.effectiveOn)::date,
                                            \(retrain)::integer, \(kinds)::text[], \(tests)::text[]) AS v
                """)[0].decode("v")
        }
        return try db.query("""
            SELECT gmp.register_procedure(\(challenge), \(version.code), \(version.title), \(version.effectiveOn)::date,
                                          \(retrain)::integer, \(kinds)::text[], \(tests)::text[]) AS v
            """)[0].decode("v")
    }

    /// Every version of every procedure (`code` nil), or of one, oldest first per code.
    public func versions(of code: String? = nil) throws -> [Version] {
        try connection.query("""
            SELECT p.code, p.version, p.title, p.effective_on::text AS effective_on, p.retrain_within_days, p.approved_by,
                   p.approved_at, (gmp_rules.procedure_in_force(p.code, now())).id IS NOT DISTINCT FROM p.id AS in_force,
                   coalesce((SELECT string_agg(coalesce(c.step_kind, c.test), ' ' ORDER BY c.id)
                             FROM gmp.procedure_coverage c WHERE c.code = p.code), '') AS covers
            FROM gmp.procedure p WHERE \(code)::text IS NULL OR p.code = \(code)::text ORDER BY p.code, p.version
            """).map { row in
            Version(code: try row.decode("code"), version: try row.decode("version"), title: try row.decode("title"),
                    effectiveOn: try row.decode("effective_on"), retrainWithinDays: try row.decode("retrain_within_days"),
                    approvedBy: try row.decode("approved_by"), approvedAt: try row.decode("approved_at"),
                    inForce: try row.decode("in_force"),
                    covers: (try row.decode("covers") as String).split(separator: " ").map(String.init))
        }
    }

    /// Names the procedure the next step or QC result of this transaction follows; the
    /// database refuses the record when it is not the procedure covering it.
    public func name(_ code: String?) throws {
        guard let code else { return }
        try connection.execute("SELECT gmp.name_procedure(\(code))")
    }
}
