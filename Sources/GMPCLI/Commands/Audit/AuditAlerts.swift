import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp audit alerts`: failed signing attempts, failed logins and lockouts, for QA
/// (21 CFR 11.300(d)). Failed logins are read from the server log when the command
/// connects (`FailedLogins`), so the list is current.
struct AuditAlerts: GMPCommand {
    static let path = "audit alerts"
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List failed signing attempts, failed logins, lockouts, password resets and role changes (with --all: every security event).",
        discussion: """
            Alerts: wrong signing passwords, failed logins (read from the server log), lockouts, passwords an administrator reset, \
            and roles proposed, granted or revoked. With --all also unlocks, disabled \
            accounts, confirmed identities, declined proposals and password changes.

            Exit 0 with nothing to report; 65 when there are alerts, so a scheduled job can page QA.

            Examples:
              gmp audit alerts --since 2026-11-01 --json
              gmp audit alerts --all --csv --bom > security-events.csv
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: TraceFormat
    @Option(help: ArgumentHelp("Only events from this time on (2026-11-01 or an ISO 8601 instant).", valueName: "time"))
    var since: TimeArgument?
    @Flag(help: "Also list routine events: unlocks, disabled accounts, password changes, confirmations, declined proposals.")
    var all = false

    func validate() throws { try format.requireOne(json: options.json) }

    struct Document: Encodable {
        struct Event: Encodable {
            /// Null for a wrong password whose check was rolled back (no event row yet).
            let id: Int64?
            let occurredAt: String
            let account: String
            let kind: String
            let detail: String?
            let recordedBy: String
            let alert: Bool
        }
        let events: [Event]
        let alerts: Int
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let events = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try SecurityEvent.list(on: db, since: since?.timestamp)
        }.filter { all || SecurityEvent.alertKinds.contains($0.kind) || SecurityEvent.contextKinds.contains($0.kind) }
        let alerts = events.filter { SecurityEvent.alertKinds.contains($0.kind) }.count
        if format.csv {
            format.write(header: ["id", "occurred_at", "account", "kind", "detail", "recorded_by", "alert"], rows: events.map {
                [$0.id.map(String.init) ?? "", $0.occurredAt.iso8601, $0.account, $0.kind, $0.detail ?? "", $0.recordedBy,
                 SecurityEvent.alertKinds.contains($0.kind) ? "true" : "false"]
            })
            if alerts > 0 { throw ArgumentParser.ExitCode(GMPExitCode.refused.rawValue) }
            return
        }
        try context.output.document(Document(events: events.map {
            .init(id: $0.id, occurredAt: $0.occurredAt.iso8601, account: $0.account, kind: $0.kind, detail: $0.detail,
                  recordedBy: $0.recordedBy, alert: SecurityEvent.alertKinds.contains($0.kind))
        }, alerts: alerts))
        let style = context.output.stdoutStyle
        context.output.data(events.isEmpty ? "no alerts" : textTable(
            header: ["TIME (UTC)", "ACCOUNT", "KIND", "DETAIL"],
            rows: events.map { [$0.occurredAt.iso8601, $0.account, $0.kind, $0.detail ?? ""] },
            decorateRow: { row, line in SecurityEvent.alertKinds.contains(events[row].kind) ? style.red(line) : line }))
        if alerts > 0 { throw ArgumentParser.ExitCode(GMPExitCode.refused.rawValue) }
    }
}
