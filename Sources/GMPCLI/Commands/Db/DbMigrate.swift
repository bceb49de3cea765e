import ArgumentParser
import GMPDatabase

/// `gmp db migrate`: apply pending migrations.
struct DbMigrate: GMPCommand {
    static let path = "db migrate"
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the schema migrations this gmp ships, forward only, then its changed code files.",
        discussion: """
            Each migration and its ledger row commit together, under a lock, so two \
            gmp processes migrating at once apply each migration exactly once. Then the \
            code files (sql/code/, the one home of each routine) whose text differs from \
            the one last applied are applied together in one transaction, each recorded \
            with its full text (gmp db code shows what is in force). Refused, \
            with nothing changed, when an applied migration was edited or the database \
            is newer than this gmp (exit 65). Starts the embedded server if needed.

            Examples:
              gmp db migrate
              gmp db migrate --json
            """)

    @OptionGroup var options: GlobalOptions

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: true)
        // A migration lost at COMMIT is answered by the ledger (run migrate again: it
        // applies what is missing), and receipts exist only from V0038 on.
        connection.commitReceipts = nil
        let outcome = try Migrator().migrate(on: connection) { fileName in
            context.output.note("applying \(fileName)")
        }
        let (applied, code, status) = (outcome.applied, outcome.appliedCode, outcome.status)
        try context.output.document(MigrateDocument(
            applied: applied.map { .init(version: $0.version, name: $0.name, checksum: $0.checksum) },
            appliedCode: code.map { .init(file: $0.fileName, checksum: $0.checksum) },
            schemaVersion: status.currentVersion, upToDate: status.isUpToDate))
        context.output.data(applied.isEmpty && code.isEmpty
            ? "schema version \(status.currentVersion) is up to date; nothing to apply"
            : "applied \(applied.count) migration(s) and \(code.count) code file(s); schema version \(status.currentVersion) is up to date")
    }
}

/// The `--json` document of `db migrate`.
struct MigrateDocument: Encodable {
    struct Applied: Encodable {
        let version: Int
        let name: String
        let checksum: String
    }

    struct AppliedCode: Encodable {
        let file: String
        let checksum: String
    }

    let applied: [Applied]
    let appliedCode: [AppliedCode]
    let schemaVersion: Int
    let upToDate: Bool
}
