import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPDatabase
import GMPRecords
import Logging
import PostgresClient

#if canImport(Glibc)
import Glibc
#endif

/// What a running command needs: resolved settings, output, a logger, and the way to
/// reach the database.
struct CommandContext {
    let settings: Settings
    let output: Output
    let logger: Logger
    /// e.g. "gmp db status": shown as application_name in pg_stat_activity.
    let commandName: String
    /// Whether a missing login password is asked for on the terminal (not while the
    /// shell completes a word: that must never wait for input).
    var promptsForPassword = true
    /// What the command's connections committed, for the error a lost connection gives.
    let committedWork = CommittedWork()
    /// GMP_PROTOCOL_TRACE: a file to which every connection appends libpq's trace of its
    /// protocol messages (diagnostics; the tests count round trips with it, issue 18).
    let protocolTracePath: String?

    init(options: GlobalOptions, commandName: String, environment: [String: String] = ProcessEnvironment.current()) throws {
        let loaded = try ConfigLocator.load(explicitPath: options.config, environment: environment)
        settings = try Settings.resolve(databaseFlag: options.database, userFlag: options.user, colorFlag: options.color,
                                        environment: environment, file: loaded?.0, configPath: loaded?.1,
                                        effectiveUserIsRoot: geteuid() == 0)
        output = Output(
            json: options.json, quiet: options.quiet, verbose: options.verbose,
            stdoutStyle: Style(enabled: !options.json && Terminal.useColor(settings.color, descriptor: 1, environment: environment)),
            stderrStyle: Style(enabled: Terminal.useColor(settings.color, descriptor: 2, environment: environment)))
        var logger = Logger(label: "gmp")
        logger.logLevel = options.quiet ? .error : [.warning, .info, .debug, .trace][min(options.verbose, 3)]
        self.logger = logger
        self.commandName = commandName
        protocolTracePath = environment["GMP_PROTOCOL_TRACE"].flatMap { $0.isEmpty ? nil : $0 }
        // -v: which file and server this command uses, before it connects.
        switch settings.target {
        case .configured(_, let source):
            logger.info("configuration file: \(settings.configPath ?? "none"); server configured by \(source)")
        case .embedded(let embedded):
            logger.info("configuration file: \(settings.configPath ?? "none"); embedded server under \(embedded.root)")
        }
        if case .configured(let string, .flag) = settings.target,
           let parameters = try? ConnectionString.parse(string), !(parameters["password"] ?? "").isEmpty {
            output.warning("a password on the command line is visible to other users of this machine; use ~/.pgpass or PGPASSWORD")
        }
    }

    /// The embedded server, or a usage error when a server is configured instead.
    func embeddedServer() throws -> EmbeddedServer {
        switch settings.target {
        case .embedded(let embedded):
            return try EmbeddedServer(root: embedded.root, serverUser: embedded.serverUser, binDirectory: embedded.binDirectory)
        case .configured(_, let source):
            throw Failure(exitCode: .usage,
                          problem: "\(commandName) manages gmp's embedded server, but a server is configured by \(source)",
                          fix: "a configured server is used as-is; start or stop it with its own tools")
        }
    }

    /// Connects to the target. With `startingEmbedded`, the embedded server is created
    /// and started first if needed (first use); otherwise it must already run.
    ///
    /// The embedded server is simply connected to: only when that fails is the cluster
    /// examined (and started), so the common case costs no more than the connection.
    ///
    /// Unless `recordingFailedLogins` is false, the failed logins the server logged since
    /// the last read are recorded first (`FailedLogins`, issue 20, item 2): every command
    /// by anyone is a chance to see a guessing attack and lock the account under attack.
    /// The watch travels with the command's first statement, in the same round trip and
    /// before it, as its own transaction (issue 18); a command that sends none sends it
    /// when it ends (`sendDeferredStatements`). Where the server's background worker
    /// watches the logins itself (extension/gmp_chainer, reported at login), none is sent.
    func connect(startingEmbedded: Bool, recordingFailedLogins: Bool = true) throws -> PostgresConnection {
        let connection = try reach(startingEmbedded: startingEmbedded)
        if recordingFailedLogins {
            FailedLogins.recordWithNextStatement(on: connection) { [logger] outcome in
                // Never fails the command: a schema not yet migrated has no such function,
                // and a server that logs no jsonlog is reported by gmp doctor, not by every command.
                switch outcome {
                case .success(let recorded) where recorded > 0:
                    logger.info("recorded \(recorded) failed login(s) from the server log (gmp audit alerts)")
                case .success:
                    break
                case .failure(let error):
                    logger.debug("failed logins not read from the server log: \(error)")
                }
            }
        }
        return connection
    }

