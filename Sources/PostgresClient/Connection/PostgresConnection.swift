import CLibPQ
import CLibPQLink
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One session with a PostgreSQL server, over libpq.
///
/// Not `Sendable`: libpq forbids two threads using one connection at once, so a
/// connection belongs to one thread of work and is passed along, never shared.
/// Statements are ``SQLQuery`` values, so every value travels as a bind parameter.
/// The session time zone is UTC and the client encoding UTF-8.
public final class PostgresConnection {
    let handle: OpaquePointer
    private let noticeSink: NoticeSink
    public let logger: Logger

    /// The oldest server gmp supports (13: the SQL in `sql/` relies on it).
    public static let minimumServerVersion = 130000

    /// Connects, or throws a ``ConnectionError`` saying why not.
    public init(_ configuration: ConnectionConfiguration, logger: Logger = Logger(label: "gmp.postgres")) throws {
        if !configuration.connectionString.isEmpty {
            _ = try ConnectionString.parse(configuration.connectionString)
        }
        // Order matters: libpq keeps the last value of a repeated keyword, so the user's
        // string (expanded from "dbname") may override application name and timeout, but
        // not the encoding this client needs.
        var parameters: [(String, String)] = [("fallback_application_name", configuration.applicationName)]
        if getenv("PGCONNECT_TIMEOUT") == nil {
            parameters.append(("connect_timeout", String(configuration.connectTimeoutSeconds)))
        }
        if getenv("PGOPTIONS") == nil {
            let settings = [("lock_timeout", String(configuration.lockTimeoutMilliseconds))] + configuration.sessionSettings
            precondition(settings.allSatisfy { Self.isPlainSetting($0.0) && Self.isPlainSetting($0.1) },
                         "a session setting must be letters, digits, '_' and '.'")
            parameters.append(("options", settings.map { "-c \($0.0)=\($0.1)" }.joined(separator: " ")))
        }
        parameters.append(("dbname", configuration.connectionString))
        parameters.append(("client_encoding", "UTF8"))

        let connection = withCStringArrays(parameters) { keywords, values in
            PQconnectdbParams(keywords, values, 1)
        }
        guard let connection else {
            throw ConnectionError(kind: .unreachable, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let error = ConnectionError.classify(
                message: String(cString: PQerrorMessage(connection)),
                usedPassword: PQconnectionUsedPassword(connection) == 1,
                neededPassword: PQconnectionNeedsPassword(connection) == 1)
            PQfinish(connection)
            throw error
        }
        handle = connection
        self.logger = logger
        noticeSink = NoticeSink(logger: logger)
        noticeSink.install(on: connection)

        guard serverVersion >= Self.minimumServerVersion else {
            throw ConnectionError(kind: .unsupportedServer,
                                  message: "the server runs PostgreSQL \(serverVersion / 10000); gmp needs 13 or newer")
        }
        // Timestamps are read and hashed in UTC; the server reports its zone at start-up,
        // so the extra round trip is paid only when someone configured another zone.
        if let zone = parameterStatus("TimeZone"), zone != "UTC", zone != "Etc/UTC" {
            try execute("SET TIME ZONE 'UTC'")
        }
    }

    deinit {
        PQfinish(handle)
        if let protocolTrace { fclose(protocolTrace) }
    }

    /// Where ``traceProtocol(to:)`` writes, once asked.
    var protocolTrace: UnsafeMutablePointer<FILE>?

    /// Run after every read-write ``transaction(_:readOnly:retry:_:)`` commits, with the
    /// connection idle (gmp chains the audit events the transaction staged), unless the
    /// transaction's receipt statement answered that it need not (``CommitReceipts``). It may run
    /// transactions of its own (they do not call it again); what it throws is logged, not
    /// rethrown: the transaction it follows has committed.
    public var afterWriteCommit: ((PostgresConnection) throws -> Void)?

    /// The ids of the read-write transactions this connection committed, in order (not
    /// those ``afterWriteCommit`` ran). A connection lost after the first of them must
    /// never be reported as "nothing was committed": the caller's record is kept.
    public internal(set) var committedWriteTransactions: [TransactionToken] = []
    /// Whether, and how, read-write transactions store a receipt of their commit (nil: they
    /// do not, and a lost COMMIT is named by transaction id alone). Turned off by itself on
    /// a database that has none.
    public var commitReceipts: CommitReceipts?
    /// Whether ``afterWriteCommit`` is running: its own transactions are not the caller's.
    var runningAfterWriteCommit = false

    /// Whether `text` can go into a libpq `options` string without quoting.
    private static func isPlainSetting(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// libpq's version, e.g. 150018 for 15.18.
    public static var libraryVersion: Int { Int(PQlibVersion()) }

    /// Whether libpq and OpenSSL are linked into gmp from their static archives (Package.swift,
    /// "libpq's link"): their security updates then need a rebuild of gmp. False when gmp
    /// loads libpq.so.5 (GMP_LIBPQ_LINK=dynamic, or no archives at build time).
    public static var libraryLinkedStatically: Bool { gmp_libpq_linked_statically() != 0 }

    /// The OpenSSL libpq and gmp run with, e.g. "OpenSSL 3.0.19 27 Jan 2026".
    public static var openSSLVersion: String { String(cString: gmp_openssl_version()) }

    /// The server's version number, e.g. 150018.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// A run-time parameter the server reports (`server_version`, `TimeZone`, `is_superuser` …).
    public func parameterStatus(_ name: String) -> String? {
        PQparameterStatus(handle, name).map { String(cString: $0) }
    }

    /// Whether the server is a hot standby (in recovery: it accepts reads only). PostgreSQL
    /// 14 and newer report `in_hot_standby` at login and when it changes (a promotion), so
    /// asking costs no round trip; an older server reports nothing and counts as not.
    public var isHotStandby: Bool { parameterStatus("in_hot_standby") == "on" }

    /// Where notices go; by default the connection's logger. Replace it to collect them.
    public var noticeHandler: (PostgresNotice) -> Void {
        get { noticeSink.handler }
        set { noticeSink.handler = newValue }
    }

    /// Whether the session is still usable.
    public var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Statements waiting to travel with the next one (``sendWithNextStatement(_:handler:)``).
    var deferredStatements: [DeferredStatement] = []

    /// Runs a statement and returns its rows (in the same round trip as any deferred
    /// statement: ``sendWithNextStatement(_:handler:)``).
    @discardableResult
    public func query(_ query: SQLQuery) throws -> QueryResult {
        if !deferredStatements.isEmpty { return try pipeline([query])[0].get() }
        return try runAlone(query)
    }

    /// Why `query` cannot be sent, if it cannot.
    func unsendable(_ query: SQLQuery) -> ClientError? {
        query.bindings.firstIndex(where: { $0?.utf8.contains(0) == true }).map { position in
            ClientError(.unsendableValue, "bound value $\(position + 1) contains a NUL byte, which PostgreSQL text cannot hold")
        }
    }

    /// One statement, one round trip.
    func runAlone(_ query: SQLQuery) throws -> QueryResult {
        let bindings = query.bindings
        if let refusal = unsendable(query) { throw refusal }
        let started = ContinuousClock.now
        let result = query.sql.withCString { sql in
            withOptionalCStrings(bindings) { values in
                PQexecParams(handle, sql, Int32(bindings.count), nil, values, nil, nil, 0)
            }
        }
        defer { logTiming(query.sql, parameters: bindings.count, result: result, since: started) }
        return try checked(result, bindings: bindings)
    }

    /// -vv: each statement's first line and time; -vvv: its whole text. Bound values
    /// are never logged (they may be passwords or personal data).
    func logTiming(_ sql: String, parameters: Int, result: OpaquePointer?, since started: ContinuousClock.Instant) {
        guard logger.logLevel <= .debug else { return }
        let elapsed = Self.milliseconds(since: started)
        let rows = result.map { PQresultStatus($0) == PGRES_TUPLES_OK ? "\(PQntuples($0)) row(s)" : "done" } ?? "failed"
        if logger.logLevel <= .trace {
            logger.trace("SQL (\(parameters) parameter(s)), \(rows) in \(elapsed):\n\(sql)")
        } else {
            let first = sql.split(separator: "\n").first.map { $0.trimmingPrefix(while: \.isWhitespace) } ?? ""
            let shown = first.count > 100 ? first.prefix(99) + "…" : first
            logger.debug("SQL \(shown) — \(rows) in \(elapsed)")
        }
    }

    /// Host or socket, database, login and server version, for diagnostics; never the password.
    public var endpoint: String {
        func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "?" }
        return "\(text(PQhost(handle))) port \(text(PQport(handle))), database \(text(PQdb(handle))) "
            + "as \(text(PQuser(handle))) (PostgreSQL \(serverVersion / 10000).\(serverVersion % 10000))"
    }

    /// Time since `started`, e.g. "1.234 ms".
    public static func milliseconds(since started: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - started
        let value = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let rounded = (value * 1000).rounded() / 1000
        return "\(rounded) ms"
    }

    /// Runs a statement and returns how many rows it affected.
    @discardableResult
    public func execute(_ query: SQLQuery) throws -> Int {
        try self.query(query).affectedRows
    }

    /// Runs a multi-statement script shipped with the binary (a migration). Takes no
    /// parameters; see ``SQLScript``.
    public func execute(script: SQLScript) throws {
        sendDeferredStatements()   // a script is sent alone (simple protocol, no pipeline)
        _ = try checked(PQexec(handle, script.text), bindings: [])
    }

    /// Turns a libpq result into a ``QueryResult`` or the error it carries.
    func checked(_ result: OpaquePointer?, bindings: [String?]) throws -> QueryResult {
        guard let result else { throw connectionFailure() }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return QueryResult(handle: result, noticeSink: noticeSink)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            let status = PQresultStatus(result)
            PQclear(result)
            abandonCopy(status, reason: "COPY is not supported through query()")
            throw ClientError(.misuse, "COPY statements go through copyIn/copyOut")
        default:
            let error = serverError(from: result).redacting(bindings: bindings)
            PQclear(result)
            if !isConnected { throw connectionFailure(cause: error.message) }
            throw error
        }
    }

