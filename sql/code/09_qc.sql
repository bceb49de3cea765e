-- qc: QC results: recorded, judged on insert, verified by a second person, invalidated only
-- with an assignable cause.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- Each result with where it stands. `awaiting_analyst` is true while a result recorded
-- by someone other than its named analyst lacks that analyst's own confirmation. The
-- result's columns are named, not r.*: a column added to gmp.qc_result (procedure_code,
-- V0033) can only come last in a view that is replaced in place.
CREATE OR REPLACE VIEW gmp.qc_result_status AS
SELECT r.id, r.din, r.specification_id, r.test, r.attempt, r.corrects, r.correction_reason, r.qualifier, r.value,
       r.unit, r.outcomes, r.method, r.instrument, r.analyst, r.performed_at, r.recorded_by, r.recorded_at, r.verdict,
       r.deviation_id, r.note, (c.id IS NOT NULL) AS superseded, c.id AS corrected_by,
       v.verified_by, v.verified_at, i.assignable_cause, i.approved_by AS invalidated_by, i.approved_at AS invalidated_at,
       ac.confirmed_by AS analyst_confirmed_by, ac.confirmed_at AS analyst_confirmed_at,
       (r.analyst <> r.recorded_by AND ac.result_id IS NULL) AS awaiting_analyst, r.procedure_code
FROM gmp.qc_result r
LEFT JOIN gmp.qc_result c ON c.corrects = r.id
LEFT JOIN gmp.qc_verification v ON v.result_id = r.id
LEFT JOIN gmp.qc_invalidation i ON i.result_id = r.id
LEFT JOIN gmp.qc_analyst_confirmation ac ON ac.result_id = r.id;

-- The lot, locked, and open for QC work.
CREATE OR REPLACE FUNCTION gmp_rules.lock_open_lot(lot_din text) RETURNS gmp.lot
LANGUAGE plpgsql AS $$
DECLARE
    l gmp.lot;
BEGIN
    SELECT * INTO l FROM gmp.lot WHERE din = lot_din FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no lot %', lot_din USING ERRCODE = 'GM001', HINT = 'gmp lot list shows the lots';
    END IF;
    IF l.status NOT IN ('quarantine', 'on_hold') THEN
        RAISE EXCEPTION 'lot % is %: its QC record is closed', l.din, l.status USING ERRCODE = 'GM004',
            HINT = 'nothing about a released or rejected lot changes';
    END IF;
    RETURN l;
END;
$$;

-- Everything about a new result that the database can judge; fills in its
-- specification, attempt and verdict.
CREATE OR REPLACE FUNCTION gmp_rules.check_result() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    l          gmp.lot := gmp_rules.lock_open_lot(NEW.din);
    assigned   gmp.lot_specification;
    c          gmp.criterion;
    original   gmp.qc_result_status;
    latest     gmp.qc_result_status;
    factor     numeric := 1;
    unit_max   numeric;
    unknown    text;
