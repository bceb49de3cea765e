import PostgresClient
import Testing
import TestSupport

/// Issue 19 / 18: the optional C twins of the audit row trigger and the v2 hash (extension
/// gmp_audit_native, docs/audit-trail.md "Native trigger") stage the same rows and give the
/// same hashes as the PL/pgSQL, refuse what it refuses, and leave a non-gmp session's events
/// chained at its commit. scripts/test installs the extension on its server, so these
/// require it: a test server without it fails them rather than skipping.
@Suite("Native audit trigger: the C twins stage the same rows and hashes as the PL/pgSQL")
struct NativeAuditTests {
    /// A table of every kind of value whose jsonb depends on a session setting, under audit,
    /// keyed by a timestamptz (its key is taken from the row's jsonb, as ->> prints it).
    static let probeTable = """
        CREATE TABLE gmp.native_probe (
            id integer PRIMARY KEY, at timestamptz NOT NULL, day date, span interval, ratio double precision,
            amount numeric CHECK (amount NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric)),
            blob bytea, flag boolean, tags text[], doc jsonb, note text, ident uuid);
        SELECT gmp_audit.audit_table('gmp.native_probe', 'at');
        """

    /// The extension is on the server and gmp db migrate bound it.
    static func nativeDatabase(_ database: String) throws -> PostgresConnection {
        let admin = try TestServer.connect(database)
        let implementation: String = try admin.query("SELECT gmp_audit.audit_implementation() AS i")[0].decode("i")
        #expect(implementation == "native", "scripts/test installs gmp_audit_native and gmp db migrate binds it")
        try admin.execute("SELECT set_config('gmp.reason', 'native audit test set-up', false)")
        try admin.execute(script: SQLScript(shippedWithBinary: Self.probeTable))
        try admin.execute("SELECT set_config('gmp.reason', '', false)")
        return admin
    }

    static func bind(_ admin: PostgresConnection, native: Bool) throws {
        try admin.execute("SELECT gmp_audit.bind_audit_implementation(\(native))")
        let implementation: String = try admin.query("SELECT gmp_audit.audit_implementation() AS i")[0].decode("i")
        #expect(implementation == (native ? "native" : "plpgsql"))
    }

    /// The same writes in one transaction, under session settings unlike the pinned ones,
    /// then what they staged (the write orders relative to the first), rolled back.
    /// With `pinnedOnly`, only the time zone differs (or not) and the other settings are those pinned.
    static func stagedRows(_ admin: PostgresConnection, chainMode: String?, timeZone: String = "America/New_York",
                           pinnedOnly: Bool = false) throws -> [String] {
        try admin.execute("BEGIN")
        defer { _ = try? admin.execute("ROLLBACK") }
        try admin.execute("""
            SELECT set_config('TimeZone', \(timeZone), true),
                   set_config('IntervalStyle', \(pinnedOnly ? "postgres" : "iso_8601"), true),
                   set_config('bytea_output', \(pinnedOnly ? "hex" : "escape"), true),
                   set_config('extra_float_digits', \(pinnedOnly ? "1" : "0"), true),
                   set_config('DateStyle', 'German, DMY', true), set_config('gmp.audit_chain', \(chainMode ?? ""), true)
            """)
        try admin.execute("""
            INSERT INTO gmp.native_probe VALUES
                (1, '2026-12-05 13:14:15.123456+01', '2026-12-05', '1 day 02:03:04.5', 0.1, 12.50, '\\x00ff10', true,
                 '{a,"b c",NULL}', '{"z": 1, "a": [true, null, "é"]}', 'Grüße, "quoted" \\ back', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
                (2, '1999-01-01 00:00:00+00', NULL, NULL, 1e-300, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
            """)
        try admin.execute("SELECT set_config('gmp.reason', '  corrected  ', true)")
        try admin.execute("UPDATE gmp.native_probe SET ratio = 2.0 / 3, note = NULL, at = at + interval '1 hour' WHERE id = 1")
        try admin.execute("UPDATE gmp.native_probe SET id = id WHERE id = 2")
        try admin.execute("DELETE FROM gmp.native_probe WHERE id = 2")
        let rows: [String] = try admin.query("""
            SELECT concat_ws(' | ', p.write_order - min(p.write_order) OVER (), p.actor, p.action, p.table_name,
                             coalesce(p.record_key, '<null>'), coalesce(p.old_values::text, '<null>'),
                             coalesce(p.new_values::text, '<null>'), coalesce(p.reason, '<null>'),
                             p.transaction_id = txid_current(), p.actor = session_user,
                             p.occurred_at BETWEEN transaction_timestamp() AND clock_timestamp()) AS line
            FROM gmp_audit.pending_event p
            WHERE p.transaction_id = txid_current() AND p.table_name = 'gmp.native_probe'
            ORDER BY p.write_order
            """).map { try $0.decode("line") }
        return rows
    }

