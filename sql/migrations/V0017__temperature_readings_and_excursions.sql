-- V0017 temperature readings of storage devices, and excursions.
--
--   * A device (a storage_location of kind tank, freezer or shipper, V0016) logs its
--     temperature; `gmp storage readings import` loads a log file as one readings
--     import: a row in gmp.reading_import (audited, with the file's SHA-256, its row
--     count and time span) and its readings in gmp.temperature_reading, in one COPY.
--   * Readings are never changed or deleted, and a device has at most one reading per
--     instant. That is kept by a rule on imports, not by a key on every reading: a
--     device's log is imported in time order, without overlap. Instrument logs are
--     sequential, so the next file of a device starts after the last one ended; a file
--     that overlaps (or precedes) an earlier import of its device would duplicate or
--     interleave readings and is refused whole, naming that import and its span. Within
--     one import, two readings at one instant are refused. So each import row's span
--     [first_at, last_at] holds its readings alone, and a per-reading unique index
--     (which made loading cost about twice a plain copy, docs/benchmarks.md) is not
--     needed.
--   * A reading warmer than the device's limit (max_celsius) opens an excursion, by
--     itself: a run of consecutive out-of-limit readings is one excursion, later
--     out-of-limit readings extend it, and the first reading back within the limit
--     ends it. The excursion lists every unit that was in the device during it
--     (gmp.excursion_unit) and stays open until QA signs an impact assessment.
--   * While an excursion is open, no lot with a unit it affects can be released (the
--     blocker added to gmp_meta.blockers_of below), and shipping asks
--     gmp_meta.open_excursions_of_unit (V0018).

CREATE SEQUENCE gmp_meta.excursion_number;

-- One loaded log file. Its counts are what the file declared; the readings trigger
-- below refuses readings that do not match them, so the row describes its readings.
CREATE TABLE gmp.reading_import (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id      text        NOT NULL REFERENCES gmp.storage_location,
    file_sha256    text        NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    rows           bigint      NOT NULL CHECK (rows > 0),
    first_at       timestamptz NOT NULL,
    last_at        timestamptz NOT NULL,
    -- The transaction that declared the import: only it may add the readings, so an
    -- import, once committed, never takes another reading.
    transaction_id bigint      NOT NULL DEFAULT txid_current(),
    imported_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    imported_by    text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    -- The device's import before this one (NULL: its first), set by the trigger
    -- import_in_time_order below, which refuses an import that does not start after
    -- it ended. Unique per device: the imports of a device form one chain, even if two
    -- transactions raced past the advisory lock with stale snapshots (REPEATABLE READ):
    -- the second to claim the same predecessor is refused by the key, not by a query.
    previous_import_id bigint  REFERENCES gmp.reading_import,
    CHECK (first_at <= last_at),
    CHECK ((rows = 1) = (first_at = last_at)),
    UNIQUE NULLS NOT DISTINCT (device_id, previous_import_id)
);
COMMENT ON TABLE gmp.reading_import IS 'Temperature log files loaded into gmp.temperature_reading: device, SHA-256, count, span; append-only.';
-- Imports of a device follow one another in time: the latest is found by this index.
CREATE INDEX reading_import_device ON gmp.reading_import (device_id, last_at);
SELECT gmp_meta.make_append_only('gmp.reading_import');
SELECT gmp_audit.audit_table('gmp.reading_import', 'id');

