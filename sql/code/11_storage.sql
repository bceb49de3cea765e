-- storage: Storage locations (site, device, rack, box), positions, occupancy, and the units a
-- lot's fill creates.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- A location fits under its parent (a site holds devices; a device, rack or canister
-- holds racks, canisters and boxes; a box holds positions only), and inherits its
-- device, site and printed path. Nothing about a location changes once recorded.
CREATE OR REPLACE FUNCTION gmp_rules.guard_storage_location() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent gmp.storage_location;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'storage location % is recorded: it is never changed or deleted', OLD.id USING ERRCODE = 'GM004',
            HINT = 'a location taken out of use stays in the record; add a new one for a new layout';
    END IF;
    IF NEW.kind = 'site' THEN
        NEW.site_id := NEW.id;
        NEW.device_id := NULL;
        NEW.path := NEW.id;
        RETURN NEW;
    END IF;
    SELECT * INTO parent FROM gmp.storage_location WHERE id = NEW.parent_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no storage location %', NEW.parent_id USING ERRCODE = 'GM001',
            HINT = 'gmp storage show lists the locations';
    END IF;
    IF (NEW.kind IN ('tank', 'freezer', 'shipper') AND parent.kind <> 'site')
       OR (NEW.kind IN ('rack', 'canister', 'box') AND parent.kind NOT IN ('tank', 'freezer', 'shipper', 'rack', 'canister')) THEN
        RAISE EXCEPTION 'a % cannot be inside a % (%)', NEW.kind, parent.kind, parent.id USING ERRCODE = 'GM002',
            HINT = 'the tree is site › tank, freezer or shipper › rack or canister › box';
    END IF;
    NEW.site_id := parent.site_id;
    NEW.device_id := CASE WHEN NEW.kind IN ('tank', 'freezer', 'shipper') THEN NEW.id ELSE parent.device_id END;
    NEW.path := parent.path || ' › ' || NEW.id;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_location(location_id text) RETURNS gmp.storage_location
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_location gmp.storage_location;
BEGIN
    SELECT * INTO found_location FROM gmp.storage_location s WHERE s.id = upper(btrim(location_id));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no storage location %', location_id USING ERRCODE = 'GM001',
            HINT = 'gmp storage show lists the locations';
    END IF;
    RETURN found_location;
END;
$$;

-- A position as people write it: row letter, column number (C7).
CREATE OR REPLACE FUNCTION gmp_rules.position_label(box_row integer, box_column integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT chr(64 + box_row) || box_column::text $$;

CREATE OR REPLACE FUNCTION gmp_rules.create_units(fill gmp.manufacturing_step) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO gmp.unit (id, din, division, container, volume_ml, state, created_at)
    SELECT fill.din || '-' || lpad(n::text, 3, '0'), fill.din, n,
           CASE WHEN fill.unit_volume_ml <= 10 THEN 'vial' ELSE 'bag' END, fill.unit_volume_ml, 'in_hand', fill.performed_at
    FROM generate_series(1, fill.units) n;
    IF coalesce(current_setting('gmp.reason', true), '') = '' THEN
        PERFORM set_config('gmp.reason', 'units filled', true);
    END IF;
    INSERT INTO gmp.custody_event (unit_id, at, action, state, holder_person, reason, recorded_by)
    SELECT fill.din || '-' || lpad(n::text, 3, '0'), least(fill.performed_at, clock_timestamp()), 'filled', 'in_hand',
           fill.performed_by, 'filled', fill.performed_by
    FROM generate_series(1, fill.units) n;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.units_from_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'fill' THEN
        IF NEW.units > 999 THEN
            RAISE EXCEPTION 'a fill of % units is more than the 999 divisions a lot can number', NEW.units
                USING ERRCODE = 'GM002', HINT = 'split the fill across lots';
        END IF;
        PERFORM gmp_rules.create_units(NEW);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_unit(unit_id text) RETURNS gmp.unit
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_unit gmp.unit;
BEGIN
    SELECT * INTO found_unit FROM gmp.unit u WHERE u.id = unit_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no unit %', unit_id USING ERRCODE = 'GM001', HINT = 'gmp storage find LOT lists a lot''s units';
    END IF;
    RETURN found_unit;
END;
$$;

-- Capacity and use of every device under a location (or the device itself): positions
-- from box layouts, occupied ones from the current holders. Two index scans per
-- device whatever the number of positions. Plain SQL over tables every person may
-- read, so the planner inlines it; an unknown location gives no rows (the caller says
-- so), which keeps a procedural existence check out of a cold start.
CREATE OR REPLACE FUNCTION gmp.storage_occupancy(location_id text)
RETURNS TABLE (device_id text, kind text, path text, max_celsius numeric, boxes bigint, positions bigint, occupied bigint)
LANGUAGE sql STABLE AS $$
    SELECT d.id, d.kind, d.path, d.max_celsius, b.boxes, b.positions,
           (SELECT count(*) FROM gmp.unit u WHERE u.device_id = d.id AND u.state = 'stored')
    FROM gmp.storage_location root
    JOIN gmp.storage_location d ON d.kind IN ('tank', 'freezer', 'shipper')
                               AND (d.id = root.id OR d.site_id = root.id OR d.id = root.device_id)
    CROSS JOIN LATERAL (SELECT count(*) AS boxes, coalesce(sum(x.rows * x.columns), 0) AS positions
                        FROM gmp.storage_location x WHERE x.device_id = d.id AND x.kind = 'box') b
    WHERE root.id = upper(btrim(location_id))
    ORDER BY d.id
$$;

CREATE OR REPLACE FUNCTION gmp.add_location(id text, kind text, parent_id text, name text, max_celsius numeric,
                                 holds text[], rows integer, columns integer) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_finite(max_celsius, 'the temperature limit');
    PERFORM set_config('gmp.reason', 'storage location added', true);
    INSERT INTO gmp.storage_location (id, kind, parent_id, name, max_celsius, holds, rows, columns)
    VALUES (upper(btrim(id)), kind, upper(btrim(parent_id)), nullif(btrim(name), ''), max_celsius, holds, rows, columns);
    RETURN upper(btrim(id));
END;
$$;
