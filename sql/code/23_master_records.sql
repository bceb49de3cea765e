-- master_records: Master batch records (issue 15): controlled process documents imported
-- as drafts and approved by QA, the version each lot is made under, the parameter values
-- its executed steps record against the master's limits (an out-of-range value opens a
-- deviation), the materials and equipment each step must name, and the second person's
-- signed check.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

CREATE OR REPLACE FUNCTION gmp_rules.require_master_record(master_id text) RETURNS gmp.master_record
LANGUAGE plpgsql STABLE AS $$
DECLARE
    m gmp.master_record;
BEGIN
    SELECT * INTO m FROM gmp.master_record x WHERE x.id = master_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no master batch record %', master_id USING ERRCODE = 'GM001',
            HINT = 'gmp process list shows every version (CODE@VERSION)';
    END IF;
    RETURN m;
END;
$$;

-- The approved version that superseded `m`, if any: a newer approved version of its code.
CREATE OR REPLACE FUNCTION gmp_rules.master_superseded_by(m gmp.master_record) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT x.id FROM gmp.master_record x
    WHERE x.code = m.code AND x.version > m.version AND x.status = 'approved'
    ORDER BY x.version DESC LIMIT 1
$$;

-- A version is inserted as a draft; the one change ever made to it is its approval.
CREATE OR REPLACE FUNCTION gmp_rules.guard_master_record() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'master batch record versions are never deleted' USING ERRCODE = 'GM004',
            HINT = 'a version that is not wanted is simply never approved';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' OR NEW.approved_at IS NOT NULL OR NEW.content_sha256 IS NOT NULL THEN
            RAISE EXCEPTION 'a master batch record is imported as a draft' USING ERRCODE = 'GM003',
                HINT = 'QA approves it afterwards: gmp process approve';
        END IF;
        NEW.source_sha256 := sha256(convert_to(NEW.source_text, 'UTF8'));
        RETURN NEW;
    END IF;
    IF OLD.status <> 'draft' THEN
        RAISE EXCEPTION 'master batch record % is approved: it is never edited', OLD.id USING ERRCODE = 'GM004',
            HINT = 'a change is a new version: gmp process import FILE';
    END IF;
    IF NEW.status <> 'approved'
       OR (to_jsonb(OLD) - '{status,approved_at,approved_by,content_sha256}'::text[])
          IS DISTINCT FROM (to_jsonb(NEW) - '{status,approved_at,approved_by,content_sha256}'::text[])
       OR NEW.content_sha256 IS DISTINCT FROM gmp_rules.master_content_sha256(OLD.id) THEN
        RAISE EXCEPTION 'a draft master batch record changes only by its approval' USING ERRCODE = 'GM004',
            HINT = 'import a new version instead';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER master_record_guard BEFORE INSERT OR UPDATE OR DELETE ON gmp.master_record
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.guard_master_record();
ALTER TABLE gmp.master_record ENABLE ALWAYS TRIGGER master_record_guard;

-- The parts of a version (steps, parameters, materials, equipment) are written only in
-- the transaction that imported its draft, whoever writes.
CREATE OR REPLACE FUNCTION gmp_rules.check_master_part() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    m gmp.master_record;
BEGIN
    SELECT * INTO STRICT m FROM gmp.master_record WHERE id = NEW.master_id;
    IF m.status <> 'draft' OR m.imported_xact <> txid_current() THEN
        RAISE EXCEPTION 'master batch record % is %: its content was fixed when it was imported', m.id, m.status
            USING ERRCODE = 'GM004', HINT = 'a change is a new version: gmp process import FILE';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER master_part_rules BEFORE INSERT ON gmp.master_step
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_master_part();
ALTER TABLE gmp.master_step ENABLE ALWAYS TRIGGER master_part_rules;
CREATE OR REPLACE TRIGGER master_part_rules BEFORE INSERT ON gmp.master_parameter
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_master_part();
ALTER TABLE gmp.master_parameter ENABLE ALWAYS TRIGGER master_part_rules;
CREATE OR REPLACE TRIGGER master_part_rules BEFORE INSERT ON gmp.master_material
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_master_part();
ALTER TABLE gmp.master_material ENABLE ALWAYS TRIGGER master_part_rules;
CREATE OR REPLACE TRIGGER master_part_rules BEFORE INSERT ON gmp.master_equipment
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_master_part();
ALTER TABLE gmp.master_equipment ENABLE ALWAYS TRIGGER master_part_rules;

