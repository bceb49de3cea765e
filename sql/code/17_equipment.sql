-- equipment: The equipment register (biosafety cabinets, incubators, centrifuges, cell
-- counters, flow cytometers, controlled-rate freezers, storage devices), its signed status
-- changes, calibrations and maintenance, its use by manufacturing steps and QC results,
-- and the deviations a calibration found out of tolerance opens on the lots it touched.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

CREATE OR REPLACE FUNCTION gmp_rules.require_equipment(equipment_id text) RETURNS gmp.equipment
LANGUAGE plpgsql STABLE AS $$
DECLARE
    e gmp.equipment;
BEGIN
    SELECT * INTO e FROM gmp.equipment x WHERE x.id = equipment_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no equipment %', equipment_id USING ERRCODE = 'GM001',
            HINT = 'gmp equipment list shows the equipment';
    END IF;
    RETURN e;
END;
$$;

-- Equipment is registered in service; a storage device is a tank, freezer or shipper of
-- gmp storage. Afterwards only its status changes (with a signed record, checked at
-- COMMIT); it is never deleted. Whoever writes, a superuser included.
CREATE OR REPLACE FUNCTION gmp_rules.guard_equipment() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    device_kind text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'equipment is never deleted' USING ERRCODE = 'GM004',
            HINT = 'take it out of service instead (gmp equipment status ID out-of-service)';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'in_service' THEN
            RAISE EXCEPTION 'equipment is registered in service' USING ERRCODE = 'GM003',
                HINT = 'take it out of service afterwards, signed (gmp equipment status)';
        END IF;
        IF NEW.storage_device_id IS NOT NULL THEN
            SELECT l.kind INTO device_kind FROM gmp.storage_location l WHERE l.id = NEW.storage_device_id;
            IF device_kind IS NULL THEN
                RAISE EXCEPTION 'no storage device %', NEW.storage_device_id USING ERRCODE = 'GM001',
                    HINT = 'gmp storage show lists the devices';
            ELSIF device_kind NOT IN ('tank', 'freezer', 'shipper') THEN
                RAISE EXCEPTION '% is a %, not a storage device (tank, freezer or shipper)', NEW.storage_device_id,
                    device_kind USING ERRCODE = 'GM002';
            END IF;
        END IF;
        NEW.registered_at := clock_timestamp();
        NEW.registered_by := session_user;
        RETURN NEW;
    END IF;
    IF (to_jsonb(OLD) - 'status') IS DISTINCT FROM (to_jsonb(NEW) - 'status') THEN
        RAISE EXCEPTION 'equipment % is registered; only its status changes, through gmp', OLD.id USING ERRCODE = 'GM004',
            HINT = 'register a new entry for a changed instrument';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER equipment_guard BEFORE INSERT OR UPDATE OR DELETE ON gmp.equipment
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.guard_equipment();
ALTER TABLE gmp.equipment ENABLE ALWAYS TRIGGER equipment_guard;

-- At COMMIT, whoever wrote it: an equipment's status is the one its latest status change
-- says, and that change is signed intact ("approved") by who made it.
CREATE OR REPLACE FUNCTION gmp_rules.check_equipment_status() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e gmp.equipment;
    c gmp.equipment_status_change;
BEGIN
    SELECT * INTO STRICT e FROM gmp.equipment WHERE id = NEW.equipment_id;
    SELECT * INTO c FROM gmp.equipment_status_change x WHERE x.equipment_id = e.id ORDER BY x.id DESC LIMIT 1;
    IF c.status IS DISTINCT FROM e.status THEN
        RAISE EXCEPTION 'equipment % is % but its latest status change says %', e.id, e.status, coalesce(c.status, 'none')
            USING ERRCODE = 'GM003', HINT = 'use gmp equipment status';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp.signature s WHERE s.record_table = 'gmp.equipment_status_change'
                   AND s.record_key = c.id::text AND s.signer = c.changed_by AND s.meaning = 'approved'
                   AND gmp_rules.signature_intact(s.id)) THEN
        RAISE EXCEPTION 'the status change % of equipment % needs its signature', c.id, e.id
            USING ERRCODE = 'insufficient_privilege', HINT = 'use gmp equipment status, which signs it';
    END IF;
    RETURN NULL;
