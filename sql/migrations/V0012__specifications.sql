-- V0012 specifications: release criteria as controlled documents.
--
--   * A specification is imported as a draft version (code@version) from a file under
--     config/specs/, and becomes effective when QA approves it with an e-signature. An
--     approved version is never edited: a change is a new version.
--   * Criteria are written once, in the import's own transaction; the CHECK constraints
--     below refuse any criterion with a gap in it (a bound without its inclusivity, an
--     empty window, a kind with the wrong keys), whoever inserts it.
--   * A lot is assigned one approved version, once, and is judged against that version
--     only; gmp_meta.criterion_verdict is the one place a value meets a limit
--     (docs/qc-and-release.md).

-- Units a result may carry, and the exact conversions between them.
CREATE TABLE gmp_meta.unit (
    symbol   text    PRIMARY KEY,
    quantity text    NOT NULL,
    maximum  numeric
);
SELECT gmp_meta.make_append_only('gmp_meta.unit');
SELECT gmp_audit.audit_table('gmp_meta.unit', 'symbol');
INSERT INTO gmp_meta.unit VALUES
    ('%', 'fraction', 100), ('cells', 'cell count', NULL), ('10^6 cells', 'cell count', NULL),
    ('10^6 cells/kg', 'cell dose', NULL), ('EU/mL', 'endotoxin', NULL), ('IU/mL', 'endotoxin', NULL),
    ('ng/mL', 'mass concentration', NULL), ('pg/mL', 'mass concentration', NULL), ('nm', 'size', NULL),
    ('particles/mL', 'particle concentration', NULL), ('10^9 particles/mL', 'particle concentration', NULL),
    ('CFU/mL', 'microbial count', NULL);

CREATE TABLE gmp_meta.unit_conversion (
    from_unit text    NOT NULL REFERENCES gmp_meta.unit,
    to_unit   text    NOT NULL REFERENCES gmp_meta.unit,
    factor    numeric NOT NULL CHECK (factor > 0),
    PRIMARY KEY (from_unit, to_unit)
);
SELECT gmp_meta.make_append_only('gmp_meta.unit_conversion');
SELECT gmp_audit.audit_table('gmp_meta.unit_conversion', 'from_unit');
INSERT INTO gmp_meta.unit_conversion VALUES
    ('cells', '10^6 cells', 0.000001), ('10^6 cells', 'cells', 1000000),
    ('EU/mL', 'IU/mL', 1), ('IU/mL', 'EU/mL', 1),
    ('ng/mL', 'pg/mL', 1000), ('pg/mL', 'ng/mL', 0.001),
    ('particles/mL', '10^9 particles/mL', 0.000000001), ('10^9 particles/mL', 'particles/mL', 1000000000);

CREATE TABLE gmp_meta.qualitative_outcome (
    outcome text PRIMARY KEY
);
SELECT gmp_meta.make_append_only('gmp_meta.qualitative_outcome');
SELECT gmp_audit.audit_table('gmp_meta.qualitative_outcome', 'outcome');
INSERT INTO gmp_meta.qualitative_outcome VALUES
    ('negative'), ('positive'), ('not_detected'), ('detected'), ('no_growth'), ('growth'),
    ('normal_karyotype'), ('abnormal_karyotype'), ('single_origin'), ('mixed_origin'),
    ('conforms'), ('does_not_conform');

CREATE TABLE gmp.specification (
    id              text        PRIMARY KEY,
    code            text        NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    version         integer     NOT NULL CHECK (version > 0),
    title           text        NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 200 AND title !~ '[[:cntrl:]]'),
    product_kind    text        NOT NULL CHECK (product_kind IN ('cells', 'conditioned_medium', 'extracellular_vesicles')),
    stage           text        NOT NULL CHECK (stage IN ('master_cell_bank', 'working_cell_bank', 'drug_product')),
    source_text     text        NOT NULL,
    source_sha256   bytea       NOT NULL,
    status          text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved')),
    criteria_sha256 bytea,
    imported_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    imported_by     text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    imported_xact   bigint      NOT NULL DEFAULT txid_current(),
    approved_at     timestamptz,
    approved_by     text        REFERENCES gmp.account,
    UNIQUE (code, version),
    CHECK (id = code || '@' || version),
    CHECK ((status = 'approved') = (approved_at IS NOT NULL AND approved_by IS NOT NULL AND criteria_sha256 IS NOT NULL))
);
COMMENT ON TABLE gmp.specification IS 'Specification versions (controlled documents): draft, then approved by QA; never edited once approved.';
SELECT gmp_audit.audit_table('gmp.specification', 'id');

