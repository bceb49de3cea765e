-- readings: Temperature readings imports and the excursions they open, closed by a signed QA
-- impact assessment.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- How far ahead of the server's clock a reading may be: loggers' clocks drift a little,
-- and a file exported just now may end a moment "after" the server's time. Anything
-- later is a wrong clock or time zone (a 2099 reading would otherwise end the device's
-- time order for ever: every real reading after it would come "before" it).
CREATE OR REPLACE FUNCTION gmp_rules.reading_clock_tolerance() RETURNS interval
LANGUAGE sql IMMUTABLE AS $$ SELECT interval '5 minutes' $$;

-- The latest reading time the database accepts now: its clock plus the tolerance above.
-- gmp storage readings import asks it first, to name every line beyond it.
CREATE OR REPLACE FUNCTION gmp.readings_accepted_until() RETURNS timestamptz
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT clock_timestamp() + gmp_rules.reading_clock_tolerance()
$$;

-- Imports of one device are taken one at a time: the device's row is locked until
-- commit. No gmp role can take or hold that lock (a row lock needs UPDATE on the table,
-- which nobody has), so nobody can stall a device's imports from psql, unlike the
-- advisory lock this replaces. FOR NO KEY UPDATE: the foreign keys that name the device
-- (placing a unit, opening an excursion) do not wait for it.
CREATE OR REPLACE FUNCTION gmp_rules.lock_device_readings(device_id text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM FROM gmp.storage_location l WHERE l.id = lock_device_readings.device_id FOR NO KEY UPDATE;
END;
$$;

-- Before an import row: its device's log goes on in time order, and not beyond the
-- server's clock (plus gmp_rules.reading_clock_tolerance). The import must start after
-- the device's latest import that is not voided ended; otherwise it is refused whole,
-- naming the earlier import (the first one it overlaps, or the latest when it lies
-- wholly before it) and its span. Voided imports do not count: their readings may be
-- followed, or replaced, by the device's real ones. Imports of one device are
-- serialised by the device's row lock (gmp_rules.lock_device_readings, taken here for
-- any way in), so the check sees every committed import of the device; the import
-- names the one declared before it (voided or not), which keeps one chain per device
-- (unique) even when a snapshot is older than the lock; it reads a few index entries.
CREATE OR REPLACE FUNCTION gmp_rules.check_import_in_time_order() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    earlier gmp.reading_import;
    now_at timestamptz := clock_timestamp();
BEGIN
    IF NEW.last_at > now_at + gmp_rules.reading_clock_tolerance() THEN
        RAISE EXCEPTION 'readings of % run to %, later than the server''s clock (%) plus %: a reading cannot come from the future',
            NEW.device_id, NEW.last_at, date_trunc('second', now_at), gmp_rules.reading_clock_tolerance()
            USING ERRCODE = 'GM002',
                  HINT = 'check the logger''s clock and time zone, correct or remove the readings after '
                         || date_trunc('second', now_at) || ', and import the file again';
    END IF;
    PERFORM gmp_rules.lock_device_readings(NEW.device_id);
    SELECT * INTO earlier FROM gmp.reading_import i
    WHERE i.device_id = NEW.device_id AND i.last_at >= NEW.first_at
      AND NOT EXISTS (SELECT FROM gmp.reading_import_void v WHERE v.import_id = i.id)
    ORDER BY i.last_at LIMIT 1;
    IF FOUND THEN
        IF earlier.first_at <= NEW.last_at THEN
            RAISE EXCEPTION 'readings of % from % to % overlap readings import % (% to %): a device''s log is imported in time order, without overlap',
                NEW.device_id, NEW.first_at, NEW.last_at, earlier.id, earlier.first_at, earlier.last_at
                USING ERRCODE = 'GM003', HINT = format('import only the readings after %s, or check the file',
                    (SELECT max(i.last_at) FROM gmp.reading_import i WHERE i.device_id = NEW.device_id
                     AND NOT EXISTS (SELECT FROM gmp.reading_import_void v WHERE v.import_id = i.id)));
        END IF;
        SELECT * INTO earlier FROM gmp.reading_import i WHERE i.device_id = NEW.device_id
          AND NOT EXISTS (SELECT FROM gmp.reading_import_void v WHERE v.import_id = i.id)
        ORDER BY i.last_at DESC LIMIT 1;
        RAISE EXCEPTION 'readings of % from % to % come before readings import % (% to %): a device''s log is imported in time order, without overlap',
            NEW.device_id, NEW.first_at, NEW.last_at, earlier.id, earlier.first_at, earlier.last_at
            USING ERRCODE = 'GM003', HINT = format('import only the readings after %s, or check the file; '
                                                   'if that import is wrong, QA voids it: gmp storage readings void %s',
                                                   earlier.last_at, earlier.id);
    END IF;
    NEW.previous_import_id := (SELECT max(i.id) FROM gmp.reading_import i WHERE i.device_id = NEW.device_id);
    RETURN NEW;