END;
$$;

-- The same check, when the status itself is written (NEW is the equipment row then).
CREATE OR REPLACE FUNCTION gmp_rules.check_equipment_status_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c gmp.equipment_status_change;
BEGIN
    SELECT * INTO c FROM gmp.equipment_status_change x WHERE x.equipment_id = NEW.id ORDER BY x.id DESC LIMIT 1;
    IF c.status IS DISTINCT FROM (SELECT e.status FROM gmp.equipment e WHERE e.id = NEW.id) THEN
        RAISE EXCEPTION 'equipment % changed status without a signed status change', NEW.id
            USING ERRCODE = 'insufficient_privilege', HINT = 'use gmp equipment status, which signs it';
    END IF;
    RETURN NULL;
END;
$$;
SELECT gmp_meta.bind_commit_check('gmp.equipment_status_change', 'equipment_status_change_signed', 'INSERT', 'gmp_rules.check_equipment_status');
SELECT gmp_meta.bind_commit_check('gmp.equipment', 'equipment_status_needs_change', 'UPDATE OF status', 'gmp_rules.check_equipment_status_row');

-- A calibration or maintenance record, whoever inserts: of registered equipment, not in
-- the future, after the equipment's previous record of the kind, due no later than the
-- equipment's interval allows. Its performer signs it (checked at COMMIT).
CREATE OR REPLACE FUNCTION gmp_rules.guard_equipment_service() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    e        gmp.equipment;
    interval_days integer;
    previous timestamptz;
BEGIN
    SELECT * INTO e FROM gmp.equipment x WHERE x.id = NEW.equipment_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no equipment %', NEW.equipment_id USING ERRCODE = 'GM001',
            HINT = 'gmp equipment list shows the equipment';
    END IF;
    IF NEW.performed_at IS NULL OR NEW.performed_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'the % of % cannot be recorded as performed at %', NEW.kind, e.id, coalesce(NEW.performed_at::text, 'no time')
            USING ERRCODE = 'GM002', HINT = 'give the time it was performed (ISO 8601), not in the future';
    END IF;
    SELECT max(s.performed_at) INTO previous FROM gmp.equipment_service s WHERE s.equipment_id = e.id AND s.kind = NEW.kind;
    IF previous >= NEW.performed_at THEN
        RAISE EXCEPTION 'equipment % has a % performed at %, not before this one at %', e.id, NEW.kind, previous, NEW.performed_at
            USING ERRCODE = 'GM003', HINT = 'records of a kind follow one another in time; record the latest one only';
    END IF;
    interval_days := CASE NEW.kind WHEN 'calibration' THEN e.calibration_interval_days ELSE e.maintenance_interval_days END;
    IF NEW.due_at IS NULL AND interval_days IS NULL THEN
        RAISE EXCEPTION 'equipment % has no % interval: give the date the next one is due', e.id, NEW.kind
            USING ERRCODE = 'GM002', HINT = 'give --due YYYY-MM-DD';
    END IF;
    NEW.due_at := coalesce(NEW.due_at, NEW.performed_at + make_interval(days => interval_days));
    IF NEW.due_at <= NEW.performed_at THEN
        RAISE EXCEPTION 'the next % of % cannot be due at %, before this one at %', NEW.kind, e.id, NEW.due_at,
            NEW.performed_at USING ERRCODE = 'GM002', HINT = 'give a --due after --at, or leave it out for the interval';
    END IF;
    IF interval_days IS NOT NULL AND NEW.due_at > NEW.performed_at + make_interval(days => interval_days) THEN
        RAISE EXCEPTION 'the next % of % is due within % day(s) of this one, not at %', NEW.kind, e.id, interval_days, NEW.due_at
            USING ERRCODE = 'GM002', HINT = 'leave --due out: it is the interval from the date performed';
    END IF;
    NEW.recorded_at := clock_timestamp();
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER equipment_service_guard BEFORE INSERT ON gmp.equipment_service
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.guard_equipment_service();
ALTER TABLE gmp.equipment_service ENABLE ALWAYS TRIGGER equipment_service_guard;

