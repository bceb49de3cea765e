import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

/// libpq's trace of the protocol messages, for diagnostics and for the tests that count
/// a command's round trips (issue 18): one line per message, `F` from the client, `B`
/// from the server, without timestamps.
extension PostgresConnection {
    /// Appends every message from now on to the file at `path` (created if missing).
    public func traceProtocol(to path: String) throws {
        guard protocolTrace == nil else { return }
        guard let file = fopen(path, "a") else {
            throw ClientError(.misuse, "cannot open \(path) for the protocol trace")
        }
        setvbuf(file, nil, _IOLBF, 0)   // whole lines at once: readable while the connection lives
        protocolTrace = file
        PQtrace(handle, file)
        PQsetTraceFlags(handle, PQTRACE_SUPPRESS_TIMESTAMPS)
    }

    /// The round trips in a trace's lines: each run of client messages answered by the
    /// server. A message's line starts with its direction and a tab (a statement's text
    /// may continue on lines of its own, which are skipped).
    public static func roundTrips(inTrace lines: some Sequence<Substring>) -> Int {
        var trips = 0
        var sending = false
        for line in lines {
            if line.hasPrefix("F\t") {
                sending = true
            } else if line.hasPrefix("B\t"), sending {
                trips += 1
                sending = false
            }
        }
        return trips
    }
}