    @Test("a gmp session (after_commit, the direct insert) and a psql session (SPI) stage exactly what the PL/pgSQL stages")
    func sameStagedRows() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try Self.nativeDatabase(database)
            for mode in ["after_commit", nil, "lazy"] as [String?] {
                let native = try Self.stagedRows(admin, chainMode: mode)
                try Self.bind(admin, native: false)
                let plpgsql = try Self.stagedRows(admin, chainMode: mode)
                try Self.bind(admin, native: true)
                #expect(native.count == 5)
                #expect(native == plpgsql, "mode \(mode ?? "unset")")
            }
            // The pinned settings hold in C too: UTC, postgres intervals, hex bytea, the key from the jsonb.
            let first = try Self.stagedRows(admin, chainMode: "after_commit")[0]
            #expect(first.contains("\"at\": \"2026-12-05T12:14:15.123456+00:00\""), "\(first)")
            #expect(first.contains("\"blob\": \"\\\\x00ff10\""), "\(first)")
            #expect(first.contains("\"span\": \"1 day 02:03:04.5\""), "\(first)")
            #expect(first.contains("| 2026-12-05T12:14:15.123456+00:00 |"), "\(first)")
            #expect(try Self.stagedRows(admin, chainMode: nil)[2].contains("| corrected |"))
        }
    }

    @Test("1.1 and later: the C trigger declares no settings and pins those that differ itself: the same rows as the PL/pgSQL in every time zone")
    func settingsPinnedInC() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try Self.nativeDatabase(database)
            let row = try admin.query("""
                SELECT (SELECT extversion FROM pg_extension WHERE extname = 'gmp_audit_native') AS version,
                       (SELECT proconfig IS NULL FROM pg_proc WHERE oid = 'gmp_audit.record_change_native()'::regprocedure) AS bare
                """)[0]
            #expect(try row.decode("version", as: String.self) == "1.3")
            #expect(try row.decode("bare", as: Bool.self), "1.1 declares no SET clause on the trigger")
            // UTC and Etc/UTC pin nothing (offset 0 at every instant); London (0 in winter
            // only) and Kolkata (+05:30) are pinned to UTC; the other settings pinned or not.
            for timeZone in ["UTC", "Etc/UTC", "Europe/London", "Asia/Kolkata"] {
                for pinnedOnly in [true, false] {
                    for mode in ["after_commit", nil] as [String?] {
                        let native = try Self.stagedRows(admin, chainMode: mode, timeZone: timeZone, pinnedOnly: pinnedOnly)
                        try Self.bind(admin, native: false)
                        let plpgsql = try Self.stagedRows(admin, chainMode: mode, timeZone: timeZone, pinnedOnly: pinnedOnly)
                        try Self.bind(admin, native: true)
                        #expect(native.count == 5)
                        #expect(native == plpgsql, "\(timeZone), pinned only \(pinnedOnly), mode \(mode ?? "unset")")
                        #expect(native.first?.contains("\"at\": \"2026-12-05T12:14:15.123456+00:00\"") == true)
                    }
                }
            }
            // The session's own settings are back after each row.
            try admin.execute("BEGIN")
            defer { _ = try? admin.execute("ROLLBACK") }
            try admin.execute("SELECT set_config('TimeZone', 'Asia/Kolkata', true), set_config('bytea_output', 'escape', true)")
            try admin.execute("INSERT INTO gmp.native_probe (id, at) VALUES (9, now())")
            let after = try admin.query("SELECT current_setting('TimeZone') AS tz, current_setting('bytea_output') AS b")[0]
            #expect(try after.decode("tz", as: String.self) == "Asia/Kolkata")
            #expect(try after.decode("b", as: String.self) == "escape")
        }
    }

    @Test("an UPDATE or DELETE without a reason is refused by the C trigger with GM008, as by the PL/pgSQL")
    func reasonRefusal() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try Self.nativeDatabase(database)
            try admin.execute("""
                INSERT INTO gmp.native_probe (id, at) VALUES (1, now())
                """)
            func refusal(_ statement: SQLQuery, mode: String) throws -> PostgresError? {
                do {
                    try admin.transaction(.readCommitted, retry: .never) { db in
                        try db.execute("SELECT set_config('gmp.audit_chain', \(mode), true), set_config('gmp.reason', '  ', true)")
                        try db.execute(statement)
                    }
                    return nil
                } catch let error as PostgresError {
                    return error
                }
            }
            for mode in ["after_commit", ""] {
                for statement: SQLQuery in ["UPDATE gmp.native_probe SET note = 'x'", "DELETE FROM gmp.native_probe"] {
                    let native = try refusal(statement, mode: mode)
                    try Self.bind(admin, native: false)
                    let plpgsql = try refusal(statement, mode: mode)
                    try Self.bind(admin, native: true)
                    #expect(native?.sqlState == "GM008")
                    #expect(native?.message == plpgsql?.message)
                    #expect(native?.hint == plpgsql?.hint)
                    #expect(native?.message.hasSuffix("of gmp.native_probe needs a reason") == true, "\(String(describing: native))")
                }
            }
            let left: Int64 = try admin.query("SELECT count(*) AS n FROM gmp.native_probe")[0].decode("n")
            #expect(left == 1)
        }
    }

    @Test("a psql session's events are chained at its commit; a gmp session's stay pending for gmp's chaining")
    func chainingAtCommit() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try Self.nativeDatabase(database)
            try TestServer.connect(database).execute("SELECT gmp_audit.chain_pending()")
            let psql = try TestServer.connect(database)
            try psql.execute("INSERT INTO gmp.native_probe (id, at) VALUES (1, now())")
            let gmp = try TestServer.connect(database)
            try gmp.execute("SET gmp.audit_chain = 'after_commit'")
            try gmp.execute("INSERT INTO gmp.native_probe (id, at) VALUES (2, now())")
            let row = try admin.query("""
                SELECT (SELECT count(*) FROM gmp_audit.event WHERE table_name = 'gmp.native_probe' AND record_key IS NOT NULL
                            AND new_values ->> 'id' = '1') AS chained_psql,
                       (SELECT count(*) FROM gmp_audit.pending_event WHERE table_name = 'gmp.native_probe') AS pending
                """)[0]
            #expect(try row.decode("chained_psql", as: Int64.self) == 1)
            #expect(try row.decode("pending", as: Int64.self) == 1)
        }
    }

    /// What one chaining of the pending events writes, rolled back: every column of every new
    /// event (as row_to_json prints it), the head, and how many events stay pending.
    static func chainedRows(_ admin: PostgresConnection, through chaining: SQLQuery) throws -> [String] {
        try admin.execute("BEGIN")
        defer { _ = try? admin.execute("ROLLBACK") }
        let before: Int64 = try admin.query("SELECT seq FROM gmp_audit.chain_head")[0].decode("seq")
        let chained: Int32 = try admin.query(chaining)[0].decode("n")
        var rows: [String] = try admin.query("""
            SELECT row_to_json(e)::text AS r FROM gmp_audit.event e WHERE e.seq > \(before) ORDER BY e.seq
            """).map { try $0.decode("r") }
        rows.append(try admin.query("SELECT seq::text || ' ' || encode(hash, 'hex') AS h FROM gmp_audit.chain_head")[0].decode("h"))
        rows.append(try admin.query("SELECT count(*)::text AS n FROM gmp_audit.pending_event")[0].decode("n"))
        rows.append("chained \(chained)")
        return rows
    }

    /// The native database with nothing pending, and a gmp session (after_commit) whose events stay pending.
    static func pendingWriter(_ database: String) throws -> (admin: PostgresConnection, writer: PostgresConnection) {
        let admin = try Self.nativeDatabase(database)
        try admin.execute("SELECT gmp_audit.chain_pending()")
        let writer = try TestServer.connect(database)
        try writer.execute("SET gmp.audit_chain = 'after_commit'")
        return (admin, writer)
    }

    /// Issue 18: the batch's chaining in C (gmp_audit_native 1.2), bound with the other twins.
    @Test("the C chaining of a batch writes every column of every event, prev_seq and the head as the PL/pgSQL does, and is bound with the twins")
    func sameChainedRows() throws {
        try TestServer.withMigratedDatabase { database in
            // Events of every kind, left pending (a gmp session's): inserts, updates and a delete
            // of records chained before and of records in the batch, keys NULL, jsonb, reasons.
            let (admin, writer) = try Self.pendingWriter(database)
            try writer.execute("INSERT INTO gmp.native_probe (id, at, note) VALUES (1, '2026-12-05 10:00+00', 'chained before')")
            try writer.execute("SELECT gmp_audit.chain_pending()")
            try writer.execute("SELECT set_config('gmp.reason', 'Grüße: the batch test', false)")
            try writer.execute("UPDATE gmp.native_probe SET note = 'changed in the batch' WHERE id = 1")
            try writer.execute("""
                INSERT INTO gmp.native_probe VALUES
                    (2, '2026-12-05 11:00+00', '2026-12-05', '1 day', 0.1, 12.50, '\\x00ff', true, '{a,NULL}',
                     '{"z": 1, "a": [true, null, "é"]}', 'two', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
                    (3, '2026-12-05 12:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
                """)
            try writer.execute("UPDATE gmp.native_probe SET ratio = 2.0 / 3 WHERE id = 2")
            try writer.execute("UPDATE gmp.native_probe SET ratio = 1 WHERE id = 2")
            try writer.execute("DELETE FROM gmp.native_probe WHERE id = 1")
            try writer.execute("SELECT gmp_audit.append('UPDATE', 'gmp.native_probe', NULL, '{\"a\": 1}', '{\"a\": 2}', 'no key')")
            try writer.execute("SELECT gmp_audit.append('UPDATE', 'gmp.native_probe', NULL, '{\"a\": 2}', NULL, NULL)")

            let plpgsql = try Self.chainedRows(admin, through: "SELECT gmp_audit.chain_batch_plpgsql(NULL, true) AS n")
            let native = try Self.chainedRows(admin, through: "SELECT gmp_audit.chain_batch_native(NULL, true) AS n")
            // 1.3: the staged rows deleted by the C itself, not by a DELETE and its guard.
            let direct = try Self.chainedRows(admin, through: "SELECT gmp_audit.chain_batch_native_direct(NULL, true) AS n")
            #expect(plpgsql.count == 11, "8 events, the head, the pending count, the count chained: \(plpgsql)")
            #expect(plpgsql.suffix(2) == ["0", "chained 8"])
            #expect(native == plpgsql)
            #expect(direct == plpgsql)
            #expect(plpgsql.filter { $0.contains("\"prev_seq\":null") }.count == 3, "the inserts and the first NULL key")

            // Someone holds the head: without `wait` nothing is chained and nothing waits.
            let holder = try TestServer.connect(database)
            try holder.execute("BEGIN")
            try holder.execute("SELECT FROM gmp_audit.chain_head FOR UPDATE")
            let skipped: Int32 = try admin.query("SELECT gmp_audit.chain_batch_native(NULL, false) AS n")[0].decode("n")
            #expect(skipped == 0)
            let skippedDirect: Int32 = try admin.query("SELECT gmp_audit.chain_batch_native_direct(NULL, false) AS n")[0].decode("n")
            #expect(skippedDirect == 0)
            try holder.execute("ROLLBACK")
            // Then through chain_pending (gmp_definer, the C bound): all chained, as the PL/pgSQL chained them.
            let chained: Int32 = try admin.query("SELECT gmp_audit.chain_pending() AS n")[0].decode("n")
            #expect(chained == 8)
            let after = try admin.query("SELECT seq::text || ' ' || encode(hash, 'hex') AS h FROM gmp_audit.chain_head")[0]
            #expect(try after.decode("h", as: String.self) == plpgsql[8])

            // Bound with the twins: gmp_definer (every chaining's role) may run it, or may not.
            func granted() throws -> [Bool] {
                try admin.query("""
                    SELECT has_function_privilege('gmp_definer', f, 'EXECUTE') AS g
                    FROM unnest(ARRAY['gmp_audit.chain_batch_native(integer,boolean)',
                                      'gmp_audit.chain_batch_native_direct(integer,boolean)']) AS f
                    """).map { try $0.decode("g") }
            }
            #expect(try granted() == [true, true])
            try Self.bind(admin, native: false)
            #expect(try granted() == [false, false])
            try Self.bind(admin, native: true)
            #expect(try granted() == [true, true])
        }
    }

    /// Issue 18: 1.3 deletes the chained rows from the staging table itself, skipping the
    /// DELETE statement and its guard_delete, only while that guard is the table's one DELETE
    /// trigger; any other (here one an administrator added) still sees every row deleted.
    @Test("the C chaining's direct delete leaves the staging table empty, and falls back to the DELETE when the table has another DELETE trigger")
    func directDeleteFallsBack() throws {
        try TestServer.withMigratedDatabase { database in
            let (admin, writer) = try Self.pendingWriter(database)
            func stage(_ ids: ClosedRange<Int>) throws {
                for id in ids {
                    try writer.execute("INSERT INTO gmp.native_probe (id, at) VALUES (\(id), now())")
                }
            }
            func pending() throws -> Int64 {
                try admin.query("SELECT count(*) AS n FROM gmp_audit.pending_event")[0].decode("n")
            }
            try stage(1...3)
            let chained: Int32 = try admin.query("SELECT gmp_audit.chain_batch_native_direct(NULL, true) AS n")[0].decode("n")
            #expect(chained == 3)
            #expect(try pending() == 0)

            try admin.execute(script: SQLScript(shippedWithBinary: """
                BEGIN;
                ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
                CREATE TABLE public.deleted_seen (n bigint);
                CREATE FUNCTION public.count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO public.deleted_seen SELECT count(*) FROM gone; RETURN NULL; END $$;
                CREATE TRIGGER seen AFTER DELETE ON gmp_audit.pending_event
                    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION public.count_deleted();
                ALTER TABLE gmp_audit.pending_event ENABLE ALWAYS TRIGGER seen;
                ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
                COMMIT;
                """))
            try stage(4...5)
            let again: Int32 = try admin.query("SELECT gmp_audit.chain_batch_native_direct(NULL, true) AS n")[0].decode("n")
            #expect(again == 2)
            #expect(try pending() == 0)
            let seen: [Int64] = try admin.query("SELECT n FROM public.deleted_seen").map { try $0.decode("n") }
            #expect(seen == [2], "the other trigger fired once, for both rows")
            let verified: String = try admin.query("""
                SELECT count(*) FILTER (WHERE e.hash IS NULL)::text || ' ' || count(*)::text AS v
                FROM gmp_audit.event e WHERE e.table_name = 'gmp.native_probe' AND e.action = 'INSERT'
                """)[0].decode("v")
            #expect(verified == "0 5")
        }
    }

    /// Issue 18: plain sessions leave their events to a background chainer connected to the
    /// database (BackgroundChainerTests). A client of a gmp role naming itself so is not one:
    /// the worker is a process of the bootstrap superuser, which no gmp role can log in as.
    @Test("a gmp role's session calling itself gmp_chainer is not taken for the background chainer: psql's events still chain at its commit, with either trigger")
    func impostorChainer() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try Self.nativeDatabase(database)
            let account = try TestAccount.create(in: database, roles: ["operator"])
            // Connected (and idle) for the whole test, under the worker's name.
            let impostor = try TestServer.connect(try account.connectionString() + " application_name=gmp_chainer")
            try impostor.execute("SELECT 1")
            for (id, native) in [(1, true), (2, false)] {
                try Self.bind(admin, native: native)
                try TestServer.connect(database).execute("INSERT INTO gmp.native_probe (id, at) VALUES (\(id), now())")
            }
            let chained: Int64 = try admin.query("""
                SELECT count(*) AS n FROM gmp_audit.event WHERE table_name = 'gmp.native_probe' AND action = 'INSERT'
                """)[0].decode("n")
            #expect(chained == 2, "each plain session chained its event at its commit")
        }
    }

    @Test("the C hash gives every v2 hash of a real chain, chained through it, and the PL/pgSQL's bytes at the edges")
    func sameHashes() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try Self.nativeDatabase(database)
            // Chain this database's history (DDL events with whole definitions) through the C hash,
            // with writes in between, then recompute every v2 hash both ways.
            try admin.execute("SELECT set_config('gmp.reason', 'hash test', false)")
            try admin.execute("INSERT INTO gmp.native_probe (id, at, doc, note) VALUES (1, now(), '{\"k\": \"ünï\"}', 'línea')")
            try admin.execute("UPDATE gmp.native_probe SET note = NULL")
            try admin.execute("SELECT gmp_audit.chain_pending()")
            let row = try admin.query("""
                SELECT count(*) AS events,
                       count(*) FILTER (WHERE gmp_audit.event_hash_v2_native(e.seq, e.write_order, e.occurred_at, e.transaction_id,
                           e.actor, e.action, e.table_name, e.record_key, e.old_values, e.new_values, e.reason, p.hash)
                           IS DISTINCT FROM e.hash) AS native_differs,
                       count(*) FILTER (WHERE gmp_audit.event_hash_v2_plpgsql(e.seq, e.write_order, e.occurred_at, e.transaction_id,
                           e.actor, e.action, e.table_name, e.record_key, e.old_values, e.new_values, e.reason, p.hash)
                           IS DISTINCT FROM e.hash) AS plpgsql_differs,
                       count(*) FILTER (WHERE e.table_name = 'gmp.native_probe' AND e.action <> 'DDL') AS probe_events
                FROM gmp_audit.event e JOIN gmp_audit.event p ON p.seq = e.seq - 1
                WHERE e.write_order IS NOT NULL
                """)[0]
            #expect(try row.decode("events", as: Int64.self) > 100)
            #expect(try row.decode("probe_events", as: Int64.self) == 2)
            #expect(try row.decode("native_differs", as: Int64.self) == 0)
            #expect(try row.decode("plpgsql_differs", as: Int64.self) == 0)
            // NULL fields, NULLs that void the message, infinity, a year BC, non-ASCII text.
            let edges = try admin.query("""
                SELECT count(*) AS cases,
                       count(*) FILTER (WHERE gmp_audit.event_hash_v2_native(s, w, t, x, a, o, n, k, ov, nv, r, h)
                                        IS DISTINCT FROM gmp_audit.event_hash_v2_plpgsql(s, w, t, x, a, o, n, k, ov, nv, r, h)) AS differ,
                       count(*) FILTER (WHERE gmp_audit.event_hash_v2_native(s, w, t, x, a, o, n, k, ov, nv, r, h) IS NULL) AS nulls
                FROM (VALUES
                    (1::bigint, 2::bigint, '2026-11-22T05:28:00.25Z'::timestamptz, 3::bigint, 'ä', 'INSERT', 'gmp.x', NULL::text,
                     NULL::jsonb, '{"b": [1, 2.50, "ß"]}'::jsonb, NULL::text, '\\x01'::bytea),
                    (1, 2, '0044-03-15 12:00:00 BC', 3, 'a', 'DDL', 'gmp.x', 'k', '{}', NULL, 'r', '\\x'),
                    (NULL, 2, now(), 3, 'a', 'DDL', 'gmp.x', 'k', NULL, NULL, NULL, '\\x'),
                    (1, NULL, now(), 3, 'a', 'DDL', 'gmp.x', 'k', NULL, NULL, NULL, '\\x'),
                    (1, 2, 'infinity', 3, 'a', 'DDL', 'gmp.x', 'k', NULL, NULL, NULL, '\\x'),
                    (1, 2, now(), 3, NULL, 'DDL', 'gmp.x', 'k', NULL, NULL, NULL, '\\x'),
                    (1, 2, now(), 3, 'a', 'DDL', 'gmp.x', 'k', NULL, NULL, NULL, NULL)
                ) AS v(s, w, t, x, a, o, n, k, ov, nv, r, h)
                """)[0]
            #expect(try edges.decode("cases", as: Int64.self) == 7)
            #expect(try edges.decode("differ", as: Int64.self) == 0)
            #expect(try edges.decode("nulls", as: Int64.self) == 5)
        }
    }

    /// Issue 18: audit_implementation reads the triggers without column statistics and the
    /// hash's callee from event_hash_v2's body, as bind_audit_implementation does.
    @Test("audit_implementation: native, plpgsql, and mixed for a binding half done (the hash, or one trigger)")
    func implementationOfHalfBindings() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try Self.nativeDatabase(database)
            func implementation() throws -> String {
                try admin.query("SELECT gmp_audit.audit_implementation() AS i")[0].decode("i")
            }
            // event_hash_v2 alone made to call `to`, as the binder does it.
            func swapHash(to: String, from: String) throws {
                try admin.execute(script: SQLScript(shippedWithBinary: """
                    DO $$ BEGIN EXECUTE replace(pg_get_functiondef('gmp_audit.event_hash_v2(bigint,bigint,timestamp with time zone,bigint,text,text,text,text,jsonb,jsonb,text,bytea)'::regprocedure),
                                                'gmp_audit.event_hash_v2_\(from)(', 'gmp_audit.event_hash_v2_\(to)('); END $$
                    """))
            }
            try swapHash(to: "plpgsql", from: "native")
            #expect(try implementation() == "mixed", "the triggers native, the hash not")
            try Self.bind(admin, native: false)
            try swapHash(to: "native", from: "plpgsql")
            #expect(try implementation() == "mixed", "the hash native, the triggers not")
            try Self.bind(admin, native: true)
            // One trigger back on the PL/pgSQL, as the binder rebinds it.
            try admin.execute(script: SQLScript(shippedWithBinary: """
                DO $$ BEGIN
                    EXECUTE replace(regexp_replace(pg_get_triggerdef((SELECT t.oid FROM pg_trigger t
                                                                      WHERE t.tgrelid = 'gmp.native_probe'::regclass AND t.tgname = 'audit')),
                                                   '^CREATE TRIGGER ', 'CREATE OR REPLACE TRIGGER '),
                                    'gmp_audit.record_change_native(', 'gmp_audit.record_change(');
                    ALTER TABLE gmp.native_probe ENABLE ALWAYS TRIGGER audit;
                END $$
                """))
            #expect(try implementation() == "mixed", "one trigger on the PL/pgSQL")
            try Self.bind(admin, native: true)
            // A trigger of another name, or an internal one, is not an audit trigger.
            try admin.execute(script: SQLScript(shippedWithBinary: """
                CREATE TRIGGER not_audit AFTER INSERT ON gmp.native_probe FOR EACH ROW EXECUTE FUNCTION gmp_audit.record_change('id');
                ALTER TABLE gmp.native_probe ENABLE ALWAYS TRIGGER not_audit;
                """))
            #expect(try implementation() == "native")
        }
    }

    @Test("the extension's functions are in the code record, owned by gmp_definer, and cannot be dropped from under the triggers")
    func codeRecordAndGuards() throws {
        try TestServer.withMigratedDatabase { database in
            let admin = try Self.nativeDatabase(database)
            let problems: [String] = try admin.query("SELECT p FROM gmp_audit.machinery_problems() AS p").map { try $0.decode("p") }
            #expect(problems.isEmpty, "\(problems)")
            let owner: String = try admin.query("""
                SELECT proowner::regrole::text AS o FROM pg_proc WHERE oid = 'gmp_audit.record_change_native()'::regprocedure
                """)[0].decode("o")
            #expect(owner == "gmp_definer")
            let recorded: Int64 = try admin.query("""
                SELECT count(*) AS n FROM gmp_audit.catalog_routines() c
                JOIN LATERAL gmp_audit.recorded_routine(c.key) r ON r.sha256 = c.sha256
                WHERE c.routine LIKE 'gmp_audit.%native(%' OR c.routine LIKE 'gmp_audit.%native\\_direct(%'
                """)[0].decode("n")
            #expect(recorded == 4, "the trigger, the hash and (1.2, 1.3) the chaining of a batch")
            for statement: SQLQuery in ["DROP EXTENSION gmp_audit_native", "DROP EXTENSION gmp_audit_native CASCADE",
                                        "DROP FUNCTION gmp_audit.record_change_native()"] {
                do {
                    try admin.execute(statement)
                    Issue.record("\(statement) was not refused")
                } catch let error as PostgresError {
                    #expect(["2BP01", "42501"].contains(error.sqlState), "\(error.sqlState): \(error.message)")
                }
            }
            // Replacing one is recorded like any routine: no drift afterwards.
            try admin.execute("""
                CREATE OR REPLACE FUNCTION gmp_audit.record_change_native() RETURNS trigger
                LANGUAGE c SECURITY DEFINER
                SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET IntervalStyle = 'postgres'
                SET bytea_output = 'hex' SET extra_float_digits = 2
                AS '$libdir/gmp_audit_native', 'gmp_audit_record_change'
                """)
            let drift: Int64 = try admin.query("SELECT count(*) AS n FROM gmp_audit.code_drift()")[0].decode("n")
            #expect(drift == 0)
        }
    }
}
