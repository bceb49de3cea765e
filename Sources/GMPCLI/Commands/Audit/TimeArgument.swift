import ArgumentParser
import PostgresClient

/// An instant given on the command line: ISO 8601 with an offset
/// (2026-11-22T05:26:25Z) or a date (2026-11-22, meaning its start in UTC).
struct TimeArgument: ExpressibleByArgument {
    let timestamp: Timestamp

    init?(argument: String) {
        if let instant = Timestamp(iso8601: argument) {
            timestamp = instant
        } else if let date = CalendarDate(argument) {
            timestamp = Timestamp(microsecondsSinceEpoch: Int64(date.daysSinceEpoch) * 86_400_000_000)
        } else {
            return nil
        }
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