CREATE TABLE gmp.criterion (
    specification_id        text    NOT NULL REFERENCES gmp.specification,
    test                    text    NOT NULL CHECK (test ~ '^[a-z0-9_]{1,40}$'),
    ordinal                 integer NOT NULL CHECK (ordinal > 0),
    name                    text    NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 120 AND name !~ '[[:cntrl:]]'),
    method                  text    NOT NULL CHECK (btrim(method) <> '' AND length(method) <= 200 AND method !~ '[[:cntrl:]]'),
    kind                    text    NOT NULL CHECK (kind IN ('lower', 'upper', 'window', 'qualitative', 'not_detected', 'endotoxin_dose')),
    unit                    text    REFERENCES gmp_meta.unit,
    lower                   numeric CHECK (lower >= 0),
    lower_inclusive         boolean,
    upper                   numeric CHECK (upper >= 0),
    upper_inclusive         boolean,
    accept                  text[]  CHECK (cardinality(accept) > 0 AND array_position(accept, NULL) IS NULL),
    parts                   text[]  CHECK (cardinality(parts) > 0 AND array_position(parts, NULL) IS NULL),
    detection_limit         numeric CHECK (detection_limit > 0),
    endotoxin_k             numeric CHECK (endotoxin_k > 0),
    endotoxin_k_intrathecal numeric CHECK (endotoxin_k_intrathecal > 0),
    max_retests             integer NOT NULL CHECK (max_retests BETWEEN 0 AND 3),
    PRIMARY KEY (specification_id, test),
    UNIQUE (specification_id, ordinal),
    -- Inclusivity is an explicit choice for every bound: never a default.
    CHECK ((lower IS NULL) = (lower_inclusive IS NULL)),
    CHECK ((upper IS NULL) = (upper_inclusive IS NULL)),
    -- Each kind has exactly its own keys.
    CHECK ((kind IN ('lower', 'window')) = (lower IS NOT NULL)),
    CHECK ((kind IN ('upper', 'window')) = (upper IS NOT NULL)),
    CHECK ((kind = 'qualitative') = (accept IS NOT NULL)),
    CHECK (parts IS NULL OR kind = 'qualitative'),
    CHECK ((kind = 'qualitative') = (unit IS NULL)),
    CHECK ((kind = 'not_detected') = (detection_limit IS NOT NULL)),
    CHECK ((kind = 'endotoxin_dose') = (endotoxin_k IS NOT NULL)),
    CHECK (endotoxin_k_intrathecal IS NULL OR kind = 'endotoxin_dose'),
    CHECK (kind <> 'endotoxin_dose' OR unit = 'EU/mL'),
    -- No empty window: a single point needs both ends inclusive.
    CHECK (kind <> 'window' OR lower < upper OR (lower = upper AND lower_inclusive AND upper_inclusive))
);
COMMENT ON TABLE gmp.criterion IS 'The criteria of a specification version, in order; written once, with the version.';
SELECT gmp_meta.make_append_only('gmp.criterion');
SELECT gmp_audit.audit_table('gmp.criterion', 'specification_id');

-- Criteria are written only in the transaction that imported their draft, and only
-- with values from the closed vocabularies.
CREATE FUNCTION gmp_meta.check_criterion() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    spec gmp.specification;
    unit_max numeric;
    unknown text;
