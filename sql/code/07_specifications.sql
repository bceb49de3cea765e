-- specifications: Specifications: versioned, QA-approved criteria; a criterion's verdict and printed limit.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- Criteria are written only in the transaction that imported their draft, and only
-- with values from the closed vocabularies.
CREATE OR REPLACE FUNCTION gmp_rules.check_criterion() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    spec gmp.specification;
    unit_max numeric;
    unknown text;
BEGIN
    PERFORM gmp_rules.require_finite(NEW.lower, format('the lower limit of %s', NEW.test)),
            gmp_rules.require_finite(NEW.upper, format('the upper limit of %s', NEW.test)),
            gmp_rules.require_finite(NEW.detection_limit, format('the detection limit of %s', NEW.test)),
            gmp_rules.require_finite(NEW.endotoxin_k, format('the endotoxin K of %s', NEW.test)),
            gmp_rules.require_finite(NEW.endotoxin_k_intrathecal, format('the intrathecal endotoxin K of %s', NEW.test)),
            gmp_rules.require_finite(NEW.max_dose_min, format('the smallest maximum dose of %s', NEW.test)),
            gmp_rules.require_finite(NEW.max_dose_max, format('the largest maximum dose of %s', NEW.test));
    SELECT * INTO STRICT spec FROM gmp.specification WHERE id = NEW.specification_id;
    IF spec.status <> 'draft' OR spec.imported_xact <> txid_current() THEN
        RAISE EXCEPTION 'specification % is %: its criteria were fixed when it was imported', spec.id, spec.status
            USING ERRCODE = 'GM004', HINT = 'a change is a new version: gmp spec import FILE';
    END IF;
    SELECT u.maximum INTO unit_max FROM gmp_meta.unit u WHERE u.symbol = NEW.unit;
    IF unit_max IS NOT NULL AND (NEW.lower > unit_max OR NEW.upper > unit_max OR NEW.detection_limit > unit_max) THEN
        RAISE EXCEPTION 'criterion %: a limit in % cannot exceed %', NEW.test, NEW.unit, unit_max USING ERRCODE = 'GM002';
    END IF;
    SELECT string_agg(a, ', ') INTO unknown FROM unnest(NEW.accept) a
    WHERE a NOT IN (SELECT outcome FROM gmp_meta.qualitative_outcome);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'criterion %: unknown outcome %', NEW.test, unknown USING ERRCODE = 'GM002',
            HINT = (SELECT 'outcomes: ' || string_agg(outcome, ', ' ORDER BY outcome) FROM gmp_meta.qualitative_outcome);
    END IF;
    IF (SELECT count(DISTINCT p) FROM unnest(NEW.parts) p) <> cardinality(NEW.parts) THEN
        RAISE EXCEPTION 'criterion %: a part is named twice', NEW.test USING ERRCODE = 'GM002';
    END IF;
    -- M decides a K/M limit as much as K does: the document bounds it (issue 20, item 7).
    IF NEW.kind = 'endotoxin_dose' AND NEW.max_dose_min IS NULL THEN
        RAISE EXCEPTION 'criterion %: a K/M endotoxin limit needs the permitted range of the maximum dose M', NEW.test
            USING ERRCODE = 'GM002', HINT = 'give max_dose: {unit: mL/kg/h, min: …, max: …} in the specification file';
    END IF;
    RETURN NEW;
END;
$$;

-- The hash of a version's criteria, fixed into the version row at approval so that the
-- approval signature covers every criterion.
CREATE OR REPLACE FUNCTION gmp_rules.criteria_sha256(specification_id text) RETURNS bytea
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT sha256(convert_to(coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.ordinal), '[]')::text, 'UTF8'))
    FROM gmp.criterion c WHERE c.specification_id = criteria_sha256.specification_id
$$;