BEGIN
    PERFORM gmp_rules.require_finite(NEW.value, format('the value of %s', NEW.test));
    SELECT * INTO assigned FROM gmp.lot_specification WHERE din = l.din;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lot % has no specification yet', l.din USING ERRCODE = 'GM003',
            HINT = format('assign one first: gmp spec assign %s CODE', l.din || l.check_character);
    END IF;
    NEW.specification_id := assigned.specification_id;
    SELECT * INTO c FROM gmp.criterion WHERE specification_id = assigned.specification_id AND test = NEW.test;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'specification % has no test %', assigned.specification_id, NEW.test USING ERRCODE = 'GM001',
            HINT = (SELECT 'its tests: ' || string_agg(test, ', ' ORDER BY ordinal) FROM gmp.criterion
                    WHERE specification_id = assigned.specification_id);
    END IF;
    IF NOT EXISTS (SELECT FROM gmp.account a WHERE a.id = NEW.analyst AND a.status = 'active') THEN
        RAISE EXCEPTION 'analyst % is not an active account', NEW.analyst USING ERRCODE = 'GM002',
            HINT = 'the analyst is the person who performed the test: gmp user list';
    END IF;
    IF NEW.performed_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'test time % is in the future', NEW.performed_at USING ERRCODE = 'GM002',
            HINT = 'give the time the test was performed (ISO 8601), or leave it out for now';
    END IF;
    IF NEW.performed_at < l.created_at THEN
        RAISE EXCEPTION 'test time % is before lot % was created', NEW.performed_at, l.din USING ERRCODE = 'GM002';
    END IF;
    -- The value must be of the criterion's kind, in its unit or one exactly convertible.
    IF c.kind = 'qualitative' THEN
        IF NEW.outcomes IS NULL THEN
            RAISE EXCEPTION 'test % is qualitative: give its outcome, not a number', c.test USING ERRCODE = 'GM002',
                HINT = 'accepted: ' || array_to_string(c.accept, ', ')
                       || coalesce('; one outcome for each of: ' || array_to_string(c.parts, ', '), '');
        END IF;
        SELECT string_agg(o, ', ') INTO unknown FROM unnest(NEW.outcomes) o
        WHERE o NOT IN (SELECT outcome FROM gmp_meta.qualitative_outcome);
        IF unknown IS NOT NULL THEN
            RAISE EXCEPTION 'unknown outcome %', unknown USING ERRCODE = 'GM002',
                HINT = (SELECT 'outcomes: ' || string_agg(outcome, ', ' ORDER BY outcome) FROM gmp_meta.qualitative_outcome);
        END IF;
        IF cardinality(NEW.outcomes) <> coalesce(cardinality(c.parts), 1) THEN
            RAISE EXCEPTION 'test % needs % outcome(s), got %', c.test, coalesce(cardinality(c.parts), 1),
                cardinality(NEW.outcomes) USING ERRCODE = 'GM002',
                HINT = coalesce('one for each of, in order: ' || array_to_string(c.parts, ', '), 'give one outcome');
        END IF;
    ELSE
        IF NEW.value IS NULL THEN
            RAISE EXCEPTION 'test % needs a value in %', c.test, c.unit USING ERRCODE = 'GM002';
        END IF;
        IF NEW.unit <> c.unit THEN
            SELECT uc.factor INTO factor FROM gmp_meta.unit_conversion uc WHERE uc.from_unit = NEW.unit AND uc.to_unit = c.unit;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'test % is specified in %, not %', c.test, c.unit, NEW.unit USING ERRCODE = 'GM002',
                    HINT = format('give the value in %s; no exact conversion from %s is declared', c.unit, NEW.unit);
            END IF;
        END IF;
        SELECT u.maximum INTO unit_max FROM gmp_meta.unit u WHERE u.symbol = NEW.unit;
        IF NEW.value > unit_max THEN
            RAISE EXCEPTION 'a value in % cannot exceed %: %', NEW.unit, unit_max, NEW.value USING ERRCODE = 'GM002';
        END IF;
    END IF;
    -- A correction replaces the latest row of its chain, never an OOS result.
    IF NEW.corrects IS NOT NULL THEN
        SELECT * INTO original FROM gmp.qc_result_status WHERE id = NEW.corrects;
        IF NOT FOUND OR original.din <> NEW.din OR original.test <> NEW.test THEN
            RAISE EXCEPTION 'result % is not a % result of lot %', NEW.corrects, NEW.test, NEW.din USING ERRCODE = 'GM002';
        ELSIF original.superseded THEN
            RAISE EXCEPTION 'result % was already corrected by result %', original.id, original.corrected_by
                USING ERRCODE = 'GM004', HINT = format('correct result %s instead', original.corrected_by);
        ELSIF original.verdict = 'fail' THEN
            RAISE EXCEPTION 'result % is out of specification: it is never corrected or overwritten', original.id
                USING ERRCODE = 'GM004',
                      HINT = 'investigate it; QA may invalidate it for an assignable cause (gmp qc invalidate), then retest';
        ELSIF original.invalidated_by IS NOT NULL THEN
            RAISE EXCEPTION 'result % is invalidated', original.id USING ERRCODE = 'GM004', HINT = 'record a retest instead';
        END IF;
        NEW.attempt := original.attempt;
    ELSE
        SELECT * INTO latest FROM gmp.qc_result_status s
        WHERE s.din = NEW.din AND s.test = NEW.test AND NOT s.superseded ORDER BY s.attempt DESC LIMIT 1;
        IF NOT FOUND THEN
            NEW.attempt := 1;
        ELSIF latest.verdict = 'pass' AND latest.invalidated_by IS NULL THEN
            RAISE EXCEPTION 'lot % already has a result for % (result %)', NEW.din, NEW.test, latest.id USING ERRCODE = 'GM003',
                HINT = format('a typing error is corrected (gmp qc correct %s --reason …); a retest needs an OOS or invalidated result', latest.id);
        ELSIF latest.attempt - 1 >= c.max_retests THEN
            RAISE EXCEPTION 'no retest of % left: specification % allows % retest(s)', NEW.test, c.specification_id,
                c.max_retests USING ERRCODE = 'GM003',
                HINT = 'the criterion stays as it is; the lot is rejected, or released exceptionally';
        ELSE
            NEW.attempt := latest.attempt + 1;
        END IF;
    END IF;
    NEW.recorded_by := session_user;
    NEW.recorded_at := clock_timestamp();
    NEW.verdict := gmp_rules.criterion_verdict(c, NEW.qualifier, NEW.value * factor, NEW.outcomes,
                                              assigned.max_dose_ml_per_kg_h, assigned.intrathecal);
    IF NEW.verdict = 'fail' THEN
        NEW.deviation_id := gmp_rules.open_deviation('oos_investigation',
            format('OOS: %s on lot %s', c.name, NEW.din),
            format('%s %s against %s (specification %s)',
                   coalesce(NEW.qualifier || NEW.value || ' ' || NEW.unit, array_to_string(NEW.outcomes, ', ')),
                   CASE WHEN NEW.attempt > 1 THEN format('(retest %s)', NEW.attempt - 1) ELSE '' END,
                   gmp_rules.limit_text(c, assigned.max_dose_ml_per_kg_h, assigned.intrathecal), c.specification_id),
            ARRAY[NEW.din]);
    ELSE
        NEW.deviation_id := NULL;
    END IF;
    RETURN NEW;