-- The readings themselves. Not audited row by row: they are instrument data, written
-- once by the device's logger and never changed (append-only for every role), and a
-- million rows a year per device would swamp the trail. What the trail holds instead
-- is the audited import row with the file's SHA-256 and one event per loading
-- statement (the `audit` trigger below), so every reading is traceable to its file.
-- No foreign keys, no row triggers and no unique key: a year of minute readings loads
-- in seconds, checked set-based by one statement trigger. One reading per device and
-- instant holds by the imports' rule above (time order, no overlap, no duplicate
-- within an import). The only index is a BRIN for queries by device and time: logs
-- arrive in time order, so the table is physically in that order per import, and the
-- BRIN costs next to nothing to keep (docs/benchmarks.md, "Readings import").
CREATE TABLE gmp.temperature_reading (
    import_id bigint        NOT NULL,
    device_id text          COLLATE "C" NOT NULL,
    read_at   timestamptz   NOT NULL,
    celsius   numeric(6, 2) NOT NULL CHECK (celsius >= -273.15)
);
COMMENT ON TABLE gmp.temperature_reading IS 'Temperature readings of storage devices, one per device and instant (imports in time order, without overlap); append-only, loaded by readings imports.';
CREATE INDEX temperature_reading_device_time ON gmp.temperature_reading
    USING brin (device_id, read_at) WITH (autosummarize = on);
SELECT gmp_meta.make_append_only('gmp.temperature_reading');

-- The imports whose readings have arrived: the statement trigger below adds the import
-- here, so a second statement for the same import is refused without looking at the
-- readings. Internal; nobody but the trigger writes it.
CREATE TABLE gmp_meta.loaded_reading_import (
    import_id bigint PRIMARY KEY REFERENCES gmp.reading_import
);
REVOKE ALL ON gmp_meta.loaded_reading_import FROM PUBLIC;

-- Before an import row: its device's log goes on in time order. The import must start
-- after the device's latest import ended; otherwise it is refused whole, naming the
-- earlier import (the first one it overlaps, or the latest when it lies wholly before
-- it) and its span. Imports of one device are serialised by the advisory lock that
-- gmp.begin_readings_import takes (taken here too, for any other way in), so the
-- check sees every committed import of the device (and the unique chain above holds
-- when a snapshot is older than the lock); it reads a few index entries.
CREATE FUNCTION gmp_meta.check_import_in_time_order() RETURNS trigger
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
                USING ERRCODE = 'P0001', HINT = format('import only the readings after %s, or check the file',
                    (SELECT max(i.last_at) FROM gmp.reading_import i WHERE i.device_id = NEW.device_id));
        END IF;
        SELECT * INTO earlier FROM gmp.reading_import i WHERE i.device_id = NEW.device_id
        ORDER BY i.last_at DESC LIMIT 1;
        RAISE EXCEPTION 'readings of % from % to % come before readings import % (% to %): a device''s log is imported in time order, without overlap',
            NEW.device_id, NEW.first_at, NEW.last_at, earlier.id, earlier.first_at, earlier.last_at
            USING ERRCODE = 'P0001', HINT = format('import only the readings after %s, or check the file', earlier.last_at);
    END IF;
    NEW.previous_import_id := (SELECT i.id FROM gmp.reading_import i WHERE i.device_id = NEW.device_id
                               ORDER BY i.last_at DESC LIMIT 1);
    RETURN NEW;
END;
$$;
CREATE TRIGGER import_in_time_order BEFORE INSERT ON gmp.reading_import
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.check_import_in_time_order();
ALTER TABLE gmp.reading_import ENABLE ALWAYS TRIGGER import_in_time_order;

CREATE TABLE gmp.excursion (
    id            text          PRIMARY KEY CHECK (id ~ '^EXC[0-9]{2}-[0-9]{5,}$'),
    device_id     text          NOT NULL REFERENCES gmp.storage_location,
    started_at    timestamptz   NOT NULL,
    -- The first reading back within the limit; NULL while the excursion goes on.
    ended_at      timestamptz   CHECK (ended_at > started_at),
    peak_celsius  numeric(6, 2) NOT NULL,
    limit_celsius numeric       NOT NULL,
    status        text          NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    assessment    text          CHECK (btrim(assessment) <> '' AND length(assessment) <= 4000),
    assessed_by   text          REFERENCES gmp.account,
    assessed_at   timestamptz,
    import_id     bigint        NOT NULL REFERENCES gmp.reading_import,
    opened_at     timestamptz   NOT NULL DEFAULT clock_timestamp(),
    CHECK (peak_celsius > limit_celsius),
    CHECK ((status = 'closed') = (assessment IS NOT NULL AND assessed_by IS NOT NULL AND assessed_at IS NOT NULL)),
    CHECK (status = 'open' OR ended_at IS NOT NULL)
);
COMMENT ON TABLE gmp.excursion IS 'Temperature excursions of storage devices, opened by readings, closed once by a signed QA impact assessment.';
CREATE INDEX excursion_device ON gmp.excursion (device_id, started_at);
SELECT gmp_audit.audit_table('gmp.excursion', 'id');

