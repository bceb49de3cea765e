import ArgumentParser
import GMPDatabase

/// `gmp db migrate`: apply pending migrations.
struct DbMigrate: GMPCommand {
    static let path = "db migrate"
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the schema migrations this gmp ships, forward only.",
        discussion: """
            Each migration and its ledger row commit together, under a lock, so two \
            gmp processes migrating at once apply each migration exactly once. Refused, \
            with nothing changed, when an applied migration was edited or the database \
            is newer than this gmp (exit 65). Starts the embedded server if needed.
            """)

    @OptionGroup var options: GlobalOptions

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: true)
        let outcome = try Migrator().migrate(on: connection) { migration in
            context.output.note("applying \(migration.fileName)")
        }
        let (applied, status) = (outcome.applied, outcome.status)
        try context.output.document(MigrateDocument(
            applied: applied.map { .init(version: $0.version, name: $0.name, checksum: $0.checksum) },
            schemaVersion: status.currentVersion, upToDate: status.isUpToDate))
        context.output.data(applied.isEmpty
            ? "schema version \(status.currentVersion) is up to date; nothing to apply"
            : "applied \(applied.count) migration(s); schema version \(status.currentVersion) is up to date")
    }
}

/// The `--json` document of `db migrate`.
struct MigrateDocument: Encodable {
    struct Applied: Encodable {
        let version: Int
        let name: String
        let checksum: String
    }

    let applied: [Applied]
    let schemaVersion: Int
    let upToDate: Bool
}
