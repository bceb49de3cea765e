-- readings: Temperature readings imports and the excursions they open, closed by a signed QA
-- impact assessment.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- Before an import row: its device's log goes on in time order. The import must start
-- after the device's latest import ended; otherwise it is refused whole, naming the
-- earlier import (the first one it overlaps, or the latest when it lies wholly before
-- it) and its span. Imports of one device are serialised by the advisory lock that
-- gmp.begin_readings_import takes (taken here too, for any other way in), so the
-- check sees every committed import of the device (and the unique chain above holds
-- when a snapshot is older than the lock); it reads a few index entries.
CREATE OR REPLACE FUNCTION gmp_rules.check_import_in_time_order() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    earlier gmp.reading_import;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('gmp.temperature_reading'), hashtext(NEW.device_id));
    SELECT * INTO earlier FROM gmp.reading_import i
    WHERE i.device_id = NEW.device_id AND i.last_at >= NEW.first_at
    ORDER BY i.last_at LIMIT 1;
    IF FOUND THEN
        IF earlier.first_at <= NEW.last_at THEN
            RAISE EXCEPTION 'readings of % from % to % overlap readings import % (% to %): a device''s log is imported in time order, without overlap',
                NEW.device_id, NEW.first_at, NEW.last_at, earlier.id, earlier.first_at, earlier.last_at
                USING ERRCODE = 'GM003', HINT = format('import only the readings after %s, or check the file',
                    (SELECT max(i.last_at) FROM gmp.reading_import i WHERE i.device_id = NEW.device_id));
        END IF;
        SELECT * INTO earlier FROM gmp.reading_import i WHERE i.device_id = NEW.device_id
        ORDER BY i.last_at DESC LIMIT 1;
        RAISE EXCEPTION 'readings of % from % to % come before readings import % (% to %): a device''s log is imported in time order, without overlap',
            NEW.device_id, NEW.first_at, NEW.last_at, earlier.id, earlier.first_at, earlier.last_at
            USING ERRCODE = 'GM003', HINT = format('import only the readings after %s, or check the file', earlier.last_at);
    END IF;
    NEW.previous_import_id := (SELECT i.id FROM gmp.reading_import i WHERE i.device_id = NEW.device_id
                               ORDER BY i.last_at DESC LIMIT 1);
    RETURN NEW;
END;
$$;

-- Readings move an open excursion's span and peak; QA's assessment closes it; nothing
-- else changes, and a closed excursion never changes again.
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
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION 'excursion % is closed: nothing about it changes', OLD.id USING ERRCODE = 'GM004',
            HINT = 'readings after it open a new excursion';
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
-- excursion still going on (ended_at NULL: every reading since it started was out of
-- limit), and nothing here reads gmp.temperature_reading. The statement trigger
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
    FOR e IN SELECT * FROM gmp.excursion x WHERE x.device_id = device AND x.ended_at IS NULL FOR UPDATE LOOP
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
        ongoing := EXISTS (SELECT FROM gmp.excursion x WHERE x.device_id = g.device_id AND x.ended_at IS NULL);
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
-- taken one at a time (an advisory lock until commit), so the time order of imports
-- is checked, and excursions are tracked, over a consistent series. Step 2 is the COPY into gmp.temperature_reading.
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
    PERFORM pg_advisory_xact_lock(hashtext('gmp.temperature_reading'), hashtext(device.id));
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

-- Excursions with the units they affect, for gmp excursion list.
CREATE OR REPLACE VIEW gmp.excursion_overview AS
SELECT x.id, x.device_id, x.started_at, x.ended_at, x.peak_celsius, x.limit_celsius, x.status, x.assessment,
       x.assessed_by, x.assessed_at, x.import_id, x.opened_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('unit', u.unit_id, 'din', u.din, 'from', u.in_device_from,
                                                     'until', u.in_device_until) ORDER BY u.unit_id)
                 FROM gmp.excursion_unit u WHERE u.excursion_id = x.id), '[]') AS units
FROM gmp.excursion x;