BEGIN
    SELECT * INTO STRICT spec FROM gmp.specification WHERE id = NEW.specification_id;
    IF spec.status <> 'draft' OR spec.imported_xact <> txid_current() THEN
        RAISE EXCEPTION 'specification % is %: its criteria were fixed when it was imported', spec.id, spec.status
            USING ERRCODE = 'P0001', HINT = 'a change is a new version: gmp spec import FILE';
    END IF;
    SELECT u.maximum INTO unit_max FROM gmp_meta.unit u WHERE u.symbol = NEW.unit;
    IF unit_max IS NOT NULL AND (NEW.lower > unit_max OR NEW.upper > unit_max OR NEW.detection_limit > unit_max) THEN
        RAISE EXCEPTION 'criterion %: a limit in % cannot exceed %', NEW.test, NEW.unit, unit_max USING ERRCODE = 'P0001';
    END IF;
    SELECT string_agg(a, ', ') INTO unknown FROM unnest(NEW.accept) a
    WHERE a NOT IN (SELECT outcome FROM gmp_meta.qualitative_outcome);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'criterion %: unknown outcome %', NEW.test, unknown USING ERRCODE = 'P0001',
            HINT = (SELECT 'outcomes: ' || string_agg(outcome, ', ' ORDER BY outcome) FROM gmp_meta.qualitative_outcome);
    END IF;
    IF (SELECT count(DISTINCT p) FROM unnest(NEW.parts) p) <> cardinality(NEW.parts) THEN
        RAISE EXCEPTION 'criterion %: a part is named twice', NEW.test USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER criterion_rules BEFORE INSERT ON gmp.criterion FOR EACH ROW EXECUTE FUNCTION gmp_meta.check_criterion();
ALTER TABLE gmp.criterion ENABLE ALWAYS TRIGGER criterion_rules;

-- The hash of a version's criteria, fixed into the version row at approval so that the
-- approval signature covers every criterion.
CREATE FUNCTION gmp_meta.criteria_sha256(specification_id text) RETURNS bytea
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT sha256(convert_to(coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.ordinal), '[]')::text, 'UTF8'))
    FROM gmp.criterion c WHERE c.specification_id = criteria_sha256.specification_id
$$;

-- A version is inserted as a draft; the one change ever made to it is its approval.
CREATE FUNCTION gmp_meta.guard_specification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'specification versions are never deleted' USING ERRCODE = 'P0001',
            HINT = 'a version that is not wanted is simply never approved or assigned';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' OR NEW.approved_at IS NOT NULL OR NEW.criteria_sha256 IS NOT NULL THEN
            RAISE EXCEPTION 'a specification is imported as a draft' USING ERRCODE = 'P0001',
                HINT = 'QA approves it afterwards: gmp spec approve';
        END IF;
        NEW.source_sha256 := sha256(convert_to(NEW.source_text, 'UTF8'));
        RETURN NEW;
    END IF;
    IF OLD.status <> 'draft' THEN
        RAISE EXCEPTION 'specification % is approved: it is never edited', OLD.id USING ERRCODE = 'P0001',
            HINT = 'a change is a new version: gmp spec import FILE';
    END IF;
    IF NEW.status <> 'approved'
       OR (to_jsonb(OLD) - '{status,approved_at,approved_by,criteria_sha256}'::text[])
          IS DISTINCT FROM (to_jsonb(NEW) - '{status,approved_at,approved_by,criteria_sha256}'::text[])
       OR NEW.criteria_sha256 IS DISTINCT FROM gmp_meta.criteria_sha256(OLD.id) THEN
        RAISE EXCEPTION 'a draft specification changes only by its approval' USING ERRCODE = 'P0001',
            HINT = 'import a new version instead';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER specification_guard BEFORE INSERT OR UPDATE OR DELETE ON gmp.specification
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.guard_specification();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON gmp.specification FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp.specification ENABLE ALWAYS TRIGGER specification_guard, ENABLE ALWAYS TRIGGER no_truncate;

CREATE FUNCTION gmp_meta.require_specification(specification_id text) RETURNS gmp.specification
LANGUAGE plpgsql STABLE AS $$
DECLARE
    spec gmp.specification;