-- Readings move an open excursion's span and peak; QA's assessment closes it; nothing
-- else changes, and a closed excursion never changes again.
CREATE FUNCTION gmp_meta.guard_excursion() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'excursions are never deleted' USING ERRCODE = 'P0001',
            HINT = 'close it with a signed impact assessment: gmp excursion assess';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'open' THEN
            RAISE EXCEPTION 'an excursion is opened before it is assessed' USING ERRCODE = 'P0001';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION 'excursion % is closed: nothing about it changes', OLD.id USING ERRCODE = 'P0001',
            HINT = 'readings after it open a new excursion';
    END IF;
    IF (to_jsonb(OLD) - '{status,assessment,assessed_by,assessed_at,started_at,ended_at,peak_celsius}'::text[])
       IS DISTINCT FROM (to_jsonb(NEW) - '{status,assessment,assessed_by,assessed_at,started_at,ended_at,peak_celsius}'::text[]) THEN
        RAISE EXCEPTION 'an excursion changes only by its readings and its assessment' USING ERRCODE = 'P0001';
    END IF;
    IF NEW.status = 'closed' AND (NEW.started_at, NEW.ended_at, NEW.peak_celsius)
                                 IS DISTINCT FROM (OLD.started_at, OLD.ended_at, OLD.peak_celsius) THEN
        RAISE EXCEPTION 'an assessment closes excursion % as it stands', OLD.id USING ERRCODE = 'P0001';
    END IF;
    IF NEW.started_at > OLD.started_at OR NEW.peak_celsius < OLD.peak_celsius THEN
        RAISE EXCEPTION 'excursion % only grows with its readings', OLD.id USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER excursion_guard BEFORE INSERT OR UPDATE OR DELETE ON gmp.excursion
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.guard_excursion();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON gmp.excursion FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp.excursion ENABLE ALWAYS TRIGGER excursion_guard, ENABLE ALWAYS TRIGGER no_truncate;

