-- Prototypes of audit-trail designs for scripts/bench_audit_designs.py (issue 19/18).
-- NOT gmp's code: throwaway objects in schema `proto` of a benchmark database, each design
-- its own audited source table, event table, write-order sequence and chain. Sections
-- start with `-- @section NAME`; the script replaces __D__ with the design's prefix,
-- __SO__ with the built C library, and the placeholders a section names.

-- @section common
SELECT set_config('gmp.reason', 'audit design prototypes (scripts/bench_audit_designs.py)', false);
DROP SCHEMA IF EXISTS proto CASCADE;
CREATE SCHEMA proto;
-- gmp.bench_audited and its twin public.bench_plain: scripts/bench_audit_tables.sql, which
-- the script runs before this section.

-- @section write_once
-- Design B/C: the event is written ONCE, by the writer's trigger, into its final table,
-- keyed by write_order. Chaining later writes only a narrow link row per event
-- (seq, write_order, hash) with the v2 hash of today (same fields, same encoding: the
-- verifier reads link JOIN event ORDER BY seq). No staging table, no DELETE, no guard
-- comparing content: both tables are append-only.
CREATE SEQUENCE proto.__D___write_order;
CREATE TABLE proto.__D___event (
    write_order bigint PRIMARY KEY CHECK (write_order > 0),
    occurred_at timestamptz NOT NULL,
    transaction_id bigint NOT NULL,
    actor text NOT NULL,
    action text NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE', 'DDL')),
    table_name text NOT NULL,
    record_key text,
    old_values jsonb,
    new_values jsonb,
    reason text);
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON proto.__D___event
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON proto.__D___event
    FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
-- Every write_order <= mark is chained or final (its transaction ended without it); above it,
-- the chainer anti-joins the link. horizon_*: the sequence and the next xid seen by the last
-- chaining; once every transaction older than horizon_xid has ended, mark may reach horizon_wo.
CREATE TABLE proto.__D___head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq bigint NOT NULL, hash bytea NOT NULL, last_wo bigint NOT NULL, mark bigint NOT NULL,
    horizon_wo bigint NOT NULL, horizon_xid xid8 NOT NULL, recent bigint[] NOT NULL DEFAULT '{}');
INSERT INTO proto.__D___head (seq, hash, last_wo, mark, horizon_wo, horizon_xid)
VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000', 0, 0, 0,
        pg_snapshot_xmax(pg_current_snapshot()));

-- @section source
-- The audited table of a prototype: the same columns as the twin, public.bench_plain.
CREATE TABLE proto.__D___src (id bigserial PRIMARY KEY, note text NOT NULL);

-- @section reader_indexes
-- Design B: the readers' indexes of gmp_audit.event, on the write-once table (so paid by
-- the writer's INSERT instead of by the chaining).
CREATE INDEX ON proto.__D___event (actor, occurred_at);
CREATE INDEX ON proto.__D___event (table_name, record_key);
CREATE INDEX ON proto.__D___event (occurred_at);
CREATE INDEX ON proto.__D___event ((coalesce(new_values, old_values) ->> 'oid'), write_order) WHERE action = 'DDL';
CREATE INDEX ON proto.__D___event (occurred_at) WHERE action = 'DDL';

-- @section row_trigger_plpgsql
-- Today's gmp_audit.record_change, the same settings pinned, writing into the design's table.
CREATE FUNCTION proto.__D___record_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET IntervalStyle = 'postgres'
SET bytea_output = 'hex' SET extra_float_digits = 1 AS $$
DECLARE
    old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
    reason  text  := gmp_audit.current_reason();
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND reason IS NULL THEN
        RAISE EXCEPTION '% of %.% needs a reason', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'GM008';
    END IF;
    INSERT INTO proto.__D___event (write_order, occurred_at, transaction_id, actor, action, table_name,
                                   record_key, old_values, new_values, reason)
    VALUES (nextval('proto.__D___write_order'), clock_timestamp(), txid_current(), session_user,
            TG_OP, TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, coalesce(new_row, old_row) ->> TG_ARGV[0],
            old_row, new_row, reason);
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON proto.__D___src
    FOR EACH ROW EXECUTE FUNCTION proto.__D___record_change('id');