-- At COMMIT, whoever wrote it: a calibration or maintenance record is signed intact
-- ("performed") by the person who did it.
CREATE OR REPLACE FUNCTION gmp_rules.check_equipment_service_signed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM gmp.signature s WHERE s.record_table = 'gmp.equipment_service'
                   AND s.record_key = NEW.id::text AND s.signer = NEW.performed_by AND s.meaning = 'performed') THEN
        RAISE EXCEPTION 'the % % of equipment % needs the signature of who performed it', NEW.kind, NEW.id, NEW.equipment_id
            USING ERRCODE = 'insufficient_privilege', HINT = 'use gmp equipment calibrate|maintain, which signs it';
    END IF;
    RETURN NULL;
END;
$$;
SELECT gmp_meta.bind_commit_check('gmp.equipment_service', 'equipment_service_signed', 'INSERT', 'gmp_rules.check_equipment_service_signed');

-- An equipment's status at a time: its latest status change by then, else in service.
CREATE OR REPLACE FUNCTION gmp_rules.equipment_status_at(e gmp.equipment, at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT c.status FROM gmp.equipment_status_change c
                     WHERE c.equipment_id = e.id AND c.changed_at <= at ORDER BY c.changed_at DESC, c.id DESC LIMIT 1),
                    'in_service')
$$;

-- Why equipment may not be used at `used_at`, or NULL when it may: out of service then;
-- never calibrated or maintained by then although it has the interval; left out of
-- tolerance by its latest calibration, or past the due date of its latest record, whether
-- that date came from the interval or was given (--due) for equipment without one (issue
-- 14: a recorded due date is a due date); or its next calibration after `used_at` found it
-- out of tolerance.
CREATE OR REPLACE FUNCTION gmp_rules.equipment_unusable(e gmp.equipment, used_at timestamptz) RETURNS text
LANGUAGE plpgsql STABLE SET TimeZone = 'UTC' AS $$
DECLARE
    s gmp.equipment_service;
    record_kind text;
BEGIN
    IF gmp_rules.equipment_status_at(e, used_at) = 'out_of_service' THEN
        RETURN format('equipment %s was out of service at %s', e.id, used_at);
    END IF;
    FOREACH record_kind IN ARRAY ARRAY['calibration', 'maintenance'] LOOP
        SELECT * INTO s FROM gmp.equipment_service x
        WHERE x.equipment_id = e.id AND x.kind = record_kind AND x.performed_at <= used_at
        ORDER BY x.performed_at DESC LIMIT 1;
        IF NOT FOUND THEN
            -- Without an interval the record is not required; with one it is.
            CONTINUE WHEN (CASE record_kind WHEN 'calibration' THEN e.calibration_interval_days
                                     ELSE e.maintenance_interval_days END) IS NULL;
            RETURN format('equipment %s had no %s recorded by %s', e.id, record_kind, used_at);
        ELSIF s.as_left = 'out_of_tolerance' THEN
            RETURN format('equipment %s was left out of tolerance by its calibration of %s', e.id, s.performed_at);
        ELSIF s.due_at < used_at THEN
            RETURN format('equipment %s: its %s was overdue at %s (due %s)', e.id, record_kind, used_at, s.due_at);
        END IF;
    END LOOP;
    -- A use recorded late, back-dated into a span a later calibration already found out
    -- of tolerance: that calibration's deviations were opened without it.
    SELECT * INTO s FROM gmp.equipment_service x
    WHERE x.equipment_id = e.id AND x.kind = 'calibration' AND x.performed_at >= used_at
    ORDER BY x.performed_at LIMIT 1;
    IF FOUND AND s.as_found = 'out_of_tolerance' THEN
        RETURN format('equipment %s was found out of tolerance by its calibration of %s, after %s', e.id, s.performed_at,
                      used_at);
    END IF;
    RETURN NULL;
END;
$$;

-- Every use of equipment, whoever inserts: its lot and time come from the step or result
-- itself, and the equipment was fit for use then. The equipment is locked FOR SHARE, so
-- a status change or a calibration committing meanwhile waits for this record (and an
-- out-of-tolerance calibration then finds it).
CREATE OR REPLACE FUNCTION gmp_rules.check_equipment_use() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    e        gmp.equipment;
    used     record;
    l        gmp.lot;
    unusable text;
