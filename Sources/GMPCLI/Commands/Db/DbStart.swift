import ArgumentParser
import GMPDatabase

/// `gmp db start`: create (first time) and start the embedded server.
struct DbStart: GMPCommand {
    static let path = "db start"
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Create (on first use) and start the embedded server.",
        discussion: """
            The embedded server is a private PostgreSQL cluster under GMP_DATA_DIR \
            (default /var/lib/gmp as root, else ~/.local/share/gmp), listening on a Unix \
            socket only. Safe to run when it is already running.

            Examples:
              gmp db start
            """)

    @OptionGroup var options: GlobalOptions

    func execute(in context: CommandContext) throws {
        let server = try context.embeddedServer()
        let preparation = try server.ensureRunning(logger: context.logger)
        let document = EmbeddedServerDocument(server: server, preparation: preparation)
        try context.output.document(document)
        context.output.data(preparation.started
            ? "started the embedded server in \(server.layout.root)\(preparation.initialized ? " (new cluster)" : "")"
            : "the embedded server in \(server.layout.root) is already running")
    }
}

/// `gmp db stop`: stop the embedded server.
struct DbStop: GMPCommand {
    static let path = "db stop"
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop the embedded server (fast shutdown: open sessions are rolled back).",
        discussion: """
            Safe to run when it is already stopped.

            Examples:
              gmp db stop
            """)

    @OptionGroup var options: GlobalOptions

    func execute(in context: CommandContext) throws {
        let server = try context.embeddedServer()
        let stopped = try server.cluster.stop()
        try context.output.document(EmbeddedServerDocument(server: server, stoppedNow: stopped))
        context.output.data(stopped ? "stopped the embedded server in \(server.layout.root)"
                                    : "the embedded server in \(server.layout.root) is not running")
    }
}

/// The `--json` document of `db start` and `db stop`.
struct EmbeddedServerDocument: Encodable {
    let dataDirectory: String
    let socketDirectory: String
    let state: String
    let pid: Int32?
    let initializedNow: Bool?
    let startedNow: Bool?
    let stoppedNow: Bool?

    init(server: EmbeddedServer, preparation: EmbeddedServer.Preparation? = nil, stoppedNow: Bool? = nil) {
        dataDirectory = server.layout.root
        socketDirectory = server.layout.socketDirectory
        (state, pid) = EmbeddedServerDocument.describe(server.cluster.state())
        initializedNow = preparation?.initialized
        startedNow = preparation?.started
        self.stoppedNow = stoppedNow
    }

    static func describe(_ state: EmbeddedCluster.State) -> (String, Int32?) {
        switch state {
        case .uninitialized: ("uninitialized", nil)
        case .stopped: ("stopped", nil)
        case .running(let pid): ("running", pid)
        }
    }
}
