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
    /// one of this session's own row, which every role sees in full.
    public static let reading: SQLQuery = """
        SELECT a.pid FROM pg_catalog.pg_stat_get_activity(NULL) a
        WHERE a.datid = (SELECT s.datid FROM pg_catalog.pg_stat_get_activity(pg_catalog.pg_backend_pid()) s)
          AND a.application_name = 'gmp_chainer' AND a.usesysid = 10
          AND coalesce(a.backend_type, 'gmp_chainer') = 'gmp_chainer'
        ORDER BY a.pid LIMIT 1
        """

    /// The chainer, from the answer to ``reading``.
    public static func running(from answer: Result<QueryResult, any Error>) throws -> BackgroundChainer? {
        try answer.get().first.map { BackgroundChainer(pid: try $0.decode("pid")) }
    }
}
