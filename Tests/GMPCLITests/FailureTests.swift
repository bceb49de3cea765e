import Foundation
import Testing
@testable import GMPCLI
import GMPDatabase
import GMPRules
import PostgresClient

@Suite("Every error becomes one line with a fix and a documented exit code")
struct FailureTests {
    let embedded = DatabaseTarget.embedded(EmbeddedSettings(root: "/var/lib/gmp", serverUser: nil, binDirectory: nil))
    let configured = DatabaseTarget.configured(connectionString: "host=x", source: .environment("GMP_DATABASE"))

    @Test("connection failures", arguments: [
        (ConnectionError.Kind.malformedConnectionString, GMPExitCode.configuration),
        (.unreachable, .unavailable), (.authenticationFailed, .permissionDenied),
        (.unknownDatabase, .configuration), (.unsupportedServer, .unavailable),
    ])
    func connection(kind: ConnectionError.Kind, code: GMPExitCode) {
        let failure = Failure(ConnectionError(kind: kind, message: "m"), target: configured)
        #expect(failure.exitCode == code)
        #expect(!failure.fix.isEmpty)
    }

    @Test("an unreachable embedded server points at gmp db start; a configured one at its source")
    func unreachableFixes() {
        let error = ConnectionError(kind: .unreachable, message: "no socket")
        #expect(Failure(error, target: embedded).fix.contains("gmp db start"))
        #expect(Failure(error, target: configured).fix.contains("GMP_DATABASE"))
    }

    @Test("server errors", arguments: [
        ("42501", GMPExitCode.permissionDenied), ("23505", .refused), ("23514", .refused), ("P0001", .refused),
        ("GM001", .refused), ("GM004", .refused), ("GM005", .permissionDenied), ("GM009", .permissionDenied),
        ("GM010", .retryExhausted), ("53100", .unavailable), ("53200", .unavailable), ("53300", .unavailable), ("53400", .unavailable),
        ("58030", .unavailable), ("58P01", .unavailable), ("55P03", .retryExhausted),
        ("22P02", .refused), ("40001", .retryExhausted), ("08006", .unavailable), ("42601", .software),
    ])
    func server(state: String, code: GMPExitCode) {
        #expect(Failure(PostgresError(sqlState: state, message: "m"), target: embedded).exitCode == code)
    }

    @Test("a write on a hot standby (25006): 69, naming the primary and target_session_attrs=read-write")
    func readOnlyServer() {
        for error in [PostgresError(sqlState: "25006", message: "cannot execute INSERT in a read-only transaction"),
                      PostgresError.writeOnHotStandby("/run/standby:5432")] {
            let failure = Failure(error, target: configured)
            #expect(failure.exitCode == .unavailable)
            #expect(failure.exitCode.rawValue == 69)
            #expect(failure.problem.contains("accepts reads only") && failure.problem.contains("25006"))
            #expect(failure.fix.contains("primary") && failure.fix.contains("target_session_attrs=read-write"))
        }
        #expect(PostgresError.writeOnHotStandby("/run/standby:5432").message.contains("/run/standby:5432"))
    }