-- The hash of a version's content, fixed into the version row at approval so that the
-- approval signature covers every step, parameter and requirement.
CREATE OR REPLACE FUNCTION gmp_rules.master_content_sha256(master_id text) RETURNS bytea
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT sha256(convert_to(jsonb_build_object(
        'steps', (SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.ordinal), '[]') FROM gmp.master_step s
                  WHERE s.master_id = master_content_sha256.master_id),
        'parameters', (SELECT coalesce(jsonb_agg(to_jsonb(p) ORDER BY p.kind, p.ordinal), '[]') FROM gmp.master_parameter p
                       WHERE p.master_id = master_content_sha256.master_id),
        'materials', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.kind, x.category), '[]') FROM gmp.master_material x
                      WHERE x.master_id = master_content_sha256.master_id),
        'equipment', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.kind, x.equipment_kind), '[]') FROM gmp.master_equipment x
                      WHERE x.master_id = master_content_sha256.master_id))::text, 'UTF8'))
$$;

-- Imports a draft version from the document gmp builds from a process file
-- (docs/master-batch-records.md, "Import document"); returns its id, CODE@VERSION.
CREATE OR REPLACE FUNCTION gmp.import_master_record(document jsonb, source_text text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    master_code text := document->>'code';
    new_id text;
    s jsonb;
    p jsonb;
    n integer := 0;
    k integer;
    last_rank integer := 0;
    this_rank integer;
    extra text;
BEGIN
    PERFORM gmp_rules.active_person();
    IF master_code IS NULL OR jsonb_typeof(document->'steps') IS DISTINCT FROM 'array'
       OR jsonb_array_length(document->'steps') = 0 THEN
        RAISE EXCEPTION 'a master batch record needs a code and at least one step' USING ERRCODE = 'GM002',
            HINT = 'see config/processes/ for complete examples';
    END IF;
    SELECT string_agg(x, ', ') INTO extra FROM jsonb_object_keys(document) x
    WHERE x NOT IN ('code', 'title', 'product_kind', 'stage', 'steps');
    IF extra IS NOT NULL THEN
        RAISE EXCEPTION 'unknown master batch record key(s): %', extra USING ERRCODE = 'GM002';
    END IF;
    PERFORM set_config('gmp.reason', 'master batch record imported as a draft', true);
    new_id := gmp_rules.insert_document_version('gmp.master_record', document, source_text, 'process');
    FOR s IN SELECT value FROM jsonb_array_elements(document->'steps') LOOP
        n := n + 1;
        SELECT string_agg(x, ', ') INTO extra FROM jsonb_object_keys(s) x
        WHERE x NOT IN ('kind', 'procedure', 'check', 'parameters', 'materials', 'equipment');
        IF extra IS NOT NULL THEN
            RAISE EXCEPTION 'step %: unknown key(s) %', n, extra USING ERRCODE = 'GM002';
        END IF;
        SELECT rank INTO this_rank FROM gmp_meta.step_kind WHERE kind = s->>'kind';
        IF this_rank IS NULL THEN
            RAISE EXCEPTION 'step %: unknown step kind %', n, s->>'kind' USING ERRCODE = 'GM002',
                HINT = 'steps: isolation, passage, harvest, formulation, fill, cryopreservation';
        END IF;
        IF this_rank <= last_rank THEN
            RAISE EXCEPTION 'step %: % is out of order', n, s->>'kind' USING ERRCODE = 'GM002',
                HINT = 'each kind once, in the order isolation, passage, harvest, formulation, fill, cryopreservation';
        END IF;
        last_rank := this_rank;
        INSERT INTO gmp.master_step (master_id, kind, ordinal, procedure_code, check_required)
        VALUES (new_id, s->>'kind', n, s->>'procedure', (s->>'check')::boolean);
        k := 0;
        FOR p IN SELECT value FROM jsonb_array_elements(coalesce(s->'parameters', '[]')) LOOP
            k := k + 1;
            SELECT string_agg(x, ', ') INTO extra FROM jsonb_object_keys(p) x
            WHERE x NOT IN ('name', 'unit', 'at_least', 'at_most');
            IF extra IS NOT NULL THEN
                RAISE EXCEPTION 'step % parameter %: unknown key(s) %', n, k, extra USING ERRCODE = 'GM002';
            END IF;
            INSERT INTO gmp.master_parameter (master_id, kind, name, ordinal, unit, at_least, at_most)
            VALUES (new_id, s->>'kind', p->>'name', k, p->>'unit', (p->>'at_least')::numeric, (p->>'at_most')::numeric);
        END LOOP;
        INSERT INTO gmp.master_material (master_id, kind, category)
        SELECT new_id, s->>'kind', c FROM jsonb_array_elements_text(coalesce(s->'materials', '[]')) c;
        INSERT INTO gmp.master_equipment (master_id, kind, equipment_kind)
        SELECT new_id, s->>'kind', e FROM jsonb_array_elements_text(coalesce(s->'equipment', '[]')) e;
    END LOOP;
    RETURN new_id;
END;
$$;

-- QA approves a draft, with an e-signature (meaning "approved") over the version row,
-- which by then holds the hash of its content. The importer cannot approve.
CREATE OR REPLACE FUNCTION gmp.approve_master_record(challenge uuid, master_id text, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m gmp.master_record;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_master_record(master_id);
    SELECT * INTO m FROM gmp.master_record x WHERE x.id = master_id FOR UPDATE;
    IF m.status = 'approved' THEN
        RAISE EXCEPTION 'master batch record % is already approved (%)', m.id, m.approved_by USING ERRCODE = 'GM003',
            HINT = 'an approved version is never edited; a change is a new version';
    END IF;
    IF m.imported_by = session_user THEN
        RAISE EXCEPTION 'you imported %: a second person approves it', m.id USING ERRCODE = 'GM005',
            HINT = 'another QA person approves the master batch record';
    END IF;
    PERFORM set_config('gmp.reason', 'master batch record approved', true);
    UPDATE gmp.master_record x SET status = 'approved', approved_at = clock_timestamp(), approved_by = session_user,
                                   content_sha256 = gmp_rules.master_content_sha256(m.id)
    WHERE x.id = m.id;
    RETURN gmp_rules.record_signature(challenge, 'approved', 'gmp.master_record', m.id, statement);
END;
$$;

-- A lot is made under an approved version that is not superseded, written for its kind
-- of product and stage, before its first step; whoever writes.
CREATE OR REPLACE FUNCTION gmp_rules.check_lot_master_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    l gmp.lot;
    m gmp.master_record;
    newer text;
BEGIN
    SELECT * INTO STRICT l FROM gmp.lot WHERE din = NEW.din FOR UPDATE;
    SELECT * INTO STRICT m FROM gmp.master_record WHERE code = NEW.master_code AND version = NEW.master_version;
    IF m.status <> 'approved' THEN
        RAISE EXCEPTION 'master batch record % is a draft: a lot is made under an approved version', m.id
            USING ERRCODE = 'GM003', HINT = 'QA approves it first: gmp process approve ' || m.id;
    END IF;
    newer := gmp_rules.master_superseded_by(m);
    IF newer IS NOT NULL THEN
        RAISE EXCEPTION 'master batch record % is superseded by %', m.id, newer USING ERRCODE = 'GM003',
            HINT = 'make the lot under the version in force: --process ' || newer;
    END IF;
    IF m.product_kind <> l.product_kind OR m.stage <> l.stage THEN
        RAISE EXCEPTION 'master batch record % is for % (%), lot % is % (%)', m.id, m.product_kind, m.stage,
            l.din, l.product_kind, l.stage USING ERRCODE = 'GM002', HINT = 'choose a master batch record for this kind of lot';
    END IF;
    IF l.status <> 'quarantine' OR EXISTS (SELECT FROM gmp.manufacturing_step s WHERE s.din = l.din) THEN
        RAISE EXCEPTION 'lot % has started: its master batch record is fixed when it is created', l.din
            USING ERRCODE = 'GM004';
    END IF;
    NEW.recorded_at := clock_timestamp();
    NEW.recorded_by := session_user;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER lot_master_record_rules BEFORE INSERT ON gmp.lot_master_record
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_lot_master_record();
ALTER TABLE gmp.lot_master_record ENABLE ALWAYS TRIGGER lot_master_record_rules;

-- Creates a lot (gmp.create_lot) under a master batch record: CODE@VERSION, CODE for
-- its latest approved version, or NULL for the latest approved version written for the
-- lot's kind and stage, when there is one (else the lot is made without a master, as
-- before issue 15). Returns the DIN.
CREATE OR REPLACE FUNCTION gmp.create_lot(collection_id text, parent_din text, stage text, product_kind text,
                                          intended_use text, expires_on date, process text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    din text;
    chosen gmp.master_record;
    candidates text;
BEGIN
    din := gmp.create_lot(collection_id, parent_din, stage, product_kind, intended_use, expires_on);
    IF process IS NULL THEN
        -- The one master in force for this kind of lot. Several (one per tissue source, as
        -- shipped: cord, marrow, adipose) leave the choice to the person: a lot is never
        -- made under another source's process by default.
        SELECT string_agg(m.id, ', ' ORDER BY m.id) INTO candidates FROM gmp.master_record m
        WHERE m.product_kind = create_lot.product_kind AND m.stage = create_lot.stage AND m.status = 'approved'
          AND gmp_rules.master_superseded_by(m) IS NULL;
        IF candidates IS NULL THEN
            RETURN din;
        ELSIF position(',' IN candidates) > 0 THEN
            RAISE EXCEPTION 'several master batch records apply to a % % lot: %', create_lot.product_kind,
                replace(create_lot.stage, '_', ' '), candidates
                USING ERRCODE = 'GM002', HINT = 'choose the one it is made under: --process CODE (gmp process list)';
        END IF;
        SELECT * INTO chosen FROM gmp.master_record m WHERE m.id = candidates;
    ELSIF position('@' IN process) = 0 THEN
        SELECT * INTO chosen FROM gmp.master_record m
        WHERE m.code = process AND m.status = 'approved' ORDER BY m.version DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'master batch record % has no approved version', process USING ERRCODE = 'GM001',
                HINT = 'gmp process list shows every version and its status';
        END IF;
    ELSE
        chosen := gmp_rules.require_master_record(process);
    END IF;
    PERFORM set_config('gmp.reason', 'lot made under master batch record ' || chosen.id, true);
    INSERT INTO gmp.lot_master_record (din, master_code, master_version) VALUES (din, chosen.code, chosen.version);
    RETURN din;
END;
$$;

-- The master step an executed step follows, NULL for a lot made without a master.
CREATE OR REPLACE FUNCTION gmp_rules.master_step_of(step_din text, step_kind text) RETURNS gmp.master_step
LANGUAGE sql STABLE AS $$
    SELECT ms.* FROM gmp.lot_master_record lm
    JOIN gmp.master_step ms ON ms.master_id = lm.master_code || '@' || lm.master_version AND ms.kind = step_kind
    WHERE lm.din = step_din
$$;

-- A lot made under a master records only the steps its master lists; whoever writes.
CREATE OR REPLACE FUNCTION gmp_rules.check_step_against_master() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    lm gmp.lot_master_record;
    listed text;
BEGIN
    SELECT * INTO lm FROM gmp.lot_master_record x WHERE x.din = NEW.din;
    IF FOUND AND (gmp_rules.master_step_of(NEW.din, NEW.kind)).kind IS NULL THEN
        SELECT string_agg(s.kind, ', ' ORDER BY s.ordinal) INTO listed FROM gmp.master_step s
        WHERE s.master_id = lm.master_code || '@' || lm.master_version;
        RAISE EXCEPTION 'lot % is made under %@%, which has no % step', NEW.din, lm.master_code, lm.master_version, NEW.kind
            USING ERRCODE = 'GM002', HINT = 'its steps are: ' || listed;
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER master_step_rules BEFORE INSERT ON gmp.manufacturing_step
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_step_against_master();
ALTER TABLE gmp.manufacturing_step ENABLE ALWAYS TRIGGER master_step_rules;

-- A parameter value, whoever writes: of a step recorded in this transaction on a lot
-- made under a master, named by that step of the master, in its unit (the master's unit
-- when none is given). The database judges it against the limits, exactly and
-- inclusively; a value outside is recorded and opens a deviation on the lot, which
-- blocks its release until QA closes it.
CREATE OR REPLACE FUNCTION gmp_rules.check_step_parameter() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s gmp.manufacturing_step;
    ms gmp.master_step;
    p gmp.master_parameter;
    known text;
BEGIN
    PERFORM gmp_rules.require_finite(NEW.value, 'a parameter value');
    SELECT * INTO s FROM gmp.manufacturing_step x WHERE x.id = NEW.step_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no manufacturing step %', NEW.step_id USING ERRCODE = 'GM001';
    END IF;
    -- now() is the start of this transaction: a step recorded before it is closed.
    IF s.recorded_at < now() THEN
        RAISE EXCEPTION 'step % was recorded earlier: its parameters are recorded with it', NEW.step_id
            USING ERRCODE = 'GM004', HINT = 'give --param with gmp lot step; a missed value is handled by a deviation';
    END IF;
    ms := gmp_rules.master_step_of(s.din, s.kind);
    IF ms.kind IS NULL THEN
        RAISE EXCEPTION 'lot % is not made under a master batch record: its steps have no parameters', s.din
            USING ERRCODE = 'GM002', HINT = 'leave out --param, or make lots under a master (gmp lot create --process)';
    END IF;
    SELECT * INTO p FROM gmp.master_parameter x WHERE x.master_id = ms.master_id AND x.kind = ms.kind AND x.name = NEW.name;
    IF NOT FOUND THEN
        SELECT string_agg(x.name || ' (' || x.unit || ')', ', ' ORDER BY x.ordinal) INTO known
        FROM gmp.master_parameter x WHERE x.master_id = ms.master_id AND x.kind = ms.kind;
        RAISE EXCEPTION '% of % has no parameter %', ms.kind, ms.master_id, NEW.name USING ERRCODE = 'GM002',
            HINT = coalesce('its parameters: ' || known, 'this step has no parameters');
    END IF;
    NEW.unit := coalesce(NEW.unit, p.unit);
    IF NEW.unit <> p.unit THEN
        RAISE EXCEPTION 'parameter % is recorded in %, not %', p.name, p.unit, NEW.unit USING ERRCODE = 'GM002',
            HINT = format('give --param %s=VALUE%s', p.name, p.unit);
    END IF;
    NEW.within_limits := (p.at_least IS NULL OR NEW.value >= p.at_least) AND (p.at_most IS NULL OR NEW.value <= p.at_most);
    NEW.deviation_id := NULL;
    IF NOT NEW.within_limits THEN
        NEW.deviation_id := gmp_rules.open_deviation('deviation',
            format('%s out of range at %s', p.name, s.kind),
            format('step %s (%s) of lot %s recorded %s = %s %s; master batch record %s requires %s: assess the impact on the lot',
                   s.id, s.kind, s.din, p.name, NEW.value, p.unit, ms.master_id, gmp_rules.parameter_limit_text(p)),
            ARRAY[s.din]);
    END IF;
    NEW.recorded_at := clock_timestamp();
    NEW.recorded_by := session_user;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER step_parameter_rules BEFORE INSERT ON gmp.step_parameter
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_step_parameter();
ALTER TABLE gmp.step_parameter ENABLE ALWAYS TRIGGER step_parameter_rules;

-- A parameter's limits as printed: "≥ 3000 and ≤ 5000 cells/cm²".
CREATE OR REPLACE FUNCTION gmp_rules.parameter_limit_text(p gmp.master_parameter) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(' and ', '≥ ' || p.at_least, '≤ ' || p.at_most) || ' ' || p.unit
$$;

-- At COMMIT, whoever wrote it: a step under a master has every parameter its master step
-- names, and consumed a material of each category and used equipment of each kind the
-- master step requires (the --material and --equipment rows follow the step's row).
CREATE OR REPLACE FUNCTION gmp_rules.check_step_complete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ms gmp.master_step;
    missing text;
BEGIN
    ms := gmp_rules.master_step_of(NEW.din, NEW.kind);
    IF ms.kind IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT string_agg(p.name || ' (' || p.unit || ')', ', ' ORDER BY p.ordinal) INTO missing
    FROM gmp.master_parameter p
    WHERE p.master_id = ms.master_id AND p.kind = ms.kind
      AND NOT EXISTS (SELECT FROM gmp.step_parameter v WHERE v.step_id = NEW.id AND v.name = p.name);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '% of lot % needs the parameter(s) % (master batch record %)', NEW.kind, NEW.din, missing,
            ms.master_id USING ERRCODE = 'GM002', HINT = 'give each with --param NAME=VALUE[UNIT]';
    END IF;
    SELECT string_agg(r.category, ', ' ORDER BY r.category) INTO missing
    FROM gmp.master_material r
    WHERE r.master_id = ms.master_id AND r.kind = ms.kind
      AND NOT EXISTS (SELECT FROM gmp.material_consumption c JOIN gmp.material_lot ml ON ml.id = c.material_lot_id
                      JOIN gmp.material_type t ON t.code = ml.type_code
                      WHERE c.step_id = NEW.id AND t.category = r.category);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '% of lot % needs a material of each category: % (master batch record %)', NEW.kind, NEW.din,
            missing, ms.master_id USING ERRCODE = 'GM002', HINT = 'name the material lots consumed with --material';
    END IF;
    SELECT string_agg(r.equipment_kind, ', ' ORDER BY r.equipment_kind) INTO missing
    FROM gmp.master_equipment r
    WHERE r.master_id = ms.master_id AND r.kind = ms.kind
      AND NOT EXISTS (SELECT FROM gmp.equipment_use u JOIN gmp.equipment e ON e.id = u.equipment_id
                      WHERE u.step_id = NEW.id AND e.kind = r.equipment_kind);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '% of lot % needs equipment of each kind: % (master batch record %)', NEW.kind, NEW.din,
            missing, ms.master_id USING ERRCODE = 'GM002', HINT = 'name the equipment used with --equipment';
    END IF;
    RETURN NULL;
END;
$$;
SELECT gmp_meta.bind_commit_check('gmp.manufacturing_step', 'step_complete_under_master', 'INSERT', 'gmp_rules.check_step_complete');

-- Records a parameter value on the lot's latest step, recorded in this transaction;
-- returns whether it is within the master's limits (false: a deviation was opened).
CREATE OR REPLACE FUNCTION gmp.record_step_parameter(din text, name text, value numeric, unit text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    step_id bigint;
    judged boolean;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_lot(din);
    SELECT max(s.id) INTO step_id FROM gmp.manufacturing_step s WHERE s.din = record_step_parameter.din;
    IF step_id IS NULL THEN
        RAISE EXCEPTION 'lot % has no step yet', din USING ERRCODE = 'GM003', HINT = 'give --param with gmp lot step';
    END IF;
    PERFORM set_config('gmp.reason', 'step parameter recorded', true);
    INSERT INTO gmp.step_parameter (step_id, name, value, unit, within_limits)
    VALUES (step_id, name, value, unit, true)
    RETURNING within_limits INTO judged;
    RETURN judged;
END;
$$;

-- The second person's check, whoever writes: of a step of a lot whose record is open,
-- by a person other than its performer; signed at COMMIT (below).
CREATE OR REPLACE FUNCTION gmp_rules.check_step_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s gmp.manufacturing_step;
    l gmp.lot;
BEGIN
    SELECT * INTO s FROM gmp.manufacturing_step x WHERE x.id = NEW.step_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no manufacturing step %', NEW.step_id USING ERRCODE = 'GM001',
            HINT = 'gmp lot show LOT --json lists its steps with their ids';
    END IF;
    SELECT * INTO STRICT l FROM gmp.lot WHERE din = s.din FOR UPDATE;
    IF l.status NOT IN ('quarantine', 'on_hold') THEN
        RAISE EXCEPTION 'lot % is %: its record is closed', l.din, l.status USING ERRCODE = 'GM003';
    END IF;
    -- Asked again under the lot's lock: gmp lot check runs at READ COMMITTED, and a
    -- second check committed while this one waited is refused here, not by the key.
    IF EXISTS (SELECT FROM gmp.step_check c WHERE c.step_id = NEW.step_id) THEN
        RAISE EXCEPTION 'step % was already checked by %', NEW.step_id,
            (SELECT c.checked_by FROM gmp.step_check c WHERE c.step_id = NEW.step_id) USING ERRCODE = 'GM004';
    END IF;
    -- Whoever is named checks: the signature at COMMIT must be theirs.
    NEW.checked_at := clock_timestamp();
    IF NEW.checked_by = s.performed_by THEN
        RAISE EXCEPTION 'you performed step % (% of lot %): a second person checks it', s.id, s.kind, s.din
            USING ERRCODE = 'GM005', HINT = 'another qualified person checks the step';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER step_check_rules BEFORE INSERT ON gmp.step_check
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_step_check();
ALTER TABLE gmp.step_check ENABLE ALWAYS TRIGGER step_check_rules;

-- At COMMIT, whoever wrote it: a check carries its checker's intact signature, "verified".
CREATE OR REPLACE FUNCTION gmp_rules.check_step_check_signed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM gmp.signature s WHERE s.record_table = 'gmp.step_check' AND s.record_key = NEW.step_id::text
                   AND s.signer = NEW.checked_by AND s.meaning = 'verified' AND gmp_rules.signature_intact(s.id)) THEN
        RAISE EXCEPTION 'the check of step % needs its checker''s signature', NEW.step_id
            USING ERRCODE = 'insufficient_privilege', HINT = 'use gmp lot check, which signs it';
    END IF;
    RETURN NULL;
END;
$$;
SELECT gmp_meta.bind_commit_check('gmp.step_check', 'step_check_signed', 'INSERT', 'gmp_rules.check_step_check_signed');

-- A second person checks a step, signing (meaning "verified") the check row.
CREATE OR REPLACE FUNCTION gmp.check_step(challenge uuid, step_id bigint, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    by_whom text;
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT c.checked_by INTO by_whom FROM gmp.step_check c WHERE c.step_id = check_step.step_id;
    IF by_whom IS NOT NULL THEN
        RAISE EXCEPTION 'step % was already checked by %', step_id, by_whom USING ERRCODE = 'GM004';
    END IF;
    PERFORM set_config('gmp.reason', 'step checked', true);
    INSERT INTO gmp.step_check (step_id) VALUES (step_id);
    RETURN gmp_rules.record_signature(challenge, 'verified', 'gmp.step_check', step_id::text, statement);
END;
$$;

-- Every version with its status as reports show it: draft, approved, or superseded.
CREATE OR REPLACE VIEW gmp.master_record_overview AS
SELECT m.id, m.code, m.version, m.title, m.product_kind, m.stage,
       CASE WHEN m.status = 'approved' AND gmp_rules.master_superseded_by(m) IS NOT NULL THEN 'superseded'
            ELSE m.status END AS status,
       gmp_rules.master_superseded_by(m) AS superseded_by,
       m.imported_at, m.imported_by, m.approved_at, m.approved_by, encode(m.source_sha256, 'hex') AS source_sha256,
       (SELECT count(*)::int FROM gmp.lot_master_record lm WHERE lm.master_code = m.code AND lm.master_version = m.version) AS lots,
       (SELECT count(*)::int FROM gmp.master_step s WHERE s.master_id = m.id) AS steps
FROM gmp.master_record m;
