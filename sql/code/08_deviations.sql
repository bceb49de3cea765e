-- deviations: Deviations: opened, linked to lots, closed by QA.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

CREATE OR REPLACE FUNCTION gmp_rules.guard_deviation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'deviations are never deleted' USING ERRCODE = 'GM004',
            HINT = 'close it with its outcome: gmp deviation close';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'open' THEN
            RAISE EXCEPTION 'a deviation is opened before it is closed' USING ERRCODE = 'GM003';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION 'deviation % is closed: nothing about it changes', OLD.id USING ERRCODE = 'GM004',
            HINT = 'open a new deviation that refers to it';
    END IF;
    IF (to_jsonb(OLD) - '{status,outcome,closed_at,closed_by}'::text[])
       IS DISTINCT FROM (to_jsonb(NEW) - '{status,outcome,closed_at,closed_by}'::text[]) THEN
        RAISE EXCEPTION 'an open deviation changes only by its closure' USING ERRCODE = 'GM004';
    END IF;
    RETURN NEW;
END;
$$;

-- A link takes the lot's row lock, so it cannot slip in beside a release being decided;
-- a closed deviation or a lot whose disposition is final takes no new link.
CREATE OR REPLACE FUNCTION gmp_rules.check_deviation_link() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    l gmp.lot;
BEGIN
    SELECT * INTO STRICT l FROM gmp.lot WHERE din = NEW.din FOR UPDATE;
    IF (SELECT status FROM gmp.deviation WHERE id = NEW.deviation_id) <> 'open' THEN
        RAISE EXCEPTION 'deviation % is closed', NEW.deviation_id USING ERRCODE = 'GM004',
            HINT = 'open a new deviation for this lot';
    END IF;
    IF l.status NOT IN ('quarantine', 'on_hold') THEN
        RAISE EXCEPTION 'lot % is %: its record is closed', l.din, l.status USING ERRCODE = 'GM004',
            HINT = 'a finding after disposition is a new deviation on the lots still open, or a recall';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_deviation(deviation_id text) RETURNS gmp.deviation
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_deviation gmp.deviation;
BEGIN
    SELECT * INTO found_deviation FROM gmp.deviation d WHERE d.id = deviation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no deviation %', deviation_id USING ERRCODE = 'GM001', HINT = 'gmp deviation list shows them';
    END IF;
    RETURN found_deviation;
END;
$$;

-- Opens a deviation on the given lots; returns its id (DEVyy-nnnnn).
CREATE OR REPLACE FUNCTION gmp_rules.open_deviation(kind text, title text, description text, lots text[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    new_id text := format('DEV%s-%s', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YY'),
                          lpad(nextval('gmp_meta.deviation_number')::text, 5, '0'));
    lot text;
BEGIN
    IF lots IS NULL OR cardinality(lots) = 0 THEN
        RAISE EXCEPTION 'a deviation names the lots it touches' USING ERRCODE = 'GM002', HINT = 'give --lot at least once';
    END IF;
    INSERT INTO gmp.deviation (id, kind, title, description) VALUES (new_id, kind, btrim(title), nullif(btrim(description), ''));
    FOREACH lot IN ARRAY lots LOOP
        PERFORM gmp_rules.require_lot(lot);
        INSERT INTO gmp.deviation_lot (deviation_id, din) VALUES (new_id, lot) ON CONFLICT DO NOTHING;
    END LOOP;
    RETURN new_id;
END;
$$;

CREATE OR REPLACE FUNCTION gmp.open_deviation(title text, description text, lots text[]) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM set_config('gmp.reason', 'deviation opened', true);
    RETURN gmp_rules.open_deviation('deviation', title, description, lots);
END;
$$;

CREATE OR REPLACE FUNCTION gmp.link_deviation(deviation_id text, din text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_deviation(deviation_id);
    PERFORM gmp_rules.require_lot(din);
    PERFORM gmp_rules.give_reason(reason);
    INSERT INTO gmp.deviation_lot (deviation_id, din) VALUES (deviation_id, din) ON CONFLICT DO NOTHING;
END;
$$;

-- QA closes a deviation with its outcome, signing (meaning "approved") the closed row.
CREATE OR REPLACE FUNCTION gmp.close_deviation(challenge uuid, deviation_id text, outcome text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d gmp.deviation;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_deviation(deviation_id);
    SELECT * INTO d FROM gmp.deviation x WHERE x.id = deviation_id FOR UPDATE;
    IF d.status = 'closed' THEN
        RAISE EXCEPTION 'deviation % was closed by % at %', d.id, d.closed_by, d.closed_at USING ERRCODE = 'GM004';
    END IF;
    IF outcome IS NULL OR btrim(outcome) = '' THEN
        RAISE EXCEPTION 'closing a deviation needs its outcome' USING ERRCODE = 'GM008',
            HINT = 'say what was found and decided, e.g. --outcome "root cause: …; CAPA …"';
    END IF;
    PERFORM set_config('gmp.reason', 'deviation closed', true);
    UPDATE gmp.deviation x SET status = 'closed', outcome = btrim(close_deviation.outcome),
                               closed_at = clock_timestamp(), closed_by = session_user
    WHERE x.id = d.id;
    RETURN gmp_rules.record_signature(challenge, 'approved', 'gmp.deviation', d.id, outcome);
END;
$$;