-- @section statement_trigger
-- Design D: statement-level triggers with transition tables (one per event: PostgreSQL
-- allows transition tables only on single-event triggers). One INSERT … SELECT per
-- statement. Prototype: INSERT and DELETE only; an UPDATE must pair OLD TABLE and NEW
-- TABLE rows by key, which a key-changing UPDATE breaks.
CREATE FUNCTION proto.__D___record_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET IntervalStyle = 'postgres'
SET bytea_output = 'hex' SET extra_float_digits = 1 AS $$
BEGIN
    INSERT INTO proto.__D___event (write_order, occurred_at, transaction_id, actor, action, table_name,
                                   record_key, old_values, new_values, reason)
    SELECT nextval('proto.__D___write_order'), clock_timestamp(), txid_current(), session_user,
           'INSERT', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, r.j ->> TG_ARGV[0], NULL, r.j, gmp_audit.current_reason()
    FROM (SELECT to_jsonb(n) AS j FROM new_rows n) AS r;
    RETURN NULL;
END;
$$;
CREATE FUNCTION proto.__D___record_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET IntervalStyle = 'postgres'
SET bytea_output = 'hex' SET extra_float_digits = 1 AS $$
DECLARE
    reason constant text := gmp_audit.current_reason();
BEGIN
    IF reason IS NULL THEN
        RAISE EXCEPTION 'DELETE of %.% needs a reason', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'GM008';
    END IF;
    INSERT INTO proto.__D___event (write_order, occurred_at, transaction_id, actor, action, table_name,
                                   record_key, old_values, new_values, reason)
    SELECT nextval('proto.__D___write_order'), clock_timestamp(), txid_current(), session_user,
           'DELETE', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, r.j ->> TG_ARGV[0], r.j, NULL, reason
    FROM (SELECT to_jsonb(o) AS j FROM old_rows o) AS r;
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit_insert AFTER INSERT ON proto.__D___src REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION proto.__D___record_insert('id');
CREATE TRIGGER audit_delete AFTER DELETE ON proto.__D___src REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION proto.__D___record_delete('id');

-- @section c_trigger
-- Designs A+C, E, E0, E/SPI: the row trigger in C (scripts/bench_audit_c_trigger.c):
-- __CFN__ is audit_c_record_change_direct (the row formed and inserted with its index
-- entries, no executor) or audit_c_record_change (a saved SPI plan); __DEFINER__ is
-- record_change's SECURITY DEFINER and pinned settings, or nothing (E0: the floor).
-- __TARGET__/__SEQ__: the design's event table and sequence, or today's staging table.
CREATE FUNCTION proto.__D___record_change() RETURNS trigger
LANGUAGE c __DEFINER__
AS '__SO__', '__CFN__';
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON proto.__D___src
    FOR EACH ROW EXECUTE FUNCTION proto.__D___record_change('id', '__TARGET__', '__SEQ__');

-- @section c_hash
-- Design F: gmp_audit.event_hash_v2 in C (scripts/bench_audit_c_trigger.c), the same
-- encoding (the script checks it against gmp's on gmp's chain first).
CREATE FUNCTION proto.__D___event_hash(bigint, bigint, timestamptz, bigint, text, text, text, text, jsonb, jsonb,
                                       text, bytea) RETURNS bytea
LANGUAGE c IMMUTABLE PARALLEL SAFE AS '__SO__', 'audit_c_event_hash_v2';

-- @section today_chain_c_hash
-- Today's chaining (gmp_audit.chain_batch, the same statements on gmp's own tables and
-- head) with the hash in C (c_hash above): what today's layout costs with the hash in C.
CREATE FUNCTION proto.__D___chain(max_events integer, wait boolean) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    head gmp_audit.chain_head;
    start_seq bigint;
    p gmp_audit.pending_event;
    orders bigint[] := '{}';
    hashes bytea[] := '{}';
    n integer := 0;
