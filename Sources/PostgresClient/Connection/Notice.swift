import CLibPQ
import Logging

/// A NOTICE, WARNING or other non-error message the server sent during a statement.
public struct PostgresNotice: Sendable, Equatable {
    /// Untranslated severity: `WARNING`, `NOTICE`, `INFO`, `DEBUG`, `LOG`.
    public let severity: String
    public let sqlState: String
    public let message: String

    public init(severity: String, sqlState: String, message: String) {
        self.severity = severity
        self.sqlState = sqlState
        self.message = message
    }

    /// The swift-log level the notice is logged at. A warning of class 57 (operator
    /// intervention: "terminating connection due to immediate shutdown") comes just before
    /// the connection ends, which the command then reports as its one error line; the
    /// warning itself is shown with -v only.
    public var logLevel: Logger.Level {
        switch severity {
        case "WARNING" where sqlState.hasPrefix("57"): .info
        case "WARNING": .warning
        case "NOTICE", "INFO", "LOG": .info
        default: .debug
        }
    }
}

/// Receives notices from libpq instead of letting it print them to stderr.
///
/// libpq keeps a raw pointer to this object; the connection and every result hold a
/// strong reference, so it outlives all of them.
final class NoticeSink {
    var handler: (PostgresNotice) -> Void

    init(logger: Logger) {
        handler = { notice in
            logger.log(level: notice.logLevel, "server \(notice.severity.lowercased()): \(notice.message)",
                       metadata: ["sqlstate": "\(notice.sqlState)"])
        }
    }

    func receive(_ result: OpaquePointer) {
        handler(PostgresNotice(
            severity: errorField(result, "V") ?? errorField(result, "S") ?? "NOTICE",
            sqlState: errorField(result, "C") ?? "00000",
            message: errorField(result, "M") ?? ""))
    }

    /// Installs this sink as the connection's notice receiver.
    func install(on connection: OpaquePointer) {
        PQsetNoticeReceiver(connection, { context, result in
            guard let context, let result else { return }
            Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue().receive(result)
        }, Unmanaged.passUnretained(self).toOpaque())
    }
}

/// Reads one diagnostic field of a result (`C` SQLSTATE, `M` message, `D` detail …).
func errorField(_ result: OpaquePointer, _ code: Unicode.Scalar) -> String? {
    guard let field = PQresultErrorField(result, Int32(code.value)) else { return nil }
    return String(cString: field)
}
