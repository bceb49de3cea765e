-- V0002 audit trail: every change to a GMP record, chained by SHA-256.
--
-- 21 CFR 11.10(e), EU GMP Annex 11 §9 and §12.4: a secure, computer-generated,
-- time-stamped record of who changed what, when, from which value to which, and why.
--
-- Design (docs/audit-trail.md has the full story and the hash format):
--   * gmp_audit.event holds one row per change: seq (gap-free), server UTC time,
--     the authenticated session user, table, record key, old and new row as jsonb,
--     the reason, and hash = SHA-256 over a length-prefixed encoding of all of it plus
--     the previous event's hash. Anyone can recompute the chain outside the database
--     (gmp audit verify does, in the client).
--   * Events are appended by gmp_audit.append() only, which holds the chain head row
--     locked until commit: one writer at a time extends the chain, so seq has no gaps
--     and each hash names its true predecessor.
--   * Every trigger here is ENABLE ALWAYS, so session_replication_role = replica
--     (superuser only) does not silence it; disabling one is refused by an event
--     trigger; schema changes are themselves recorded.

-- The event table: append-only for everyone, the owner included.
CREATE SCHEMA gmp_audit;
COMMENT ON SCHEMA gmp_audit IS 'The audit trail, signatures'' plumbing and security events.';

CREATE TABLE gmp_audit.event (
    seq            bigint      PRIMARY KEY CHECK (seq > 0),
    occurred_at    timestamptz NOT NULL,
    transaction_id bigint      NOT NULL,
    actor          text        NOT NULL,
    action         text        NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE', 'DDL')),
    table_name     text        NOT NULL,
    record_key     text,
    old_values     jsonb,
    new_values     jsonb,
    reason         text,
    hash           bytea       NOT NULL CHECK (octet_length(hash) = 32)
);
COMMENT ON TABLE gmp_audit.event IS 'One row per change to a GMP record or to the schema; hash-chained (docs/audit-trail.md).';
CREATE INDEX event_record ON gmp_audit.event (table_name, record_key);
CREATE INDEX event_actor ON gmp_audit.event (actor, occurred_at);
CREATE INDEX event_time ON gmp_audit.event (occurred_at);