BEGIN
    IF NOT EXISTS (SELECT FROM gmp_audit.pending_event) THEN
        RETURN 0;
    END IF;
    IF wait THEN
        SELECT * INTO STRICT head FROM gmp_audit.chain_head FOR UPDATE;
    ELSE
        SELECT * INTO head FROM gmp_audit.chain_head FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN RETURN 0; END IF;
    END IF;
    start_seq := head.seq;
    FOR p IN SELECT * FROM gmp_audit.pending_event ORDER BY write_order LIMIT max_events LOOP
        n := n + 1;
        head.hash := proto.__D___event_hash(start_seq + n, p.write_order, p.occurred_at, p.transaction_id, p.actor,
                                            p.action, p.table_name, p.record_key, p.old_values, p.new_values,
                                            p.reason, head.hash);
        orders[n] := p.write_order;
        hashes[n] := head.hash;
    END LOOP;
    IF n = 0 THEN
        RETURN 0;
    END IF;
    head.seq := start_seq + n;
    INSERT INTO gmp_audit.event (seq, write_order, occurred_at, transaction_id, actor, action, table_name,
                                 record_key, old_values, new_values, reason, hash)
    SELECT start_seq + c.n, s.write_order, s.occurred_at, s.transaction_id, s.actor, s.action, s.table_name,
           s.record_key, s.old_values, s.new_values, s.reason, c.hash
    FROM unnest(orders, hashes) WITH ORDINALITY AS c(write_order, hash, n)
    JOIN gmp_audit.pending_event s ON s.write_order = c.write_order
    ORDER BY c.n;
    DELETE FROM gmp_audit.pending_event d WHERE d.write_order = ANY (orders);
    UPDATE gmp_audit.chain_head SET seq = head.seq, hash = head.hash;
    RETURN n;
END;
$$;

-- @section link_chain
-- Chaining with a narrow link row per event (designs B, C, D, E). Candidates: events above
-- the mark without a link, in write_order (as today: visible = committed; an event still
-- invisible cannot precede a visible one on the same row, row locks). Each gets the next
-- seq and today's v2 hash; one INSERT of link rows, one head update.
CREATE TABLE proto.__D___link (
    seq bigint PRIMARY KEY,
    write_order bigint NOT NULL UNIQUE,
    hash bytea NOT NULL CHECK (octet_length(hash) = 32));
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON proto.__D___link
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite();
CREATE FUNCTION proto.__D___chain(max_events integer, wait boolean) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    head proto.__D___head;
    p proto.__D___event;
    orders bigint[] := '{}';
    hashes bytea[] := '{}';
    n integer := 0;
    start_seq bigint;
    finished boolean;
    next_wo bigint;
    next_xid xid8;
