-- V0007 donors, consent, infectious-disease screening and eligibility (21 CFR 1271 Subpart C).
--
--   * A donor is known by a distinct code the database issues (D26-000001). It carries
--     no personal identifier (1271.55, 1271.290(c)). Personal data, when kept at all,
--     lives in gmp_private.donor_identity, readable only by directors and admins; its
--     audit events record who changed what field and when, never the values.
--   * A newborn donor (umbilical cord, placenta, amnion, cord blood) is linked to the
--     birth mother, and the birth mother is the one tested (1271.80(a)).
--   * Consent is recorded with its date, scope and who took it; a withdrawal is
--     recorded once and blocks new collections.
--   * Screening results are append-only: one row per test, reactive / nonreactive /
--     indeterminate, with the kit, the specimen date and the analyst.
--   * A director determines eligibility, with an electronic signature. The database
--     refuses an "eligible" determination unless every required test is nonreactive
--     inside its specimen window (gmp_meta.eligibility_problems names each gap).
--     Tissue collections arrive in V0008; the window is counted from the recovery.

CREATE SCHEMA gmp_private;
REVOKE ALL ON SCHEMA gmp_private FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA gmp_private REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- Dropping personal-data tables is refused like every other GMP table.
CREATE OR REPLACE FUNCTION gmp_audit.guard_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dropped record;
BEGIN
    FOR dropped IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
        IF dropped.schema_name IN ('gmp', 'gmp_audit', 'gmp_meta', 'gmp_private')
           AND dropped.object_type IN ('table', 'table column', 'trigger') THEN
            RAISE EXCEPTION 'dropping % % is refused: GMP records and their audit trail are kept',
                dropped.object_type, dropped.object_identity
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'records are retained for at least ten years; change the schema with a new migration that keeps the data';
        END IF;
        IF dropped.object_type = 'schema' AND dropped.object_name IN ('gmp', 'gmp_audit', 'gmp_meta', 'gmp_private') THEN
            RAISE EXCEPTION 'dropping schema % is refused: GMP records and their audit trail are kept',
                dropped.object_name USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT dropped.is_temporary THEN
            PERFORM gmp_audit.append('DDL', dropped.object_identity, 'DROP',
                jsonb_build_object('command', 'DROP', 'object_type', dropped.object_type,
                                   'object', dropped.object_identity),
                NULL, gmp_audit.current_reason());
        END IF;
    END LOOP;
END;
$$;

-- The people whose tissue is used (and birth mothers, who are tested for newborns).
CREATE SEQUENCE gmp_meta.donor_number;
CREATE TABLE gmp.donor (
    code          text        PRIMARY KEY CHECK (code ~ '^D[0-9]{2}-[0-9]{6}$'),
    intended_use  text        NOT NULL CHECK (intended_use IN ('allogeneic', 'autologous')),
    living        boolean     NOT NULL DEFAULT true,
    birth_mother  text        REFERENCES gmp.donor CHECK (birth_mother <> code),
    registered_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    registered_by text        NOT NULL DEFAULT session_user
);
COMMENT ON TABLE gmp.donor IS 'Donors by distinct code, free of personal identifiers (21 CFR 1271.55).';
CREATE INDEX donor_birth_mother ON gmp.donor (birth_mother) WHERE birth_mother IS NOT NULL;
SELECT gmp_meta.make_append_only('gmp.donor');
SELECT gmp_audit.audit_table('gmp.donor', 'code');

-- Personal data, apart and restricted. Audited with values redacted: the trail is read
-- by QA and inspectors, and must not carry names or record numbers.
CREATE TABLE gmp_private.donor_identity (
    donor_code            text PRIMARY KEY REFERENCES gmp.donor,
    full_name             text CHECK (full_name !~ '[[:cntrl:]]' AND length(full_name) <= 200),
    date_of_birth         date CHECK (date_of_birth > date '1900-01-01'),
    contact               text CHECK (contact !~ '[[:cntrl:]]' AND length(contact) <= 500),
    medical_record_number text CHECK (medical_record_number !~ '[[:cntrl:]]' AND length(medical_record_number) <= 100)
);
COMMENT ON TABLE gmp_private.donor_identity IS 'Personal data of donors; directors and admins only. Audited without values.';

