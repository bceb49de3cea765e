import PostgresClient

/// The audit trail's background chainer (extension/gmp_chainer, docs/audit-trail.md,
/// "Background chaining"; issue 19), as a client sees it: whether one is chaining the
/// connected database now. Without one, gmp's writers and readers chain themselves, so
/// its absence is a fact to report, never a fault.
public struct BackgroundChainer: Sendable, Equatable {
    /// The worker's process id on the server.
    public let pid: Int32

    /// The chainer connected to this database, if one is running. The server's activity
    /// shows a role that is not a superuser (nor pg_read_all_stats) no backend_type for
    /// another role's processes, but it does show their database, application_name and
    /// role: the worker sets application_name gmp_chainer and runs as the bootstrap
    /// superuser (oid 10), which no unprivileged client can connect as.
    public static func running(on connection: PostgresConnection) throws -> BackgroundChainer? {
        try running(from: Result { try connection.query(reading) })
    }

    /// The statement that asks, for a caller that sends it with others in one round trip
    /// (`gmp db status`). It reads `pg_stat_get_activity`, the function the view
    /// `pg_stat_activity` is made of, with the same rows and the same columns for every
    /// role: the view only adds the database's and the role's names by joining
    /// `pg_database` and `pg_authid`, whose first reads (the view's rule, two catalogs)
    /// cost a fresh backend ~0.7 ms of CPU, a fifth of what `db status` asks of it (issue
    /// 18, docs/benchmarks.md "Fewer catalogs for a cold command"). This database is the
    /// one of this session's own row, which every role sees in full. Every comparison is
    /// of its operator's exact types (`10::oid`: an oid against an integer made the parser
    /// gather every "=" operator of the catalog to choose one), and the rows are not
    /// sorted (``running(from:)`` takes the lowest pid): 2.8 → 1.0 million instructions of
    /// a fresh backend (issue 18, docs/benchmarks.md "The chainer from the login's report").
    ///
    /// `gmp db status` asks it only when the login did not already say that the chainer
    /// runs: the worker reports watching this database's logins
    /// (`gmp_chainer.login_watch_active` "on", which no client can set) only from the
    /// shared slot it fills once connected to this database and clears on exit (a crash
    /// resets shared memory), so "on" means it runs now; "off" says nothing (no worker,
    /// or its watch off, failing or late). That spares a fresh backend the read of every
    /// backend's status (~1.5 M instructions of the ~7.8 M `db status` asked of it beyond
    /// a `select 1`; issue 18, docs/benchmarks.md "The chainer from the login's report").
    public static let reading: SQLQuery = """
        SELECT a.pid FROM pg_catalog.pg_stat_get_activity(NULL) a
        WHERE a.datid = (SELECT s.datid FROM pg_catalog.pg_stat_get_activity(pg_catalog.pg_backend_pid()) s)
          AND a.application_name = 'gmp_chainer' AND a.usesysid = 10::oid
          AND coalesce(a.backend_type, 'gmp_chainer') = 'gmp_chainer'
        """

    /// The chainer, from the answer to ``reading``: the lowest pid, if there are several
    /// (one worker per database; a second only for a moment, as one restarts).
    public static func running(from answer: Result<QueryResult, any Error>) throws -> BackgroundChainer? {
        try answer.get().map { try $0.decode("pid", as: Int32.self) }.min().map { BackgroundChainer(pid: $0) }
    }
}