-- A version is inserted as a draft; the one change ever made to it is its approval.
CREATE OR REPLACE FUNCTION gmp_rules.guard_specification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'specification versions are never deleted' USING ERRCODE = 'GM004',
            HINT = 'a version that is not wanted is simply never approved or assigned';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' OR NEW.approved_at IS NOT NULL OR NEW.criteria_sha256 IS NOT NULL THEN
            RAISE EXCEPTION 'a specification is imported as a draft' USING ERRCODE = 'GM003',
                HINT = 'QA approves it afterwards: gmp spec approve';
        END IF;
        NEW.source_sha256 := sha256(convert_to(NEW.source_text, 'UTF8'));
        RETURN NEW;
    END IF;
    IF OLD.status <> 'draft' THEN
        RAISE EXCEPTION 'specification % is approved: it is never edited', OLD.id USING ERRCODE = 'GM004',
            HINT = 'a change is a new version: gmp spec import FILE';
    END IF;
    IF NEW.status <> 'approved'
       OR (to_jsonb(OLD) - '{status,approved_at,approved_by,criteria_sha256}'::text[])
          IS DISTINCT FROM (to_jsonb(NEW) - '{status,approved_at,approved_by,criteria_sha256}'::text[])
       OR NEW.criteria_sha256 IS DISTINCT FROM gmp_rules.criteria_sha256(OLD.id) THEN
        RAISE EXCEPTION 'a draft specification changes only by its approval' USING ERRCODE = 'GM004',
            HINT = 'import a new version instead';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_specification(specification_id text) RETURNS gmp.specification
LANGUAGE plpgsql STABLE AS $$
DECLARE
    spec gmp.specification;
BEGIN
    SELECT * INTO spec FROM gmp.specification s WHERE s.id = specification_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no specification %', specification_id USING ERRCODE = 'GM001',
            HINT = 'gmp spec list shows every version (CODE@VERSION)';
    END IF;
    RETURN spec;
END;
$$;

