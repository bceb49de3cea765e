import CLibPQ

/// Helpers for libpq connection strings (`key=value …` or `postgresql://` URIs).
///
/// Connection strings are parsed by libpq itself (`PQconninfoParse`), so gmp accepts
/// exactly what psql accepts. They may hold a password: never log or print one.
public enum ConnectionString {
    /// Builds a `key='value' …` string, quoting each value as libpq requires.
    public static func make(_ parameters: [(key: String, value: String)]) -> String {
        parameters.map { "\($0.key)=\(quote($0.value))" }.joined(separator: " ")
    }

    /// Quotes a value for a `key=value` connection string: single quotes, with `\` and `'` escaped.
    public static func quote(_ value: String) -> String {
        var quoted = "'"
        for character in value {
            if character == "\\" || character == "'" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "'"
    }

    /// The parameters a connection string sets (only those given explicitly, not
    /// defaults), or a `.malformedConnectionString` error with libpq's reason.
    public static func parse(_ text: String) throws -> [String: String] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(text, &errorMessage) else {
            defer { if let errorMessage { PQfreemem(errorMessage) } }
            let reason = errorMessage.map { String(cString: $0) } ?? "out of memory"
            throw ConnectionError(kind: .malformedConnectionString,
                                  message: "malformed connection string: \(firstLine(reason))")
        }
        defer { PQconninfoFree(options) }
        var parameters: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                parameters[String(cString: keyword)] = String(cString: value)
            }
            option += 1
        }
        return parameters
    }

    /// The connection string with one parameter set (added or replaced), e.g. the
    /// user a person logs in as.
    public static func replacing(_ key: String, with value: String, in text: String) throws -> String {
        var parameters = try parse(text)
        parameters[key] = value
        return make(parameters.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
    }

    static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first?.trimmingWhitespace ?? ""
    }
}

/// How to reach a server: a libpq connection string plus what gmp adds to it.
public struct ConnectionConfiguration: Sendable {
    /// A libpq connection string or URI; empty means libpq's own defaults
    /// (`PG*` variables, `~/.pgpass`, the local socket).
    public var connectionString: String
    /// Shown in `pg_stat_activity` and server logs unless the string or `PGAPPNAME` sets one.
    public var applicationName: String
    /// Seconds to wait for the server, unless the string or `PGCONNECT_TIMEOUT` sets it.
    public var connectTimeoutSeconds: Int
    /// The longest a statement waits for a lock another session holds (PostgreSQL's
    /// `lock_timeout`) before it fails with 55P03, so that one stalled client (an open
    /// psql transaction, an import stopped mid-COPY) cannot freeze everyone else's
    /// writes. 0 waits forever. Unless the string or `PGOPTIONS` sets options.
    public var lockTimeoutMilliseconds: Int
    /// Further run-time parameters set at connection start (`-c name=value`), with the
    /// lock timeout and likewise unless `PGOPTIONS` sets options. Names and values are
    /// the caller's constants: letters, digits, `_` and `.` only.
    public var sessionSettings: [(name: String, value: String)]

    public init(connectionString: String, applicationName: String = "gmp", connectTimeoutSeconds: Int = 5,
                lockTimeoutMilliseconds: Int = 10_000, sessionSettings: [(name: String, value: String)] = []) {
        self.connectionString = connectionString
        self.applicationName = applicationName
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.lockTimeoutMilliseconds = max(0, lockTimeoutMilliseconds)
        self.sessionSettings = sessionSettings
    }
}
