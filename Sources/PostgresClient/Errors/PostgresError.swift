/// An error the server reported for a statement, with its SQLSTATE and the fields
/// PostgreSQL sends, classified into the kinds callers act on.
///
/// `description` carries the server's message, SQLSTATE and constraint — never bound
/// values (they may be personal data). The server's `detail` often quotes values
/// (`Key (code)=(…) already exists`), so it is kept apart and left out of `description`.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is, from the SQLSTATE.
    public enum Kind: Sendable, Equatable {
        /// 23505: a unique or primary-key constraint refused a duplicate.
        case duplicate
        /// 23503: a foreign key names a row that does not exist (or is still referenced).
        case missingReference
        /// 23514: a CHECK constraint refused the row.
        case checkViolation
        /// 23502: a required column was NULL.
        case notNullViolation
        /// 23P01: an exclusion constraint refused an overlapping row.
        case exclusionViolation
        /// Class 22: the server could not accept a value (bad syntax, out of range).
        case invalidValue
        /// 42501: the role may not do this.
        case permissionDenied
        /// P0001 and other raised exceptions, and any class PostgreSQL does not define
        /// itself (an application's own codes, such as gmp's `GM…`): a rule in the
        /// database refused the change.
        case refusedByRule
        /// 40001: a concurrent transaction conflicted; retrying may succeed.
        case serializationFailure
        /// 40P01: a deadlock was broken by aborting this transaction; retrying may succeed.
        case deadlock
        /// Class 08, 57P01–57P03, or a broken connection: the server is gone.
        case connectionLost
        /// 57014: the statement was cancelled (e.g. statement_timeout).
        case cancelled
        /// 55P03: a lock another session holds was not granted within `lock_timeout`;
        /// nothing was changed, and retrying at once would wait again.
        case lockTimeout
        /// 25006: a write in a read-only transaction; from gmp, a write sent to a hot
        /// standby (a server in recovery). Nothing was changed; the primary takes writes.
        case readOnlyServer
        /// Class 53: the server ran out of a resource (53100 disk full, 53200 out of
        /// memory, 53300 too many connections); nothing was changed.
        case resourcesExhausted
        /// Class 58: the server's operating system failed it (58030 an I/O error reading or
        /// writing its files, 58P01 a file it needs missing): the server's disk or its
        /// installation, not the command; nothing was changed.
        case serverSystemError
        /// Class 42 other than 42501: the SQL itself is wrong (a bug, not user input).
        case invalidStatement
        /// Anything else.
        case other
    }

    public let kind: Kind
    /// The five-character SQLSTATE, e.g. `23505`.
    public let sqlState: String
    /// The server's primary message.
    public let message: String
    /// The server's detail line; may quote values, so it is not part of `description`.
    public let detail: String?
    public let hint: String?
    /// The constraint that refused the row, if any (e.g. `lot_status_transition`).
    public let constraint: String?
    public let schema: String?
    public let table: String?
    public let column: String?
    /// Where in the server the error arose: the PL/pgSQL call stack, innermost first
    /// ("PL/pgSQL function gmp.release_lot(uuid,text,text,text) line 12 at RAISE").
    /// A diagnostic for developers (`gmp -vv`), not part of `description`.
    public let context: String?

    public init(sqlState: String, message: String, detail: String? = nil, hint: String? = nil,
                constraint: String? = nil, schema: String? = nil, table: String? = nil, column: String? = nil,
                context: String? = nil) {
        self.kind = Self.kind(of: sqlState)
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.schema = schema
        self.table = table
        self.column = column
        self.context = context
    }

    /// Whether retrying the whole transaction may succeed.
    public var isTransient: Bool { kind == .serializationFailure || kind == .deadlock }

    public var description: String {
        var text = "\(message) (SQLSTATE \(sqlState)"
        if let constraint { text += ", constraint \(constraint)" }
        return text + ")"
    }

    /// Classifies a SQLSTATE; see the PostgreSQL manual, appendix A.
    static func kind(of sqlState: String) -> Kind {
        switch sqlState {
        case "23505": return .duplicate
        case "23503": return .missingReference
        case "23514": return .checkViolation
        case "23502": return .notNullViolation
        case "23P01": return .exclusionViolation
        case "42501": return .permissionDenied
        case "40001": return .serializationFailure
        case "40P01": return .deadlock
        case "57014": return .cancelled
        case "55P03": return .lockTimeout
        case "25006": return .readOnlyServer
        case "57P01", "57P02", "57P03": return .connectionLost
        default: break
        }
        switch sqlState.prefix(2) {
        case "22": return .invalidValue
        case "08": return .connectionLost
        case "53": return .resourcesExhausted
        case "58": return .serverSystemError
        case "P0": return .refusedByRule
        case "42": return .invalidStatement
        case let errorClass where !postgresClasses.contains(errorClass): return .refusedByRule
        default: return .other
        }
    }

    /// The SQLSTATE classes PostgreSQL itself defines (appendix A of its manual).
    static let postgresClasses: Set<Substring> = [
        "00", "01", "02", "03", "08", "09", "0A", "0B", "0F", "0L", "0P", "0Z", "20", "21", "22", "23", "24",
        "25", "26", "27", "28", "2B", "2D", "2F", "34", "38", "39", "3B", "3D", "3F", "40", "42", "44", "53",
        "54", "55", "57", "58", "72", "F0", "HV", "P0", "XX",
    ]

    /// The error a write transaction gets, before it begins, on a hot standby: the server
    /// would refuse SERIALIZABLE there (0A000) or the first write (25006); this says
    /// which server it is, as 25006, so every write meets the same answer.
    public static func writeOnHotStandby(_ endpoint: String) -> PostgresError {
        PostgresError(sqlState: "25006",
                      message: "the database server \(endpoint) is a hot standby (in recovery): it accepts reads only",
                      hint: "connect to the primary, or list both servers with target_session_attrs=read-write "
                          + "(host=primary,standby port=5432,5432 target_session_attrs=read-write) so that libpq picks "
                          + "whichever is primary; nothing was changed")
    }

    /// The same error with every bound value that the server quoted in its message
    /// (`invalid input syntax for type integer: "…"`) replaced by `"…"`.
    func redacting(bindings: [String?]) -> PostgresError {
        var text = message
        for case let value? in bindings where !value.isEmpty {
            text = text.replacing("\"\(value)\"", with: "\"…\"")
        }
        return PostgresError(sqlState: sqlState, message: text, detail: detail, hint: hint,
                             constraint: constraint, schema: schema, table: table, column: column, context: context)
    }
}