-- The header row of a controlled document's new draft version (a specification, a master
-- batch record: tables of the same header columns), numbered CODE@VERSION; refused when
-- this very file is already imported (`command` names the gmp command that shows it).
-- Versions of one code are numbered one at a time: the code's row in gmp_meta.serial_lock
-- (made on first use, scope the table's name) is locked until commit. No gmp role can
-- read or lock that table, so nobody can stall an import from psql, as anyone could with
-- the advisory locks this replaces. A code's first versions race on the row's key
-- instead: the second waits for the first to commit, then locks the row. Not SECURITY
-- DEFINER: it writes as the import function that calls it.
CREATE OR REPLACE FUNCTION gmp_rules.insert_document_version(document_table regclass, document jsonb, source_text text,
                                                            command text) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    code text := document->>'code';
    source_sha256 bytea := sha256(convert_to(source_text, 'UTF8'));
    same text;
    next_version integer;
BEGIN
    PERFORM gmp_rules.lock_serial(document_table::text, code);
    EXECUTE format('SELECT min(d.id) FILTER (WHERE d.source_sha256 = $2), coalesce(max(d.version), 0) + 1 '
                   'FROM %s d WHERE d.code = $1', document_table)
        INTO same, next_version USING code, source_sha256;
    IF same IS NOT NULL THEN
        RAISE EXCEPTION 'this file is already imported as %', same USING ERRCODE = 'GM003',
            HINT = format('nothing to import; gmp %s show %s', command, same);
    END IF;
    EXECUTE format('INSERT INTO %s (id, code, version, title, product_kind, stage, source_text, source_sha256) '
                   'VALUES ($1, $2, $3, $4->>''title'', $4->>''product_kind'', $4->>''stage'', $5, $6)', document_table)
        USING code || '@' || next_version, code, next_version, document, source_text, source_sha256;
    RETURN code || '@' || next_version;
END;
$$;

-- Locks the key `key` of `scope` in gmp_meta.serial_lock until commit, making its row on
-- first use: work on one key (a specification code, a dry shipper) is done one at a
-- time, also where the rule is about rows that do not exist yet. Called by gmp's
-- SECURITY DEFINER functions; no gmp role may touch the table itself.
CREATE OR REPLACE FUNCTION gmp_rules.lock_serial(scope text, key text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO gmp_meta.serial_lock (scope, key) VALUES (lock_serial.scope, lock_serial.key) ON CONFLICT DO NOTHING;
    PERFORM FROM gmp_meta.serial_lock l WHERE l.scope = lock_serial.scope AND l.key = lock_serial.key FOR UPDATE;
END;
$$;

-- Imports a draft version from the document gmp builds from a specification file
-- (docs/qc-and-release.md, "Import document"); returns its id, CODE@VERSION.
CREATE OR REPLACE FUNCTION gmp.import_specification(document jsonb, source_text text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    spec_code text := document->>'code';
    new_id text;
    c jsonb;
    extra text;
    n integer := 0;
BEGIN
    PERFORM gmp_rules.active_person();
    IF spec_code IS NULL OR jsonb_typeof(document->'criteria') IS DISTINCT FROM 'array'
       OR jsonb_array_length(document->'criteria') = 0 THEN
        RAISE EXCEPTION 'a specification needs a code and at least one criterion' USING ERRCODE = 'GM002',
            HINT = 'gmp docs --spec uc-msc prints a complete example';
    END IF;
    SELECT string_agg(k, ', ') INTO extra FROM jsonb_object_keys(document) k
    WHERE k NOT IN ('code', 'title', 'product_kind', 'stage', 'criteria');
    IF extra IS NOT NULL THEN
        RAISE EXCEPTION 'unknown specification key(s): %', extra USING ERRCODE = 'GM002';
    END IF;
    PERFORM set_config('gmp.reason', 'specification imported as a draft', true);
    new_id := gmp_rules.insert_document_version('gmp.specification', document, source_text, 'spec');
    FOR c IN SELECT value FROM jsonb_array_elements(document->'criteria') LOOP
        n := n + 1;
        SELECT string_agg(k, ', ') INTO extra FROM jsonb_object_keys(c) k
        WHERE k NOT IN ('test', 'name', 'method', 'kind', 'unit', 'lower', 'lower_inclusive', 'upper',
                        'upper_inclusive', 'accept', 'parts', 'detection_limit', 'endotoxin_k',
                        'endotoxin_k_intrathecal', 'max_retests', 'max_dose_min', 'max_dose_max', 'max_dose_unit');
        IF extra IS NOT NULL THEN
            RAISE EXCEPTION 'criterion %: unknown key(s) %', n, extra USING ERRCODE = 'GM002';
        END IF;
        INSERT INTO gmp.criterion (specification_id, test, ordinal, name, method, kind, unit, lower, lower_inclusive,
                                   upper, upper_inclusive, accept, parts, detection_limit, endotoxin_k,
                                   endotoxin_k_intrathecal, max_retests, max_dose_min, max_dose_max, max_dose_unit)
        VALUES (new_id, c->>'test', n, c->>'name', c->>'method', c->>'kind', c->>'unit', (c->>'lower')::numeric,
                (c->>'lower_inclusive')::boolean, (c->>'upper')::numeric, (c->>'upper_inclusive')::boolean,
                CASE WHEN jsonb_typeof(c->'accept') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(c->'accept')) END,
                CASE WHEN jsonb_typeof(c->'parts') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(c->'parts')) END,
                (c->>'detection_limit')::numeric, (c->>'endotoxin_k')::numeric,
                (c->>'endotoxin_k_intrathecal')::numeric, (c->>'max_retests')::integer,
                (c->>'max_dose_min')::numeric, (c->>'max_dose_max')::numeric, c->>'max_dose_unit');
    END LOOP;
    RETURN new_id;
END;
$$;

-- QA approves a draft, with an e-signature (meaning "approved") over the version row,
-- which by then holds the hash of every criterion. The importer cannot approve.
CREATE OR REPLACE FUNCTION gmp.approve_specification(challenge uuid, specification_id text, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    spec gmp.specification;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_specification(specification_id);
    SELECT * INTO spec FROM gmp.specification s WHERE s.id = specification_id FOR UPDATE;
    IF spec.status = 'approved' THEN
        RAISE EXCEPTION 'specification % is already approved (%)', spec.id, spec.approved_by USING ERRCODE = 'GM003',
            HINT = 'an approved version is never edited; a change is a new version';
    END IF;
    IF spec.imported_by = session_user THEN
        RAISE EXCEPTION 'you imported %: a second person approves it', spec.id USING ERRCODE = 'insufficient_privilege',
            HINT = 'another QA person approves the specification';
    END IF;
    PERFORM set_config('gmp.reason', 'specification approved', true);
    UPDATE gmp.specification s SET status = 'approved', approved_at = clock_timestamp(), approved_by = session_user,
                                    criteria_sha256 = gmp_rules.criteria_sha256(spec.id)
    WHERE s.id = spec.id;
    RETURN gmp_rules.record_signature(challenge, 'approved', 'gmp.specification', spec.id, statement);
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.check_lot_specification() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    l gmp.lot;
    spec gmp.specification;
    outside text;
BEGIN
    PERFORM gmp_rules.require_finite(NEW.max_dose_ml_per_kg_h, 'the maximum dose');
    SELECT * INTO STRICT l FROM gmp.lot WHERE din = NEW.din FOR UPDATE;
    SELECT * INTO STRICT spec FROM gmp.specification WHERE id = NEW.specification_id;
    IF l.status NOT IN ('quarantine', 'on_hold') THEN
        RAISE EXCEPTION 'lot % is %: its specification is fixed', l.din, l.status USING ERRCODE = 'GM004';
    END IF;
    IF spec.status <> 'approved' THEN
        RAISE EXCEPTION 'specification % is a draft: only an approved version is assigned', spec.id
            USING ERRCODE = 'GM003', HINT = 'QA approves it first: gmp spec approve ' || spec.id;
    END IF;
    IF spec.product_kind <> l.product_kind OR spec.stage <> l.stage THEN
        RAISE EXCEPTION 'specification % is for % (%), lot % is % (%)', spec.id, spec.product_kind, spec.stage,
            l.din, l.product_kind, l.stage USING ERRCODE = 'GM002', HINT = 'assign a specification for this kind of lot';
    END IF;
    IF NEW.max_dose_ml_per_kg_h IS NULL
       AND EXISTS (SELECT FROM gmp.criterion c WHERE c.specification_id = spec.id AND c.kind = 'endotoxin_dose') THEN
        RAISE EXCEPTION 'specification % has a dose-based endotoxin limit (K/M): the lot''s maximum dose is needed', spec.id
            USING ERRCODE = 'GM002', HINT = 'give --max-dose (mL per kg per hour)';
    END IF;
    -- The dose is an input of a K/M limit only, and only within the range the approved
    -- specification permits (issue 20, item 7): a tiny M would make any endotoxin pass.
    IF NEW.max_dose_ml_per_kg_h IS NOT NULL THEN
        IF NOT EXISTS (SELECT FROM gmp.criterion c WHERE c.specification_id = spec.id AND c.kind = 'endotoxin_dose') THEN
            RAISE EXCEPTION 'specification % has no dose-based endotoxin limit (K/M): a lot judged against it has no maximum dose',
                spec.id USING ERRCODE = 'GM002', HINT = 'leave out --max-dose';
        END IF;
        SELECT string_agg(CASE WHEN c.max_dose_min IS NULL
                               THEN format('%s declares no permitted range for M', c.test)
                               ELSE format('%s permits M from %s to %s %s', c.test, c.max_dose_min, c.max_dose_max,
                                           c.max_dose_unit) END, '; ' ORDER BY c.ordinal)
        INTO outside
        FROM gmp.criterion c
        WHERE c.specification_id = spec.id AND c.kind = 'endotoxin_dose'
          AND (c.max_dose_min IS NULL OR NEW.max_dose_ml_per_kg_h NOT BETWEEN c.max_dose_min AND c.max_dose_max);
        IF outside IS NOT NULL THEN
            RAISE EXCEPTION 'maximum dose % mL/kg/h is outside specification %: %', NEW.max_dose_ml_per_kg_h, spec.id,
                outside USING ERRCODE = 'GM002',
                HINT = 'give the dose the product''s specification permits; a version without a range is replaced by a new version that declares one';
        END IF;
    END IF;
    IF NEW.intrathecal AND EXISTS (SELECT FROM gmp.criterion c WHERE c.specification_id = spec.id
                                   AND c.kind = 'endotoxin_dose' AND c.endotoxin_k_intrathecal IS NULL) THEN
        RAISE EXCEPTION 'specification % has no intrathecal endotoxin K', spec.id USING ERRCODE = 'GM002',
            HINT = 'use a specification written for intrathecal use';
    END IF;
    RETURN NEW;
END;
$$;

-- Assigns a version (CODE@VERSION, or CODE for its latest approved version); returns
-- the version assigned. A lot with a maximum dose (a K/M limit) is assigned with the
-- assigner's e-signature, meaning "determined", over the assignment row: the dose is a
-- signed input of the release (issue 20, item 7), and its signer decides no disposition
-- of the lot. Without a dose, `challenge` and `statement` may be NULL.
CREATE OR REPLACE FUNCTION gmp.assign_specification(challenge uuid, din text, specification text,
                                                    max_dose_ml_per_kg_h numeric, intrathecal boolean,
                                                    statement text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    chosen text := specification;
    already text;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_lot(din);
    IF position('@' IN specification) = 0 THEN
        SELECT s.id INTO chosen FROM gmp.specification s
        WHERE s.code = specification AND s.status = 'approved' ORDER BY s.version DESC LIMIT 1;
        IF chosen IS NULL THEN
            RAISE EXCEPTION 'specification % has no approved version', specification USING ERRCODE = 'GM001',
                HINT = 'gmp spec list shows every version and its status';
        END IF;
    END IF;
    PERFORM gmp_rules.require_specification(chosen);
    -- The lot first (issue 19: gmp assigns at READ COMMITTED): a second assignment of the
    -- same lot waits here for the first, then finds it (GM004), and not a duplicate key.
    PERFORM FROM gmp.lot l WHERE l.din = assign_specification.din FOR UPDATE;
    SELECT ls.specification_id INTO already FROM gmp.lot_specification ls WHERE ls.din = assign_specification.din;
    IF already IS NOT NULL THEN
        RAISE EXCEPTION 'lot % is already judged against %', din, already USING ERRCODE = 'GM004',
            HINT = 'a lot''s specification is fixed once; a mistake is handled by a deviation';
    END IF;
    PERFORM set_config('gmp.reason', CASE WHEN max_dose_ml_per_kg_h IS NULL THEN 'specification assigned'
                                          ELSE format('specification assigned, maximum dose %s mL/kg/h', max_dose_ml_per_kg_h) END,
                       true);
    INSERT INTO gmp.lot_specification (din, specification_id, max_dose_ml_per_kg_h, intrathecal)
    VALUES (din, chosen, max_dose_ml_per_kg_h, coalesce(intrathecal, false));
    IF max_dose_ml_per_kg_h IS NOT NULL THEN
        IF challenge IS NULL THEN
            RAISE EXCEPTION 'the maximum dose of lot % is set with your e-signature', din
                USING ERRCODE = 'insufficient_privilege', HINT = 'gmp spec assign asks for your password';
        END IF;
        PERFORM gmp_rules.record_signature(challenge, 'determined', 'gmp.lot_specification', din,
                                           coalesce(nullif(btrim(statement), ''),
                                                    format('maximum dose %s mL/kg/h%s', max_dose_ml_per_kg_h,
                                                           CASE WHEN intrathecal THEN ', intrathecal' ELSE '' END)));
    END IF;
    RETURN chosen;
END;
$$;

-- The unsigned assignment of earlier versions, in which anyone assigning could type any
-- dose (issue 20, item 7). Kept so that an older gmp, or a script written for it, still
-- assigns a specification without a dose and is told what changed when it gives one.
CREATE OR REPLACE FUNCTION gmp.assign_specification(din text, specification text, max_dose_ml_per_kg_h numeric,
                                         intrathecal boolean) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF max_dose_ml_per_kg_h IS NOT NULL THEN
        RAISE EXCEPTION 'the maximum dose of lot % is set with your e-signature', din
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'gmp spec assign asks for your password (gmp.assign_specification(challenge, din, specification, dose, intrathecal, statement)); upgrade gmp';
    END IF;
    RETURN gmp.assign_specification(NULL::uuid, din, specification, NULL::numeric, intrathecal, NULL::text);
END;
$$;

-- The one place a value meets a limit. `value` is already in the criterion's unit;
-- `qualifier` is '=' (measured), '<' (below the limit of detection: true value < value)
-- or '>' (above the range). Comparisons are exact numeric; K/M is compared as
-- value × M ≤ K, never divided.
CREATE OR REPLACE FUNCTION gmp_rules.criterion_verdict(c gmp.criterion, qualifier text, value numeric, outcomes text[],
                                           max_dose numeric, intrathecal boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    k numeric;
    lower_ok boolean;
    upper_ok boolean;
BEGIN
    PERFORM gmp_rules.require_finite(value, 'a result value'), gmp_rules.require_finite(max_dose, 'the maximum dose');
    IF c.kind = 'qualitative' THEN
        IF outcomes IS NULL OR value IS NOT NULL OR array_position(outcomes, NULL) IS NOT NULL
           OR cardinality(outcomes) <> coalesce(cardinality(c.parts), 1) THEN
            RETURN 'fail';
        END IF;
        RETURN CASE WHEN outcomes <@ c.accept THEN 'pass' ELSE 'fail' END;
    END IF;
    IF value IS NULL OR qualifier IS NULL THEN
        RETURN 'fail';
    END IF;
    IF c.kind = 'not_detected' THEN
        RETURN CASE WHEN qualifier = '<' AND value <= c.detection_limit THEN 'pass' ELSE 'fail' END;
    END IF;
    IF c.kind = 'endotoxin_dose' THEN
        k := CASE WHEN intrathecal THEN c.endotoxin_k_intrathecal ELSE c.endotoxin_k END;
        RETURN CASE WHEN k IS NOT NULL AND max_dose IS NOT NULL AND qualifier IN ('=', '<')
                         AND value * max_dose <= k THEN 'pass' ELSE 'fail' END;
    END IF;
    lower_ok := c.lower IS NULL
        OR (qualifier = '=' AND (value > c.lower OR (c.lower_inclusive AND value = c.lower)))
        OR (qualifier = '>' AND value >= c.lower);
    upper_ok := c.upper IS NULL
        OR (qualifier = '=' AND (value < c.upper OR (c.upper_inclusive AND value = c.upper)))
        OR (qualifier = '<' AND value <= c.upper);
    RETURN CASE WHEN lower_ok AND upper_ok THEN 'pass' ELSE 'fail' END;
END;
$$;

-- The limit as every report prints it, from the same row the verdict uses.
CREATE OR REPLACE FUNCTION gmp_rules.limit_text(c gmp.criterion, max_dose numeric, intrathecal boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE c.kind
        WHEN 'lower' THEN CASE WHEN c.lower_inclusive THEN '≥ ' ELSE '> ' END || c.lower
        WHEN 'upper' THEN CASE WHEN c.upper_inclusive THEN '≤ ' ELSE '< ' END || c.upper
        WHEN 'window' THEN CASE WHEN c.lower_inclusive THEN '≥ ' ELSE '> ' END || c.lower || ' and '
                           || CASE WHEN c.upper_inclusive THEN '≤ ' ELSE '< ' END || c.upper
        WHEN 'qualitative' THEN coalesce(array_to_string(c.parts, ', ') || ': ', '') || array_to_string(c.accept, ' or ')
        WHEN 'not_detected' THEN '< LOD, LOD ≤ ' || c.detection_limit
        WHEN 'endotoxin_dose' THEN
            CASE WHEN max_dose IS NULL THEN '≤ K/M, K = ' || c.endotoxin_k
                 ELSE '≤ ' || trim_scale(round((CASE WHEN intrathecal THEN c.endotoxin_k_intrathecal ELSE c.endotoxin_k END)
                                               / max_dose, 4))
                      || ' (K/M = ' || (CASE WHEN intrathecal THEN c.endotoxin_k_intrathecal ELSE c.endotoxin_k END)
                      || ' / ' || max_dose || ')' END
    END
$$;