CREATE FUNCTION gmp_audit.record_redacted_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN jsonb_strip_nulls(to_jsonb(OLD)) END;
    new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN jsonb_strip_nulls(to_jsonb(NEW)) END;
    key     text  := coalesce(new_row, old_row) ->> TG_ARGV[0];
    reason  text  := gmp_audit.current_reason();
    changed text[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND reason IS NULL THEN
        RAISE EXCEPTION '% of %.% needs a reason', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'P0001',
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
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON gmp_private.donor_identity
    FOR EACH ROW EXECUTE FUNCTION gmp_audit.record_redacted_change('donor_code');
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON gmp_private.donor_identity
    FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
CREATE TRIGGER never_deleted BEFORE DELETE ON gmp_private.donor_identity
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp_private.donor_identity ENABLE ALWAYS TRIGGER audit, ENABLE ALWAYS TRIGGER audit_no_truncate,
    ENABLE ALWAYS TRIGGER never_deleted;

-- Consent: given once, withdrawn at most once; nothing else about it ever changes.
CREATE TABLE gmp.consent (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    donor_code      text        NOT NULL REFERENCES gmp.donor,
    given_on        date        NOT NULL,
    scope           text        NOT NULL CHECK (btrim(scope) <> '' AND scope !~ '[[:cntrl:]]' AND length(scope) <= 500),
    taken_by        text        NOT NULL CHECK (btrim(taken_by) <> '' AND taken_by !~ '[[:cntrl:]]' AND length(taken_by) <= 200),
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by     text        NOT NULL DEFAULT session_user,
    withdrawn_on    date,
    withdrawal_recorded_by text,
    CHECK (withdrawn_on IS NULL OR withdrawn_on >= given_on),
    CHECK ((withdrawn_on IS NULL) = (withdrawal_recorded_by IS NULL))
);
COMMENT ON TABLE gmp.consent IS 'Donor consent with date, scope and who took it; withdrawal recorded once.';
CREATE INDEX consent_donor ON gmp.consent (donor_code);

CREATE FUNCTION gmp_meta.guard_consent_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'consent records are never deleted' USING ERRCODE = 'P0001',
            HINT = 'record a withdrawal instead: gmp donor withdraw-consent';
    END IF;
    IF OLD.withdrawn_on IS NOT NULL OR NEW.withdrawn_on IS NULL
       OR (to_jsonb(OLD) - 'withdrawn_on' - 'withdrawal_recorded_by')
          IS DISTINCT FROM (to_jsonb(NEW) - 'withdrawn_on' - 'withdrawal_recorded_by') THEN
        RAISE EXCEPTION 'consent % of donor % can only be withdrawn, once', OLD.id, OLD.donor_code
            USING ERRCODE = 'P0001', HINT = 'a consent is never edited; record a new consent if the donor consents again';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER consent_guard BEFORE UPDATE OR DELETE ON gmp.consent
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.guard_consent_change();
ALTER TABLE gmp.consent ENABLE ALWAYS TRIGGER consent_guard;
SELECT gmp_audit.audit_table('gmp.consent', 'donor_code');

-- The infectious-disease tests (1271.85). `required_for`: every donor; leukocyte-rich
-- tissue (viable white cells: bone marrow, cord blood, peripheral blood); living donors.
CREATE TABLE gmp.screening_test (
    code         text PRIMARY KEY CHECK (code ~ '^[a-z0-9-]+$'),
    name         text NOT NULL,
    required_for text NOT NULL CHECK (required_for IN ('every donor', 'leukocyte-rich tissue', 'living donor'))
);
COMMENT ON TABLE gmp.screening_test IS 'Required donor screening tests and when each applies (21 CFR 1271.85).';
SELECT gmp_meta.make_append_only('gmp.screening_test');
SELECT gmp_audit.audit_table('gmp.screening_test', 'code');
INSERT INTO gmp.screening_test (code, name, required_for) VALUES
    ('hiv1-ab',  'HIV-1 antibody',                 'every donor'),
    ('hiv1-nat', 'HIV-1 NAT',                      'every donor'),
    ('hiv2-ab',  'HIV-2 antibody',                 'every donor'),
    ('hbsag',    'HBsAg',                          'every donor'),
    ('anti-hbc', 'anti-HBc',                       'every donor'),
    ('anti-hcv', 'anti-HCV',                       'every donor'),
    ('hcv-nat',  'HCV NAT',                        'every donor'),
    ('syphilis', 'Treponema pallidum (syphilis)',  'every donor'),
    ('htlv',     'HTLV-I/II antibody',             'leukocyte-rich tissue'),
    ('cmv',      'CMV antibody',                   'leukocyte-rich tissue'),
    ('wnv-nat',  'WNV NAT',                        'living donor');

-- Results. Append-only: a wrong entry is corrected by a new result, never an edit.
CREATE TABLE gmp.screening_result (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    donor_code  text        NOT NULL REFERENCES gmp.donor,
    test_code   text        NOT NULL REFERENCES gmp.screening_test,
    result      text        NOT NULL CHECK (result IN ('reactive', 'nonreactive', 'indeterminate')),
    test_kit    text        NOT NULL CHECK (btrim(test_kit) <> '' AND test_kit !~ '[[:cntrl:]]' AND length(test_kit) <= 200),
    specimen_on date        NOT NULL,
    analyst     text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE gmp.screening_result IS 'Donor infectious-disease test results, append-only, with kit, specimen date and analyst.';
CREATE INDEX screening_result_donor ON gmp.screening_result (donor_code, test_code);
SELECT gmp_meta.make_append_only('gmp.screening_result');
SELECT gmp_audit.audit_table('gmp.screening_result', 'donor_code');

-- ---------------------------------------------------------------------------------
-- Writing: SECURITY DEFINER functions, each granted to the roles that may call it.

CREATE FUNCTION gmp_meta.require_donor(donor_code text) RETURNS gmp.donor
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_donor gmp.donor;
BEGIN
    SELECT * INTO found_donor FROM gmp.donor d WHERE d.code = donor_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no donor %', donor_code USING ERRCODE = 'P0002',
            HINT = 'donor codes look like D26-000001; gmp donor list shows them';
    END IF;
    RETURN found_donor;
END;
$$;

CREATE FUNCTION gmp.register_donor(intended_use text, living boolean, birth_mother text, reason text,
                                   full_name text DEFAULT NULL, date_of_birth date DEFAULT NULL,
                                   contact text DEFAULT NULL, medical_record_number text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_code text;
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM set_config('gmp.reason', coalesce(nullif(btrim(reason), ''), 'donor registered'), true);
    IF intended_use IS NULL OR intended_use NOT IN ('allogeneic', 'autologous') THEN
        RAISE EXCEPTION 'intended use must be allogeneic or autologous' USING ERRCODE = 'P0001',
            HINT = 'give --use allogeneic or --use autologous';
    END IF;
    IF birth_mother IS NOT NULL THEN
        PERFORM gmp_meta.require_donor(birth_mother);
        IF EXISTS (SELECT FROM gmp.donor d WHERE d.code = register_donor.birth_mother AND d.birth_mother IS NOT NULL) THEN
            RAISE EXCEPTION 'donor % is itself a newborn and cannot be a birth mother', birth_mother
                USING ERRCODE = 'P0001', HINT = 'register the mother first and link her code';
        END IF;
    END IF;
    IF date_of_birth > current_date THEN
        RAISE EXCEPTION 'date of birth % is in the future', date_of_birth USING ERRCODE = 'P0001',
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

CREATE FUNCTION gmp.record_consent(donor_code text, given_on date, scope text, taken_by text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    consent_id bigint;
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.require_donor(donor_code);
    IF given_on > current_date THEN
        RAISE EXCEPTION 'consent date % is in the future', given_on USING ERRCODE = 'P0001',
            HINT = 'give the date the donor signed, as YYYY-MM-DD';
    END IF;
    INSERT INTO gmp.consent (donor_code, given_on, scope, taken_by)
    VALUES (donor_code, given_on, btrim(scope), btrim(taken_by)) RETURNING id INTO consent_id;
    RETURN consent_id;
END;
$$;

CREATE FUNCTION gmp.withdraw_consent(donor_code text, withdrawn_on date, reason text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    withdrawn integer;
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.require_donor(donor_code);
    PERFORM gmp_meta.give_reason(reason);
    IF withdrawn_on > current_date THEN
        RAISE EXCEPTION 'withdrawal date % is in the future', withdrawn_on USING ERRCODE = 'P0001',
            HINT = 'give the date the donor withdrew, as YYYY-MM-DD';
    END IF;
    UPDATE gmp.consent c SET withdrawn_on = withdraw_consent.withdrawn_on, withdrawal_recorded_by = session_user
    WHERE c.donor_code = withdraw_consent.donor_code AND c.withdrawn_on IS NULL;
    GET DIAGNOSTICS withdrawn = ROW_COUNT;
    IF withdrawn = 0 THEN
        RAISE EXCEPTION 'donor % has no consent in force to withdraw', donor_code USING ERRCODE = 'P0001',
            HINT = 'gmp donor show lists the donor''s consents';
    END IF;
    RETURN withdrawn;
END;
$$;

-- The person whose blood is tested for a donor: the birth mother for a newborn.
CREATE FUNCTION gmp_meta.tested_person(donor_code text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(d.birth_mother, d.code) FROM gmp.donor d WHERE d.code = donor_code
$$;

CREATE FUNCTION gmp.record_screening_result(donor_code text, test_code text, result text, test_kit text,
                                            specimen_on date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    result_id bigint;
    tested text;
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.require_donor(donor_code);
    tested := gmp_meta.tested_person(donor_code);
    IF tested <> donor_code THEN
        RAISE EXCEPTION 'donor % is a newborn: the birth mother % is the one tested', donor_code, tested
            USING ERRCODE = 'P0001', HINT = format('record the result for %s', tested);
    END IF;
    IF NOT EXISTS (SELECT FROM gmp.screening_test t WHERE t.code = test_code) THEN
        RAISE EXCEPTION 'unknown screening test %', test_code USING ERRCODE = 'P0001',
            HINT = 'tests: ' || (SELECT string_agg(code, ', ' ORDER BY code) FROM gmp.screening_test);
    END IF;
    IF specimen_on > current_date THEN
        RAISE EXCEPTION 'specimen date % is in the future', specimen_on USING ERRCODE = 'P0001',
            HINT = 'give the date the specimen was drawn, as YYYY-MM-DD';
    END IF;
    INSERT INTO gmp.screening_result (donor_code, test_code, result, test_kit, specimen_on)
    VALUES (donor_code, test_code, result, btrim(test_kit), specimen_on) RETURNING id INTO result_id;
    RETURN result_id;
END;
$$;

GRANT USAGE ON SCHEMA gmp_private TO gmp_director, gmp_admin;
GRANT SELECT ON gmp_private.donor_identity TO gmp_director, gmp_admin;
GRANT SELECT ON gmp.donor, gmp.consent, gmp.screening_test, gmp.screening_result TO gmp_person;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp, gmp_meta, gmp_audit FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gmp.register_donor(text, boolean, text, text, text, date, text, text),
                          gmp.record_consent(text, date, text, text),
                          gmp.withdraw_consent(text, date, text) TO gmp_operator, gmp_director;
GRANT EXECUTE ON FUNCTION gmp.record_screening_result(text, text, text, text, date) TO gmp_qc;