    /// Sends what this command's connections still hold back for their next statement
    /// (the login watch of a command that sent none): called when the command ends.
    func sendDeferredStatements() {
        committedWork.connections.forEach { $0.sendDeferredStatements() }
    }

    private func reach(startingEmbedded: Bool) throws -> PostgresConnection {
        switch settings.target {
        case .configured(let string, _):
            return try open(string)
        case .embedded(let embedded):
            let layout = try EmbeddedLayout(root: embedded.root)
            let string = EmbeddedServer.connectionString(layout: layout)
            do {
                return try open(string)
            } catch let error as ConnectionError where error.kind == .unreachable || error.kind == .unknownDatabase {
                let server = try embeddedServer()
                guard startingEmbedded else {
                    try server.requireRunning()
                    throw error
                }
                let preparation = try server.ensureRunning(logger: logger)
                if preparation.initialized { output.note("created the embedded database cluster in \(layout.root)") }
                if preparation.started { output.note("started the embedded server") }
                if error.kind == .unknownDatabase && !preparation.started {
                    _ = try server.createDatabaseIfMissing(logger: logger)
                }
                return try open(string)
            }
        }
    }

    /// Connects, saying with -v where and how long it took.
    private func open(_ connectionString: String) throws -> PostgresConnection {
        let started = ContinuousClock.now
        let connection = try login(connectionString)
        if let protocolTracePath { try connection.traceProtocol(to: protocolTracePath) }
        logger.info("connected to \(connection.endpoint) in \(PostgresConnection.milliseconds(since: started))")
        return connection
    }

    private func login(_ connectionString: String) throws -> PostgresConnection {
        let string = try settings.user.map { try ConnectionString.replacing("user", with: $0, in: connectionString) }
            ?? connectionString
        do {
            return try chainingAfterCommit(PostgresConnection(
                ConnectionConfiguration(connectionString: string, applicationName: commandName,
                                        connectTimeoutSeconds: settings.connectTimeoutSeconds,
                                        sessionSettings: Self.sessionSettings),
                logger: logger))
        } catch let error as ConnectionError where error.kind == .authenticationFailed && error.neededPassword {
            // No password in ~/.pgpass or PGPASSWORD: ask for it, on a terminal only.
            guard promptsForPassword,
                  let password = try PasswordReader.prompt("Password for \(settings.user ?? "the database login"): ") else {
                throw error
            }
            return try chainingAfterCommit(PostgresConnection(
                ConnectionConfiguration(connectionString: try ConnectionString.replacing("password", with: password, in: string),
                                        applicationName: commandName, connectTimeoutSeconds: settings.connectTimeoutSeconds,
                                        sessionSettings: Self.sessionSettings),
                logger: logger))
        }
    }

    /// Set for every gmp session: chaining after commit (below), and a bound on how long a
    /// session may sit idle inside an open transaction. A gmp process stopped mid-command
    /// (suspended, its output pipe full) would otherwise keep the rows it locked, and with
    /// them everyone else's writes on those records; the server ends such a session after
    /// 60 s, rolling its transaction back (docs/concurrency.md). gmp itself never waits for
    /// a person inside a transaction: the signing prompt comes between transactions.
    static let sessionSettings = [AuditTrail.chainAfterCommitSetting,
                                  (name: "idle_in_transaction_session_timeout", value: "60000")]

