-- V0008 tissue collections (recoveries) and the signed eligibility determination.
--
--   * A collection records the source, donor, site, time, collector, amount with a
--     unit the source allows, and transport conditions; receipt at the facility is
--     recorded once, by the person who received it, with time and condition.
--   * A collection needs consent in force (the donor's, or for a newborn the birth
--     mother's): given on or before it and not withdrawn. A withdrawal blocks every
--     collection until the donor consents again.
--   * Eligibility is determined per recovery: the specimen window (±7 days, or from 30
--     days before for bone marrow) is counted from the collection time, and the panel
--     depends on the tissue (leukocyte-rich adds HTLV-I/II and CMV) and the donor
--     (living adds WNV NAT).

-- The tissues MSCs are isolated from, with the facts the rules need.
CREATE TABLE gmp.tissue_source (
    code                    text    PRIMARY KEY CHECK (code ~ '^[a-z_]+$'),
    name                    text    NOT NULL,
    newborn                 boolean NOT NULL,  -- tested through the birth mother
    leukocyte_rich          boolean NOT NULL,  -- adds HTLV-I/II and CMV
    specimen_days_before    integer NOT NULL CHECK (specimen_days_before BETWEEN 0 AND 30),
    units                   text[]  NOT NULL CHECK (cardinality(units) > 0)
);
COMMENT ON TABLE gmp.tissue_source IS 'Tissue sources, the amount units each allows, and how donors are tested for them.';
SELECT gmp_meta.make_append_only('gmp.tissue_source');
SELECT gmp_audit.audit_table('gmp.tissue_source', 'code');
INSERT INTO gmp.tissue_source (code, name, newborn, leukocyte_rich, specimen_days_before, units) VALUES
    ('bone_marrow',       'bone marrow aspirate',        false, true,  30, '{mL}'),
    ('umbilical_cord',    'umbilical cord',              true,  false, 7,  '{cm,g}'),
    ('cord_blood',        'umbilical cord blood',        true,  true,  7,  '{mL}'),
    ('placenta',          'placenta',                    true,  false, 7,  '{g}'),
    ('amniotic_membrane', 'amniotic membrane',           true,  false, 7,  '{g,cm2}'),
    ('amniotic_fluid',    'amniotic fluid',              true,  false, 7,  '{mL}'),
    ('adipose',           'adipose tissue (lipoaspirate)', false, false, 7, '{mL,g}'),
    ('peripheral_blood',  'peripheral blood',            false, true,  7,  '{mL}'),
    ('dental_pulp',       'dental pulp',                 false, false, 7,  '{g,teeth}'),
    ('gingiva',           'gingiva',                     false, false, 7,  '{g,mm2}'),
    ('dermis',            'dermis (skin biopsy)',        false, false, 7,  '{g,mm2}'),
    ('hair_follicle',     'hair follicles',              false, false, 7,  '{follicles}');

CREATE SEQUENCE gmp_meta.collection_number;
CREATE TABLE gmp.tissue_collection (
    id                   text          PRIMARY KEY CHECK (id ~ '^T[0-9]{2}-[0-9]{6}$'),
    donor_code           text          NOT NULL REFERENCES gmp.donor,
    source               text          NOT NULL REFERENCES gmp.tissue_source,
    site                 text          NOT NULL CHECK (btrim(site) <> '' AND site !~ '[[:cntrl:]]' AND length(site) <= 200),
    collected_at         timestamptz   NOT NULL,
    collector            text          NOT NULL CHECK (btrim(collector) <> '' AND collector !~ '[[:cntrl:]]' AND length(collector) <= 200),
    amount               numeric       NOT NULL CHECK (amount > 0),
    amount_unit          text          NOT NULL,
    transport_conditions text          NOT NULL CHECK (btrim(transport_conditions) <> '' AND transport_conditions !~ '[[:cntrl:]]'
                                                       AND length(transport_conditions) <= 500),
    recorded_at          timestamptz   NOT NULL DEFAULT clock_timestamp(),
    recorded_by          text          NOT NULL DEFAULT session_user,
    received_at          timestamptz,
    received_by          text          REFERENCES gmp.account,
    receipt_condition    text          CHECK (receipt_condition IN ('acceptable', 'compromised')),
    receipt_note         text          CHECK (receipt_note !~ '[[:cntrl:]]' AND length(receipt_note) <= 500),
    CHECK ((received_at IS NULL) = (received_by IS NULL) AND (received_at IS NULL) = (receipt_condition IS NULL)),
    CHECK (received_at IS NULL OR received_at >= collected_at)
);
COMMENT ON TABLE gmp.tissue_collection IS 'Tissue recoveries: source, donor, site, time, collector, amount, transport and receipt.';
CREATE INDEX tissue_collection_donor ON gmp.tissue_collection (donor_code);

-- Only the receipt is ever added; nothing else about a collection changes.
CREATE FUNCTION gmp_meta.guard_collection_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'tissue collections are never deleted' USING ERRCODE = 'P0001';
    END IF;
    IF OLD.received_at IS NOT NULL
       OR (to_jsonb(OLD) - '{received_at,received_by,receipt_condition,receipt_note}'::text[])
          IS DISTINCT FROM (to_jsonb(NEW) - '{received_at,received_by,receipt_condition,receipt_note}'::text[]) THEN
        RAISE EXCEPTION 'collection % is recorded; only its receipt can be added, once', OLD.id
            USING ERRCODE = 'P0001', HINT = 'a mistaken collection record is corrected by a deviation, never an edit';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER collection_guard BEFORE UPDATE OR DELETE ON gmp.tissue_collection
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.guard_collection_change();
ALTER TABLE gmp.tissue_collection ENABLE ALWAYS TRIGGER collection_guard;
SELECT gmp_audit.audit_table('gmp.tissue_collection', 'id');

-- The rules for a new collection, checked on every insert whoever inserts: the unit
-- fits the source, a newborn tissue has its birth mother linked, consent is in force.
CREATE FUNCTION gmp_meta.check_new_collection() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    src gmp.tissue_source;
    who gmp.donor;
BEGIN
    SELECT * INTO STRICT src FROM gmp.tissue_source WHERE code = NEW.source;
    SELECT * INTO STRICT who FROM gmp.donor WHERE code = NEW.donor_code;
    IF NOT NEW.amount_unit = ANY (src.units) THEN
        RAISE EXCEPTION 'unit % does not fit %', NEW.amount_unit, src.name USING ERRCODE = 'P0001',
            HINT = format('give the amount of %s in %s', src.name, array_to_string(src.units, ' or '));
    END IF;
    IF src.newborn AND who.birth_mother IS NULL THEN
        RAISE EXCEPTION '% is a newborn tissue, and donor % has no birth mother linked', src.name, who.code
            USING ERRCODE = 'P0001',
                  HINT = 'the birth mother is the one tested: register the newborn with --birth-mother CODE';
    END IF;
    IF NEW.collected_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'collection time % is in the future', NEW.collected_at USING ERRCODE = 'P0001',
            HINT = 'give the time the tissue was recovered (ISO 8601, e.g. 2026-11-30T09:15:00Z)';
    END IF;
    -- Consent in force: given on or before the collection and not withdrawn. A donor
    -- who withdrew and later consents again is in force from the new consent.
    IF NOT EXISTS (SELECT FROM gmp.consent c WHERE c.donor_code IN (who.code, who.birth_mother)
                   AND c.withdrawn_on IS NULL AND c.given_on <= (NEW.collected_at AT TIME ZONE 'UTC')::date) THEN
        IF EXISTS (SELECT FROM gmp.consent c WHERE c.donor_code IN (who.code, who.birth_mother) AND c.withdrawn_on IS NOT NULL) THEN
            RAISE EXCEPTION 'donor % has withdrawn consent: no new collection may be recorded', who.code
                USING ERRCODE = 'P0001', HINT = 'the withdrawal stands; only a new consent, recorded with gmp donor consent, allows a collection';
        END IF;
        RAISE EXCEPTION 'donor % has no consent given on or before the collection', who.code
            USING ERRCODE = 'P0001', HINT = 'record the consent first: gmp donor consent CODE --given-on … --scope … --taken-by …';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER collection_rules BEFORE INSERT ON gmp.tissue_collection
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.check_new_collection();
ALTER TABLE gmp.tissue_collection ENABLE ALWAYS TRIGGER collection_rules;

CREATE FUNCTION gmp_meta.require_collection(collection_id text) RETURNS gmp.tissue_collection
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_collection gmp.tissue_collection;
BEGIN
    SELECT * INTO found_collection FROM gmp.tissue_collection c WHERE c.id = collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no tissue collection %', collection_id USING ERRCODE = 'P0002',
            HINT = 'collection ids look like T26-000001; gmp donor show CODE lists a donor''s collections';
    END IF;
    RETURN found_collection;
END;
$$;

CREATE FUNCTION gmp.collect_tissue(donor_code text, source text, site text, collected_at timestamptz,
                                   collector text, amount numeric, amount_unit text, transport_conditions text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_id text;
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.require_donor(donor_code);
    IF NOT EXISTS (SELECT FROM gmp.tissue_source s WHERE s.code = collect_tissue.source) THEN
        RAISE EXCEPTION 'unknown tissue source %', source USING ERRCODE = 'P0001',
            HINT = 'sources: ' || (SELECT string_agg(code, ', ' ORDER BY code) FROM gmp.tissue_source);
    END IF;
    new_id := format('T%s-%s', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YY'),
                     lpad(nextval('gmp_meta.collection_number')::text, 6, '0'));
    INSERT INTO gmp.tissue_collection (id, donor_code, source, site, collected_at, collector, amount, amount_unit,
                                       transport_conditions)
    VALUES (new_id, donor_code, source, btrim(site), collected_at, btrim(collector), amount, amount_unit,
            btrim(transport_conditions));
    RETURN new_id;
END;
$$;

-- Records the receipt by the calling person; received_at null means now, by the
-- server's clock. Returns the time recorded.
CREATE FUNCTION gmp.receive_tissue(collection_id text, received_at timestamptz, condition text, note text)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c gmp.tissue_collection := gmp_meta.require_collection(collection_id);
BEGIN
    PERFORM gmp_meta.active_person();
    received_at := coalesce(received_at, clock_timestamp());
    IF c.received_at IS NOT NULL THEN
        RAISE EXCEPTION 'collection % was already received at % by %', c.id, c.received_at, c.received_by
            USING ERRCODE = 'P0001', HINT = 'a receipt is recorded once';
    END IF;
    IF received_at < c.collected_at OR received_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'receipt time % must lie between the collection (%) and now', received_at, c.collected_at
            USING ERRCODE = 'P0001', HINT = 'give the time the tissue arrived, in ISO 8601';
    END IF;
    PERFORM set_config('gmp.reason', 'tissue received at the facility', true);
    UPDATE gmp.tissue_collection t SET received_at = receive_tissue.received_at, received_by = session_user,
                                       receipt_condition = condition, receipt_note = nullif(btrim(note), '')
    WHERE t.id = collection_id;
    RETURN received_at;
END;
$$;

-- ---------------------------------------------------------------------------------
-- Eligibility.

-- Every reason donor `donor_code` is not eligible for collection `collection_id`, in
-- panel order; empty when every required test is nonreactive inside its window.
CREATE FUNCTION gmp_meta.eligibility_problems(donor_code text, collection_id text) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    who       gmp.donor := gmp_meta.require_donor(donor_code);
    c         gmp.tissue_collection := gmp_meta.require_collection(collection_id);
    src       gmp.tissue_source;
    tested    text := coalesce(who.birth_mother, who.code);
    earliest  date;
    latest    date;
    test      gmp.screening_test;
    problems  text[] := '{}';
    reactive  gmp.screening_result;
    in_window integer;
    outside   date;
BEGIN
    IF c.donor_code <> who.code THEN
        RAISE EXCEPTION 'collection % is not from donor %', c.id, who.code USING ERRCODE = 'P0001',
            HINT = 'name a collection of this donor (gmp donor show lists them)';
    END IF;
    SELECT * INTO STRICT src FROM gmp.tissue_source WHERE code = c.source;
    earliest := (c.collected_at AT TIME ZONE 'UTC')::date - src.specimen_days_before;
    latest := (c.collected_at AT TIME ZONE 'UTC')::date + 7;
    FOR test IN SELECT * FROM gmp.screening_test t
                WHERE t.required_for = 'every donor'
                   OR (t.required_for = 'leukocyte-rich tissue' AND src.leukocyte_rich)
                   OR (t.required_for = 'living donor' AND who.living)
                ORDER BY CASE t.required_for WHEN 'every donor' THEN 1 WHEN 'leukocyte-rich tissue' THEN 2 ELSE 3 END, t.code
    LOOP
        SELECT * INTO reactive FROM gmp.screening_result r
        WHERE r.donor_code = tested AND r.test_code = test.code AND r.result IN ('reactive', 'indeterminate')
          AND r.specimen_on BETWEEN earliest AND latest ORDER BY r.result DESC, r.id LIMIT 1;
        IF FOUND THEN
            problems := problems || format('%s %s (specimen %s)', test.name, reactive.result, reactive.specimen_on);
            CONTINUE;
        END IF;
        SELECT count(*) INTO in_window FROM gmp.screening_result r
        WHERE r.donor_code = tested AND r.test_code = test.code AND r.result = 'nonreactive'
          AND r.specimen_on BETWEEN earliest AND latest;
        IF in_window = 0 THEN
            SELECT max(r.specimen_on) INTO outside FROM gmp.screening_result r
            WHERE r.donor_code = tested AND r.test_code = test.code;
            IF outside IS NULL THEN
                problems := problems || format('%s: no result', test.name);
            ELSE
                problems := problems || format('%s: specimen %s outside the window %s to %s',
                                               test.name, outside, earliest, latest);
            END IF;
        END IF;
    END LOOP;
    -- A reactive result for any test, required or not, in the window.
    FOR reactive IN SELECT r.* FROM gmp.screening_result r JOIN gmp.screening_test t ON t.code = r.test_code
                    WHERE r.donor_code = tested AND r.result = 'reactive' AND r.specimen_on BETWEEN earliest AND latest
                      AND NOT (t.required_for = 'every donor'
                               OR (t.required_for = 'leukocyte-rich tissue' AND src.leukocyte_rich)
                               OR (t.required_for = 'living donor' AND who.living))
    LOOP
        problems := problems || format('%s reactive (specimen %s)',
                                       (SELECT name FROM gmp.screening_test WHERE code = reactive.test_code), reactive.specimen_on);
    END LOOP;
    RETURN problems;
END;
$$;

-- Determinations are append-only; the latest for a collection is the one in force.
CREATE TABLE gmp.eligibility_determination (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    donor_code    text        NOT NULL REFERENCES gmp.donor,
    collection_id text        NOT NULL REFERENCES gmp.tissue_collection,
    outcome       text        NOT NULL CHECK (outcome IN ('eligible', 'ineligible', 'exempt')),
    -- What the determination rests on, so the signature covers the evidence too.
    evidence      jsonb       NOT NULL,
    problems      text[]      NOT NULL,
    determined_by text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    determined_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE gmp.eligibility_determination IS 'Signed donor eligibility determinations (21 CFR 1271.50), with the evidence used.';
CREATE INDEX eligibility_determination_collection ON gmp.eligibility_determination (collection_id, id DESC);
SELECT gmp_meta.make_append_only('gmp.eligibility_determination');
SELECT gmp_audit.audit_table('gmp.eligibility_determination', 'id');

-- The rule itself, enforced on every insert: "eligible" only with no problem at all;
-- "exempt" only for autologous use.
CREATE FUNCTION gmp_meta.check_determination() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    who gmp.donor := gmp_meta.require_donor(NEW.donor_code);
    problems text[] := gmp_meta.eligibility_problems(NEW.donor_code, NEW.collection_id);
BEGIN
    IF NEW.outcome = 'eligible' AND cardinality(problems) > 0 THEN
        RAISE EXCEPTION 'donor % cannot be determined eligible: %', NEW.donor_code, array_to_string(problems, '; ')
            USING ERRCODE = 'P0001',
                  HINT = 'record the missing results (gmp donor screen), or determine the donor ineligible';
    END IF;
    IF NEW.outcome = 'exempt' AND who.intended_use <> 'autologous' THEN
        RAISE EXCEPTION 'donor % is allogeneic: only autologous donors are exempt (21 CFR 1271.90)', NEW.donor_code
            USING ERRCODE = 'P0001', HINT = 'determine the donor eligible or ineligible';
    END IF;
    NEW.problems := problems;
    RETURN NEW;
END;
$$;
CREATE TRIGGER determination_rules BEFORE INSERT ON gmp.eligibility_determination
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.check_determination();
ALTER TABLE gmp.eligibility_determination ENABLE ALWAYS TRIGGER determination_rules;

-- A director determines, signing with the meaning "determined".
CREATE FUNCTION gmp.determine_eligibility(challenge uuid, donor_code text, collection_id text, outcome text,
                                          statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c gmp.tissue_collection := gmp_meta.require_collection(collection_id);
    tested text := gmp_meta.tested_person(donor_code);
    determination_id bigint;
BEGIN
    PERFORM gmp_meta.active_person();
    IF outcome IS NULL OR outcome NOT IN ('eligible', 'ineligible', 'exempt') THEN
        RAISE EXCEPTION 'outcome must be eligible, ineligible or exempt' USING ERRCODE = 'P0001',
            HINT = 'give --outcome eligible|ineligible|exempt';
    END IF;
    PERFORM set_config('gmp.reason', coalesce(nullif(btrim(statement), ''), 'eligibility determined'), true);
    INSERT INTO gmp.eligibility_determination (donor_code, collection_id, outcome, evidence, problems)
    VALUES (donor_code, collection_id, outcome,
            jsonb_build_object('tested_person', tested, 'collection', to_jsonb(c),
                               'results', coalesce((SELECT jsonb_agg(to_jsonb(r) ORDER BY r.id)
                                                    FROM gmp.screening_result r WHERE r.donor_code = tested), '[]')),
            '{}')
    RETURNING id INTO determination_id;
    PERFORM gmp_meta.record_signature(challenge, 'determined', 'gmp.eligibility_determination',
                                      determination_id::text, statement);
    RETURN determination_id;
END;
$$;

-- Read-only, for gmp donor show: what still stands between a donor and eligibility.
CREATE FUNCTION gmp.eligibility_problems(donor_code text, collection_id text) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT gmp_meta.eligibility_problems(donor_code, collection_id)
$$;

-- The determination in force for each collection, with its signature.
CREATE VIEW gmp.eligibility AS
SELECT DISTINCT ON (d.collection_id) d.collection_id, d.donor_code, d.id AS determination_id, d.outcome,
       d.problems, d.determined_by, d.determined_at, s.printed_name AS signed_by, s.signed_at,
       s.id AS signature_id
FROM gmp.eligibility_determination d
LEFT JOIN gmp.signature s ON s.record_table = 'gmp.eligibility_determination' AND s.record_key = d.id::text
ORDER BY d.collection_id, d.id DESC;

GRANT SELECT ON gmp.tissue_source, gmp.tissue_collection, gmp.eligibility_determination, gmp.eligibility TO gmp_person;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp, gmp_meta, gmp_audit FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gmp.collect_tissue(text, text, text, timestamptz, text, numeric, text, text),
                          gmp.receive_tissue(text, timestamptz, text, text) TO gmp_operator;
GRANT EXECUTE ON FUNCTION gmp.determine_eligibility(uuid, text, text, text, text) TO gmp_director;
GRANT EXECUTE ON FUNCTION gmp.eligibility_problems(text, text) TO gmp_person;