BEGIN
    SELECT u.lot, u.used_at INTO used FROM gmp_rules.use_by_step_or_result(NEW.step_id, NEW.result_id, 'use of equipment') u;
    l := used.lot;
    NEW.din := l.din;
    NEW.used_at := used.used_at;
    SELECT * INTO e FROM gmp.equipment x WHERE x.id = NEW.equipment_id FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no equipment %', NEW.equipment_id USING ERRCODE = 'GM001',
            HINT = 'gmp equipment list shows the equipment';
    END IF;
    unusable := gmp_rules.equipment_unusable(e, NEW.used_at);
    IF unusable IS NOT NULL THEN
        RAISE EXCEPTION '%: it cannot be used in lot %', unusable, l.din USING ERRCODE = 'GM006',
            HINT = 'use equipment in service and in date (gmp equipment list), or calibrate or maintain it first';
    END IF;
    NEW.recorded_by := session_user;
    NEW.recorded_at := clock_timestamp();
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER equipment_use_rules BEFORE INSERT ON gmp.equipment_use
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_equipment_use();
ALTER TABLE gmp.equipment_use ENABLE ALWAYS TRIGGER equipment_use_rules;

-- The uses a calibration found out of tolerance calls into question: every step and QC
-- result on the equipment since its last good calibration before this one (left in
-- tolerance), up to this one; all of them when there was none.
CREATE OR REPLACE FUNCTION gmp_rules.calibration_affected_uses(service_id bigint) RETURNS SETOF gmp.equipment_use
LANGUAGE sql STABLE AS $$
    SELECT u.* FROM gmp.equipment_service s
    JOIN gmp.equipment_use u ON u.equipment_id = s.equipment_id AND u.used_at <= s.performed_at
     AND u.used_at >= coalesce((SELECT max(g.performed_at) FROM gmp.equipment_service g
                                WHERE g.equipment_id = s.equipment_id AND g.kind = 'calibration'
                                  AND g.as_left = 'in_tolerance' AND g.performed_at < s.performed_at), '-infinity')
    WHERE s.id = service_id AND s.kind = 'calibration' AND s.as_found = 'out_of_tolerance'
$$;

-- The lots those uses belong to, and every lot made from them (`via`: the lot it was made
-- from; NULL for a lot that used the equipment itself).
CREATE OR REPLACE FUNCTION gmp_rules.calibration_affected_lots(service_id bigint)
RETURNS TABLE (din text, via text, status text)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE reached AS (
        SELECT DISTINCT u.din, NULL::text AS via FROM gmp_rules.calibration_affected_uses(service_id) u
        UNION
        SELECT l.din, reached.din FROM gmp.lot l JOIN reached ON l.parent_din = reached.din)
    SELECT r.din, min(r.via), l.status FROM reached r JOIN gmp.lot l ON l.din = r.din
    GROUP BY r.din, l.status ORDER BY r.din
$$;

-- After a calibration found out of tolerance, in its transaction, whoever inserts it:
-- a deviation on each affected lot whose record is still open (quarantine or on hold),
-- kept in gmp.equipment_deviation. An open deviation blocks the lot's release
-- (gmp_rules.blockers_of), until QA closes it with the impact assessment.
-- A released or rejected lot takes no deviation; the calibration's document lists it.
CREATE OR REPLACE FUNCTION gmp_rules.open_equipment_deviations() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    deviation text;
BEGIN
    FOR a IN SELECT * FROM gmp_rules.calibration_affected_lots(NEW.id) x WHERE x.status IN ('quarantine', 'on_hold') LOOP
        deviation := gmp_rules.open_deviation('deviation',
            format('equipment %s found out of tolerance', NEW.equipment_id),
            format('calibration %s of %s at %s found it out of tolerance (left %s); lot %s %s since its last good calibration: '
                   'assess the impact on the lot', NEW.id, NEW.equipment_id, NEW.performed_at, replace(NEW.as_left, '_', ' '),
                   a.din, CASE WHEN a.via IS NULL THEN 'used it' ELSE 'was made from lot ' || a.via || ', which used it' END),
            ARRAY[a.din]);
        INSERT INTO gmp.equipment_deviation (service_id, din, deviation_id) VALUES (NEW.id, a.din, deviation);
    END LOOP;
    RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER equipment_out_of_tolerance AFTER INSERT ON gmp.equipment_service
    FOR EACH ROW WHEN (NEW.as_found = 'out_of_tolerance') EXECUTE FUNCTION gmp_rules.open_equipment_deviations();