BEGIN
    SELECT * INTO spec FROM gmp.specification s WHERE s.id = specification_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no specification %', specification_id USING ERRCODE = 'P0002',
            HINT = 'gmp spec list shows every version (CODE@VERSION)';
    END IF;
    RETURN spec;
END;
$$;

-- Imports a draft version from the document gmp builds from a specification file
-- (docs/qc-and-release.md, "Import document"); returns its id, CODE@VERSION.
CREATE FUNCTION gmp.import_specification(document jsonb, source_text text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    spec_code text := document->>'code';
    next_version integer;
    same text;
    new_id text;
    c jsonb;
    extra text;
    n integer := 0;
BEGIN
    PERFORM gmp_meta.active_person();
    IF spec_code IS NULL OR jsonb_typeof(document->'criteria') IS DISTINCT FROM 'array'
       OR jsonb_array_length(document->'criteria') = 0 THEN
        RAISE EXCEPTION 'a specification needs a code and at least one criterion' USING ERRCODE = 'P0001',
            HINT = 'see config/specs/ for complete examples';
    END IF;
    SELECT string_agg(k, ', ') INTO extra FROM jsonb_object_keys(document) k
    WHERE k NOT IN ('code', 'title', 'product_kind', 'stage', 'criteria');
    IF extra IS NOT NULL THEN
        RAISE EXCEPTION 'unknown specification key(s): %', extra USING ERRCODE = 'P0001';
    END IF;
    -- Versions of one code are numbered one at a time.
    PERFORM pg_advisory_xact_lock(hashtext('gmp.specification'), hashtext(spec_code));
    SELECT s.id INTO same FROM gmp.specification s
    WHERE s.code = spec_code AND s.source_sha256 = sha256(convert_to(import_specification.source_text, 'UTF8'));
    IF same IS NOT NULL THEN
        RAISE EXCEPTION 'this file is already imported as %', same USING ERRCODE = 'P0001',
            HINT = 'nothing to import; gmp spec show ' || same;
    END IF;
    SELECT coalesce(max(s.version), 0) + 1 INTO next_version FROM gmp.specification s WHERE s.code = spec_code;
    new_id := spec_code || '@' || next_version;
    PERFORM set_config('gmp.reason', 'specification imported as a draft', true);
    INSERT INTO gmp.specification (id, code, version, title, product_kind, stage, source_text, source_sha256)
    VALUES (new_id, spec_code, next_version, document->>'title', document->>'product_kind', document->>'stage',
            import_specification.source_text, sha256(convert_to(import_specification.source_text, 'UTF8')));
    FOR c IN SELECT value FROM jsonb_array_elements(document->'criteria') LOOP
        n := n + 1;
        SELECT string_agg(k, ', ') INTO extra FROM jsonb_object_keys(c) k
        WHERE k NOT IN ('test', 'name', 'method', 'kind', 'unit', 'lower', 'lower_inclusive', 'upper',
                        'upper_inclusive', 'accept', 'parts', 'detection_limit', 'endotoxin_k',
                        'endotoxin_k_intrathecal', 'max_retests');
        IF extra IS NOT NULL THEN
            RAISE EXCEPTION 'criterion %: unknown key(s) %', n, extra USING ERRCODE = 'P0001';
        END IF;
        INSERT INTO gmp.criterion (specification_id, test, ordinal, name, method, kind, unit, lower, lower_inclusive,
                                   upper, upper_inclusive, accept, parts, detection_limit, endotoxin_k,
                                   endotoxin_k_intrathecal, max_retests)
        VALUES (new_id, c->>'test', n, c->>'name', c->>'method', c->>'kind', c->>'unit', (c->>'lower')::numeric,
                (c->>'lower_inclusive')::boolean, (c->>'upper')::numeric, (c->>'upper_inclusive')::boolean,
                CASE WHEN jsonb_typeof(c->'accept') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(c->'accept')) END,
                CASE WHEN jsonb_typeof(c->'parts') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(c->'parts')) END,
                (c->>'detection_limit')::numeric, (c->>'endotoxin_k')::numeric,
                (c->>'endotoxin_k_intrathecal')::numeric, (c->>'max_retests')::integer);
    END LOOP;
    RETURN new_id;
