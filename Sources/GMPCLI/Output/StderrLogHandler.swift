import Logging

/// Logs as `gmp: <level>: <message>` on stderr — diagnostics, never data. The level
/// comes from `-v`/`-q`; server notices arrive here through the PostgreSQL client.
struct StderrLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        StandardStream.error.write("gmp: \(event.level): \(event.message)\n")
    }
}