ALTER TABLE gmp.equipment_service ENABLE ALWAYS TRIGGER equipment_out_of_tolerance;

CREATE OR REPLACE FUNCTION gmp.register_equipment(equipment_id text, kind text, name text, storage_device_id text,
                                                  calibration_interval_days integer, maintenance_interval_days integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    IF NOT EXISTS (SELECT FROM gmp_meta.equipment_kind k WHERE k.kind = register_equipment.kind) THEN
        RAISE EXCEPTION 'unknown equipment kind %', kind USING ERRCODE = 'GM002',
            HINT = (SELECT 'kinds: ' || string_agg(k.kind, ', ' ORDER BY k.kind) FROM gmp_meta.equipment_kind k);
    END IF;
    IF EXISTS (SELECT FROM gmp.equipment e WHERE e.id = equipment_id) THEN
        RAISE EXCEPTION 'equipment % is registered', equipment_id USING ERRCODE = 'GM003',
            HINT = 'gmp equipment show ' || equipment_id;
    END IF;
    IF NOT (calibration_interval_days BETWEEN 1 AND 3660) OR NOT (maintenance_interval_days BETWEEN 1 AND 3660) THEN
        RAISE EXCEPTION 'an interval is 1 to 3660 days, not % (calibration) or % (maintenance)',
            coalesce(calibration_interval_days::text, 'none'), coalesce(maintenance_interval_days::text, 'none')
            USING ERRCODE = 'GM002', HINT = 'give 1 to 3660 days, or none when that record is not required';
    END IF;
    IF kind <> 'storage_device' AND storage_device_id IS NOT NULL THEN
        RAISE EXCEPTION 'only a storage device names a storage location' USING ERRCODE = 'GM002';
    END IF;
    PERFORM set_config('gmp.reason', 'equipment registered', true);
    INSERT INTO gmp.equipment (id, kind, name, storage_device_id, calibration_interval_days, maintenance_interval_days)
    VALUES (equipment_id, kind, btrim(name),
            CASE WHEN kind = 'storage_device' THEN coalesce(storage_device_id, equipment_id) END,
            calibration_interval_days, maintenance_interval_days);
END;
$$;

-- Takes equipment out of service or returns it, with the reason, signing ("approved")
-- the status change row.
CREATE OR REPLACE FUNCTION gmp_rules.change_equipment_status(challenge uuid, equipment_id text, status text, reason text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    e  gmp.equipment := gmp_rules.require_equipment(equipment_id);
    id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT * INTO e FROM gmp.equipment x WHERE x.id = e.id FOR UPDATE;
    IF e.status = status THEN
        RAISE EXCEPTION 'equipment % is already %', e.id, replace(status, '_', ' ') USING ERRCODE = 'GM003';
    END IF;
    PERFORM gmp_rules.give_reason(reason);
    INSERT INTO gmp.equipment_status_change (equipment_id, status, reason) VALUES (e.id, status, btrim(reason))
    RETURNING equipment_status_change.id INTO id;
    UPDATE gmp.equipment x SET status = change_equipment_status.status WHERE x.id = e.id;
    RETURN gmp_rules.record_signature(challenge, 'approved', 'gmp.equipment_status_change', id::text, reason);
END;
$$;

-- Anyone who works with it takes equipment out of service (a fault, a failed check).
CREATE OR REPLACE FUNCTION gmp.take_equipment_out_of_service(challenge uuid, equipment_id text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    RETURN gmp_rules.change_equipment_status(challenge, equipment_id, 'out_of_service', reason);
END;
$$;

-- QA returns it to service.
CREATE OR REPLACE FUNCTION gmp.return_equipment_to_service(challenge uuid, equipment_id text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    RETURN gmp_rules.change_equipment_status(challenge, equipment_id, 'in_service', reason);
END;
$$;

-- Records a calibration (as found, as left) or a maintenance, signed "performed" by the
-- person who did it; returns the record's id. A calibration found out of tolerance opens
-- its deviations in this transaction (gmp_rules.open_equipment_deviations).
CREATE OR REPLACE FUNCTION gmp.record_equipment_service(challenge uuid, equipment_id text, kind text,
                                                        performed_at timestamptz, due_at timestamptz, as_found text,
                                                        as_left text, reference text, note text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    e  gmp.equipment := gmp_rules.require_equipment(equipment_id);
    id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    IF kind IS NULL OR kind NOT IN ('calibration', 'maintenance') THEN
        RAISE EXCEPTION 'unknown kind of equipment record %', kind USING ERRCODE = 'GM002',
            HINT = 'calibration or maintenance';
    END IF;
    IF kind = 'calibration' AND (as_found IS NULL OR as_left IS NULL
                                 OR NOT (ARRAY[as_found, as_left] <@ ARRAY['in_tolerance', 'out_of_tolerance'])) THEN
        RAISE EXCEPTION 'a calibration says how it was found and left: in_tolerance or out_of_tolerance' USING ERRCODE = 'GM002',
            HINT = 'give --as-found and --as-left';
    END IF;
    IF kind = 'maintenance' AND num_nonnulls(as_found, as_left) > 0 THEN
        RAISE EXCEPTION 'as found / as left belong to a calibration' USING ERRCODE = 'GM002';
    END IF;
    PERFORM set_config('gmp.reason', CASE WHEN as_found = 'out_of_tolerance'
                                          THEN 'calibration found out of tolerance' ELSE kind || ' recorded' END, true);
    INSERT INTO gmp.equipment_service (equipment_id, kind, performed_at, due_at, as_found, as_left, reference, note)
    VALUES (e.id, kind, coalesce(performed_at, clock_timestamp()), due_at, as_found, as_left,
            nullif(btrim(reference), ''), nullif(btrim(note), ''))
    RETURNING equipment_service.id INTO id;
    PERFORM gmp_rules.record_signature(challenge, 'performed', 'gmp.equipment_service', id::text, note);
    RETURN id;
END;
$$;

-- The equipment a step or QC result used; called in the same transaction as
-- gmp.record_step or gmp.record_result. Exactly one of step_id and result_id.
CREATE OR REPLACE FUNCTION gmp.record_equipment_use(equipment_id text, step_id bigint, result_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_equipment(equipment_id);
    PERFORM set_config('gmp.reason', 'equipment used', true);
    INSERT INTO gmp.equipment_use (equipment_id, step_id, result_id, din, used_at)
    VALUES (equipment_id, step_id, result_id, '', '-infinity')  -- din, used_at: set by the rule
    RETURNING equipment_use.id INTO id;
    RETURN id;
END;
$$;

-- Equipment with when its next calibration and maintenance are due and whether it may
-- be used now: gmp equipment list.
CREATE OR REPLACE VIEW gmp.equipment_overview AS
SELECT e.id, e.kind, e.name, e.storage_device_id, e.status, e.calibration_interval_days, e.maintenance_interval_days,
       (SELECT s.due_at FROM gmp.equipment_service s WHERE s.equipment_id = e.id AND s.kind = 'calibration'
        ORDER BY s.performed_at DESC LIMIT 1) AS calibration_due_at,
       (SELECT s.due_at FROM gmp.equipment_service s WHERE s.equipment_id = e.id AND s.kind = 'maintenance'
        ORDER BY s.performed_at DESC LIMIT 1) AS maintenance_due_at,
       gmp_rules.equipment_unusable(e, clock_timestamp()) AS unusable_now
FROM gmp.equipment e;

CREATE OR REPLACE FUNCTION gmp_rules.equipment_use_document(u gmp.equipment_use) RETURNS jsonb
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT jsonb_build_object('id', u.id, 'equipment', u.equipment_id, 'lot', u.din, 'used_at', u.used_at,
                              'step_id', u.step_id, 'step', (SELECT s.kind FROM gmp.manufacturing_step s WHERE s.id = u.step_id),
                              'result_id', u.result_id, 'test', (SELECT r.test FROM gmp.qc_result r WHERE r.id = u.result_id),
                              'recorded_by', u.recorded_by)
$$;

-- One calibration or maintenance record, with its signature; a calibration found out of
-- tolerance adds the uses and lots it calls into question and the deviations it opened.
CREATE OR REPLACE FUNCTION gmp_rules.equipment_service_document(s gmp.equipment_service) RETURNS jsonb
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT jsonb_build_object(
        'id', s.id, 'equipment', s.equipment_id, 'kind', s.kind, 'performed_at', s.performed_at,
        'performed_by', s.performed_by, 'due_at', s.due_at, 'as_found', s.as_found, 'as_left', s.as_left,
        'reference', s.reference, 'note', s.note, 'signature_id', g.id, 'printed_name', g.printed_name,
        'signature_intact', gmp_rules.signature_intact(g.id))
        || CASE WHEN s.as_found = 'out_of_tolerance' THEN jsonb_build_object(
               'affected_uses', coalesce((SELECT jsonb_agg(gmp_rules.equipment_use_document(u) ORDER BY u.used_at, u.id)
                                          FROM gmp_rules.calibration_affected_uses(s.id) u), '[]'),
               'affected_lots', coalesce((SELECT jsonb_agg(jsonb_build_object('din', a.din, 'via', a.via, 'status', a.status,
                                                                             'deviation', d.deviation_id) ORDER BY a.din)
                                          FROM gmp_rules.calibration_affected_lots(s.id) a
                                          LEFT JOIN gmp.equipment_deviation d ON d.service_id = s.id AND d.din = a.din), '[]'))
           ELSE '{}' END
    FROM (SELECT 1) one
    LEFT JOIN gmp.signature g ON g.record_table = 'gmp.equipment_service' AND g.record_key = s.id::text
$$;

CREATE OR REPLACE FUNCTION gmp.equipment_service_document(service_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    s gmp.equipment_service;
BEGIN
    SELECT * INTO s FROM gmp.equipment_service x WHERE x.id = service_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no calibration or maintenance record %', service_id USING ERRCODE = 'GM001',
            HINT = 'gmp equipment show ID lists them';
    END IF;
    RETURN gmp_rules.equipment_service_document(s);
END;
$$;

-- One piece of equipment: its register entry, status and its changes, calibrations and
-- maintenance, and every step and QC result that used it.
CREATE OR REPLACE FUNCTION gmp.equipment_document(equipment_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    e gmp.equipment := gmp_rules.require_equipment(equipment_id);
BEGIN
    RETURN (SELECT jsonb_build_object(
        'id', e.id, 'kind', e.kind, 'name', e.name, 'storage_device', e.storage_device_id, 'status', e.status,
        'calibration_interval_days', e.calibration_interval_days,
        'maintenance_interval_days', e.maintenance_interval_days,
        'registered_at', e.registered_at, 'registered_by', e.registered_by,
        'calibration_due_at', o.calibration_due_at, 'maintenance_due_at', o.maintenance_due_at,
        'usable_now', o.unusable_now IS NULL, 'unusable_because', o.unusable_now,
        'status_changes', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                        'id', c.id, 'status', c.status, 'reason', c.reason, 'changed_by', c.changed_by,
                                        'changed_at', c.changed_at, 'signature_id', g.id,
                                        'signature_intact', gmp_rules.signature_intact(g.id)) ORDER BY c.id)
                                    FROM gmp.equipment_status_change c
                                    LEFT JOIN gmp.signature g ON g.record_table = 'gmp.equipment_status_change'
                                                             AND g.record_key = c.id::text
                                    WHERE c.equipment_id = e.id), '[]'),
        'services', coalesce((SELECT jsonb_agg(gmp_rules.equipment_service_document(s) ORDER BY s.performed_at, s.id)
                              FROM gmp.equipment_service s WHERE s.equipment_id = e.id), '[]'),
        'uses', coalesce((SELECT jsonb_agg(gmp_rules.equipment_use_document(u) ORDER BY u.used_at, u.id)
                          FROM gmp.equipment_use u WHERE u.equipment_id = e.id), '[]'))
        FROM gmp.equipment_overview o WHERE o.id = e.id);
END;
$$;