    @Test("schema, rule, retry and unknown errors")
    func others() {
        let newer = MigrationError.databaseNewerThanBinary(unknown: [], latestKnown: 1)
        #expect(Failure(newer, target: embedded).exitCode == .refused)
        let refusal = Refusal(action: "release of lot X", reasons: ["sterility missing", "deviation DV-1 open"], fix: "record the results")
        let refused = Failure(refusal, target: embedded)
        #expect(refused.exitCode == .refused)
        #expect(refused.problem.contains("sterility missing") && refused.problem.contains("DV-1"))
        let retry = TransactionRetryExhausted(attempts: 5, lastError: PostgresError(sqlState: "40001", message: "m"))
        #expect(Failure(retry, target: embedded).exitCode == .retryExhausted)
        struct Mystery: Error {}
        #expect(Failure(Mystery(), target: embedded).exitCode == .software)
        #expect(Failure(EmbeddedServerError.binariesMissing(searched: ["/usr/lib/postgresql"]), target: embedded).fix
            .contains("apt-get install -y postgresql"))
    }

    @Test("a server error keeps its PL/pgSQL context for -vv, out of the one-line report")
    func serverContext() {
        let error = PostgresError(sqlState: "GM003", message: "lot X is released", hint: "nothing may change it",
                                  context: "PL/pgSQL function gmp_rules.guard_lot_change() line 9 at RAISE")
        let failure = Failure(error, target: embedded)
        #expect(failure.serverContext == "PL/pgSQL function gmp_rules.guard_lot_change() line 9 at RAISE")
        #expect(failure.line == "lot X is released; fix: nothing may change it")
    }

    @Test("a connection lost during COMMIT says the outcome is unknown and names the one token that learns it, never 'nothing was committed'")
    func commitOutcomeUnknown() throws {
        let request = try #require(UUID(uuidString: "6F1C2A9E-5B0D-4C57-9A51-0E1F3C7D2B84"))
        let lost = CommitOutcomeUnknown(transaction: TransactionToken(transactionID: 48213, requestID: request),
                                        cause: PostgresError(sqlState: "08006", message: "server closed the connection"))
        let failure = Failure(lost, target: embedded)
        #expect(failure.exitCode == .unavailable)
        #expect(failure.problem.contains("transaction 48213") && failure.problem.contains("unknown"))
        #expect(failure.fix.contains("'gmp db transaction 48213:6f1c2a9e-5b0d-4c57-9a51-0e1f3c7d2b84'"))
        #expect(!failure.line.contains("nothing was committed") && !failure.line.contains("nothing was changed"))
        #expect(!failure.line.contains("\n"))
        // A loss outside COMMIT did roll back, and may say so.
        #expect(Failure(PostgresError(sqlState: "08006", message: "m"), target: embedded).fix.contains("nothing was committed"))
        // Lost after a commit: the token of the work that committed, for the lookup.
        let kept = Failure(PostgresError(sqlState: "08006", message: "m"), target: embedded,
                           committed: [TransactionToken(transactionID: 48213, requestID: request)])
        #expect(kept.problem.contains("(transaction 48213)") && kept.fix.contains("'gmp db transaction 48213:6f1c2a9e-"))
    }

    @Test("a token reads back as written: ID:REQUEST or a bare ID; anything else is refused")
    func tokens() throws {
        let token = try #require(TransactionToken("858:6F1C2A9E-5B0D-4C57-9A51-0E1F3C7D2B84"))
        #expect(token.transactionID == 858 && token.description == "858:6f1c2a9e-5b0d-4c57-9a51-0e1f3c7d2b84")
        #expect(TransactionToken(token.description) == token)
        #expect(TransactionToken("858")?.requestID == nil)
        for bad in ["", "0", "-3", "+858", "858:", ":6f1c2a9e-5b0d-4c57-9a51-0e1f3c7d2b84", "858:nope", "858:6f1c:x", "last-one"] {
            #expect(TransactionToken(bad) == nil, "\(bad)")
        }
    }

    @Test("the printed line is a single line even when the detail has several")
    func oneLine() {
        let failure = Failure(exitCode: .unavailable, problem: "server did not start; log:\nFATAL: x\n  DETAIL: y", fix: "look")
        #expect(!failure.line.contains("\n"))
        #expect(failure.line == "server did not start; log: | FATAL: x | DETAIL: y; fix: look")
    }

    @Test("the exit-code table lists every code once")
    func table() {
        for code in GMPExitCode.allCases {
            #expect(GMPExitCode.table.contains("  \(code.rawValue)"))
        }
        #expect(Set(GMPExitCode.allCases.map(\.rawValue)).count == GMPExitCode.allCases.count)
    }

    @Test("color only where wanted")
    func color() {
        #expect(Terminal.useColor(.always, descriptor: 1, environment: [:]))
        #expect(!Terminal.useColor(.never, descriptor: 1, environment: [:]))
        #expect(!Terminal.useColor(.auto, descriptor: 1, environment: ["TERM": "dumb"]))
        #expect(Style(enabled: true).red("x") == "\u{1B}[31mx\u{1B}[0m")
        #expect(Style(enabled: false).red("x") == "x")
    }
}
