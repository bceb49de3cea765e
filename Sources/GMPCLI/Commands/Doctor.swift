import ArgumentParser
import GMPDatabase
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp doctor`: checks the environment and explains each problem with its fix.
struct Doctor: GMPCommand {
    static let path = "doctor"
    // Named, as every command is: without it the parser derives the name through
    // String(describing:), whose first use costs every gmp process a conformance scan.
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the set-up: configuration, PostgreSQL programs, server, schema, permissions, protections.",
        discussion: """
            Looks only: never starts a server or changes anything. Exit 0 when nothing \
            failed (warnings allowed); otherwise the exit code of the first failed check. \
            Every weakened protection gmp_audit.machinery_problems() finds (a table without \
            its audit trigger, a protective or event trigger disabled, code changed without \
            being recorded) is a failed check of its own, with its fix.

            Examples:
              gmp doctor
              gmp doctor --json
            """)

    @OptionGroup var options: GlobalOptions

    func execute(in context: CommandContext) throws {
        let checks = DoctorChecks(context: context).run()
        let failed = checks.first { $0.status == .failed }
        try context.output.document(DoctorDocument(healthy: failed == nil, checks: checks))
        context.output.data(checks.map { $0.line(style: context.output.stdoutStyle) }.joined(separator: "\n"))
        if let failed {
            throw Failure(exitCode: failed.exitCode ?? .software, problem: "gmp doctor: \(failed.name) check failed: \(failed.detail)",
                          fix: failed.fix ?? "see the checks above")
        }
    }
}

/// One check's outcome.
struct DoctorCheck: Encodable {
    enum Status: String, Encodable { case ok, warning, failed, skipped }

    let name: String
    let status: Status
    let detail: String
    let fix: String?
    /// The exit code a failure of this check maps to; not part of the JSON.
    var exitCode: GMPExitCode? = nil

    enum CodingKeys: String, CodingKey { case name, status, detail, fix }

    func line(style: Style) -> String {
        let mark = switch status {
        case .ok: style.green("ok  ")
        case .warning: style.yellow("warn")
        case .failed: style.red("FAIL")
        case .skipped: style.dim("skip")
        }
        let padded = name + String(repeating: " ", count: max(1, 17 - name.count))
        return "\(mark)  \(padded)\(detail)" + (fix.map { "\n      " + String(repeating: " ", count: 17) + "fix: \($0)" } ?? "")
    }
}

struct DoctorDocument: Encodable {
    let healthy: Bool
    let checks: [DoctorCheck]
}

/// The checks, in the order a set-up depends on them; a failed step skips what needs it.
struct DoctorChecks {
    let context: CommandContext

    func run() -> [DoctorCheck] {
        var checks = [configuration(), productCodes(), client()]
        var serverReady = true
        if case .embedded(let settings) = context.settings.target {
            let (programs, embedded) = embeddedChecks(settings)
            checks += [programs, embedded]
            serverReady = embedded.status != .failed
        } else {
            checks.append(DoctorCheck(name: "server programs", status: .skipped,
                                      detail: "a configured server is used; gmp does not run one", fix: nil))
        }
        guard serverReady else {
            return checks + ["connection", "schema", "permissions", "logins", "chainer", "protections", "audit trigger"].map {
                DoctorCheck(name: $0, status: .skipped, detail: "needs a running server", fix: nil)
            }
        }
        let connection: PostgresConnection
        do {
            // Looks only: the failed logins are recorded by the next other command.
            connection = try context.connect(startingEmbedded: false, recordingFailedLogins: false)
        } catch {
            let failure = Failure(error, target: context.settings.target)
            checks.append(DoctorCheck(name: "connection", status: .failed, detail: failure.problem, fix: failure.fix,
                                      exitCode: failure.exitCode))
            return checks + ["schema", "permissions", "logins", "chainer", "protections", "audit trigger"].map {
                DoctorCheck(name: $0, status: .skipped, detail: "needs a connection", fix: nil)
            }
        }
        checks.append(connectionCheck(connection))
        checks.append(schema(connection))
        checks.append(permissions(connection))
        checks.append(logins(connection))
        checks.append(chainer(connection))
        checks += protections(connection)
        checks.append(auditTrigger(connection))
        return checks
    }

    /// Whether a background worker chains the audit trail (extension/gmp_chainer): a fact,
    /// not a fault, as gmp's writers and readers chain it themselves without one.
    private func chainer(_ connection: PostgresConnection) -> DoctorCheck {
        do {
            if let worker = try BackgroundChainer.running(on: connection) {
                return DoctorCheck(name: "chainer", status: .ok,
                                   detail: "running (pid \(worker.pid)): a background worker chains the audit trail, writes never do",
                                   fix: nil)
            }
            return DoctorCheck(name: "chainer", status: .ok,
                               detail: "none: gmp's writers and readers chain the audit trail themselves (docs/audit-trail.md)",
                               fix: nil)
        } catch {
            let failure = Failure(error, target: context.settings.target)
            return DoctorCheck(name: "chainer", status: .failed, detail: failure.problem, fix: failure.fix,
                               exitCode: failure.exitCode)
        }
    }

    /// Which audit row trigger and v2 hash are in force: the C twins of the extension
    /// gmp_audit_native or the PL/pgSQL (docs/audit-trail.md, "Native trigger"). Either
    /// records the same rows; a warning only when the server has the extension unused.
    private func auditTrigger(_ connection: PostgresConnection) -> DoctorCheck {
        do {
            let state = try NativeAudit.state(on: connection)
            switch state.implementation {
            case nil:
                return DoctorCheck(name: "audit trigger", status: .skipped, detail: "the schema is not migrated yet", fix: nil)
            case "native"?:
                return DoctorCheck(name: "audit trigger", status: .ok,
                                   detail: "native: the C row trigger and hash of gmp_audit_native \(state.installedVersion ?? "?")",
                                   fix: nil)
            case "plpgsql"? where !state.available:
                return DoctorCheck(name: "audit trigger", status: .ok,
                                   detail: "PL/pgSQL (the server has no gmp_audit_native extension; optional, see docs/audit-trail.md)",
                                   fix: nil)
            case let other:
                let detail = other == "mixed" ? "mixed: some audit triggers run the C twin, some the PL/pgSQL"
                    : "PL/pgSQL, although the server has the extension gmp_audit_native"
                    + (state.installedVersion == nil ? " (not created in this database)" : " (created, not bound)")
                return DoctorCheck(name: "audit trigger", status: .warning, detail: detail,
                                   fix: "run gmp db migrate as the database's superuser (without GMP_AUDIT_NATIVE=off)")
            }
        } catch {
            let failure = Failure(error, target: context.settings.target)
            return DoctorCheck(name: "audit trigger", status: .failed, detail: failure.problem, fix: failure.fix,
                               exitCode: failure.exitCode)
        }
    }

    /// Every weakened protection the database knows of (gmp_audit.machinery_problems(),
    /// sql/code/01_audit.sql), one failed check each with its fix; one ok check when
    /// there is none.
    private func protections(_ connection: PostgresConnection) -> [DoctorCheck] {
        do {
            let available: Bool = try connection.query("""
                SELECT to_regprocedure('gmp_audit.machinery_problems()') IS NOT NULL AS available
                """)[0].decode("available")
            guard available else {
                return [DoctorCheck(name: "protections", status: .skipped, detail: "the schema is not migrated yet", fix: nil)]
            }
            let problems: [String] = try connection.query("SELECT p FROM gmp_audit.machinery_problems() AS p")
                .map { try $0.decode("p") }
            if problems.isEmpty {
                return [DoctorCheck(name: "protections", status: .ok,
                                    detail: "audit and protective triggers fire always, event triggers on, code recorded",
                                    fix: nil)]
            }
            return problems.map {
                DoctorCheck(name: "protections", status: .failed, detail: "weakened: \($0)",
                            fix: Self.protectionFix(for: $0), exitCode: .refused)
            }
        } catch {
            let failure = Failure(error, target: context.settings.target)
            return [DoctorCheck(name: "protections", status: .failed, detail: failure.problem, fix: failure.fix,
                                exitCode: failure.exitCode)]
        }
    }

    /// Whether the server lets gmp see failed logins (its jsonlog) and slows guessing
    /// (auth_delay): gmp_audit.login_watch_problems(), sql/code/02_accounts.sql. A
    /// configured server blind to failed logins fails; anything else warns.
    private func logins(_ connection: PostgresConnection) -> DoctorCheck {
        do {
            guard let problems = try FailedLogins.watchProblems(on: connection) else {
                return DoctorCheck(name: "logins", status: .skipped, detail: "the schema is not migrated yet", fix: nil)
            }
            guard !problems.isEmpty else {
                return DoctorCheck(name: "logins", status: .ok,
                                   detail: "failed and successful logins are read from the server's jsonlog, "
                                       + Self.loginWatchPlace(connection) + "; auth_delay slows guessing",
                                   fix: nil)
            }
            var embedded = false
            if case .embedded = context.settings.target { embedded = true }
            // gmp's own server has the settings in its file from its next start on (an
            // older cluster running since before them needs a restart): a warning, so a
            // running set-up is not failed for want of a restart.
            let blocking = !embedded && problems.contains { $0.blocking }
            return DoctorCheck(name: "logins", status: blocking ? .failed : .warning,
                               detail: (problems.map { $0.problem } + ["logins " + Self.loginWatchPlace(connection)])
                                   .joined(separator: "; "),
                               fix: Self.loginWatchFix(embedded: embedded),
                               exitCode: blocking ? .refused : nil)
        } catch {
            let failure = Failure(error, target: context.settings.target)
            return DoctorCheck(name: "logins", status: .failed, detail: failure.problem, fix: failure.fix,
                               exitCode: failure.exitCode)
        }
    }

    /// Who reads the log: the server's background worker (extension/gmp_chainer), or
    /// each gmp command as it connects (docs/signatures.md, "Logins").
    static func loginWatchPlace(_ connection: PostgresConnection) -> String {
        FailedLogins.watchedByServer(connection)
            ? "watched by the server (gmp_chainer, every few hundred ms): commands send no watch"
            : "watched by each gmp command as it connects"
    }

    /// The settings that let gmp see and slow password guessing (docs/signatures.md, "Logins").
    static func loginWatchFix(embedded: Bool) -> String {
        if embedded {
            return "restart the embedded server so that it takes gmp's settings: gmp db stop; gmp db start"
        }
        return "in the server's postgresql.conf: logging_collector = on, log_destination = 'stderr,jsonlog', "
            + "log_connections = on, shared_preload_libraries = 'auth_delay', auth_delay.milliseconds = 1000 "
            + "(package postgresql-contrib); then restart the server"
    }

    /// The fix for one problem as gmp_audit.machinery_problems() words it.
    static func protectionFix(for problem: String) -> String {
        let afterwards = "then find out who weakened it and what changed meanwhile (gmp audit verify, gmp audit report)"
        let disabled = " is disabled or does not fire always"
        if let names = MachineryProblem.words(in: problem, between: "trigger ", and: disabled, count: 3), names[1] == "on" {
            return "as the database owner: ALTER TABLE \(names[2]) ENABLE ALWAYS TRIGGER \(names[0]); \(afterwards)"
        }
        if let name = MachineryProblem.words(in: problem, between: "event trigger ", and: disabled, count: 1)?[0] {
            return "as the database owner: ALTER EVENT TRIGGER \(name) ENABLE ALWAYS; \(afterwards)"
        }
        if let name = MachineryProblem.words(in: problem, between: "event trigger ", and: " is missing", count: 1)?[0] {
            return "as the database owner, create \(name) again as sql/migrations/V0002__audit_trail.sql does "
                + "(CREATE EVENT TRIGGER …; ALTER EVENT TRIGGER \(name) ENABLE ALWAYS); \(afterwards)"
        }
        if let name = MachineryProblem.words(in: problem, between: "table ", and: " is not audited", count: 1)?[0] {
            return "as the database owner: SELECT gmp_audit.audit_table('\(name)', 'its key column'); \(afterwards)"
        }
        if let routine = MachineryProblem.routine(in: problem) {
            return "compare it with gmp db code \(routine); restore its home's definition (sql/code/, gmp db migrate), "
                + "or have the database owner record it with a reason: "
                + "SELECT set_config('gmp.reason', '…', false), gmp_audit.record_unrecorded_code()"
        }
        return "restore it as the database owner, then gmp audit verify"
    }

    private func connectionCheck(_ connection: PostgresConnection) -> DoctorCheck {
        let detail = "PostgreSQL \(connection.parameterStatus("server_version") ?? "?"), database \(connection.databaseName) as \(connection.userName), time zone UTC"
        let transport = Self.transport(host: connection.host, isLocalSocket: connection.isLocalSocket,
                                       usesTLS: connection.usesTLS, sslMode: connection.sslMode)
        return DoctorCheck(name: "connection", status: transport.status, detail: detail + ", " + transport.detail,
                           fix: transport.fix)
    }

    /// A server across a network must be reached over TLS that verifies its certificate:
    /// with `prefer` (libpq's default) a man in the middle can read and alter GMP records.
    static func transport(host: String, isLocalSocket: Bool, usesTLS: Bool, sslMode: String?)
        -> (status: DoctorCheck.Status, detail: String, fix: String?) {
        if isLocalSocket { return (.ok, "Unix socket", nil) }
        let mode = sslMode ?? "prefer"
        if usesTLS && mode == "verify-full" { return (.ok, "TLS verified (\(host))", nil) }
        let how = usesTLS ? "over TLS without verifying the server (sslmode=\(mode))" : "without TLS"
        return (.warning, "to \(host) \(how)", "add sslmode=verify-full (and sslrootcert) to the connection string")
    }

    private func configuration() -> DoctorCheck {
        let file = context.settings.configPath.map { "file \($0)" } ?? "no configuration file (defaults)"
        let target: String
        switch context.settings.target {
        case .embedded(let settings): target = "embedded server in \(settings.root)"
        case .configured(_, let source): target = "configured server from \(source)"
        }
        return DoctorCheck(name: "configuration", status: .ok, detail: "\(file); \(target)", fix: nil)
    }

    /// Whether labels would print a placeholder product description code: a warning
    /// naming each product still without the code ICCBBA assigned.
    private func productCodes() -> DoctorCheck {
        let placeholders = ProductDescriptionCodes.products.filter { product in
            ProductDescriptionCodes.isPlaceholder(context.settings.productCodes[product] ?? ProductDescriptionCodes.placeholders[product] ?? "")
        }
        guard !placeholders.isEmpty else {
            return DoctorCheck(name: "product codes", status: .ok,
                               detail: "every product has its ISBT 128 product description code configured", fix: nil)
        }
        let file = context.settings.configPath ?? "the configuration file (gmp config init)"
        let which = placeholders.count == ProductDescriptionCodes.products.count
            ? "every product" : placeholders.joined(separator: ", ")
        return DoctorCheck(name: "product codes", status: .warning,
                           detail: "labels carry a placeholder ISBT 128 product description code (\(which)) and say "
                               + "\"\(ProductLabel.placeholderWarning)\"",
                           fix: "set product_codes in \(file) to the codes ICCBBA assigned to your products (gmp help printed-documents)")
    }

    private func client() -> DoctorCheck {
        let version = PostgresConnection.libraryVersion
        let libpq = "client library \(version / 10000).\(version % 10000)", openSSL = PostgresConnection.openSSLVersion
        // Linked in, an apt upgrade of libpq5 or libssl3 no longer reaches gmp: say so.
        let detail = PostgresConnection.libraryLinkedStatically
            ? "\(libpq) and \(openSSL), linked into gmp: their security updates (Debian's libpq5, libssl3) need a rebuild of gmp"
            : "\(libpq) (libpq.so.5), \(openSSL) (libcrypto.so.3)"
        return DoctorCheck(name: "libpq", status: .ok, detail: detail, fix: nil)
    }

    private func embeddedChecks(_ settings: EmbeddedSettings) -> (DoctorCheck, DoctorCheck) {
        let server: EmbeddedServer
        do {
            server = try EmbeddedServer(root: settings.root, serverUser: settings.serverUser, binDirectory: settings.binDirectory)
        } catch {
            let failure = Failure(error, target: context.settings.target)
            let failed = DoctorCheck(name: "server programs", status: .failed, detail: failure.problem, fix: failure.fix,
                                     exitCode: failure.exitCode)
            return (failed, DoctorCheck(name: "embedded", status: .failed, detail: "cannot run without them",
                                        fix: failure.fix, exitCode: failure.exitCode))
        }
        let installation = server.cluster.installation
        let programs = DoctorCheck(name: "server programs", status: .ok,
                                   detail: "PostgreSQL \(installation.majorVersion) in \(installation.binDirectory)", fix: nil)
        let embedded: DoctorCheck
        switch server.cluster.state() {
        case .running(let pid):
            embedded = DoctorCheck(name: "embedded", status: .ok,
                                   detail: "running (pid \(pid)), socket \(server.layout.socketDirectory)"
                                       + Self.memoryDetail(SharedMemoryPages.of(server.layout)),
                                   fix: nil)
        case .stopped:
            embedded = DoctorCheck(name: "embedded", status: .failed, detail: "stopped (\(server.layout.root))",
                                   fix: "gmp db start", exitCode: .unavailable)
        case .uninitialized:
            embedded = DoctorCheck(name: "embedded", status: .failed, detail: "not created yet (\(server.layout.root))",
                                   fix: "gmp db start creates and starts it", exitCode: .unavailable)
        }
        return (programs, embedded)
    }

    /// What the embedded server's shared memory lives on: a fact, not a fault (huge pages
    /// are a machine setting that makes every fresh backend cheaper; docs/server-settings.md).
    static func memoryDetail(_ pages: SharedMemoryPages?) -> String {
        switch pages {
        case .huge(let kilobytes)?: ", shared memory on huge pages (\(kilobytes / 1024) MiB in use)"
        case .ordinary?: ", shared memory on ordinary pages (no huge pages reserved: sysctl vm.nr_hugepages, docs/server-settings.md)"
        case nil: ""
        }
    }

    private func schema(_ connection: PostgresConnection) -> DoctorCheck {
        do {
            let status = try Migrator().status(on: connection)
            do {
                try status.requireConsistent()
            } catch {
                return DoctorCheck(name: "schema", status: .failed, detail: error.problem, fix: error.fix, exitCode: .refused)
            }
            if !status.pending.isEmpty {
                return DoctorCheck(name: "schema", status: .warning,
                                   detail: "version \(status.currentVersion) of \(status.latestKnownVersion): \(status.pending.count) migration(s) pending",
                                   fix: "gmp db migrate")
            }
            return DoctorCheck(name: "schema", status: .ok, detail: "version \(status.currentVersion), up to date", fix: nil)
        } catch {
            let failure = Failure(error, target: context.settings.target)
            return DoctorCheck(name: "schema", status: .failed, detail: failure.problem, fix: failure.fix, exitCode: failure.exitCode)
        }
    }

    private func permissions(_ connection: PostgresConnection) -> DoctorCheck {
        do {
            let row = try connection.query("""
                SELECT rolsuper AS superuser,
                       has_database_privilege(current_database(), 'CREATE') AS can_create,
                       to_regclass('gmp_meta.schema_migrations') IS NULL
                           OR has_table_privilege('gmp_meta.schema_migrations', 'SELECT') AS can_read_ledger
                FROM pg_roles WHERE rolname = current_user
                """)[0]
            let superuser: Bool = try row.decode("superuser")
            let canCreate: Bool = try row.decode("can_create")
            let canReadLedger: Bool = try row.decode("can_read_ledger")
            guard canReadLedger else {
                return DoctorCheck(name: "permissions", status: .failed,
                                   detail: "\(connection.userName) cannot read the schema ledger",
                                   fix: "connect as a gmp account, or ask the database owner to run gmp db migrate",
                                   exitCode: .permissionDenied)
            }
            let role = superuser ? "superuser (the database owner's account: use personal accounts for GMP work)"
                                 : "not a superuser"
            return DoctorCheck(name: "permissions", status: .ok,
                               detail: "\(connection.userName): \(role); \(canCreate ? "may" : "may not") migrate the schema",
                               fix: nil)
        } catch {
            let failure = Failure(error, target: context.settings.target)
            return DoctorCheck(name: "permissions", status: .failed, detail: failure.problem, fix: failure.fix,
                               exitCode: failure.exitCode)
        }
    }
}

/// The names in a problem as `gmp_audit.machinery_problems()` words it (sql/code/01_audit.sql),
/// matched by hand rather than by regex literals, so that gmp's own code needs no
/// `_StringProcessing` (issue 18; Package.swift says why, and why its records stay while
/// FoundationEssentials links it).
enum MachineryProblem {
    /// The `count` words between `prefix` and `suffix` when that is all of `text`: one space
    /// between words, none empty or holding white space (the regex `\S+( \S+)*`).
    static func words(in text: String, between prefix: String, and suffix: String, count: Int) -> [Substring]? {
        guard text.hasPrefix(prefix), text.hasSuffix(suffix) else { return nil }
        let middle = text.dropFirst(prefix.count)
        guard middle.count >= suffix.count else { return nil }  // the prefix and suffix overlap
        let words = middle.dropLast(suffix.count).split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == count, words.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) else { return nil }
        return words
    }

    /// NAME in `routine NAME has no definition in the code record…` or `routine NAME differs
    /// from its definition in the code record…`, on one line: the shortest non-empty NAME
    /// before either phrase (the regex `routine (.+?) (has no|differs from its) definition in
    /// the code record.*`).
    static func routine(in text: String) -> Substring? {
        guard text.hasPrefix("routine "), !text.contains(where: \.isNewline) else { return nil }
        let rest = text.dropFirst("routine ".count)
        guard !rest.isEmpty else { return nil }
        var end = rest.index(after: rest.startIndex)
        while end < rest.endIndex {
            let tail = rest[end...]
            if tail.hasPrefix(" has no definition in the code record") || tail.hasPrefix(" differs from its definition in the code record") {
                return rest[..<end]
            }
            rest.formIndex(after: &end)
        }
        return nil
    }
}