-- Opens, extends and ends the excursions of `device` given what one import has just
-- added. Imports of a device follow one another in time (above), so the readings
-- before them are all older: the only previous state they depend on is the device's
-- excursion still going on (ended_at NULL: every reading since it started was out of
-- limit), and nothing here reads gmp.temperature_reading. The statement trigger
-- passes the import's out-of-limit readings (over_at, over_celsius, sorted by time)
-- and, for its readings within the limit, the first one in each gap between them:
-- gap_back[i] is the first reading back within the limit after over_at[gap_index[i]]
-- (index 0: before over_at[1]), and the gaps without one are left out.
CREATE FUNCTION gmp_meta.track_excursions(device text, device_limit numeric, import bigint,
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
CREATE FUNCTION gmp_meta.check_new_readings() RETURNS trigger
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
            RAISE EXCEPTION 'no storage device %', g.device_id USING ERRCODE = 'P0001',
                HINT = 'gmp storage show lists the devices; add it first with gmp storage add';
        ELSIF g.kind NOT IN ('tank', 'freezer', 'shipper') THEN
            RAISE EXCEPTION '% is a %, not a storage device: only tanks, freezers and shippers have temperature readings',
                g.device_id, g.kind USING ERRCODE = 'P0001';
        ELSIF g.declared IS NULL THEN
            RAISE EXCEPTION 'readings of % belong to no readings import', g.device_id USING ERRCODE = 'P0001',
                HINT = 'load readings with gmp storage readings import FILE';
        ELSIF g.transaction_id <> txid_current() THEN
            RAISE EXCEPTION 'readings import % is complete: it takes no more readings', g.import_id USING ERRCODE = 'P0001',
                HINT = 'load further readings as a new import: gmp storage readings import FILE';
        ELSIF g.import_device <> g.device_id THEN
            RAISE EXCEPTION 'readings import % is for device %, not %', g.import_id, g.import_device, g.device_id
                USING ERRCODE = 'P0001';
        ELSIF g.rows <> g.import_rows OR g.first_at <> g.import_first OR g.last_at <> g.import_last THEN
            RAISE EXCEPTION 'readings import % declared % readings from % to %, but % readings from % to % arrived',
                g.import_id, g.import_rows, g.import_first, g.import_last, g.rows, g.first_at, g.last_at
                USING ERRCODE = 'P0001', HINT = 'an import''s readings are loaded whole, in one statement';
        ELSIF g.instants <> g.rows THEN
            RAISE EXCEPTION 'readings import % has % readings at % instants: a device has one reading per instant',
                g.import_id, g.rows, g.instants USING ERRCODE = 'P0001',
                HINT = 'remove the repeated readings from the file';
        END IF;
        INSERT INTO gmp_meta.loaded_reading_import (import_id) VALUES (g.import_id) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'readings import % has its readings already: it takes no more', g.import_id
                USING ERRCODE = 'P0001', HINT = 'load further readings as a new import: gmp storage readings import FILE';
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
            PERFORM gmp_meta.track_excursions(g.device_id, g.max_celsius, g.import_id, over_at, over_celsius,
                                              gap_index, gap_back);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit AFTER INSERT ON gmp.temperature_reading REFERENCING NEW TABLE AS new_readings
    FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.check_new_readings('import_id');
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON gmp.temperature_reading
    FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp.temperature_reading ENABLE ALWAYS TRIGGER audit, ENABLE ALWAYS TRIGGER audit_no_truncate;

-- At COMMIT: an import got its readings (the statement trigger checked they match).
CREATE FUNCTION gmp_meta.check_import_loaded() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM gmp_meta.loaded_reading_import l WHERE l.import_id = NEW.id) THEN
        RAISE EXCEPTION 'readings import % declared % readings but none were loaded', NEW.id, NEW.rows
            USING ERRCODE = 'P0001', HINT = 'load readings with gmp storage readings import FILE';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER import_loaded AFTER INSERT ON gmp.reading_import
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gmp_meta.check_import_loaded();
ALTER TABLE gmp.reading_import ENABLE ALWAYS TRIGGER import_loaded;

-- Which units were in an excursion's device while it lasted: a unit's holding (V0016,
-- gmp.custody_holding: from its custody event until the next) in the device that
-- overlaps [started_at, ended_at), or runs on while the excursion does.
CREATE VIEW gmp.excursion_unit AS
SELECT x.id AS excursion_id, h.unit_id, u.din, x.status AS excursion_status,
       min(h.since) AS in_device_from, nullif(max(coalesce(h.until, 'infinity')), 'infinity') AS in_device_until
FROM gmp.excursion x
JOIN gmp.custody_holding h ON h.device_id = x.device_id AND h.since < coalesce(x.ended_at, 'infinity')
                          AND coalesce(h.until, 'infinity') > x.started_at
JOIN gmp.unit u ON u.id = h.unit_id
GROUP BY x.id, h.unit_id, u.din, x.status;
COMMENT ON VIEW gmp.excursion_unit IS 'Every unit that was in an excursion''s device while it lasted (in_device_until NULL: still there).';

-- The open excursions that affect a unit, by id; empty when none does. Like the release
-- blocker below, it asks gmp.excursion_unit, the one place that says who was in a device
-- during an excursion.
CREATE FUNCTION gmp_meta.open_excursions_of_unit(unit_id text) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(e.excursion_id ORDER BY e.excursion_id), '{}')
    FROM gmp.excursion_unit e
    WHERE e.unit_id = open_excursions_of_unit.unit_id AND e.excursion_status = 'open'