END;
$$;

-- Readings move an open excursion's span and peak; QA's assessment closes it; the void
-- of the import that opened it voids it; nothing else changes, and a closed or voided
-- excursion never changes again.
CREATE OR REPLACE FUNCTION gmp_rules.guard_excursion() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'excursions are never deleted' USING ERRCODE = 'GM004',
            HINT = 'close it with a signed impact assessment: gmp excursion assess';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'open' THEN
            RAISE EXCEPTION 'an excursion is opened before it is assessed' USING ERRCODE = 'GM003';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status IN ('closed', 'voided') THEN
        RAISE EXCEPTION 'excursion % is %: nothing about it changes', OLD.id, OLD.status USING ERRCODE = 'GM004',
            HINT = 'readings after it open a new excursion';
    END IF;
    IF NEW.status = 'voided' THEN
        IF NOT EXISTS (SELECT FROM gmp.reading_import_void v WHERE v.import_id = OLD.import_id)
           OR to_jsonb(NEW) - 'status' IS DISTINCT FROM to_jsonb(OLD) - 'status' THEN
            RAISE EXCEPTION 'excursion % is voided only with the readings import that opened it, as it stands', OLD.id
                USING ERRCODE = 'GM003', HINT = 'QA voids the import: gmp storage readings void ' || OLD.import_id;
        END IF;
        RETURN NEW;
    END IF;
    IF (to_jsonb(OLD) - '{status,assessment,assessed_by,assessed_at,started_at,ended_at,peak_celsius}'::text[])
       IS DISTINCT FROM (to_jsonb(NEW) - '{status,assessment,assessed_by,assessed_at,started_at,ended_at,peak_celsius}'::text[]) THEN
        RAISE EXCEPTION 'an excursion changes only by its readings and its assessment' USING ERRCODE = 'GM004';
    END IF;
    IF NEW.status = 'closed' AND (NEW.started_at, NEW.ended_at, NEW.peak_celsius)
                                 IS DISTINCT FROM (OLD.started_at, OLD.ended_at, OLD.peak_celsius) THEN
        RAISE EXCEPTION 'an assessment closes excursion % as it stands', OLD.id USING ERRCODE = 'GM003';
    END IF;
    IF NEW.started_at > OLD.started_at OR NEW.peak_celsius < OLD.peak_celsius THEN
        RAISE EXCEPTION 'excursion % only grows with its readings', OLD.id USING ERRCODE = 'GM004';
    END IF;
    RETURN NEW;
END;
$$;

