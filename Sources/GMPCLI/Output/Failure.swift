#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPDatabase
import GMPRecords
import GMPRules
import PostgresClient

/// An error as the user sees it: what went wrong, how to fix it, and the exit code.
/// Every error a command throws is turned into one of these before it is printed.
struct Failure: Error, Equatable {
    let exitCode: GMPExitCode
    let problem: String
    let fix: String
    /// Where in the server a database error arose (PL/pgSQL context), shown with `-vv`.
    var serverContext: String?

    init(exitCode: GMPExitCode, problem: String, fix: String, serverContext: String? = nil) {
        self.exitCode = exitCode
        self.problem = problem
        self.fix = fix
        self.serverContext = serverContext
    }

    /// The one line printed to stderr; multi-line detail (a server log tail) is folded.
    /// Closures, not key paths: these two key paths were built at run time on every
    /// refused command, and cost it six of the runtime's conformance scans (issue 18).
    var line: String {
        "\(problem); fix: \(fix)".split(whereSeparator: { $0.isNewline }).map { $0.trimmingWhitespace }
            .joined(separator: " | ")
    }
}

extension Failure {
    /// Translates an error the command met after its connections had committed the
    /// read-write transactions `committed`: a lost connection then is no longer "nothing
    /// was committed", and a COMMIT whose outcome is unknown names what did commit before it.
    init(_ error: Error, target: DatabaseTarget?, committed: [TransactionToken]) {
        guard let last = committed.last else {
            self.init(error, target: target)
            return
        }
        let list = committed.map { String($0.transactionID) }.joined(separator: ", ")
        switch error {
        case let error as PostgresError where error.kind == .connectionLost:
            self.init(exitCode: .unavailable,
                      problem: "the command's work committed (transaction \(list)) and its record is kept, then \(error.message)",
                      fix: "do not run the command again, it would record a second time; 'gmp db transaction \(last)' confirms it, and the show and list commands print the record")
        case let error as CommitOutcomeUnknown:
            self.init(error, target: target)
            self = Failure(exitCode: exitCode, problem: problem + "; transaction \(list), before it, committed and is kept",
                           fix: fix, serverContext: serverContext)
        default:
            self.init(error, target: target)
        }
    }

    /// Translates any error, using the target to give fixes that fit the situation.
    init(_ error: Error, target: DatabaseTarget?) {
        switch error {
        case let failure as Failure:
            self = failure
        case let error as ConfigurationError:
            self.init(exitCode: .configuration, problem: error.problem, fix: error.fix)
        case let error as ConnectionError:
            self.init(connection: error, target: target)
        case let error as PostgresError:
            self.init(server: error, target: target)
            serverContext = error.context
        case let error as CommitOutcomeUnknown:
            self.init(exitCode: .unavailable, problem: error.description,
                      fix: "do not run the command again yet: once the server answers, 'gmp db transaction \(error.transaction)' says whether it was recorded")
        case let error as TransactionRetryExhausted:
            self.init(exitCode: .retryExhausted, problem: error.description,
                      fix: "run the command again; nothing was changed")
        case let error as MigrationError:
            self.init(exitCode: .refused, problem: error.problem, fix: error.fix)
        case let error as EmbeddedServerError:
            self.init(exitCode: error.exitCode, problem: error.problem, fix: error.fix)
        case let error as EmbeddedServerNotRunning:
            self.init(exitCode: .unavailable, problem: error.problem, fix: error.fix)
        case let refusal as Refusal:
            self.init(exitCode: .refused, problem: "\(refusal.action) refused: \(refusal.reasons.joined(separator: "; "))",
                      fix: refusal.fix)
        case let error as KeyFileError:
            self.init(exitCode: .refused, describedWithFix: error.description,
                      defaultFix: "check the path and the file's permissions")
        case let error as CheckpointFormatError:
            self.init(exitCode: .refused, describedWithFix: error.description,
                      defaultFix: "use the checkpoint file exactly as gmp audit checkpoint wrote it")
        case let error as CheckpointVerificationError:
            self.init(exitCode: .refused, describedWithFix: error.description,
                      defaultFix: "verify with QA's public key; a checkpoint that does not verify proves nothing")
        case let error as IdentifierError:
            self.init(exitCode: .refused, describedWithFix: error.description, defaultFix: "re-enter the id from the label")
        case let error as MaterialInputError:
            self.init(exitCode: .usage, describedWithFix: error.description, defaultFix: "give --material LOT:QUANTITY UNIT")
        case let error as StorageInputError:
            self.init(exitCode: .refused, describedWithFix: error.description, defaultFix: "re-enter it as printed")
        case let refused as SigningRefused:
            self.init(exitCode: .permissionDenied, problem: refused.description,
                      fix: refused.locked ? "an administrator must unlock the account: gmp user enable ID --reason …"
                                          : "enter your own password; five failed attempts in a row lock the account")
        case let error as ClientError where error.kind == .unsendableValue:
            self.init(exitCode: .refused, problem: error.message, fix: "remove the NUL character from the input")
        default:
            self.init(exitCode: .software, problem: "internal error: \(error)",
                      fix: "please report this with the command you ran (gmp --version shows the version)")
        }
    }