    /// Audited writes stage their events; after each writing transaction commits, gmp
    /// chains them when due (enough pending, or the oldest waited long enough: lazy
    /// chaining, issue 19), in a short transaction of its own that never waits for another
    /// chainer and whose commit need not wait for the disk (docs/audit-trail.md, "stage,
    /// then chain"). A database not yet migrated to it: the failure is logged at debug level.
    ///
    /// Every writing transaction also stores its commit receipt (V0038), so that a COMMIT
    /// whose answer is lost is named by a token that `gmp db transaction` answers exactly.
    private func chainingAfterCommit(_ connection: PostgresConnection) -> PostgresConnection {
        connection.afterWriteCommit = { db in try AuditTrail(db).chainIfDue() }
        connection.commitReceipts = .gmp
        return committedWork.track(connection)
    }

    /// Before a command reads the trail (a report, a certificate, the code in force):
    /// chains every event committed so far, waiting for a session already chaining, so
    /// that nothing committed before the command is missing from what it reads. A reader
    /// who may not chain, or a database not yet migrated to staging, reads as it is; when
    /// another session held the chain head past lock_timeout, the reader is told that
    /// events may be missing from what follows (writes are chained lazily, issue 19).
    func chainPendingEvents(on connection: PostgresConnection) {
        do {
            let trail = AuditTrail(connection)
            try trail.chainPending()
            // A standby cannot chain: what the primary has not chained yet is not shown.
            if connection.isHotStandby, let pending = try? trail.pendingCount(), pending > 0 {
                output.warning("\(pending) audit event(s) written on the primary are not chained yet and not shown here; any read on the primary chains them")
            }
        } catch let error as PostgresError where error.kind == .lockTimeout {
            output.warning("audit events written but not yet chained may be missing below: another session holds the chain head (SQLSTATE 55P03); run the command again")
        } catch {
            logger.debug("could not chain pending audit events: \(error)")
        }
    }
}

/// A gmp command: resolves its context, runs, and reports any failure as one `error:`
/// line with the documented exit code.
protocol GMPCommand: ParsableCommand {
    var options: GlobalOptions { get }
    /// The command's words, e.g. "db status".
    static var path: String { get }
    func execute(in context: CommandContext) throws
}

extension GMPCommand {
    func run() throws {
        let context: CommandContext
        do {
            context = try CommandContext(options: options, commandName: "gmp " + Self.path)
        } catch {
            let failure = Failure(error, target: nil)
            options.contextFreeOutput.error(failure)
            throw ArgumentParser.ExitCode(failure.exitCode.rawValue)
        }
        do {
            defer { context.sendDeferredStatements() }
            try execute(in: context)
        } catch let exit as ArgumentParser.ExitCode {
            throw exit
        } catch {
            let failure = Failure(error, target: context.settings.target, committed: context.committedWork.transactions)
            context.output.error(failure)
            throw ArgumentParser.ExitCode(failure.exitCode.rawValue)
        }
    }
}

extension GlobalOptions {
    /// Output for when no configuration could be read: colour decided by the terminal
    /// and NO_COLOR alone.
    var contextFreeOutput: Output {
        Output(json: json, quiet: quiet, verbose: verbose, stdoutStyle: Style(enabled: false),
               stderrStyle: Style(enabled: Terminal.colorStderrByDefault()))
    }
}

/// A command that reads no configuration and needs no database (`gmp config init`,
/// `gmp help TOPIC`): it must work when the configuration file is what is wrong.
protocol ContextFreeCommand: GMPCommand {
    func perform(_ output: Output) throws
}

extension ContextFreeCommand {
    func run() throws {
        let output = options.contextFreeOutput
        do {
            try perform(output)
        } catch let exit as ArgumentParser.ExitCode {
            throw exit
        } catch {
            let failure = Failure(error, target: nil)
            output.error(failure)
            throw ArgumentParser.ExitCode(failure.exitCode.rawValue)
        }
    }

    func execute(in context: CommandContext) throws {
        try perform(context.output)
    }
}