END;
$$;

-- QA approves a draft, with an e-signature (meaning "approved") over the version row,
-- which by then holds the hash of every criterion. The importer cannot approve.
CREATE FUNCTION gmp.approve_specification(challenge uuid, specification_id text, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    spec gmp.specification;
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.require_specification(specification_id);
    SELECT * INTO spec FROM gmp.specification s WHERE s.id = specification_id FOR UPDATE;
    IF spec.status = 'approved' THEN
        RAISE EXCEPTION 'specification % is already approved (%)', spec.id, spec.approved_by USING ERRCODE = 'P0001',
            HINT = 'an approved version is never edited; a change is a new version';
    END IF;
    IF spec.imported_by = session_user THEN
        RAISE EXCEPTION 'you imported %: a second person approves it', spec.id USING ERRCODE = 'insufficient_privilege',
            HINT = 'another QA person approves the specification';
    END IF;
    PERFORM set_config('gmp.reason', 'specification approved', true);
    UPDATE gmp.specification s SET status = 'approved', approved_at = clock_timestamp(), approved_by = session_user,
                                    criteria_sha256 = gmp_meta.criteria_sha256(spec.id)
    WHERE s.id = spec.id;
    RETURN gmp_meta.record_signature(challenge, 'approved', 'gmp.specification', spec.id, statement);
END;
$$;

-- Which version a lot is judged against, fixed once; and the lot's maximum dose (M,
-- mL per kg per hour) for a dose-based endotoxin limit.
CREATE TABLE gmp.lot_specification (
    din                  text        PRIMARY KEY REFERENCES gmp.lot,
    specification_id     text        NOT NULL REFERENCES gmp.specification,
    max_dose_ml_per_kg_h numeric     CHECK (max_dose_ml_per_kg_h > 0),
    intrathecal          boolean     NOT NULL,
    assigned_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    assigned_by          text        NOT NULL DEFAULT session_user REFERENCES gmp.account
);
COMMENT ON TABLE gmp.lot_specification IS 'The approved specification version each lot is judged against; fixed once.';
CREATE INDEX lot_specification_version ON gmp.lot_specification (specification_id);
SELECT gmp_meta.make_append_only('gmp.lot_specification');
SELECT gmp_audit.audit_table('gmp.lot_specification', 'din');

CREATE FUNCTION gmp_meta.check_lot_specification() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    l gmp.lot;
    spec gmp.specification;
BEGIN
    SELECT * INTO STRICT l FROM gmp.lot WHERE din = NEW.din FOR UPDATE;
    SELECT * INTO STRICT spec FROM gmp.specification WHERE id = NEW.specification_id;
    IF l.status NOT IN ('quarantine', 'on_hold') THEN
        RAISE EXCEPTION 'lot % is %: its specification is fixed', l.din, l.status USING ERRCODE = 'P0001';
    END IF;
    IF spec.status <> 'approved' THEN
        RAISE EXCEPTION 'specification % is a draft: only an approved version is assigned', spec.id
            USING ERRCODE = 'P0001', HINT = 'QA approves it first: gmp spec approve ' || spec.id;
    END IF;
    IF spec.product_kind <> l.product_kind OR spec.stage <> l.stage THEN
        RAISE EXCEPTION 'specification % is for % (%), lot % is % (%)', spec.id, spec.product_kind, spec.stage,
            l.din, l.product_kind, l.stage USING ERRCODE = 'P0001', HINT = 'assign a specification for this kind of lot';
    END IF;
    IF NEW.max_dose_ml_per_kg_h IS NULL
       AND EXISTS (SELECT FROM gmp.criterion c WHERE c.specification_id = spec.id AND c.kind = 'endotoxin_dose') THEN
        RAISE EXCEPTION 'specification % has a dose-based endotoxin limit (K/M): the lot''s maximum dose is needed', spec.id
            USING ERRCODE = 'P0001', HINT = 'give --max-dose (mL per kg per hour)';
    END IF;
    IF NEW.intrathecal AND EXISTS (SELECT FROM gmp.criterion c WHERE c.specification_id = spec.id
                                   AND c.kind = 'endotoxin_dose' AND c.endotoxin_k_intrathecal IS NULL) THEN
        RAISE EXCEPTION 'specification % has no intrathecal endotoxin K', spec.id USING ERRCODE = 'P0001',
            HINT = 'use a specification written for intrathecal use';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER lot_specification_rules BEFORE INSERT ON gmp.lot_specification
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.check_lot_specification();
ALTER TABLE gmp.lot_specification ENABLE ALWAYS TRIGGER lot_specification_rules;