BEGIN
    IF wait THEN
        SELECT * INTO STRICT head FROM proto.__D___head FOR UPDATE;
    ELSE
        SELECT * INTO head FROM proto.__D___head FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN RETURN 0; END IF;
    END IF;
    -- Read before the candidates' snapshot: every write_order drawn so far was drawn by a
    -- transaction older than next_xid (its xid is assigned by the audited row's write).
    SELECT s.last_value, pg_snapshot_xmax(pg_current_snapshot()) INTO next_wo, next_xid FROM proto.__D___write_order s;
    finished := pg_snapshot_xmin(pg_current_snapshot()) >= head.horizon_xid;
    start_seq := head.seq;
    FOR p IN SELECT e.* FROM proto.__D___event e
             WHERE e.write_order > head.mark
               AND NOT EXISTS (SELECT FROM proto.__D___link l WHERE l.write_order = e.write_order)
             ORDER BY e.write_order LIMIT max_events LOOP
        n := n + 1;
        head.hash := __HASH__(start_seq + n, p.write_order, p.occurred_at, p.transaction_id, p.actor,
                                             p.action, p.table_name, p.record_key, p.old_values, p.new_values,
                                             p.reason, head.hash);
        orders[n] := p.write_order;
        hashes[n] := head.hash;
    END LOOP;
    IF n > 0 THEN
        INSERT INTO proto.__D___link (seq, write_order, hash)
        SELECT start_seq + c.n, c.w, c.h FROM unnest(orders, hashes) WITH ORDINALITY AS c(w, h, n);
    END IF;
    IF finished AND (max_events IS NULL OR n < max_events) THEN
        -- Every transaction that drew a write_order <= horizon_wo has ended, and all visible
        -- ones are now chained: nothing at or below it can still appear.
        UPDATE proto.__D___head SET seq = start_seq + n, hash = head.hash,
            last_wo = greatest(head.last_wo, coalesce(orders[n], 0)),
            mark = greatest(head.mark, head.horizon_wo), horizon_wo = next_wo, horizon_xid = next_xid;
    ELSE
        UPDATE proto.__D___head SET seq = start_seq + n, hash = head.hash,
            last_wo = greatest(head.last_wo, coalesce(orders[n], 0));
    END IF;
    RETURN n;
END;
$$;

-- @section batch_chain
-- Design C with one link row per BATCH (a hash list): chaining writes one row for up to
-- 10,000 events, its write_orders in chain order and a root hash over their leaf hashes
-- (a new encoding, "v3": the leaf here is today's v2 event hash with a zero previous hash,
-- which costs the same as a real v3 leaf would). Chained-but-above-mark write_orders are
-- kept in head.recent so the candidates' anti-join needs no per-event row.
CREATE TABLE proto.__D___batch (
    first_seq bigint PRIMARY KEY,
    orders bigint[] NOT NULL,
    root bytea NOT NULL CHECK (octet_length(root) = 32));
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON proto.__D___batch
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite();
CREATE FUNCTION proto.__D___chain(max_events integer, wait boolean) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    head proto.__D___head;
    p proto.__D___event;
    orders bigint[] := '{}';
    leaves bytea[] := '{}';
    zero constant bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
    n integer := 0;
    root bytea;
    finished boolean;
    next_wo bigint;
    next_xid xid8;
    new_mark bigint;
BEGIN
    IF wait THEN
        SELECT * INTO STRICT head FROM proto.__D___head FOR UPDATE;
    ELSE
        SELECT * INTO head FROM proto.__D___head FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN RETURN 0; END IF;
    END IF;
    SELECT s.last_value, pg_snapshot_xmax(pg_current_snapshot()) INTO next_wo, next_xid FROM proto.__D___write_order s;
    finished := pg_snapshot_xmin(pg_current_snapshot()) >= head.horizon_xid;
    FOR p IN SELECT e.* FROM proto.__D___event e
             LEFT JOIN unnest(head.recent) AS r(w) ON r.w = e.write_order
             WHERE e.write_order > head.mark AND r.w IS NULL
             ORDER BY e.write_order LIMIT max_events LOOP
        n := n + 1;
        leaves[n] := gmp_audit.event_hash_v2(head.seq + n, p.write_order, p.occurred_at, p.transaction_id, p.actor,
                                             p.action, p.table_name, p.record_key, p.old_values, p.new_values,
                                             p.reason, zero);
        orders[n] := p.write_order;
    END LOOP;
    new_mark := head.mark;
    finished := finished AND (max_events IS NULL OR n < max_events);
    IF finished THEN
        new_mark := greatest(head.mark, head.horizon_wo);
    END IF;
    IF n > 0 THEN
        root := sha256('\x0000000c676d702d61756469742d7633'::bytea || head.hash || int8send(head.seq + 1)
                       || (SELECT string_agg(u.l, ''::bytea ORDER BY u.o) FROM unnest(leaves) WITH ORDINALITY AS u(l, o)));
        INSERT INTO proto.__D___batch (first_seq, orders, root) VALUES (head.seq + 1, orders, root);
    END IF;
    UPDATE proto.__D___head SET seq = head.seq + n, hash = coalesce(root, head.hash),
        last_wo = greatest(head.last_wo, coalesce(orders[n], 0)), mark = new_mark,
        horizon_wo = CASE WHEN new_mark > head.mark OR finished THEN next_wo ELSE head.horizon_wo END,
        horizon_xid = CASE WHEN new_mark > head.mark OR finished THEN next_xid ELSE head.horizon_xid END,
        recent = ARRAY(SELECT w FROM unnest(head.recent || orders) w WHERE w > new_mark ORDER BY w);
    RETURN n;
END;
$$;

-- @section chain_if_due
-- What a writer runs after its commit (as gmp runs gmp_audit.chain_if_due): chains when at
-- least 1,000 events may be unchained, without waiting for a session already chaining.
CREATE FUNCTION proto.__D___chain_if_due() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (SELECT s.last_value FROM proto.__D___write_order s) - (SELECT h.last_wo FROM proto.__D___head h) < 1000 THEN
        RETURN 0;
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN proto.__D___chain(10000, false);
END;
$$;