    func serverError(from result: OpaquePointer) -> PostgresError {
        guard let sqlState = errorField(result, "C") else {
            // No SQLSTATE: libpq's own failure (lost connection, protocol error).
            return PostgresError(sqlState: "08006", message: ConnectionString.firstLine(String(cString: PQresultErrorMessage(result))))
        }
        return PostgresError(
            sqlState: sqlState,
            message: errorField(result, "M") ?? "unknown error",
            detail: errorField(result, "D"), hint: errorField(result, "H"),
            constraint: errorField(result, "n"), schema: errorField(result, "s"),
            table: errorField(result, "t"), column: errorField(result, "c"), context: errorField(result, "W"))
    }

    func connectionFailure(cause: String? = nil) -> PostgresError {
        let reason = cause ?? ConnectionString.firstLine(String(cString: PQerrorMessage(handle)))
        return PostgresError(sqlState: "08006", message: "lost the connection to the database server: \(reason)")
    }

    /// Ends a COPY that will not be completed, and discards its results. A COPY IN is
    /// cancelled with an error; a COPY OUT cannot be, so its data is read and dropped
    /// (until then libpq keeps answering PQgetResult with COPY_OUT, forever).
    func abandonCopy(_ status: ExecStatusType, reason: String) {
        if status == PGRES_COPY_OUT {
            var buffer: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(handle, &buffer, 0) >= 0 {
                if let chunk = buffer { PQfreemem(chunk) }
                buffer = nil
            }
        } else {
            _ = PQputCopyEnd(handle, reason)
        }
        while let pending = PQgetResult(handle) { PQclear(pending) }
    }
}