$$;

-- V0015's blockers of a release, restated with one more: an open excursion that
-- affects any unit of the lot. Everything else is exactly as in V0015.
CREATE OR REPLACE FUNCTION gmp_meta.blockers_of(lot_din text, evaluation jsonb)
RETURNS TABLE (kind text, item text, problem text)
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT 'specification', l.din, 'no specification assigned: gmp spec assign ' || l.din || ' CODE'
    FROM gmp.lot l WHERE l.din = lot_din AND NOT EXISTS (SELECT FROM gmp.lot_specification ls WHERE ls.din = l.din)
    UNION ALL
    SELECT 'criterion', e->>'test', (e->>'verdict') || ': ' || (e->>'name') || ' (' || (e->>'limit_text')
                                    || coalesce(' ' || (e->>'unit'), '') || ')'
    FROM jsonb_array_elements(evaluation) e WHERE e->>'verdict' <> 'pass'
    UNION ALL
    SELECT 'eligibility', l.donor_code,
           CASE WHEN d.outcome IS NULL THEN 'donor ' || l.donor_code || ' has no eligibility determination'
                ELSE 'donor ' || l.donor_code || ' is ' || d.outcome END
    FROM gmp.lot l
    LEFT JOIN LATERAL (SELECT x.outcome FROM gmp.eligibility_determination x
                       WHERE x.collection_id = l.collection_id ORDER BY x.id DESC LIMIT 1) d ON true
    WHERE l.din = lot_din AND d.outcome IS DISTINCT FROM 'eligible' AND d.outcome IS DISTINCT FROM 'exempt'
    UNION ALL
    SELECT 'deviation', d.id, d.kind || ' ' || d.id || ' is open: ' || d.title
    FROM gmp.deviation_lot dl JOIN gmp.deviation d ON d.id = dl.deviation_id
    WHERE dl.din = lot_din AND d.status = 'open'
    UNION ALL
    SELECT 'expiry', l.din, 'expired on ' || l.expires_on
    FROM gmp.lot l WHERE l.din = lot_din AND l.expires_on < (clock_timestamp() AT TIME ZONE 'UTC')::date
    UNION ALL
    SELECT 'excursion', x.id, 'temperature excursion ' || x.id || ' of ' || x.device_id || ' is open (units '
                              || string_agg(e.unit_id, ', ' ORDER BY e.unit_id) || '): gmp excursion assess ' || x.id
    FROM gmp.excursion_unit e JOIN gmp.excursion x ON x.id = e.excursion_id
    WHERE e.din = lot_din AND e.excursion_status = 'open'
    GROUP BY x.id, x.device_id
$$;

-- gmp storage readings import, step 1: declare the file. Imports of one device are
-- taken one at a time (an advisory lock until commit), so the time order of imports
-- is checked, and excursions are tracked, over a consistent series. Step 2 is the COPY into gmp.temperature_reading.
CREATE FUNCTION gmp.begin_readings_import(device_id text, file_sha256 text, rows bigint,
                                          first_at timestamptz, last_at timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    device gmp.storage_location;
    import_id bigint;
BEGIN
    PERFORM gmp_meta.active_person();
    SELECT * INTO device FROM gmp.storage_location l WHERE l.id = begin_readings_import.device_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no storage device %', device_id USING ERRCODE = 'P0002',
            HINT = 'gmp storage show lists the devices';
    ELSIF device.kind NOT IN ('tank', 'freezer', 'shipper') THEN
        RAISE EXCEPTION '% is a %, not a storage device: only tanks, freezers and shippers have temperature readings',
            device.id, device.kind USING ERRCODE = 'P0001';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('gmp.temperature_reading'), hashtext(device.id));
    PERFORM set_config('gmp.reason', 'temperature readings imported', true);
    INSERT INTO gmp.reading_import (device_id, file_sha256, rows, first_at, last_at)
    VALUES (device.id, lower(file_sha256), rows, first_at, last_at)
    RETURNING id INTO import_id;
    RETURN import_id;
