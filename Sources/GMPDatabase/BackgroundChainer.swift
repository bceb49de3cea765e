import PostgresClient

/// The audit trail's background chainer (extension/gmp_chainer, docs/audit-trail.md,
/// "Background chaining"; issue 19), as a client sees it: whether one is chaining the
/// connected database now. Without one, gmp's writers and readers chain themselves, so
/// its absence is a fact to report, never a fault.
public struct BackgroundChainer: Sendable, Equatable {
    /// The worker's process id on the server.
    public let pid: Int32

    /// The chainer connected to this database, if one is running. pg_stat_activity shows
    /// a role that is not a superuser (nor pg_read_all_stats) no backend_type for another
    /// role's processes, but it does show their application_name and role: the worker sets
    /// application_name gmp_chainer and runs as the bootstrap superuser (oid 10), which no
    /// unprivileged client can connect as.
    public static func running(on connection: PostgresConnection) throws -> BackgroundChainer? {
        try running(from: Result { try connection.query(reading) })
    }

    /// The statement that asks, for a caller that sends it with others in one round trip
    /// (`gmp db status`).
    public static let reading: SQLQuery = """
        SELECT pid FROM pg_catalog.pg_stat_activity
        WHERE datname = current_database() AND application_name = 'gmp_chainer' AND usesysid = 10
          AND coalesce(backend_type, 'gmp_chainer') = 'gmp_chainer'
        ORDER BY pid LIMIT 1
        """

    /// The chainer, from the answer to ``reading``.
    public static func running(from answer: Result<QueryResult, any Error>) throws -> BackgroundChainer? {
        try answer.get().first.map { BackgroundChainer(pid: try $0.decode("pid")) }
    }
}
