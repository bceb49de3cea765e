import ArgumentParser

/// `gmp db`: the database gmp works on — the embedded server and the schema.
struct Db: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the database: the embedded server and the schema.",
        discussion: """
            start, stop: the embedded server (gmp's private PostgreSQL). A configured \
            server is never started or stopped by gmp.
            migrate: apply the schema migrations this gmp ships, forward only, and its changed code.
            status: where the server and the schema stand.
            code: the exact source of each rule in force, now or at a past time.
            transaction: whether a transaction committed, after a connection lost during COMMIT.
            """,
        subcommands: [DbStart.self, DbStop.self, DbStatus.self, DbMigrate.self, DbCode.self, DbTransaction.self]
    )
}