-- The chain head: the last seq and its hash. One row, locked by every append.
-- Verification compares it with the last event, so a truncated tail shows.
CREATE TABLE gmp_audit.chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint  NOT NULL CHECK (seq >= 0),
    hash      bytea   NOT NULL CHECK (octet_length(hash) = 32)
);
INSERT INTO gmp_audit.chain_head (seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON gmp_audit.chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
CREATE TRIGGER no_delete BEFORE DELETE ON gmp_audit.chain_head
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp_audit.chain_head ENABLE ALWAYS TRIGGER no_truncate, ENABLE ALWAYS TRIGGER no_delete;

-- From now on append-only tables refuse rewrites even under session_replication_role.
CREATE OR REPLACE FUNCTION gmp_meta.make_append_only(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite()', target);
    EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite()', target);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER append_only, ENABLE ALWAYS TRIGGER no_truncate', target);
END;
$$;
REVOKE EXECUTE ON FUNCTION gmp_meta.make_append_only(regclass) FROM PUBLIC;
ALTER TABLE gmp_meta.schema_migrations ENABLE ALWAYS TRIGGER append_only, ENABLE ALWAYS TRIGGER no_truncate;
ALTER TABLE gmp_meta.installation ENABLE ALWAYS TRIGGER append_only, ENABLE ALWAYS TRIGGER no_truncate;
SELECT gmp_meta.make_append_only('gmp_audit.event');

-- The canonical encoding (docs/audit-trail.md, "Hash format v1"): each field is its
-- byte length as 4-byte big-endian followed by its UTF-8 bytes; NULL is FF FF FF FF.
-- Length prefixes make the encoding unambiguous: no separator can be forged by a value.
CREATE FUNCTION gmp_audit.field(value bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NULL THEN '\xffffffff'::bytea
                ELSE int4send(octet_length(value)) || value END
$$;

CREATE FUNCTION gmp_audit.field(value text) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT gmp_audit.field(convert_to(value, 'UTF8'))
$$;

-- UTC, always six fractional digits: the same instant always hashes the same,
-- whatever the session's TimeZone or DateStyle.
CREATE FUNCTION gmp_audit.canonical_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- hash_n = SHA-256(field('gmp-audit-v1') || field(seq) || … || field(previous hash)).
CREATE FUNCTION gmp_audit.event_hash(
    seq bigint, occurred_at timestamptz, transaction_id bigint, actor text, action text,
    table_name text, record_key text, old_values jsonb, new_values jsonb, reason text,
    previous_hash bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(
        gmp_audit.field('gmp-audit-v1'::text)
        || gmp_audit.field(seq::text)
        || gmp_audit.field(gmp_audit.canonical_time(occurred_at))
        || gmp_audit.field(transaction_id::text)
        || gmp_audit.field(actor)
        || gmp_audit.field(action)
        || gmp_audit.field(table_name)
        || gmp_audit.field(record_key)
        || gmp_audit.field(old_values::text)
        || gmp_audit.field(new_values::text)
        || gmp_audit.field(reason)
        || gmp_audit.field(previous_hash))
$$;

-- The reason given for the change in progress: set with
-- set_config('gmp.reason', '…', true) by gmp's own functions (or by hand in psql).
CREATE FUNCTION gmp_audit.current_reason() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT nullif(btrim(current_setting('gmp.reason', true)), '')
$$;

-- Appends one event to the chain. The head row stays locked until the transaction
-- ends, so concurrent writers queue here (or, under SERIALIZABLE, one retries).
CREATE FUNCTION gmp_audit.append(
    p_action text, p_table text, p_key text, p_old jsonb, p_new jsonb, p_reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    head gmp_audit.chain_head;
    at   timestamptz := clock_timestamp();
    txid bigint := txid_current();
    next_seq bigint;
BEGIN
    SELECT * INTO STRICT head FROM gmp_audit.chain_head FOR UPDATE;
    next_seq := head.seq + 1;
    -- clock_timestamp() after the lock: times never run backwards along the chain.
    at := clock_timestamp();
    INSERT INTO gmp_audit.event (seq, occurred_at, transaction_id, actor, action, table_name,
                                 record_key, old_values, new_values, reason, hash)
    VALUES (next_seq, at, txid, session_user, p_action, p_table, p_key, p_old, p_new, p_reason,
            gmp_audit.event_hash(next_seq, at, txid, session_user, p_action, p_table, p_key,
                                 p_old, p_new, p_reason, head.hash))
    RETURNING hash INTO head.hash;
    UPDATE gmp_audit.chain_head SET seq = next_seq, hash = head.hash;
    RETURN next_seq;
END;
$$;
REVOKE EXECUTE ON FUNCTION gmp_audit.append(text, text, text, jsonb, jsonb, text) FROM PUBLIC;

-- The row trigger on every GMP table. TG_ARGV[0] names the column that identifies
-- the record the change is about (the key a report searches by).
-- TimeZone and IntervalStyle are pinned so that the jsonb of a row (and so its hash)
-- does not depend on the writer's session settings.
CREATE FUNCTION gmp_audit.record_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET IntervalStyle = 'postgres' AS $$
DECLARE
    old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
    reason  text  := gmp_audit.current_reason();
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND reason IS NULL THEN
        RAISE EXCEPTION '% of %.% needs a reason', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'P0001',
                  HINT = 'every change and deletion of a GMP record is recorded with its reason: give one (gmp: --reason; SQL: SELECT set_config(''gmp.reason'', ''…'', true))';
    END IF;
    -- An UPDATE that changes nothing is still recorded: someone asked for it.
    PERFORM gmp_audit.append(TG_OP, TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
                             coalesce(new_row, old_row) ->> TG_ARGV[0], old_row, new_row, reason);
    RETURN NULL;
END;
$$;
REVOKE EXECUTE ON FUNCTION gmp_audit.record_change() FROM PUBLIC;

-- Puts a table under audit. Later migrations call it for every table they create in
-- schema gmp; gmp_audit.machinery_problems() reports any table that was missed.
CREATE FUNCTION gmp_audit.audit_table(target regclass, key_column text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION gmp_audit.record_change(%L)', target, key_column);
    EXECUTE format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite()', target);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER audit, ENABLE ALWAYS TRIGGER audit_no_truncate', target);
END;
$$;
REVOKE EXECUTE ON FUNCTION gmp_audit.audit_table(regclass, text) FROM PUBLIC;

SELECT gmp_audit.audit_table('gmp_meta.schema_migrations', 'version');

-- What would let a change go unrecorded: a table in a GMP schema without its audit
-- trigger, or a protective trigger or event trigger not set to fire always.
-- gmp audit verify and gmp doctor report each problem.
CREATE FUNCTION gmp_audit.machinery_problems() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('table %s.%s is not audited', n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'gmp' AND c.relkind IN ('r', 'p')
      AND NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'audit')
    UNION ALL
    SELECT format('trigger %s on %s.%s is disabled or does not fire always', t.tgname, n.nspname, c.relname)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('gmp', 'gmp_audit', 'gmp_meta') AND NOT t.tgisinternal AND t.tgenabled <> 'A'
    UNION ALL
    SELECT format('event trigger %s is disabled or does not fire always', e.evtname)
    FROM pg_event_trigger e WHERE e.evtname LIKE 'gmp\_%' AND e.evtenabled <> 'A'
    UNION ALL
    SELECT 'event trigger ' || expected || ' is missing'
    FROM unnest(ARRAY['gmp_record_ddl', 'gmp_guard_drop']) AS expected
    WHERE NOT EXISTS (SELECT FROM pg_event_trigger e WHERE e.evtname = expected)
    ORDER BY 1
$$;

-- Schema changes are recorded too (DDL events, one per object), and a change that
-- leaves any protective trigger not firing always is refused.
CREATE FUNCTION gmp_audit.record_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    command record;
    problem text;
    altered boolean := false;
BEGIN
    FOR command IN SELECT * FROM pg_event_trigger_ddl_commands()
                   WHERE schema_name IS NULL OR schema_name NOT LIKE 'pg\_temp%' LOOP
        altered := altered OR command.command_tag = 'ALTER TABLE';
        PERFORM gmp_audit.append('DDL', coalesce(command.object_identity, command.command_tag),
            command.command_tag,
            NULL,
            jsonb_build_object('command', command.command_tag, 'object_type', command.object_type,
                               'object', command.object_identity),
            gmp_audit.current_reason());
    END LOOP;
    -- Only ALTER TABLE can disable a trigger. (A trigger is created firing on origin
    -- and set to fire always by the ALTER TABLE that follows, so checking after
    -- CREATE TRIGGER would refuse gmp's own migrations.)
    IF NOT altered THEN
        RETURN;
    END IF;
    SELECT p INTO problem FROM gmp_audit.machinery_problems() AS p
    WHERE p NOT LIKE 'table % is not audited' LIMIT 1;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'refused: % (the audit trail cannot be switched off)', problem
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END;
$$;

-- Dropping a GMP table, an audit trigger or the trail itself is refused: records are
-- kept for at least ten years (21 CFR 1271.270) and nothing is purged sooner.
CREATE FUNCTION gmp_audit.guard_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dropped record;
BEGIN
    FOR dropped IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
        IF dropped.schema_name IN ('gmp', 'gmp_audit', 'gmp_meta')
           AND dropped.object_type IN ('table', 'table column', 'trigger') THEN
            RAISE EXCEPTION 'dropping % % is refused: GMP records and their audit trail are kept',
                dropped.object_type, dropped.object_identity
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'records are retained for at least ten years; change the schema with a new migration that keeps the data';
        END IF;
        IF dropped.object_type = 'schema' AND dropped.object_name IN ('gmp', 'gmp_audit', 'gmp_meta') THEN
            RAISE EXCEPTION 'dropping schema % is refused: GMP records and their audit trail are kept',
                dropped.object_name USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT dropped.is_temporary THEN
            PERFORM gmp_audit.append('DDL', dropped.object_identity, 'DROP',
                jsonb_build_object('command', 'DROP', 'object_type', dropped.object_type,
                                   'object', dropped.object_identity),
                NULL, gmp_audit.current_reason());
        END IF;
    END LOOP;
END;
$$;

CREATE EVENT TRIGGER gmp_record_ddl ON ddl_command_end EXECUTE FUNCTION gmp_audit.record_ddl();
CREATE EVENT TRIGGER gmp_guard_drop ON sql_drop EXECUTE FUNCTION gmp_audit.guard_drop();
ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
ALTER EVENT TRIGGER gmp_guard_drop ENABLE ALWAYS;

-- Nobody writes the trail but gmp_audit.append(); reading it is granted per role by
-- V0003. Functions are not callable by PUBLIC unless granted.
REVOKE ALL ON ALL TABLES IN SCHEMA gmp_audit FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp_audit FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA gmp, gmp_audit, gmp_meta REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
