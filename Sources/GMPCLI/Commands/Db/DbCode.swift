import ArgumentParser
import GMPDatabase
import PostgresClient

/// `gmp db code`: the source of each routine in force, now or at a past time, from the
/// database alone.
struct DbCode: GMPCommand {
    static let path = "db code"
    static let configuration = CommandConfiguration(
        commandName: "code",
        abstract: "Show the exact source of the rules (functions, views) in force, now or at a past time.",
        discussion: """
            What an inspector asks under EU GMP Annex 11 §4 and 21 CFR 11.10(a): which \
            logic was in force when a record was made. The answer comes from the database \
            alone: every change to a routine is captured, with its definition, in the \
            hash-chained audit trail (gmp audit verify checks it), whoever made it and \
            however. Records begin at schema version 19; earlier code is the numbered \
            migrations up to V0018.

            Without NAME: every routine in force, with when and why its version was \
            recorded and its home in this gmp's source (sql/code/). With NAME (an identity \
            such as 'gmp.trace_lot(text)', schema.name, or the bare name): its definition. \
            --history lists every recorded version instead.

            Examples:
              gmp db code                                  what is in force now
              gmp db code blockers_of                      the source of one rule
              gmp db code blockers_of --at 2026-12-01      as it was at the start of that day (UTC)
              gmp db code gmp.release_lot --history --json every version, as JSON
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: ArgumentHelp("A routine or view: its identity, schema.name, or the bare name.", valueName: "name"))
    var name: String?

    @Option(help: ArgumentHelp("The time to answer for: 2026-12-01T09:30:00Z, or a date (its start, UTC). Default: now.",
                               valueName: "time"))
    var at: TimeArgument?

    @Flag(help: "With NAME: every recorded version, oldest first, instead of the one in force.")
    var history = false

    func validate() throws {
        if history && name == nil { throw ValidationError("--history needs a NAME: gmp db code NAME --history") }
        if history && at != nil { throw ValidationError("--history lists every version; leave out --at") }
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        // The code record is read from the trail: what is pending joins it first.
        context.chainPendingEvents(on: connection)
        let record = CodeRecord(connection)
        let when = at?.timestamp
        let versions: [RoutineVersion]
        if let name, history {
            versions = try record.history(of: name)
        } else {
            versions = try record.inForce(at: when).filter { version in name.map(version.isNamed) ?? true }
        }
        if versions.isEmpty {
            throw Failure(exitCode: .refused, problem: emptyProblem(when: when),
                          fix: name == nil ? "the code record begins at schema version 19: ask for a later time"
                                           : "gmp db code lists what is in force; give its identity, schema.name or the bare name")
        }
        let document = CodeDocument(at: when?.iso8601, routines: versions.map { CodeDocument.Routine($0, withSource: name != nil) })
        try context.output.document(document)
        context.output.data(name == nil ? listing(versions) : sources(versions))
    }

    private func emptyProblem(when: Timestamp?) -> String {
        let moment = when.map { "at \($0.iso8601)" } ?? "now"
        guard let name else { return "no routine was in force \(moment) according to the code record" }
        return history ? "no version of a routine called \(name) is recorded"
                       : "no routine called \(name) was in force \(moment)"
    }

    private func listing(_ versions: [RoutineVersion]) -> String {
        let rows = versions.map { version in
            [version.kind, version.recordedAt.iso8601, String(version.auditSeq), version.recordedBy, version.command,
             CodeFile.home(of: version.routine)?.location ?? "not in this gmp", version.routine]
        }
        // The identity last: it is the one cell that can be very long.
        return textTable(header: ["KIND", "RECORDED (UTC)", "EVENT", "BY", "HOW", "HOME", "ROUTINE"], rows: rows)
            + "\n\(versions.count) routine(s) in force" + (at.map { " at \($0.timestamp.iso8601)" } ?? "")
    }

    private func sources(_ versions: [RoutineVersion]) -> String {
        versions.map { version in
            var lines = ["-- \(version.routine): \(version.command) recorded \(version.recordedAt.iso8601) by "
                         + "\(version.recordedBy), audit event \(version.auditSeq)"]
            if let reason = version.reason { lines.append("-- reason: \(reason)") }
            if let home = CodeFile.home(of: version.routine) { lines.append("-- home in this gmp: \(home.location)") }
            lines.append(version.definition ?? "-- dropped")
            return lines.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }
}

/// The `--json` document of `db code`.
struct CodeDocument: Encodable {
    struct Routine: Encodable {
        let routine: String
        let kind: String
        let sha256: String?
        let recordedAt: String
        let auditSeq: Int64
        let recordedBy: String
        let command: String
        let reason: String?
        /// Where this gmp's source defines it, if it does.
        let home: String?
        /// Only when a NAME was asked for.
        let definition: String?

        init(_ version: RoutineVersion, withSource: Bool) {
            routine = version.routine
            kind = version.kind
            sha256 = version.sha256
            recordedAt = version.recordedAt.iso8601
            auditSeq = version.auditSeq
            recordedBy = version.recordedBy
            command = version.command
            reason = version.reason
            home = CodeFile.home(of: version.routine)?.location
            definition = withSource ? version.definition : nil
        }
    }

    /// The time asked for; null for now.
    let at: String?
    let routines: [Routine]
}
