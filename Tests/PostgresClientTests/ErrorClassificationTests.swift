import Testing
@testable import PostgresClient

@Suite("Errors: SQLSTATE and connection failures map to kinds callers act on")
struct ErrorClassificationTests {
    @Test("SQLSTATE → kind", arguments: [
        ("23505", PostgresError.Kind.duplicate), ("23503", .missingReference), ("23514", .checkViolation),
        ("23502", .notNullViolation), ("23P01", .exclusionViolation), ("22P02", .invalidValue),
        ("22003", .invalidValue), ("42501", .permissionDenied), ("P0001", .refusedByRule),
        ("GM001", .refusedByRule), ("GM010", .refusedByRule), ("53100", .resourcesExhausted), ("53200", .resourcesExhausted),
        ("53300", .resourcesExhausted), ("53400", .resourcesExhausted), ("58030", .serverSystemError), ("58P01", .serverSystemError),
        ("40001", .serializationFailure), ("40P01", .deadlock), ("08006", .connectionLost),
        ("57P01", .connectionLost), ("57014", .cancelled), ("55P03", .lockTimeout), ("25006", .readOnlyServer), ("42601", .invalidStatement),
        ("42P01", .invalidStatement), ("XX000", .other),
    ])
    func sqlStateKinds(state: String, kind: PostgresError.Kind) {
        #expect(PostgresError(sqlState: state, message: "m").kind == kind)
    }

    @Test("only serialization failures and deadlocks are transient")
    func transient() {
        #expect(PostgresError(sqlState: "40001", message: "").isTransient)
        #expect(PostgresError(sqlState: "40P01", message: "").isTransient)
        #expect(!PostgresError(sqlState: "23505", message: "").isTransient)
    }

    @Test("description names message, SQLSTATE and constraint but not the detail (which quotes values)")
    func descriptionOmitsDetail() {
        let error = PostgresError(sqlState: "23505", message: "duplicate key value violates unique constraint \"donor_code_key\"",
                                  detail: "Key (code)=(D-SECRET) already exists.", constraint: "donor_code_key")
        #expect(error.description.contains("23505"))
        #expect(error.description.contains("donor_code_key"))
        #expect(!error.description.contains("D-SECRET"))
    }

    @Test("bound values quoted by the server are redacted")
    func redaction() {
        let error = PostgresError(sqlState: "22P02", message: "invalid input syntax for type integer: \"Jane Doe\"")
        let redacted = error.redacting(bindings: ["Jane Doe", nil])
        #expect(!redacted.description.contains("Jane"))
        #expect(redacted.message == "invalid input syntax for type integer: \"…\"")
    }

    @Test("connection failures are classified", arguments: [
        ("connection to server on socket \"/x/.s.PGSQL.5432\" failed: No such file or directory\n\tIs the server running locally?", false, false, ConnectionError.Kind.unreachable),
        ("connection to server on socket \"/x/.s.PGSQL.5432\" failed: FATAL:  database \"nope\" does not exist", false, false, .unknownDatabase),
        ("connection to server on socket \"/x/.s.PGSQL.5432\" failed: FATAL:  password authentication failed for user \"ann\"", true, false, .authenticationFailed),
        ("connection to server on socket \"/x/.s.PGSQL.5432\" failed: fe_sendauth: no password supplied", false, true, .authenticationFailed),
        ("connection to server on socket \"/x/.s.PGSQL.5432\" failed: FATAL:  role \"ghost\" does not exist", false, false, .authenticationFailed),
        ("could not translate host name \"nohost\" to address: Name or service not known", false, false, .unreachable),
        // Issue 18: a server stopped (pg_ctl -m immediate) or crashing during the password
        // exchange is unreachable (69), not a refused login (77).
        ("connection to server on socket \"/x/.s.PGSQL.5432\" failed: FATAL:  terminating connection due to immediate shutdown command", true, false, .unreachable),
        ("connection to server on socket \"/x/.s.PGSQL.5432\" failed: FATAL:  terminating connection because of crash of another server process", true, false, .unreachable),
        ("connection to server on socket \"/x/.s.PGSQL.5432\" failed: FATAL:  the database system is in recovery mode", true, false, .unreachable),
        ("connection to server on socket \"/x/.s.PGSQL.5432\" failed: FATAL:  sorry, too many clients already", true, false, .unreachable),
    ])
    func connectionKinds(message: String, usedPassword: Bool, neededPassword: Bool, kind: ConnectionError.Kind) {
        let error = ConnectionError.classify(message: message, usedPassword: usedPassword, neededPassword: neededPassword)
        #expect(error.kind == kind)
        #expect(!error.message.contains("\n"))
    }

    @Test("no password supplied: a terminal may ask for one, though libpq also reports the password as 'used'")
    func neededPasswordAsLibpqReportsIt() {
        // libpq 15 sets both when the server asks and nothing was supplied (PQconnectionUsedPassword
        // tests only that the server asked).
        let error = ConnectionError.classify(message: "connection to server on socket \"/x/.s.PGSQL.5432\" failed: fe_sendauth: no password supplied",
                                             usedPassword: true, neededPassword: true)
        #expect(error.kind == .authenticationFailed)
        #expect(error.neededPassword)
        let wrong = ConnectionError.classify(message: "connection to server on socket \"/x/.s.PGSQL.5432\" failed: FATAL:  password authentication failed for user \"ann\"",
                                             usedPassword: true, neededPassword: false)
        #expect(!wrong.neededPassword)
    }
}
