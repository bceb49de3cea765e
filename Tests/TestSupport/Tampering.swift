import PostgresClient

/// What a superuser with psql can do to the trail: switch the DDL recorder and the
/// append-only trigger off, run `statements`, and switch them on again. The database
/// cannot stop its owner; verification (with checkpoints) must notice.
public enum Tampering {
    public static func asSuperuser(_ database: String, _ statements: String) throws {
        let admin = try TestServer.connect(database)
        try admin.execute(script: SQLScript(shippedWithBinary: """
            BEGIN;
            ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
            ALTER TABLE gmp_audit.event DISABLE TRIGGER append_only;
            \(statements);
            ALTER TABLE gmp_audit.event ENABLE ALWAYS TRIGGER append_only;
            ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
            COMMIT;
            """))
    }

    /// Rewrites history as an owner would to hide it: edits event `seq`'s reason, then
    /// recomputes every later hash and the chain head, so the chain is self-consistent.
    public static func rewriteHistory(_ database: String, at seq: Int64 = 5) throws {
        try asSuperuser(database, """
            UPDATE gmp_audit.event SET reason = 'history rewritten' WHERE seq = \(seq);
            DO $$
            DECLARE r record; previous bytea;
            BEGIN
                SELECT hash INTO previous FROM gmp_audit.event WHERE seq = \(seq - 1);
                FOR r IN SELECT * FROM gmp_audit.event WHERE seq >= \(seq) ORDER BY seq LOOP
                    -- Each event in its own format: v2 when it has a write order (issue 19).
                    previous := CASE WHEN r.write_order IS NULL
                        THEN gmp_audit.event_hash(r.seq, r.occurred_at, r.transaction_id, r.actor, r.action,
                            r.table_name, r.record_key, r.old_values, r.new_values, r.reason, previous)
                        ELSE gmp_audit.event_hash_v2(r.seq, r.write_order, r.occurred_at, r.transaction_id, r.actor,
                            r.action, r.table_name, r.record_key, r.old_values, r.new_values, r.reason, previous) END;
                    UPDATE gmp_audit.event SET hash = previous WHERE seq = r.seq;
                END LOOP;
                UPDATE gmp_audit.chain_head SET hash = previous;
            END $$
            """)
    }

    /// What a superuser can do to the records themselves: switch off the DDL recorder and
    /// every trigger of `tables` (the audit trigger and the guards), run `statements`, and
    /// switch them all on again, firing always as before. Nothing reaches the trail, and
    /// afterwards the machinery reads whole again: only a reconciliation of the tables
    /// with the trail can tell.
    public static func silently(_ database: String, tables: [String], _ statements: String) throws {
        let list = tables.map { "'\($0)'::regclass" }.joined(separator: ", ")
        let admin = try TestServer.connect(database)
        try admin.execute(script: SQLScript(shippedWithBinary: """
            BEGIN;
            ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
            \(tables.map { "ALTER TABLE \($0) DISABLE TRIGGER USER;" }.joined(separator: "\n"))
            \(statements);
            DO $$
            DECLARE t record;
            BEGIN
                FOR t IN SELECT tgname, tgrelid::regclass AS rel FROM pg_trigger
                         WHERE tgrelid = ANY (ARRAY[\(list)]) AND NOT tgisinternal LOOP
                    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', t.rel, t.tgname);
                END LOOP;
            END $$;
            ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
            COMMIT;
            """))
    }

    /// Replaces `gmp_audit.event` by a view of the same rows that raises in any statement
    /// of the reconciliation's merges (they name the setting `gmp.reconcile_tables`) run
    /// with `jit` on, the database's default whatever the server's (issue 18: the merges
    /// must run without JIT). The rows stay true, so nothing else changes.
    public static func refuseJITInMerges(_ database: String) throws {
        try TestServer.connect(database).execute(script: SQLScript(shippedWithBinary: """
            DO $$ BEGIN EXECUTE pg_catalog.format('ALTER DATABASE %I SET jit = on', pg_catalog.current_database()); END $$;
            BEGIN;
            ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
            CREATE FUNCTION gmp_audit.refuse_jit(v jsonb) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
            BEGIN
                IF pg_catalog.current_setting('jit') = 'on' AND pg_catalog.current_query() LIKE '%gmp.reconcile_tables%' THEN
                    RAISE EXCEPTION 'a merge statement ran with jit on';
                END IF;
                RETURN v;
            END $$;
            ALTER TABLE gmp_audit.event RENAME TO event_true;
            CREATE VIEW gmp_audit.event AS
            SELECT seq, write_order, occurred_at, transaction_id, actor, action, table_name, record_key, old_values,
                   gmp_audit.refuse_jit(new_values) AS new_values, reason, hash, prev_seq
            FROM gmp_audit.event_true;
            GRANT SELECT ON gmp_audit.event TO PUBLIC;
            ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
            COMMIT;
            """))
    }
}
