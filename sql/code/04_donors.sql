-- donors: Donors, consent, infectious-disease screening and the signed eligibility determination
-- (21 CFR 1271 Subpart C).
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

CREATE OR REPLACE FUNCTION gmp_audit.record_redacted_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN jsonb_strip_nulls(to_jsonb(OLD)) END;
    new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN jsonb_strip_nulls(to_jsonb(NEW)) END;
    key     text  := coalesce(new_row, old_row) ->> TG_ARGV[0];
    reason  text  := gmp_audit.current_reason();
    changed text[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND reason IS NULL THEN
        RAISE EXCEPTION '% of %.% needs a reason', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'GM008',
            HINT = 'give one (gmp: --reason; SQL: SELECT set_config(''gmp.reason'', ''…'', true))';
    END IF;
    SELECT array_agg(f ORDER BY f) INTO changed
    FROM (SELECT jsonb_object_keys(coalesce(new_row, '{}') || coalesce(old_row, '{}'))) AS k(f)
    WHERE f <> TG_ARGV[0] AND (old_row -> f) IS DISTINCT FROM (new_row -> f);
    PERFORM gmp_audit.append(TG_OP, TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, key,
        CASE WHEN old_row IS NOT NULL THEN jsonb_build_object(TG_ARGV[0], key, 'redacted', true) END,
        CASE WHEN new_row IS NOT NULL THEN jsonb_build_object(TG_ARGV[0], key, 'redacted', true,
                                                              'fields_changed', to_jsonb(coalesce(changed, '{}'))) END,
        reason);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.guard_consent_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'consent records are never deleted' USING ERRCODE = 'GM004',
            HINT = 'record a withdrawal instead: gmp donor withdraw-consent';
    END IF;
    IF OLD.withdrawn_on IS NOT NULL OR NEW.withdrawn_on IS NULL
       OR (to_jsonb(OLD) - 'withdrawn_on' - 'withdrawal_recorded_by')
          IS DISTINCT FROM (to_jsonb(NEW) - 'withdrawn_on' - 'withdrawal_recorded_by') THEN
        RAISE EXCEPTION 'consent % of donor % can only be withdrawn, once', OLD.id, OLD.donor_code
            USING ERRCODE = 'GM004', HINT = 'a consent is never edited; record a new consent if the donor consents again';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_donor(donor_code text) RETURNS gmp.donor
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_donor gmp.donor;
BEGIN
    SELECT * INTO found_donor FROM gmp.donor d WHERE d.code = donor_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no donor %', donor_code USING ERRCODE = 'GM001',
            HINT = 'donor codes look like D26-000001; gmp donor list shows them';
    END IF;
    RETURN found_donor;
END;
$$;

-- The donor's row stands for the intake rules, so their commands run READ COMMITTED
-- (docs/concurrency.md): a consent and a collection hold the donor FOR SHARE (a
-- collection its birth mother too), a withdrawal FOR UPDATE, a determination the tested
-- person FOR UPDATE (which also waits for every donor screen in flight: its foreign key
-- holds the donor FOR KEY SHARE). Whoever waited reads, after the lock, what the other
-- committed. `exclusive` picks FOR UPDATE over FOR SHARE.
CREATE OR REPLACE FUNCTION gmp_rules.lock_donor(donor_code text, exclusive boolean) RETURNS gmp.donor
LANGUAGE plpgsql AS $$
DECLARE
    found_donor gmp.donor;
BEGIN
    IF exclusive THEN
        SELECT * INTO found_donor FROM gmp.donor d WHERE d.code = donor_code FOR UPDATE;
    ELSE
        SELECT * INTO found_donor FROM gmp.donor d WHERE d.code = donor_code FOR SHARE;
    END IF;
    IF NOT FOUND THEN
        RETURN gmp_rules.require_donor(donor_code);  -- refuses the unknown donor (GM001)
    END IF;
    RETURN found_donor;
END;
$$;

CREATE OR REPLACE FUNCTION gmp.register_donor(intended_use text, living boolean, birth_mother text, reason text,
                                   full_name text DEFAULT NULL, date_of_birth date DEFAULT NULL,
                                   contact text DEFAULT NULL, medical_record_number text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_code text;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM set_config('gmp.reason', coalesce(nullif(btrim(reason), ''), 'donor registered'), true);
    IF intended_use IS NULL OR intended_use NOT IN ('allogeneic', 'autologous') THEN
        RAISE EXCEPTION 'intended use must be allogeneic or autologous' USING ERRCODE = 'GM002',
            HINT = 'give --use allogeneic or --use autologous';
    END IF;
    IF birth_mother IS NOT NULL THEN
        PERFORM gmp_rules.require_donor(birth_mother);
        IF EXISTS (SELECT FROM gmp.donor d WHERE d.code = register_donor.birth_mother AND d.birth_mother IS NOT NULL) THEN
            RAISE EXCEPTION 'donor % is itself a newborn and cannot be a birth mother', birth_mother
                USING ERRCODE = 'GM002', HINT = 'register the mother first and link her code';
        END IF;
    END IF;
    IF date_of_birth > current_date THEN
        RAISE EXCEPTION 'date of birth % is in the future', date_of_birth USING ERRCODE = 'GM002',
            HINT = 'give the date as YYYY-MM-DD';
    END IF;
    new_code := format('D%s-%s', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YY'),
                       lpad(nextval('gmp_meta.donor_number')::text, 6, '0'));
    INSERT INTO gmp.donor (code, intended_use, living, birth_mother)
    VALUES (new_code, intended_use, coalesce(living, true), birth_mother);
    IF num_nonnulls(full_name, date_of_birth, contact, medical_record_number) > 0 THEN
        INSERT INTO gmp_private.donor_identity (donor_code, full_name, date_of_birth, contact, medical_record_number)
        VALUES (new_code, nullif(btrim(full_name), ''), date_of_birth, nullif(btrim(contact), ''),
                nullif(btrim(medical_record_number), ''));
    END IF;
    RETURN new_code;
END;
$$;

CREATE OR REPLACE FUNCTION gmp.record_consent(donor_code text, given_on date, scope text, taken_by text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    consent_id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    -- Ordered with a withdrawal on the donor's row (gmp_rules.lock_donor).
    PERFORM gmp_rules.lock_donor(donor_code, false);
    IF given_on > current_date THEN
        RAISE EXCEPTION 'consent date % is in the future', given_on USING ERRCODE = 'GM002',
            HINT = 'give the date the donor signed, as YYYY-MM-DD';
    END IF;
    INSERT INTO gmp.consent (donor_code, given_on, scope, taken_by)
    VALUES (donor_code, given_on, btrim(scope), btrim(taken_by)) RETURNING id INTO consent_id;
    RETURN consent_id;
END;
$$;

CREATE OR REPLACE FUNCTION gmp.withdraw_consent(donor_code text, withdrawn_on date, reason text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    withdrawn integer;
BEGIN
    PERFORM gmp_rules.active_person();
    -- FOR UPDATE: a collection or consent in flight is waited for, and one begun after
    -- waits for this withdrawal and sees it (gmp_rules.lock_donor).
    PERFORM gmp_rules.lock_donor(donor_code, true);
    PERFORM gmp_rules.give_reason(reason);
    IF withdrawn_on > current_date THEN
        RAISE EXCEPTION 'withdrawal date % is in the future', withdrawn_on USING ERRCODE = 'GM002',
            HINT = 'give the date the donor withdrew, as YYYY-MM-DD';
    END IF;
    UPDATE gmp.consent c SET withdrawn_on = withdraw_consent.withdrawn_on, withdrawal_recorded_by = session_user
    WHERE c.donor_code = withdraw_consent.donor_code AND c.withdrawn_on IS NULL;
    GET DIAGNOSTICS withdrawn = ROW_COUNT;
    IF withdrawn = 0 THEN
        RAISE EXCEPTION 'donor % has no consent in force to withdraw', donor_code USING ERRCODE = 'GM003',
            HINT = 'gmp donor show lists the donor''s consents';
    END IF;
    RETURN withdrawn;
END;
$$;

-- The person whose blood is tested for a donor: the birth mother for a newborn.
CREATE OR REPLACE FUNCTION gmp_rules.tested_person(donor_code text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(d.birth_mother, d.code) FROM gmp.donor d WHERE d.code = donor_code
$$;

CREATE OR REPLACE FUNCTION gmp.record_screening_result(donor_code text, test_code text, result text, test_kit text,
                                            specimen_on date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    result_id bigint;
    tested text;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_donor(donor_code);
    tested := gmp_rules.tested_person(donor_code);
    IF tested <> donor_code THEN
        RAISE EXCEPTION 'donor % is a newborn: the birth mother % is the one tested', donor_code, tested
            USING ERRCODE = 'GM002', HINT = format('record the result for %s', tested);
    END IF;
    IF NOT EXISTS (SELECT FROM gmp.screening_test t WHERE t.code = test_code) THEN
        RAISE EXCEPTION 'unknown screening test %', test_code USING ERRCODE = 'GM002',
            HINT = 'tests: ' || (SELECT string_agg(code, ', ' ORDER BY code) FROM gmp.screening_test);
    END IF;
    IF specimen_on > current_date THEN
        RAISE EXCEPTION 'specimen date % is in the future', specimen_on USING ERRCODE = 'GM002',
            HINT = 'give the date the specimen was drawn, as YYYY-MM-DD';
    END IF;
    INSERT INTO gmp.screening_result (donor_code, test_code, result, test_kit, specimen_on)
    VALUES (donor_code, test_code, result, btrim(test_kit), specimen_on) RETURNING id INTO result_id;
    RETURN result_id;
END;
$$;

-- Every reason donor `donor_code` is not eligible for collection `collection_id`, in
-- panel order; empty when every required test is nonreactive inside its window.
CREATE OR REPLACE FUNCTION gmp_rules.eligibility_problems(donor_code text, collection_id text) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    who       gmp.donor := gmp_rules.require_donor(donor_code);
    c         gmp.tissue_collection := gmp_rules.require_collection(collection_id);
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
        RAISE EXCEPTION 'collection % is not from donor %', c.id, who.code USING ERRCODE = 'GM002',
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

-- The rule itself, enforced on every insert: "eligible" only with no problem at all;
-- "exempt" only for autologous use. The tested person's donor row is locked before the
-- results are read (gmp_rules.lock_donor): a screen in flight is waited for and counted.
CREATE OR REPLACE FUNCTION gmp_rules.check_determination() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    who gmp.donor;
    problems text[];
BEGIN
    PERFORM gmp_rules.lock_donor(coalesce(gmp_rules.tested_person(NEW.donor_code), NEW.donor_code), true);
    who := gmp_rules.require_donor(NEW.donor_code);
    problems := gmp_rules.eligibility_problems(NEW.donor_code, NEW.collection_id);
    IF NEW.outcome = 'eligible' AND cardinality(problems) > 0 THEN
        RAISE EXCEPTION 'donor % cannot be determined eligible: %', NEW.donor_code, array_to_string(problems, '; ')
            USING ERRCODE = 'GM006',
                  HINT = 'record the missing results (gmp donor screen), or determine the donor ineligible';
    END IF;
    IF NEW.outcome = 'exempt' AND who.intended_use <> 'autologous' THEN
        RAISE EXCEPTION 'donor % is allogeneic: only autologous donors are exempt (21 CFR 1271.90)', NEW.donor_code
            USING ERRCODE = 'GM002', HINT = 'determine the donor eligible or ineligible';
    END IF;
    NEW.problems := problems;
    RETURN NEW;
END;
$$;

-- A director determines, signing with the meaning "determined". The tested person's
-- donor row is locked first, so the evidence is read after every screen in flight
-- committed (gmp determine runs READ COMMITTED).
CREATE OR REPLACE FUNCTION gmp.determine_eligibility(challenge uuid, donor_code text, collection_id text, outcome text,
                                          statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tested text := coalesce(gmp_rules.tested_person(donor_code), donor_code);
    c gmp.tissue_collection;
    determination_id bigint;
BEGIN
    PERFORM gmp_rules.lock_donor(tested, true);
    c := gmp_rules.require_collection(collection_id);
    PERFORM gmp_rules.active_person();
    IF outcome IS NULL OR outcome NOT IN ('eligible', 'ineligible', 'exempt') THEN
        RAISE EXCEPTION 'outcome must be eligible, ineligible or exempt' USING ERRCODE = 'GM002',
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
    PERFORM gmp_rules.record_signature(challenge, 'determined', 'gmp.eligibility_determination',
                                      determination_id::text, statement);
    RETURN determination_id;
END;
$$;

-- Read-only, for gmp donor show: what still stands between a donor and eligibility.
CREATE OR REPLACE FUNCTION gmp.eligibility_problems(donor_code text, collection_id text) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT gmp_rules.eligibility_problems(donor_code, collection_id)
$$;

-- The determination in force for each collection, with its signature.
CREATE OR REPLACE VIEW gmp.eligibility AS
SELECT DISTINCT ON (d.collection_id) d.collection_id, d.donor_code, d.id AS determination_id, d.outcome,
       d.problems, d.determined_by, d.determined_at, s.printed_name AS signed_by, s.signed_at,
       s.id AS signature_id
FROM gmp.eligibility_determination d
LEFT JOIN gmp.signature s ON s.record_table = 'gmp.eligibility_determination' AND s.record_key = d.id::text
ORDER BY d.collection_id, d.id DESC;