END;
$$;

-- The lot is locked first and the result read after: at READ COMMITTED (gmp qc verify,
-- docs/concurrency.md) a correction or a second verification committed while this one
-- waited for the lot is seen, and refused here rather than by the primary key.
CREATE OR REPLACE FUNCTION gmp_rules.check_verification() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r gmp.qc_result_status;
BEGIN
    PERFORM gmp_rules.lock_open_lot((SELECT x.din FROM gmp.qc_result x WHERE x.id = NEW.result_id));
    SELECT * INTO r FROM gmp.qc_result_status WHERE id = NEW.result_id;
    IF EXISTS (SELECT FROM gmp.qc_verification v WHERE v.result_id = NEW.result_id) THEN
        RAISE EXCEPTION 'result % is already verified', NEW.result_id USING ERRCODE = 'GM003';
    END IF;
    NEW.verified_by := session_user;
    IF NEW.verified_by IN (r.recorded_by, r.analyst) THEN
        RAISE EXCEPTION 'you % result %: a different person verifies it',
            CASE WHEN NEW.verified_by = r.recorded_by THEN 'recorded' ELSE 'performed' END, r.id
            USING ERRCODE = 'GM005', HINT = 'second-person review (21 CFR 211.194): ask another QC or QA person';
    END IF;
    IF r.superseded THEN
        RAISE EXCEPTION 'result % was corrected by result %', r.id, r.corrected_by USING ERRCODE = 'GM004',
            HINT = format('verify result %s', r.corrected_by);
    END IF;
    RETURN NEW;
END;
$$;