-- Opens, extends and ends the excursions of `device` given what one import has just
-- added. Imports of a device follow one another in time (above), so the readings
-- before them are all older: the only previous state they depend on is the device's
-- excursion still going on (open, ended_at NULL: every reading since it started was out
-- of limit; a voided one is not), and nothing here reads gmp.temperature_reading. The statement trigger
-- passes the import's out-of-limit readings (over_at, over_celsius, sorted by time)
-- and, for its readings within the limit, the first one in each gap between them:
-- gap_back[i] is the first reading back within the limit after over_at[gap_index[i]]
-- (index 0: before over_at[1]), and the gaps without one are left out.
CREATE OR REPLACE FUNCTION gmp_rules.track_excursions(device text, device_limit numeric, import bigint,
                                          over_at timestamptz[], over_celsius numeric[],
                                          gap_index int[], gap_back timestamptz[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce(cardinality(over_at), 0);
    back timestamptz[] := array_fill(NULL::timestamptz, ARRAY[n + 1], ARRAY[0]);
    first_back timestamptz;
    e gmp.excursion;
    i int := 1;
    run_start int;
    peak numeric;
BEGIN
    PERFORM set_config('gmp.reason', 'temperature readings of ' || device || ' (readings import ' || import || ')', true);
    FOR j IN 1 .. coalesce(cardinality(gap_index), 0) LOOP
        back[gap_index[j]] := gap_back[j];
        first_back := coalesce(first_back, gap_back[j]);
    END LOOP;
    -- The excursion going on takes the out-of-limit readings up to the first reading
    -- back within the limit, which ends it.
    FOR e IN SELECT * FROM gmp.excursion x WHERE x.device_id = device AND x.ended_at IS NULL AND x.status = 'open'
             FOR UPDATE LOOP
        peak := e.peak_celsius;
        WHILE i <= n AND (first_back IS NULL OR over_at[i] < first_back) LOOP
            peak := greatest(peak, over_celsius[i]);
            i := i + 1;
        END LOOP;
        UPDATE gmp.excursion x SET ended_at = first_back, peak_celsius = peak WHERE x.id = e.id;
    END LOOP;
    -- The rest form runs: out-of-limit readings with no reading within the limit
    -- between them. Each run is a new excursion, ended by the reading after it.
    WHILE i <= n LOOP
        run_start := i;
        peak := over_celsius[i];
        WHILE i < n AND back[i] IS NULL LOOP
            i := i + 1;
            peak := greatest(peak, over_celsius[i]);
        END LOOP;
        INSERT INTO gmp.excursion (id, device_id, started_at, ended_at, peak_celsius, limit_celsius, import_id)
        VALUES (format('EXC%s-%s', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YY'),
                       lpad(nextval('gmp_meta.excursion_number')::text, 5, '0')),
                device, over_at[run_start], back[i], peak, device_limit, import);
        i := i + 1;
    END LOOP;
END;
$$;

-- The statement trigger on gmp.temperature_reading, named `audit` because it is this
-- table's audit trigger (gmp_audit.machinery_problems expects one on every gmp table):
-- one audit event per import and statement instead of one per reading. It also checks
-- every new reading, set-based over the statement's transition table:
--   * it belongs to a readings import declared in this transaction, for its device;
--   * its device is a tank, freezer or shipper;
--   * the statement brings the import's readings whole: as many as declared, from its
--     first to its last instant, none twice at one instant (count(DISTINCT read_at),
--     a sort of the statement's readings: about 0.8 s a million, docs/benchmarks.md);
--   * the import had no readings yet (gmp_meta.loaded_reading_import): a second
--     statement for it is refused; the deferred check on gmp.reading_import refuses an
--     import that got no readings.
-- With the time order of imports (checked at the import row) that keeps one reading
-- per device and instant without a unique index.
-- and opens, extends or ends excursions. SECURITY DEFINER: whoever loads readings may
-- not write excursions or the trail directly. No JIT: its queries over a million new
-- rows looked costly enough to compile, which took longer (0.8 s) than they then ran.
CREATE OR REPLACE FUNCTION gmp_rules.check_new_readings() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET jit = off AS $$
DECLARE
    g record;
    over_at timestamptz[];
    over_celsius numeric[];
    gap_index int[];
    gap_back timestamptz[];
    sorting text;
    ongoing boolean;
BEGIN
    FOR g IN
        WITH batch AS (
            SELECT n.import_id, n.device_id, count(*) AS rows, count(DISTINCT n.read_at) AS instants,
                   min(n.read_at) AS first_at, max(n.read_at) AS last_at, max(n.celsius) AS warmest
            FROM new_readings n GROUP BY n.import_id, n.device_id)
        SELECT b.*, i.id AS declared, i.device_id AS import_device, i.rows AS import_rows,
               i.first_at AS import_first, i.last_at AS import_last, i.transaction_id, d.kind, d.max_celsius
        FROM batch b
        LEFT JOIN gmp.reading_import i ON i.id = b.import_id
        LEFT JOIN gmp.storage_location d ON d.id = b.device_id
        ORDER BY b.device_id, b.import_id
    LOOP
        IF g.kind IS NULL THEN
            RAISE EXCEPTION 'no storage device %', g.device_id USING ERRCODE = 'GM001',
                HINT = 'gmp storage show lists the devices; add it first with gmp storage add';
        ELSIF g.kind NOT IN ('tank', 'freezer', 'shipper') THEN
            RAISE EXCEPTION '% is a %, not a storage device: only tanks, freezers and shippers have temperature readings',
                g.device_id, g.kind USING ERRCODE = 'GM002';
        ELSIF g.declared IS NULL THEN
            RAISE EXCEPTION 'readings of % belong to no readings import', g.device_id USING ERRCODE = 'GM002',
                HINT = 'load readings with gmp storage readings import FILE';
        ELSIF g.transaction_id <> txid_current() THEN
            RAISE EXCEPTION 'readings import % is complete: it takes no more readings', g.import_id USING ERRCODE = 'GM004',
                HINT = 'load further readings as a new import: gmp storage readings import FILE';
        ELSIF g.import_device <> g.device_id THEN
            RAISE EXCEPTION 'readings import % is for device %, not %', g.import_id, g.import_device, g.device_id
                USING ERRCODE = 'GM002';
        ELSIF g.rows <> g.import_rows OR g.first_at <> g.import_first OR g.last_at <> g.import_last THEN
            RAISE EXCEPTION 'readings import % declared % readings from % to %, but % readings from % to % arrived',
                g.import_id, g.import_rows, g.import_first, g.import_last, g.rows, g.first_at, g.last_at
                USING ERRCODE = 'GM002', HINT = 'an import''s readings are loaded whole, in one statement';
        ELSIF g.instants <> g.rows THEN
            RAISE EXCEPTION 'readings import % has % readings at % instants: a device has one reading per instant',
                g.import_id, g.rows, g.instants USING ERRCODE = 'GM002',
                HINT = 'remove the repeated readings from the file';
        END IF;
        INSERT INTO gmp_meta.loaded_reading_import (import_id) VALUES (g.import_id) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'readings import % has its readings already: it takes no more', g.import_id
                USING ERRCODE = 'GM004', HINT = 'load further readings as a new import: gmp storage readings import FILE';
        END IF;
        PERFORM gmp_audit.append('INSERT', 'gmp.temperature_reading', g.import_id::text, NULL,
            jsonb_build_object('import_id', g.import_id, 'device_id', g.device_id, 'rows', g.rows,
                               'first_at', g.first_at, 'last_at', g.last_at),
            gmp_audit.current_reason());
        IF g.warmest > g.max_celsius THEN
            SELECT array_agg(n.read_at ORDER BY n.read_at), array_agg(n.celsius ORDER BY n.read_at)
            INTO over_at, over_celsius
            FROM new_readings n WHERE n.device_id = g.device_id AND n.import_id = g.import_id AND n.celsius > g.max_celsius;
        ELSE
            over_at := NULL;
            over_celsius := NULL;
        END IF;
        -- Asked here, not with the batch: an earlier import of the same statement may
        -- have just left one going on.
        ongoing := EXISTS (SELECT FROM gmp.excursion x WHERE x.device_id = g.device_id AND x.ended_at IS NULL
                                                 AND x.status = 'open');
        IF over_at IS NOT NULL OR ongoing THEN
            -- The first reading back within the limit in each gap between out-of-limit
            -- readings (width_bucket: 0 before the first, i after over_at[i]); without
            -- an excursion going on, only the readings after the first out-of-limit one.
            -- Hashed, not sorted: the planner cannot tell the gaps are few.
            sorting := current_setting('enable_sort');
            PERFORM set_config('enable_sort', 'off', true);
            SELECT array_agg(q.gap ORDER BY q.gap), array_agg(q.back ORDER BY q.gap) INTO gap_index, gap_back
            FROM (SELECT width_bucket(n.read_at, coalesce(over_at, '{}')) AS gap, min(n.read_at) AS back
                  FROM new_readings n
                  WHERE n.device_id = g.device_id AND n.import_id = g.import_id AND n.celsius <= g.max_celsius
                    AND (ongoing OR n.read_at > over_at[1])
                  GROUP BY 1) q;
            PERFORM set_config('enable_sort', sorting, true);
            PERFORM gmp_rules.track_excursions(g.device_id, g.max_celsius, g.import_id, over_at, over_celsius,
                                              gap_index, gap_back);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

-- At COMMIT: an import got its readings (the statement trigger checked they match).
CREATE OR REPLACE FUNCTION gmp_rules.check_import_loaded() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM gmp_meta.loaded_reading_import l WHERE l.import_id = NEW.id) THEN
        RAISE EXCEPTION 'readings import % declared % readings but none were loaded', NEW.id, NEW.rows
            USING ERRCODE = 'GM002', HINT = 'load readings with gmp storage readings import FILE';
    END IF;
    RETURN NULL;
END;
$$;

-- Which units were in an excursion's device while it lasted: a unit's holding
-- (gmp.custody_holding: from its custody event until the next) in the device that
-- overlaps [started_at, ended_at), or runs on while the excursion does.
CREATE OR REPLACE VIEW gmp.excursion_unit AS
SELECT x.id AS excursion_id, h.unit_id, u.din, x.status AS excursion_status,
       min(h.since) AS in_device_from, nullif(max(coalesce(h.until, 'infinity')), 'infinity') AS in_device_until
FROM gmp.excursion x
JOIN gmp.custody_holding h ON h.device_id = x.device_id AND h.since < coalesce(x.ended_at, 'infinity')
                          AND coalesce(h.until, 'infinity') > x.started_at
JOIN gmp.unit u ON u.id = h.unit_id
GROUP BY x.id, h.unit_id, u.din, x.status;

-- The open excursions that affect a unit, by id; empty when none does. Like the release
-- blocker below, it asks gmp.excursion_unit, the one place that says who was in a device
-- during an excursion.
CREATE OR REPLACE FUNCTION gmp_rules.open_excursions_of_unit(unit_id text) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(e.excursion_id ORDER BY e.excursion_id), '{}')
    FROM gmp.excursion_unit e
    WHERE e.unit_id = open_excursions_of_unit.unit_id AND e.excursion_status = 'open'
$$;

-- gmp storage readings import, step 1: declare the file. Imports of one device are
-- taken one at a time (the device's row lock until commit), so the time order of
-- imports is checked, and excursions are tracked, over a consistent series. Step 2 is the COPY into gmp.temperature_reading.
CREATE OR REPLACE FUNCTION gmp.begin_readings_import(device_id text, file_sha256 text, rows bigint,
                                          first_at timestamptz, last_at timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    device gmp.storage_location;
    import_id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT * INTO device FROM gmp.storage_location l WHERE l.id = begin_readings_import.device_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no storage device %', device_id USING ERRCODE = 'GM001',
            HINT = 'gmp storage show lists the devices';
    ELSIF device.kind NOT IN ('tank', 'freezer', 'shipper') THEN
        RAISE EXCEPTION '% is a %, not a storage device: only tanks, freezers and shippers have temperature readings',
            device.id, device.kind USING ERRCODE = 'GM002';
    END IF;
    PERFORM gmp_rules.lock_device_readings(device.id);
    PERFORM set_config('gmp.reason', 'temperature readings imported', true);
    INSERT INTO gmp.reading_import (device_id, file_sha256, rows, first_at, last_at)
    VALUES (device.id, lower(file_sha256), rows, first_at, last_at)
    RETURNING id INTO import_id;
    RETURN import_id;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_excursion(excursion_id text) RETURNS gmp.excursion
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_excursion gmp.excursion;
BEGIN
    SELECT * INTO found_excursion FROM gmp.excursion x WHERE x.id = excursion_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no excursion %', excursion_id USING ERRCODE = 'GM001', HINT = 'gmp excursion list shows them';
    END IF;
    RETURN found_excursion;
END;
$$;

-- QA closes an excursion that has ended with its impact assessment, signing
-- (meaning "approved") the closed row.
CREATE OR REPLACE FUNCTION gmp.assess_excursion(challenge uuid, excursion_id text, assessment text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    x gmp.excursion;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_excursion(excursion_id);
    SELECT * INTO x FROM gmp.excursion e WHERE e.id = excursion_id FOR UPDATE;
    IF x.status = 'closed' THEN
        RAISE EXCEPTION 'excursion % was assessed by % at %', x.id, x.assessed_by, x.assessed_at USING ERRCODE = 'GM004';
    ELSIF x.status = 'voided' THEN
        RAISE EXCEPTION 'excursion % was voided with readings import %: there is nothing to assess', x.id, x.import_id
            USING ERRCODE = 'GM004', HINT = 'gmp storage readings list shows the void and its reason';
    END IF;
    IF x.ended_at IS NULL THEN
        RAISE EXCEPTION 'excursion % of % is still going on: no reading back within % °C yet', x.id, x.device_id,
            x.limit_celsius USING ERRCODE = 'GM003', HINT = 'import the device''s later readings, then assess it';
    END IF;
    IF assessment IS NULL OR btrim(assessment) = '' THEN
        RAISE EXCEPTION 'closing an excursion needs its impact assessment' USING ERRCODE = 'GM008',
            HINT = 'say what it means for the units, e.g. --assessment "peak -141 °C for 12 min; no impact on viability"';
    END IF;
    PERFORM set_config('gmp.reason', 'excursion assessed', true);
    UPDATE gmp.excursion e SET status = 'closed', assessment = btrim(assess_excursion.assessment),
                               assessed_at = clock_timestamp(), assessed_by = session_user
    WHERE e.id = x.id;
    RETURN gmp_rules.record_signature(challenge, 'approved', 'gmp.excursion', x.id, assessment);
END;
$$;

-- QA voids a wrongly imported log (a logger's wrong clock, the wrong device's file),
-- signing (meaning "approved") the void's row; nothing is deleted. Only the device's
-- latest import that is not voided may be voided: later imports were checked and
-- tracked on top of it. The device's next import then follows the import before it,
-- so the device's real readings, or a corrected file, load again. Excursions:
--   * one the voided readings opened, not yet assessed, is voided with them (no longer
--     blocks release or shipping; its reason is the void's); an assessed one stays as
--     QA closed it;
--   * one opened before, that a voided reading ended, goes on again (its end was a
--     voided reading); the device's next readings end it. Its peak stays as recorded:
--     a peak never goes down, and a voided reading may have raised it.
CREATE OR REPLACE FUNCTION gmp.void_readings_import(challenge uuid, import_id bigint, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target gmp.reading_import;
    done gmp.reading_import_void;
    later gmp.reading_import;
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT * INTO target FROM gmp.reading_import i WHERE i.id = void_readings_import.import_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no readings import %', import_id USING ERRCODE = 'GM001',
            HINT = 'gmp storage readings list shows the imports';
    END IF;
    -- No import of the device meanwhile: the checks below see its imports as they stay.
    PERFORM gmp_rules.lock_device_readings(target.device_id);
    SELECT * INTO done FROM gmp.reading_import_void v WHERE v.import_id = target.id;
    IF FOUND THEN
        RAISE EXCEPTION 'readings import % was voided by % at %', target.id, done.voided_by, done.voided_at
            USING ERRCODE = 'GM004', HINT = 'a void is final; gmp storage readings list shows it';
    END IF;
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'voiding a readings import needs its reason' USING ERRCODE = 'GM008',
            HINT = 'say what is wrong with the log, e.g. --reason "logger clock set to 2099; readings unusable"';
    END IF;
    SELECT * INTO later FROM gmp.reading_import i
    WHERE i.device_id = target.device_id AND i.last_at > target.last_at
      AND NOT EXISTS (SELECT FROM gmp.reading_import_void v WHERE v.import_id = i.id)
    ORDER BY i.last_at DESC LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'readings import % is not the latest of %: import % (% to %) came after it',
            target.id, target.device_id, later.id, later.first_at, later.last_at USING ERRCODE = 'GM003',
            HINT = format('void the later imports first, newest first (gmp storage readings void %s), then import their files again', later.id);
    END IF;
    PERFORM set_config('gmp.reason', 'readings import voided: ' || btrim(reason), true);
    INSERT INTO gmp.reading_import_void (import_id, reason) VALUES (target.id, btrim(reason));
    UPDATE gmp.excursion x SET status = 'voided' WHERE x.import_id = target.id AND x.status = 'open';
    UPDATE gmp.excursion x SET ended_at = NULL
    WHERE x.device_id = target.device_id AND x.status = 'open' AND x.import_id <> target.id
      AND x.ended_at BETWEEN target.first_at AND target.last_at;
    RETURN gmp_rules.record_signature(challenge, 'approved', 'gmp.reading_import_void', target.id::text, btrim(reason));
END;
$$;

-- Readings imports with their voids, for gmp storage readings list.
CREATE OR REPLACE VIEW gmp.reading_import_overview AS
SELECT i.id, i.device_id, i.rows, i.first_at, i.last_at, i.file_sha256, i.imported_at, i.imported_by,
       i.previous_import_id, v.voided_at, v.voided_by, v.reason AS void_reason,
       (SELECT coalesce(array_agg(x.id ORDER BY x.started_at, x.id), '{}') FROM gmp.excursion x
        WHERE x.import_id = i.id) AS excursions_opened
FROM gmp.reading_import i
LEFT JOIN gmp.reading_import_void v ON v.import_id = i.id;

-- Excursions with the units they affect, for gmp excursion list.
CREATE OR REPLACE VIEW gmp.excursion_overview AS
SELECT x.id, x.device_id, x.started_at, x.ended_at, x.peak_celsius, x.limit_celsius, x.status, x.assessment,
       x.assessed_by, x.assessed_at, x.import_id, x.opened_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('unit', u.unit_id, 'din', u.din, 'from', u.in_device_from,
                                                     'until', u.in_device_until) ORDER BY u.unit_id)
                 FROM gmp.excursion_unit u WHERE u.excursion_id = x.id), '[]') AS units
FROM gmp.excursion x;