    /// For errors whose description already ends in "; fix: …".
    private init(exitCode: GMPExitCode, describedWithFix description: String, defaultFix: String) {
        if let range = description.firstRange(of: "; fix: ") {
            self.init(exitCode: exitCode, problem: String(description[..<range.lowerBound]),
                      fix: String(description[range.upperBound...]))
        } else {
            self.init(exitCode: exitCode, problem: description, fix: defaultFix)
        }
    }

    private init(connection error: ConnectionError, target: DatabaseTarget?) {
        // Where the connection settings came from, so the fix names the right place.
        let settings: String
        switch target {
        case .configured(_, let source): settings = source.description
        case .embedded, nil: settings = "--database, GMP_DATABASE and the PG* variables"
        }
        let whereFrom = "check \(settings)"
        switch error.kind {
        case .malformedConnectionString:
            self.init(exitCode: .configuration, problem: error.message,
                      fix: "write key=value pairs (host=/var/run/postgresql dbname=gmp) or a postgresql:// URI; \(whereFrom)")
        case .unreachable:
            if case .embedded = target {
                self.init(exitCode: .unavailable, problem: "cannot reach the embedded server: \(error.message)",
                          fix: "start it with 'gmp db start' (gmp doctor explains what is wrong)")
            } else {
                self.init(exitCode: .unavailable, problem: "cannot reach the database server: \(error.message)",
                          fix: "make sure the server is running and that \(settings) points at it")
            }
        case .authenticationFailed:
            self.init(exitCode: .permissionDenied, problem: "the database server refused the login: \(error.message)",
                      fix: "check the user name and password (~/.pgpass or PGPASSWORD); passwords are never read from configuration files")
        case .unknownDatabase:
            self.init(exitCode: .configuration, problem: error.message,
                      fix: "create the database or correct dbname; \(whereFrom)")
        case .unsupportedServer:
            self.init(exitCode: .unavailable, problem: error.message, fix: "upgrade the server to PostgreSQL 13 or newer")
        }
    }

    private init(server error: PostgresError, target: DatabaseTarget?) {
        switch error.kind {
        case .permissionDenied:
            self.init(exitCode: .permissionDenied, problem: "permission denied: \(error.message)",
                      fix: error.hint ?? "ask an administrator for the role this needs")
        case .connectionLost:
            self.init(exitCode: .unavailable, problem: error.message,
                      fix: "check that the server is running, then run the command again; nothing was committed")
        case .resourcesExhausted:
            self.init(exitCode: .unavailable, problem: "the database server is out of resources: \(error.description)",
                      fix: "its administrator must free disk space or memory, or connections; nothing was changed: run the command again after")
        case .serverSystemError:
            // An I/O error is the server machine's (a failing disk, a full or read-only
            // file system), as out of disk is: not a bug in gmp to report.
            self.init(exitCode: .unavailable,
                      problem: "the database server could not read or write its files: \(error.description)",
                      fix: "its administrator must check the server's disk and its log; nothing was changed: run the command again after")
        case .readOnlyServer:
            // A write sent to a hot standby (docs/high-availability.md): the server is up,
            // but the service asked for, a write, is not there.
            self.init(exitCode: .unavailable,
                      problem: "the database server accepts reads only (a hot standby, or a read-only session): \(error.description)",
                      fix: Self.writeToPrimaryFix)
        case .lockTimeout:
            self.init(exitCode: .retryExhausted,
                      problem: "another session held a record this command needs for too long: \(error.description)",
                      fix: "an import or an open transaction (psql) is holding it: run the command again once that has finished; nothing was changed")
        case .serializationFailure, .deadlock, .cancelled:
            self.init(exitCode: .retryExhausted, problem: error.description, fix: "run the command again; nothing was changed")
        case .refusedByRule:
            // A rule's own message names the problem; its SQLSTATE (docs/errors.md) is
            // for scripts and picks the exit code.
            let exitCode: GMPExitCode = switch RefusalCode(rawValue: error.sqlState) {
            case .wrongPerson?, .signatureRefused?: .permissionDenied
            case .changedConcurrently?: .retryExhausted
            default: .refused
            }
            self.init(exitCode: exitCode, problem: error.message,
                      fix: error.hint ?? (exitCode == .retryExhausted ? "run the command again; nothing was changed"
                                                                       : "correct the input; nothing was changed"))
        case .duplicate, .missingReference, .checkViolation, .notNullViolation, .exclusionViolation, .invalidValue:
            self.init(exitCode: .refused, problem: error.description,
                      fix: error.hint ?? "correct the input; nothing was changed")
        case .invalidStatement, .other:
            self.init(exitCode: .software, problem: "internal error: \(error.description)",
                      fix: "please report this with the command you ran (gmp --version shows the version)")
        }
    }
}

extension Failure {
    /// How to reach a server that takes writes: the primary, directly or through a
    /// multi-host connection string that libpq resolves to whichever server is primary.
    static let writeToPrimaryFix = "run writes against the primary: connect to it, or list every server with "
        + "target_session_attrs=read-write (--database 'host=primary,standby port=5432,5432 dbname=gmp "
        + "target_session_attrs=read-write') so the primary is found after a failover too; nothing was changed"
}

extension EmbeddedServerError {
    /// Missing programs or accounts mean the server cannot run here; a bad layout is
    /// configuration.
    var exitCode: GMPExitCode {
        switch self {
        case .binariesMissing, .commandFailed, .startFailed: .unavailable
        default: .configuration
        }
    }
}