-- Lot first, then the result (as check_verification): gmp qc invalidate runs at READ
-- COMMITTED.
CREATE OR REPLACE FUNCTION gmp_rules.check_invalidation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r gmp.qc_result_status;
BEGIN
    PERFORM gmp_rules.lock_open_lot((SELECT x.din FROM gmp.qc_result x WHERE x.id = NEW.result_id));
    SELECT * INTO r FROM gmp.qc_result_status WHERE id = NEW.result_id;
    IF EXISTS (SELECT FROM gmp.qc_invalidation i WHERE i.result_id = NEW.result_id) THEN
        RAISE EXCEPTION 'result % is already invalidated', NEW.result_id USING ERRCODE = 'GM003';
    END IF;
    NEW.approved_by := session_user;
    IF NOT pg_has_role(session_user, 'gmp_qa', 'MEMBER') THEN
        RAISE EXCEPTION 'only QA invalidates a result' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.approved_by IN (r.recorded_by, r.analyst) THEN
        RAISE EXCEPTION 'you % result %: QA independent of the test approves its invalidation',
            CASE WHEN NEW.approved_by = r.recorded_by THEN 'recorded' ELSE 'performed' END, r.id USING ERRCODE = 'GM005';
    END IF;
    IF r.superseded THEN
        RAISE EXCEPTION 'result % was corrected by result %', r.id, r.corrected_by USING ERRCODE = 'GM004';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_result(result_id bigint) RETURNS gmp.qc_result
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r gmp.qc_result;
BEGIN
    SELECT * INTO r FROM gmp.qc_result x WHERE x.id = result_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no QC result %', result_id USING ERRCODE = 'GM001', HINT = 'gmp qc list LOT shows its results';
    END IF;
    RETURN r;
END;
$$;