END;
$$;

CREATE FUNCTION gmp_meta.require_excursion(excursion_id text) RETURNS gmp.excursion
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_excursion gmp.excursion;
BEGIN
    SELECT * INTO found_excursion FROM gmp.excursion x WHERE x.id = excursion_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no excursion %', excursion_id USING ERRCODE = 'P0002', HINT = 'gmp excursion list shows them';
    END IF;
    RETURN found_excursion;
END;
$$;

-- QA closes an excursion that has ended with its impact assessment, signing
-- (meaning "approved") the closed row.
CREATE FUNCTION gmp.assess_excursion(challenge uuid, excursion_id text, assessment text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    x gmp.excursion;
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.require_excursion(excursion_id);
    SELECT * INTO x FROM gmp.excursion e WHERE e.id = excursion_id FOR UPDATE;
    IF x.status = 'closed' THEN
        RAISE EXCEPTION 'excursion % was assessed by % at %', x.id, x.assessed_by, x.assessed_at USING ERRCODE = 'P0001';
    END IF;
    IF x.ended_at IS NULL THEN
        RAISE EXCEPTION 'excursion % of % is still going on: no reading back within % °C yet', x.id, x.device_id,
            x.limit_celsius USING ERRCODE = 'P0001', HINT = 'import the device''s later readings, then assess it';
    END IF;
    IF assessment IS NULL OR btrim(assessment) = '' THEN
        RAISE EXCEPTION 'closing an excursion needs its impact assessment' USING ERRCODE = 'P0001',
            HINT = 'say what it means for the units, e.g. --assessment "peak -141 °C for 12 min; no impact on viability"';
    END IF;
    PERFORM set_config('gmp.reason', 'excursion assessed', true);
    UPDATE gmp.excursion e SET status = 'closed', assessment = btrim(assess_excursion.assessment),
                               assessed_at = clock_timestamp(), assessed_by = session_user
    WHERE e.id = x.id;
    RETURN gmp_meta.record_signature(challenge, 'approved', 'gmp.excursion', x.id, assessment);
END;
$$;

-- Excursions with the units they affect, for gmp excursion list.
CREATE VIEW gmp.excursion_overview AS
SELECT x.id, x.device_id, x.started_at, x.ended_at, x.peak_celsius, x.limit_celsius, x.status, x.assessment,
       x.assessed_by, x.assessed_at, x.import_id, x.opened_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('unit', u.unit_id, 'din', u.din, 'from', u.in_device_from,
                                                     'until', u.in_device_until) ORDER BY u.unit_id)
                 FROM gmp.excursion_unit u WHERE u.excursion_id = x.id), '[]') AS units
FROM gmp.excursion x;

GRANT SELECT ON gmp.reading_import, gmp.temperature_reading, gmp.excursion, gmp.excursion_unit,
                gmp.excursion_overview TO gmp_person;
-- Loading readings is a COPY straight into the table: a temporary staging table and an
-- INSERT … SELECT by a SECURITY DEFINER function would write every reading twice
-- (docs/benchmarks.md). Every row a person can put there is checked by the statement
-- trigger above, exactly as gmp's own import is; nobody may update or delete one.
GRANT INSERT (import_id, device_id, read_at, celsius) ON gmp.temperature_reading TO gmp_operator, gmp_qc;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp, gmp_meta, gmp_audit FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gmp.begin_readings_import(text, text, bigint, timestamptz, timestamptz) TO gmp_operator, gmp_qc;
GRANT EXECUTE ON FUNCTION gmp.assess_excursion(uuid, text, text) TO gmp_qa;
GRANT EXECUTE ON FUNCTION gmp_meta.open_excursions_of_unit(text) TO gmp_person;
