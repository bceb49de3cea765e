/// Why a connection could not be made, in terms a user can act on.
///
/// libpq reports connection failures as text only (no SQLSTATE), so the kind is read
/// from libpq's own state where it can be (`PQconnectionUsedPassword`) and from the
/// server's untranslated messages otherwise; anything unrecognised is `.unreachable`.
public struct ConnectionError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The connection string or URI could not be parsed.
        case malformedConnectionString
        /// No server answered: nothing listening, host unknown, timeout.
        case unreachable
        /// The server refused the credentials (wrong or missing password, unknown role, peer mismatch).
        case authenticationFailed
        /// The server is up but has no database of that name.
        case unknownDatabase
        /// The server is older than gmp supports.
        case unsupportedServer
    }

    public let kind: Kind
    /// libpq's message, first line only, without the connection string or any password.
    public let message: String
    /// The server asked for a password and none was supplied (libpq found none in the
    /// string, PGPASSWORD or ~/.pgpass): a caller on a terminal may ask for one.
    public let neededPassword: Bool

    public init(kind: Kind, message: String, neededPassword: Bool = false) {
        self.kind = kind
        self.message = message
        self.neededPassword = neededPassword
    }

    public var description: String { message }

    /// Classifies a failed connection from libpq's message and password state.
    static func classify(message: String, usedPassword: Bool, neededPassword: Bool) -> ConnectionError {
        let firstLines = message.split(separator: "\n").map(\.trimmingWhitespace).filter { !$0.isEmpty }
        // libpq prefixes "connection to server … failed: "; the server's reason follows it.
        let summary = firstLines.first ?? "could not connect to the database server"
        let kind: Kind
        if summary.contains("database \"") && summary.hasSuffix("does not exist") {
            kind = .unknownDatabase
        } else if neededPassword || summary.contains("password authentication failed")
                    || summary.contains("no password supplied") || summary.contains("Peer authentication failed")
                    || (summary.contains("role \"") && summary.hasSuffix("does not exist"))
                    || summary.contains("no pg_hba.conf entry") {
            kind = .authenticationFailed
        } else if serverStateFailures.contains(where: summary.contains) {
            // The server stopping, starting, recovering or full ends a login the same way
            // a wrong password does (FATAL after the password exchange): not a refusal.
            kind = .unreachable
        } else if usedPassword && summary.contains("FATAL") {
            kind = .authenticationFailed
        } else {
            kind = .unreachable
        }
        // PQconnectionUsedPassword is true whenever the server asked for a password, supplied
        // or not; PQconnectionNeedsPassword alone says none was there to send.
        return ConnectionError(kind: kind, message: summary, neededPassword: neededPassword)
    }
}

/// The server's untranslated messages for a login it could not finish for reasons of
/// its own state (shutdown, crash, recovery, no free connection slot).
private let serverStateFailures = [
    "terminating connection", "the database system is", "crash of another server process",
    "too many clients", "remaining connection slots", "server closed the connection",
]

extension StringProtocol {
    /// The text without leading and trailing white space (spaces, tabs, newlines).
    /// FoundationEssentials has no `trimmingCharacters(in:)`; gmp avoids full Foundation.
    ///
    /// Inlinable and walking indices (start-up, issue 18): called across modules, the
    /// unspecialised `drop(while:).reversed()` chain instantiated `Slice`,
    /// `ReversedCollection` and their iterators at run time, each a scan of every
    /// protocol-conformance record in the binary: 7 scans (~2.2 M instructions) when a
    /// command read its configuration file.
    @inlinable
    public var trimmingWhitespace: String {
        var start = startIndex
        var end = endIndex
        while start < end, self[start].isWhitespace { formIndex(after: &start) }
        while start < end {
            let last = index(before: end)
            guard self[last].isWhitespace else { break }
            end = last
        }
        return String(self[start..<end])
    }
}