@available(*, unavailable)
extension PostgresConnection: Sendable {}

/// Calls `body` with NULL-terminated C arrays of keywords and values.
private func withCStringArrays<R>(_ pairs: [(String, String)],
                                  _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let keywords = pairs.map { strdup($0.0) } + [nil]
    let values = pairs.map { strdup($0.1) } + [nil]
    defer {
        keywords.forEach { free($0) }
        values.forEach { free($0) }
    }
    return keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { k in
        values.map { UnsafePointer($0) }.withUnsafeBufferPointer { v in
            body(k.baseAddress!, v.baseAddress!)
        }
    }
}

/// Calls `body` with a C array of optional strings (NULL for SQL NULL).
func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    let copies = strings.map { $0.flatMap { strdup($0) } }
    defer { copies.forEach { free($0) } }
    return copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { body($0.baseAddress) }
}

extension PostgresConnection {
    /// The database this session is connected to.
    public var databaseName: String { String(cString: PQdb(handle)) }
    /// The role this session authenticated as.
    public var userName: String { String(cString: PQuser(handle)) }
}

extension PostgresConnection {
    /// The server host as libpq used it: a socket directory (starting with `/`) or a host name.
    public var host: String { String(cString: PQhost(handle)) }

    /// Whether the session is encrypted with TLS.
    public var usesTLS: Bool { PQsslInUse(handle) == 1 }

    /// The effective `sslmode` (`disable`, `prefer`, `verify-full` …).
    public var sslMode: String? {
        guard let options = PQconninfo(handle) else { return nil }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "sslmode" { return option.pointee.val.map { String(cString: $0) } }
            option += 1
        }
        return nil
    }

    /// Whether the server is reached over a Unix socket (no network in between).
    public var isLocalSocket: Bool { host.hasPrefix("/") || host.hasPrefix("@") }
}
