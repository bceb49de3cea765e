import ArgumentParser
import GMPDatabase
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp db status`: where the server and the schema stand. Looks only: never starts
/// the embedded server, never changes the schema.
struct DbStatus: GMPCommand {
    static let path = "db status"
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the server, the schema version and pending migrations.",
        discussion: """
            Exit 0 when the server answers (pending migrations are listed, not an error); \
            69 when it cannot be reached; 65 when the schema was edited or is newer than \
            this gmp.

            Examples:
              gmp db status
              gmp -d "host=db.example.org dbname=gmp" db status --json
            """)

    @OptionGroup var options: GlobalOptions

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        var server = ServerDocument(connection)
        // The chainer is asked only when the login did not already say that it runs: its
        // worker reports watching this database's logins only while connected to it
        // (BackgroundChainer.reading; issue 18).
        let chainerReported = server.loginWatchInServer == true
        // One round trip after the login: the ledgers, the chainer and the audit trigger
        // together (issue 18, docs/benchmarks.md "The server side of a cold command").
        let (status, others) = try Migrator().status(on: connection,
                                                     alongWith: (chainerReported ? [] : [BackgroundChainer.reading])
                                                         + [NativeAudit.implementationReading])
        server.backgroundChainer = try chainerReported || BackgroundChainer.running(from: others[0]) != nil
        server.sharedMemoryPages = ServerDocument.sharedMemoryPages(of: context.settings.target)
        let document = StatusDocument(target: TargetDocument(context.settings.target),
                                      server: server, schema: SchemaDocument(status),
                                      audit: try NativeAudit.implementation(from: others[others.count - 1]))
        try context.output.document(document)
        context.output.data(document.text(style: context.output.stdoutStyle))
        try status.requireConsistent()
    }
}

/// The `--json` document of `db status`, written by hand (`JSONEncodable`, no
/// `JSONEncoder`: issue 18); nil optionals left out, as before.
struct StatusDocument: JSONEncodable {
    let target: TargetDocument
    let server: ServerDocument
    let schema: SchemaDocument
    /// The audit row trigger in force ('native', 'plpgsql', 'mixed'; docs/audit-trail.md
    /// "Native trigger"); nil before the schema knows.
    var audit: String? = nil

    var jsonValue: JSONValue {
        .object(omittingNil: [("target", target.jsonValue), ("server", server.jsonValue), ("schema", schema.jsonValue),
                              ("audit_trigger", audit?.jsonValue)])
    }

    func text(style: Style) -> String {
        var lines = [
            "target   \(target.summary)",
            "server   PostgreSQL \(server.version), database \(server.database) as \(server.user)",
            "schema   version \(schema.version) of \(schema.latestKnown)"
                + (schema.upToDate ? " (up to date)" : schema.problems.isEmpty
                    ? " (\(schema.pending.count) migration(s) and \(schema.pendingCode.count) code file(s) pending: run gmp db migrate)" : ""),
        ]
        // Inserted in reverse: the chainer line, then the logins line, after the server line.
        if let inServer = server.loginWatchInServer {
            lines.insert(inServer ? "logins   watched by the server (gmp_chainer): commands send no watch"
                                  : "logins   watched by each gmp command as it connects", at: 2)
        }
        if let running = server.backgroundChainer {
            lines.insert(running ? "chainer  running: a background worker chains the audit trail (gmp_chainer)"
                                 : "chainer  none: gmp's writers and readers chain the audit trail themselves", at: 2)
        }
        if let pages = server.sharedMemoryPages {
            lines.append(pages == "huge" ? "memory   shared memory on huge pages"
                                         : "memory   shared memory on ordinary pages: no huge pages reserved "
                                             + "(sysctl vm.nr_hugepages; docs/server-settings.md)")
        }
        if let audit {
            lines.append("audit    row trigger and hash: \(audit == "native" ? "native (C, extension gmp_audit_native)" : audit)")
        }
        for row in schema.applied {
            lines.append("  V\(row.version) \(row.name)  applied \(row.appliedAt) by \(row.appliedBy)")
        }
        for row in schema.pending {
            lines.append(style.yellow("  V\(row.version) \(row.name)  pending"))
        }
        for file in schema.pendingCode {
            lines.append(style.yellow("  sql/code/\(file)  pending: its text differs from the one last applied"))
        }
        for problem in schema.problems {
            lines.append(style.red("  problem: \(problem)"))
        }
        return lines.joined(separator: "\n")
    }
}

/// Which server, without its connection string.
struct TargetDocument: JSONEncodable {
    let kind: String
    let dataDirectory: String?
    let source: String?

    var jsonValue: JSONValue {
        .object(omittingNil: [("kind", kind.jsonValue), ("data_directory", dataDirectory?.jsonValue), ("source", source?.jsonValue)])
    }
}

/// Made from what gmp found (an extension, so that tests have the memberwise init).
extension TargetDocument {
    init(_ target: DatabaseTarget) {
        switch target {
        case .embedded(let settings):
            kind = "embedded"
            dataDirectory = settings.root
            source = nil
        case .configured(_, let origin):
            kind = "configured"
            dataDirectory = nil
            source = origin.description
        }
    }

    var summary: String {
        kind == "embedded" ? "embedded server in \(dataDirectory ?? "?")" : "configured server (\(source ?? "?"))"
    }
}

struct ServerDocument: JSONEncodable {
    let version: String
    let database: String
    let user: String
    /// Whether a background chainer (gmp_chainer) chains this database's audit trail now;
    /// nil when not asked.
    var backgroundChainer: Bool? = nil
    /// What the server's shared memory lives on, "huge" or "ordinary" pages
    /// (docs/server-settings.md); nil for a configured server, whose processes gmp does not see.
    var sharedMemoryPages: String? = nil
    /// Whether the server's worker watches the logins (`FailedLogins.watchedByServer`),
    /// so that commands send no watch (issue 18); nil when not asked.
    var loginWatchInServer: Bool? = nil

    var jsonValue: JSONValue {
        .object(omittingNil: [("version", version.jsonValue), ("database", database.jsonValue), ("user", user.jsonValue),
                              ("background_chainer", backgroundChainer?.jsonValue),
                              ("login_watch_in_server", loginWatchInServer?.jsonValue),
                              ("shared_memory_pages", sharedMemoryPages?.jsonValue)])
    }

    /// Read from the embedded server's postmaster (`SharedMemoryPages`): PostgreSQL 15
    /// itself does not say.
    static func sharedMemoryPages(of target: DatabaseTarget) -> String? {
        guard case .embedded(let settings) = target, let layout = try? EmbeddedLayout(root: settings.root),
              let pages = SharedMemoryPages.of(layout) else { return nil }
        if case .huge = pages { return "huge" }
        return "ordinary"
    }
}

/// Made from what gmp found (an extension, so that tests have the memberwise init).
extension ServerDocument {
    init(_ connection: PostgresConnection) {
        version = connection.parameterStatus("server_version") ?? String(connection.serverVersion)
        database = connection.databaseName
        user = connection.userName
        backgroundChainer = nil
        sharedMemoryPages = nil
        loginWatchInServer = FailedLogins.watchedByServer(connection)
    }
}

struct SchemaDocument: JSONEncodable {
    struct Applied: JSONEncodable {
        let version: Int
        let name: String
        let checksum: String
        let appliedAt: String
        let appliedBy: String

        var jsonValue: JSONValue {
            .object(omittingNil: [("version", version.jsonValue), ("name", name.jsonValue), ("checksum", checksum.jsonValue),
                                  ("applied_at", appliedAt.jsonValue), ("applied_by", appliedBy.jsonValue)])
        }
    }

    struct Pending: JSONEncodable {
        let version: Int
        let name: String

        var jsonValue: JSONValue {
            .object(omittingNil: [("version", version.jsonValue), ("name", name.jsonValue)])
        }
    }

    let version: Int
    let latestKnown: Int
    let upToDate: Bool
    let applied: [Applied]
    let pending: [Pending]
    /// Code files (sql/code/) this gmp would apply: never applied, or applied with other text.
    let pendingCode: [String]
    let problems: [String]

    var jsonValue: JSONValue {
        .object(omittingNil: [("version", version.jsonValue), ("latest_known", latestKnown.jsonValue), ("up_to_date", upToDate.jsonValue),
                              ("applied", applied.jsonValue), ("pending", pending.jsonValue), ("pending_code", pendingCode.jsonValue),
                              ("problems", problems.jsonValue)])
    }
}

/// Made from what gmp found (an extension, so that tests have the memberwise init).
extension SchemaDocument {
    init(_ status: SchemaStatus) {
        version = status.currentVersion
        latestKnown = status.latestKnownVersion
        upToDate = status.isUpToDate
        applied = status.applied.map {
            Applied(version: $0.version, name: $0.name, checksum: $0.checksum, appliedAt: $0.appliedAt.iso8601, appliedBy: $0.appliedBy)
        }
        pending = status.pending.map { Pending(version: $0.version, name: $0.name) }
        pendingCode = status.pendingCode.map(\.fileName)
        problems = status.problems.map { problem in
            switch problem {
            case .changedAfterApply(let applied, let shipped):
                MigrationError.changedAfterApply(applied: applied, shipped: shipped).problem
            case .unknownVersion(let row):
                "V\(row.version) \(row.name) is applied but unknown to this gmp (the database is newer)"
            }
        }
    }
}

extension DbStatus: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([.globalOptions])
}