-- Records a result (or, with `corrects`, a correction); returns what the database made
-- of it: id, attempt, verdict, the OOS investigation opened, and a warning when a
-- retest is by the original analyst.
CREATE OR REPLACE FUNCTION gmp.record_result(din text, test text, qualifier text, value numeric, unit text, outcomes text[],
                                  method text, instrument text, analyst text, performed_at timestamptz, note text,
                                  corrects bigint, correction_reason text,
                                  OUT id bigint, OUT attempt integer, OUT verdict text, OUT deviation_id text,
                                  OUT limit_text text, OUT warning text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_lot(din);
    IF corrects IS NOT NULL THEN
        PERFORM gmp_rules.require_result(corrects);
        PERFORM gmp_rules.give_reason(correction_reason);
    END IF;
    INSERT INTO gmp.qc_result AS r (din, specification_id, test, attempt, corrects, correction_reason, qualifier, value,
                                    unit, outcomes, method, instrument, analyst, performed_at, verdict, note)
    VALUES (din, '', test, 1, corrects, nullif(btrim(correction_reason), ''), CASE WHEN value IS NOT NULL THEN coalesce(qualifier, '=') END,
            value, unit, outcomes, btrim(method), nullif(btrim(instrument), ''), coalesce(analyst, session_user::text),
            coalesce(performed_at, clock_timestamp()), 'fail', nullif(btrim(note), ''))
    RETURNING r.id, r.attempt, r.verdict, r.deviation_id INTO id, attempt, verdict, deviation_id;
    SELECT gmp_rules.limit_text(c, ls.max_dose_ml_per_kg_h, ls.intrathecal) INTO limit_text
    FROM gmp.qc_result r JOIN gmp.criterion c ON c.specification_id = r.specification_id AND c.test = r.test
    JOIN gmp.lot_specification ls ON ls.din = r.din WHERE r.id = record_result.id;
    IF attempt > 1 AND corrects IS NULL
       AND EXISTS (SELECT FROM gmp.qc_result x WHERE x.din = record_result.din AND x.test = record_result.test
                   AND x.id <> record_result.id AND x.analyst = coalesce(record_result.analyst, session_user::text)) THEN
        warning := format('retest by %s, who performed an earlier attempt: FDA OOS guidance prefers another analyst',
                          coalesce(record_result.analyst, session_user::text));
    END IF;
END;
$$;

-- A second person verifies a result, signing "reviewed" over the result row.
CREATE OR REPLACE FUNCTION gmp.verify_result(challenge uuid, result_id bigint, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_result(result_id);
    IF EXISTS (SELECT FROM gmp.qc_verification v WHERE v.result_id = verify_result.result_id) THEN
        RAISE EXCEPTION 'result % is already verified', result_id USING ERRCODE = 'GM003';
    END IF;
    PERFORM set_config('gmp.reason', 'result verified', true);
    INSERT INTO gmp.qc_verification (result_id) VALUES (result_id);
    RETURN gmp_rules.record_signature(challenge, 'reviewed', 'gmp.qc_result', result_id::text, statement);
END;
$$;

-- QA invalidates a result for an assignable cause, signing "approved" over the
-- invalidation; the result itself stays as recorded.
CREATE OR REPLACE FUNCTION gmp.invalidate_result(challenge uuid, result_id bigint, assignable_cause text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_result(result_id);
    IF EXISTS (SELECT FROM gmp.qc_invalidation i WHERE i.result_id = invalidate_result.result_id) THEN
        RAISE EXCEPTION 'result % is already invalidated', result_id USING ERRCODE = 'GM003';
    END IF;
    IF assignable_cause IS NULL OR length(btrim(assignable_cause)) < 10 THEN
        RAISE EXCEPTION 'invalidating a result needs its assignable cause' USING ERRCODE = 'GM008',
            HINT = 'name the laboratory error found, e.g. --cause "pipette P-12 out of calibration on the test day"';
    END IF;
    PERFORM set_config('gmp.reason', 'result invalidated: ' || btrim(assignable_cause), true);
    INSERT INTO gmp.qc_invalidation (result_id, assignable_cause) VALUES (result_id, btrim(assignable_cause));
    RETURN gmp_rules.record_signature(challenge, 'approved', 'gmp.qc_invalidation', result_id::text, assignable_cause);
END;
$$;

-- Only the analyst a result names confirms it, as themselves, and only a result someone
-- else recorded (issue 20, item 11): the recorder cannot put a result on another
-- person's name. Lot first, then the result (as check_verification): gmp qc confirm runs
-- at READ COMMITTED.
CREATE OR REPLACE FUNCTION gmp_rules.check_analyst_confirmation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r gmp.qc_result_status;
BEGIN
    PERFORM gmp_rules.lock_open_lot((SELECT x.din FROM gmp.qc_result x WHERE x.id = NEW.result_id));
    SELECT * INTO STRICT r FROM gmp.qc_result_status WHERE id = NEW.result_id;
    IF EXISTS (SELECT FROM gmp.qc_analyst_confirmation c WHERE c.result_id = NEW.result_id) THEN
        RAISE EXCEPTION 'result % is already confirmed by its analyst', NEW.result_id USING ERRCODE = 'GM003';
    END IF;
    NEW.confirmed_by := session_user;
    NEW.confirmed_at := clock_timestamp();
    IF NEW.confirmed_by <> r.analyst THEN
        RAISE EXCEPTION 'result % names % as its analyst: only % confirms it', r.id, r.analyst, r.analyst
            USING ERRCODE = 'GM005', HINT = format('%s runs: gmp qc confirm %s', r.analyst, r.id);
    END IF;
    IF r.analyst = r.recorded_by THEN
        RAISE EXCEPTION 'you recorded result % yourself: it needs no confirmation', r.id USING ERRCODE = 'GM003';
    END IF;
    IF r.superseded THEN
        RAISE EXCEPTION 'result % was corrected by result %', r.id, r.corrected_by USING ERRCODE = 'GM004',
            HINT = format('confirm result %s', r.corrected_by);
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER analyst_confirmation_rules BEFORE INSERT ON gmp.qc_analyst_confirmation
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_analyst_confirmation();
ALTER TABLE gmp.qc_analyst_confirmation ENABLE ALWAYS TRIGGER analyst_confirmation_rules;

-- The analyst named on a result someone else recorded confirms it, signing "performed"
-- over the result row: until then the result does not count for release.
CREATE OR REPLACE FUNCTION gmp.confirm_result(challenge uuid, result_id bigint, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_result(result_id);
    IF EXISTS (SELECT FROM gmp.qc_analyst_confirmation c WHERE c.result_id = confirm_result.result_id) THEN
        RAISE EXCEPTION 'result % is already confirmed by its analyst', result_id USING ERRCODE = 'GM003';
    END IF;
    PERFORM set_config('gmp.reason', 'result confirmed by its analyst', true);
    INSERT INTO gmp.qc_analyst_confirmation (result_id) VALUES (result_id);
    RETURN gmp_rules.record_signature(challenge, 'performed', 'gmp.qc_result', result_id::text,
                                      coalesce(nullif(btrim(statement), ''), 'I performed this test and this is my result'));
END;
$$;
