import PostgresClient

/// The source of every routine the database has had in force, read from the database
/// alone (`gmp.code_in_force`, `gmp.code_history`, sql/code/01_audit.sql).
///
/// Each version is the definition as the catalog held it, captured by the DDL trigger
/// into the hash-chained audit trail, so what this reports is covered by `gmp audit
/// verify`. Nothing here depends on the binary's own copy of the code.
public struct CodeRecord {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Every routine and view in force at `at` (now when nil), by identity.
    public func inForce(at: Timestamp? = nil) throws -> [RoutineVersion] {
        try connection.query("SELECT * FROM gmp.code_in_force(\(at)::timestamptz)").map { try RoutineVersion(row: $0) }
    }

    /// Every recorded version of the routines called `name` (an identity such as
    /// `gmp.trace_lot(text)`, or `schema.name` for all its overloads), oldest first;
    /// a drop appears as a version without a definition.
    public func history(of name: String) throws -> [RoutineVersion] {
        try connection.query("SELECT * FROM gmp.code_history(\(name))").map { try RoutineVersion(row: $0) }
    }
}

/// One version of a routine or view as the audit trail recorded it.
public struct RoutineVersion: Sendable, Equatable {
    /// `schema.name(type,type)` or, for a view, `schema.name`.
    public let routine: String
    /// `function`, `procedure` or `view`.
    public let kind: String
    /// `CREATE OR REPLACE …` as the catalog printed it; nil for a drop.
    public let definition: String?
    public let sha256: String?
    public let recordedAt: Timestamp
    /// The audit event that holds it.
    public let auditSeq: Int64
    public let recordedBy: String
    /// What recorded it: BASELINE (V0019), CREATE FUNCTION, CREATE VIEW, ALTER FUNCTION,
    /// RECONCILE (found changed out of band) or DROP.
    public let command: String
    public let reason: String?

    init(row: PostgresRow) throws {
        routine = try row.decode("routine")
        kind = try row.decode("kind")
        definition = try row.decode("definition")
        sha256 = try row.decode("sha256")
        recordedAt = try row.decode("recorded_at")
        auditSeq = try row.decode("audit_seq")
        recordedBy = try row.decode("recorded_by")
        command = try row.decode("command")
        reason = try row.decode("reason")
    }

    /// The routine's name without its argument types: `gmp.trace_lot`.
    public var qualifiedName: String {
        String(routine.prefix(while: { $0 != "(" }))
    }

    /// Whether a name as a person types it — the full identity, `schema.name`, or the bare
    /// name — names this routine.
    public func isNamed(_ name: String) -> Bool {
        let name = name.lowercased().filter { !$0.isWhitespace }
        return routine == name || qualifiedName == name
            || qualifiedName.split(separator: ".").last.map(String.init) == name
    }
}