-- Assigns a version (CODE@VERSION, or CODE for its latest approved version); returns
-- the version assigned.
CREATE FUNCTION gmp.assign_specification(din text, specification text, max_dose_ml_per_kg_h numeric,
                                         intrathecal boolean) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    chosen text := specification;
    already text;
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.require_lot(din);
    IF position('@' IN specification) = 0 THEN
        SELECT s.id INTO chosen FROM gmp.specification s
        WHERE s.code = specification AND s.status = 'approved' ORDER BY s.version DESC LIMIT 1;
        IF chosen IS NULL THEN
            RAISE EXCEPTION 'specification % has no approved version', specification USING ERRCODE = 'P0002',
                HINT = 'gmp spec list shows every version and its status';
        END IF;
    END IF;
    PERFORM gmp_meta.require_specification(chosen);
    SELECT ls.specification_id INTO already FROM gmp.lot_specification ls WHERE ls.din = assign_specification.din;
    IF already IS NOT NULL THEN
        RAISE EXCEPTION 'lot % is already judged against %', din, already USING ERRCODE = 'P0001',
            HINT = 'a lot''s specification is fixed once; a mistake is handled by a deviation';
    END IF;
    PERFORM set_config('gmp.reason', 'specification assigned', true);
    INSERT INTO gmp.lot_specification (din, specification_id, max_dose_ml_per_kg_h, intrathecal)
    VALUES (din, chosen, max_dose_ml_per_kg_h, coalesce(intrathecal, false));
    RETURN chosen;
END;
$$;

-- The one place a value meets a limit. `value` is already in the criterion's unit;
-- `qualifier` is '=' (measured), '<' (below the limit of detection: true value < value)
-- or '>' (above the range). Comparisons are exact numeric; K/M is compared as
-- value × M ≤ K, never divided.
CREATE FUNCTION gmp_meta.criterion_verdict(c gmp.criterion, qualifier text, value numeric, outcomes text[],
                                           max_dose numeric, intrathecal boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    k numeric;
    lower_ok boolean;
    upper_ok boolean;
BEGIN
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
CREATE FUNCTION gmp_meta.limit_text(c gmp.criterion, max_dose numeric, intrathecal boolean) RETURNS text
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

GRANT SELECT ON gmp_meta.unit, gmp_meta.unit_conversion, gmp_meta.qualitative_outcome TO gmp_person;
GRANT SELECT ON gmp.specification, gmp.criterion, gmp.lot_specification TO gmp_person;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp, gmp_meta, gmp_audit FROM PUBLIC;
-- Pure functions of a criterion: anyone may judge or print with them.
GRANT EXECUTE ON FUNCTION gmp_meta.criterion_verdict(gmp.criterion, text, numeric, text[], numeric, boolean),
                          gmp_meta.limit_text(gmp.criterion, numeric, boolean) TO gmp_person;
GRANT EXECUTE ON FUNCTION gmp.import_specification(jsonb, text) TO gmp_qc, gmp_qa;
GRANT EXECUTE ON FUNCTION gmp.approve_specification(uuid, text, text) TO gmp_qa;
GRANT EXECUTE ON FUNCTION gmp.assign_specification(text, text, numeric, boolean) TO gmp_qc, gmp_qa;
