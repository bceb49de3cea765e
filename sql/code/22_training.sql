-- training: Controlled procedures (SOPs) and their versions, what each covers, training
-- records signed by trainer and trainee, qualification at a time, and the rules that refuse
-- a manufacturing step, QC result or verification by a person not qualified on the
-- procedure in force (21 CFR 1271.170(b), 211.25(a)).
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- The latest registered version of a procedure code.
CREATE OR REPLACE FUNCTION gmp_rules.require_procedure(procedure_code text) RETURNS gmp.procedure
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p gmp.procedure;
BEGIN
    SELECT * INTO p FROM gmp.procedure x WHERE x.code = procedure_code ORDER BY x.version DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no procedure %', procedure_code USING ERRCODE = 'GM001',
            HINT = 'gmp sop list shows the registered procedures';
    END IF;
    RETURN p;
END;
$$;

-- The version of a procedure in force at a time: the latest whose effective date (UTC) is
-- on or before it; NULL when none is effective yet.
CREATE OR REPLACE FUNCTION gmp_rules.procedure_in_force(procedure_code text, at timestamptz) RETURNS gmp.procedure
LANGUAGE sql STABLE AS $$
    SELECT p FROM gmp.procedure p
    WHERE p.code = procedure_code AND p.effective_on <= (at AT TIME ZONE 'UTC')::date
    ORDER BY p.version DESC LIMIT 1
$$;

-- Where a person stands on a procedure at a time, as the training matrix prints it:
--   qualified          trained (trainer's and trainee's signatures, both by `at`) on the
--                      version in force;
--   retraining_window  trained on the previous version, and `at` is within the new
--                      version's retraining window (still qualified);
--   awaiting_trainee   trained on the version in force, the trainee has not signed yet;
--   lapsed             trained on an older version only, its window over;
--   not_trained        no training on the procedure.
-- The version judged is the one in force at `at`, or the first one while none is yet.
CREATE OR REPLACE FUNCTION gmp_rules.qualification(account text, procedure_code text, at timestamptz,
                                                   OUT state text, OUT version integer, OUT trained_version integer,
                                                   OUT window_ends_on date, OUT awaiting_training_id bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p gmp.procedure := gmp_rules.procedure_in_force(procedure_code, at);
BEGIN
    IF p.id IS NULL THEN
        SELECT * INTO p FROM gmp.procedure x WHERE x.code = procedure_code ORDER BY x.version LIMIT 1;
    END IF;
    IF p.id IS NULL THEN
        state := 'not_trained';
        RETURN;
    END IF;
    version := p.version;
    window_ends_on := CASE WHEN p.version > 1 THEN p.effective_on + p.retrain_within_days END;
    SELECT max(t.version) INTO trained_version FROM gmp.training_record t
    JOIN gmp.training_acknowledgement a ON a.training_id = t.id
    WHERE t.trainee = account AND t.code = procedure_code AND t.version <= p.version AND a.acknowledged_at <= at;
    SELECT min(t.id) INTO awaiting_training_id FROM gmp.training_record t
    WHERE t.trainee = account AND t.code = procedure_code AND t.version = p.version
      AND NOT EXISTS (SELECT FROM gmp.training_acknowledgement a WHERE a.training_id = t.id);
    state := CASE
        WHEN trained_version = p.version THEN 'qualified'
        WHEN trained_version = p.version - 1 AND at < (window_ends_on::timestamp AT TIME ZONE 'UTC') THEN 'retraining_window'
        WHEN awaiting_training_id IS NOT NULL THEN 'awaiting_trainee'
        WHEN trained_version IS NOT NULL THEN 'lapsed'
        ELSE 'not_trained' END;
    IF state = 'qualified' THEN
        awaiting_training_id := NULL;
    END IF;
END;
$$;

-- Whether a person may do work under a procedure at a time: qualified on the version in
-- force then, or on the previous one within the new version's retraining window.
CREATE OR REPLACE FUNCTION gmp_rules.qualified_on(account text, procedure_code text, at timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT q.state IN ('qualified', 'retraining_window')
           AND (gmp_rules.procedure_in_force(procedure_code, at)).id IS NOT NULL
    FROM gmp_rules.qualification(account, procedure_code, at) q
$$;

-- Refuses (GM005: a qualified person must do it) unless `account` is qualified on the
-- procedure at `at`; `what` names the work in the message ("the passage of lot …").
-- A NULL procedure (no procedure covered the work then) requires nothing: call it with the
-- procedure_code the step or result recorded, e.g. for the checker of a step,
--   PERFORM gmp_rules.require_qualified(checker, step.procedure_code, checked_at, 'the check of …');
CREATE OR REPLACE FUNCTION gmp_rules.require_qualified(account text, procedure_code text, at timestamptz, what text)
RETURNS void
LANGUAGE plpgsql STABLE SET TimeZone = 'UTC' AS $$
DECLARE
    q record;
    p gmp.procedure;
BEGIN
    IF procedure_code IS NULL OR gmp_rules.qualified_on(account, procedure_code, at) THEN
        RETURN;
    END IF;
    p := gmp_rules.procedure_in_force(procedure_code, at);
    IF p.id IS NULL THEN
        RAISE EXCEPTION '% cannot be done under %: no version of it is in force at %', what, procedure_code, at
            USING ERRCODE = 'GM003', HINT = format('gmp sop show %s shows its versions and effective dates', procedure_code);
    END IF;
    SELECT * INTO q FROM gmp_rules.qualification(account, procedure_code, at);
    RAISE EXCEPTION '% is not qualified on % version % (in force at %) for %: %', account, p.code, p.version,
        to_char(at, 'YYYY-MM-DD HH24:MI'), what,
        CASE q.state
            WHEN 'awaiting_trainee' THEN format('training %s awaits %s''s own signature', q.awaiting_training_id, account)
            WHEN 'lapsed' THEN format('trained on version %s only; its retraining window ended on %s', q.trained_version,
                                      coalesce(q.window_ends_on::text, p.effective_on::text))
            ELSE 'not trained on it' END
        USING ERRCODE = 'GM005',
              HINT = format('a qualified person does it (gmp training matrix --sop %s); or train %s first: '
                            'gmp training record %s %s@%s, then %s signs it (gmp training acknowledge)',
                            p.code, account, account, p.code, p.version, account);
END;
$$;

-- The procedure a step or result follows: the code covering it, when a version of it is in
-- force at `at` (else NULL: not covered yet). A procedure the writer named must be that
-- one. The name given through gmp.name_procedure applies to one record and is then cleared.
CREATE OR REPLACE FUNCTION gmp_rules.procedure_followed(covering text, named text, what text, at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    given text := coalesce(named, nullif(current_setting('gmp.procedure', true), ''));
BEGIN
    PERFORM set_config('gmp.procedure', '', true);
    IF given IS NOT NULL AND given IS DISTINCT FROM covering THEN
        RAISE EXCEPTION '% follows %, not %', what, coalesce(covering, 'no registered procedure'), given
            USING ERRCODE = 'GM002',
                  HINT = CASE WHEN covering IS NULL THEN 'leave --procedure out, or register what the procedure covers (gmp sop revise … --covers)'
                              ELSE format('give --procedure %s, or leave it out: the database names it', covering) END;
    END IF;
    IF covering IS NULL OR (gmp_rules.procedure_in_force(covering, at)).id IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN covering;
END;
$$;

-- Every manufacturing step, whoever inserts: it records the procedure it follows and its
-- performer is qualified on it at the step's time. On a lot made under a master batch
-- record, that is the master step's procedure once it is registered here (the master names
-- the product's own SOP); otherwise the procedure covering the step's kind.
CREATE OR REPLACE FUNCTION gmp_rules.check_step_procedure() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    what text := format('the %s of lot %s', NEW.kind, NEW.din);
    master_procedure text := (gmp_rules.master_step_of(NEW.din, NEW.kind)).procedure_code;
BEGIN
    NEW.procedure_code := gmp_rules.procedure_followed(
        coalesce((SELECT p.code FROM gmp.procedure p WHERE p.code = master_procedure LIMIT 1),
                 (SELECT c.code FROM gmp.procedure_coverage c WHERE c.step_kind = NEW.kind)),
        NEW.procedure_code, what, NEW.performed_at);
    PERFORM gmp_rules.require_qualified(NEW.performed_by, NEW.procedure_code, NEW.performed_at, what);
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER step_rules_procedure BEFORE INSERT ON gmp.manufacturing_step
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_step_procedure();
ALTER TABLE gmp.manufacturing_step ENABLE ALWAYS TRIGGER step_rules_procedure;

-- Every QC result, whoever inserts: it records the procedure covering its test, and its
-- analyst (who performed the test) is qualified on it at the test's time.
CREATE OR REPLACE FUNCTION gmp_rules.check_result_procedure() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    what text := format('the %s test of lot %s', NEW.test, NEW.din);
BEGIN
    NEW.procedure_code := gmp_rules.procedure_followed(
        (SELECT c.code FROM gmp.procedure_coverage c WHERE c.test = NEW.test), NEW.procedure_code, what, NEW.performed_at);
    PERFORM gmp_rules.require_qualified(NEW.analyst, NEW.procedure_code, NEW.performed_at, what);
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER result_rules_procedure BEFORE INSERT ON gmp.qc_result
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_result_procedure();
ALTER TABLE gmp.qc_result ENABLE ALWAYS TRIGGER result_rules_procedure;

-- Whoever verifies a QC result is qualified, when verifying, on the procedure it followed.
CREATE OR REPLACE FUNCTION gmp_rules.check_verification_qualified() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r gmp.qc_result;
BEGIN
    SELECT * INTO STRICT r FROM gmp.qc_result x WHERE x.id = NEW.result_id;
    PERFORM gmp_rules.require_qualified(coalesce(NEW.verified_by, session_user), r.procedure_code,
                                        coalesce(NEW.verified_at, clock_timestamp()),
                                        format('the verification of result %s (%s of lot %s)', r.id, r.test, r.din));
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER verification_rules_qualified BEFORE INSERT ON gmp.qc_verification
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_verification_qualified();
ALTER TABLE gmp.qc_verification ENABLE ALWAYS TRIGGER verification_rules_qualified;

-- Whoever checks a step as the second person (gmp.step_check, sql/code/23_master_records.sql)
-- is qualified, when checking, on the procedure the step followed (21 CFR 211.188(b)(11)).
CREATE OR REPLACE FUNCTION gmp_rules.check_checker_qualified() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s gmp.manufacturing_step;
BEGIN
    SELECT * INTO STRICT s FROM gmp.manufacturing_step x WHERE x.id = NEW.step_id;
    PERFORM gmp_rules.require_qualified(coalesce(NEW.checked_by, session_user), s.procedure_code,
                                        coalesce(NEW.checked_at, clock_timestamp()),
                                        format('the check of step %s (%s of lot %s)', s.id, s.kind, s.din));
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER step_check_qualified BEFORE INSERT ON gmp.step_check
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_checker_qualified();
ALTER TABLE gmp.step_check ENABLE ALWAYS TRIGGER step_check_qualified;

-- A procedure version, whoever inserts: numbered by the database (1, then one more than
-- the code's latest), effective after the version before it. Its approver (who inserts,
-- by default) signs it (checked at COMMIT).
CREATE OR REPLACE FUNCTION gmp_rules.guard_procedure() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    previous gmp.procedure;
BEGIN
    SELECT * INTO previous FROM gmp.procedure p WHERE p.code = NEW.code ORDER BY p.version DESC LIMIT 1;
    NEW.version := coalesce(previous.version, 0) + 1;
    IF previous.id IS NOT NULL AND NEW.effective_on <= previous.effective_on THEN
        RAISE EXCEPTION 'version % of % is effective from %: a revision takes effect after it', previous.version,
            NEW.code, previous.effective_on USING ERRCODE = 'GM002', HINT = 'give a later --effective date';
    END IF;
    IF previous.id IS NOT NULL AND NEW.effective_on < (clock_timestamp() AT TIME ZONE 'UTC')::date THEN
        RAISE EXCEPTION 'a revision cannot take effect in the past (%): work already recorded followed version %',
            NEW.effective_on, previous.version USING ERRCODE = 'GM002', HINT = 'give --effective today or later';
    END IF;
    NEW.approved_at := clock_timestamp();
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER procedure_guard BEFORE INSERT ON gmp.procedure
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.guard_procedure();
ALTER TABLE gmp.procedure ENABLE ALWAYS TRIGGER procedure_guard;

-- A training record, whoever inserts: on a registered version, of an active person, by a
-- trainer (who inserts, by default; the trainer's signature is checked at COMMIT) qualified on that very version or holding the qa role (so the first
-- training can happen), not in the future.
CREATE OR REPLACE FUNCTION gmp_rules.guard_training() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.recorded_at := clock_timestamp();
    IF NOT EXISTS (SELECT FROM gmp.account a WHERE a.id = NEW.trainee AND a.status = 'active') THEN
        RAISE EXCEPTION 'trainee % is not an active account', NEW.trainee USING ERRCODE = 'GM002',
            HINT = 'gmp user list shows the accounts';
    END IF;
    IF NEW.trainee = NEW.trainer THEN
        RAISE EXCEPTION 'you cannot record your own training' USING ERRCODE = 'GM005',
            HINT = 'your trainer records it, and you acknowledge it';
    END IF;
    IF NOT pg_has_role(NEW.trainer, 'gmp_qa', 'MEMBER')
       AND NOT EXISTS (SELECT FROM gmp.training_record t JOIN gmp.training_acknowledgement a ON a.training_id = t.id
                       WHERE t.trainee = NEW.trainer AND t.code = NEW.code AND t.version = NEW.version) THEN
        RAISE EXCEPTION '% is not qualified on % version %: a trainer is, or holds the qa role', NEW.trainer, NEW.code,
            NEW.version USING ERRCODE = 'GM005', HINT = format('gmp training matrix --sop %s shows who may train', NEW.code);
    END IF;
    IF NEW.trained_at IS NULL OR NEW.trained_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'training time % is in the future', NEW.trained_at USING ERRCODE = 'GM002',
            HINT = 'give the time the training took place (ISO 8601), or leave it out for now';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER training_guard BEFORE INSERT ON gmp.training_record
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.guard_training();
ALTER TABLE gmp.training_record ENABLE ALWAYS TRIGGER training_guard;

-- Only the trainee acknowledges their training (who inserts, by default; the trainee's
-- signature is checked at COMMIT), now.
CREATE OR REPLACE FUNCTION gmp_rules.guard_training_acknowledgement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    t gmp.training_record;
BEGIN
    SELECT * INTO t FROM gmp.training_record x WHERE x.id = NEW.training_id;
    NEW.acknowledged_at := clock_timestamp();
    IF NEW.acknowledged_by <> t.trainee THEN
        RAISE EXCEPTION 'training % is %''s: only % acknowledges it', t.id, t.trainee, t.trainee USING ERRCODE = 'GM005',
            HINT = format('%s runs: gmp training acknowledge %s', t.trainee, t.id);
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER training_acknowledgement_guard BEFORE INSERT ON gmp.training_acknowledgement
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.guard_training_acknowledgement();
ALTER TABLE gmp.training_acknowledgement ENABLE ALWAYS TRIGGER training_acknowledgement_guard;

-- At COMMIT, whoever wrote them: a procedure version is signed "approved" by QA who
-- approved it; a training record "performed" by its trainer; an acknowledgement
-- "reviewed" by the trainee.
CREATE OR REPLACE FUNCTION gmp_rules.check_training_signed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    signed_key text;
    signer_id  text;
    meaning_of text;
BEGIN
    CASE TG_TABLE_NAME
        WHEN 'procedure' THEN
            signed_key := NEW.id::text; signer_id := NEW.approved_by; meaning_of := 'approved';
            IF NOT pg_has_role(signer_id, 'gmp_qa', 'MEMBER') THEN
                RAISE EXCEPTION 'procedure % version % is approved by QA, not %', NEW.code, NEW.version, signer_id
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        WHEN 'training_record' THEN
            signed_key := NEW.id::text; signer_id := NEW.trainer; meaning_of := 'performed';
        ELSE
            signed_key := NEW.training_id::text; signer_id := NEW.acknowledged_by; meaning_of := 'reviewed';
    END CASE;
    IF NOT EXISTS (SELECT FROM gmp.signature s WHERE s.record_table = TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME
                   AND s.record_key = signed_key AND s.signer = signer_id AND s.meaning = meaning_of) THEN
        RAISE EXCEPTION '%.% % needs the signature ("%") of %', TG_TABLE_SCHEMA, TG_TABLE_NAME, signed_key, meaning_of, signer_id
            USING ERRCODE = 'insufficient_privilege', HINT = 'use gmp sop register|revise and gmp training record|acknowledge, which sign';
    END IF;
    RETURN NULL;
END;
$$;
SELECT gmp_meta.bind_commit_check(('gmp.' || t)::regclass, t || '_signed', 'INSERT', 'gmp_rules.check_training_signed')
FROM unnest(ARRAY['procedure', 'training_record', 'training_acknowledgement']) t;

-- Adds a version of a procedure (the first, or a revision) with what it newly covers,
-- signed "approved" by QA; returns the version.
CREATE OR REPLACE FUNCTION gmp_rules.add_procedure_version(challenge uuid, code text, title text, effective_on date,
                                                           retrain_within_days integer, step_kinds text[], tests text[],
                                                           revision boolean) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    previous gmp.procedure;
    added    gmp.procedure;
    item     text;
    holder   text;
BEGIN
    PERFORM gmp_rules.active_person();
    IF NOT pg_has_role(session_user, 'gmp_qa', 'MEMBER') THEN
        RAISE EXCEPTION 'only QA approves a procedure' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO previous FROM gmp.procedure p WHERE p.code = add_procedure_version.code ORDER BY p.version DESC LIMIT 1
        FOR UPDATE;
    IF revision AND previous.id IS NULL THEN
        PERFORM gmp_rules.require_procedure(code);
    ELSIF NOT revision AND previous.id IS NOT NULL THEN
        RAISE EXCEPTION 'procedure % is registered (version %)', code, previous.version USING ERRCODE = 'GM003',
            HINT = format('a new version is a revision: gmp sop revise %s --effective DATE', code);
    END IF;
    IF effective_on IS NULL THEN
        RAISE EXCEPTION 'a procedure version needs its effective date' USING ERRCODE = 'GM002', HINT = 'give --effective YYYY-MM-DD';
    END IF;
    PERFORM set_config('gmp.reason', CASE WHEN revision THEN 'procedure revised' ELSE 'procedure registered' END, true);
    INSERT INTO gmp.procedure AS p (code, version, title, effective_on, retrain_within_days)
    VALUES (code, 0, btrim(coalesce(title, previous.title)), effective_on,
            coalesce(retrain_within_days, previous.retrain_within_days, 0))
    RETURNING p.* INTO added;
    FOREACH item IN ARRAY coalesce(step_kinds, '{}') LOOP
        IF NOT EXISTS (SELECT FROM gmp_meta.step_kind k WHERE k.kind = item) THEN
            RAISE EXCEPTION 'unknown manufacturing step %', item USING ERRCODE = 'GM002',
                HINT = (SELECT 'steps: ' || string_agg(k.kind, ', ' ORDER BY k.rank) FROM gmp_meta.step_kind k);
        END IF;
        SELECT c.code INTO holder FROM gmp.procedure_coverage c WHERE c.step_kind = item;
        IF holder IS NULL THEN
            INSERT INTO gmp.procedure_coverage (code, version, step_kind) VALUES (added.code, added.version, item);
        ELSIF holder <> added.code THEN
            RAISE EXCEPTION 'the % step is covered by %: one procedure covers a step', item, holder USING ERRCODE = 'GM003',
                HINT = format('revise %s instead, or cover something else', holder);
        END IF;
    END LOOP;
    FOREACH item IN ARRAY coalesce(tests, '{}') LOOP
        IF NOT EXISTS (SELECT FROM gmp.criterion c WHERE c.test = item) THEN
            RAISE EXCEPTION 'no specification has a test %', item USING ERRCODE = 'GM002',
                HINT = 'use a test code of an imported specification (gmp spec show CODE)';
        END IF;
        SELECT c.code INTO holder FROM gmp.procedure_coverage c WHERE c.test = item;
        IF holder IS NULL THEN
            INSERT INTO gmp.procedure_coverage (code, version, test) VALUES (added.code, added.version, item);
        ELSIF holder <> added.code THEN
            RAISE EXCEPTION 'the % test is covered by %: one procedure covers a test', item, holder USING ERRCODE = 'GM003',
                HINT = format('revise %s instead, or cover something else', holder);
        END IF;
    END LOOP;
    PERFORM gmp_rules.record_signature(challenge, 'approved', 'gmp.procedure', added.id::text,
        format('approved %s version %s, "%s", effective %s%s', added.code, added.version, added.title, added.effective_on,
               coalesce('; covers ' || (SELECT string_agg(coalesce(c.step_kind, c.test), ', ' ORDER BY c.id)
                                        FROM gmp.procedure_coverage c WHERE c.code = added.code), '')));
    RETURN added.version;
END;
$$;

-- QA registers a procedure's first version, signed "approved"; returns 1.
CREATE OR REPLACE FUNCTION gmp.register_procedure(challenge uuid, code text, title text, effective_on date,
                                                  retrain_within_days integer, step_kinds text[], tests text[])
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    IF title IS NULL OR btrim(title) = '' THEN
        RAISE EXCEPTION 'a procedure needs its title' USING ERRCODE = 'GM002', HINT = 'give --title';
    END IF;
    RETURN gmp_rules.add_procedure_version(challenge, code, title, effective_on, retrain_within_days, step_kinds, tests, false);
END;
$$;

-- QA approves the next version of a procedure, signed "approved"; returns its number.
-- Qualifications on the version before it lapse once its retraining window ends.
CREATE OR REPLACE FUNCTION gmp.revise_procedure(challenge uuid, code text, title text, effective_on date,
                                                retrain_within_days integer, step_kinds text[], tests text[])
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    RETURN gmp_rules.add_procedure_version(challenge, code, title, effective_on, retrain_within_days, step_kinds, tests, true);
END;
$$;

-- The trainer records that `trainee` was trained on CODE@VERSION (the latest registered
-- version when NULL), signed "performed"; returns the training record's id.
CREATE OR REPLACE FUNCTION gmp.record_training(challenge uuid, trainee text, code text, version integer,
                                               trained_at timestamptz, note text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    p  gmp.procedure := gmp_rules.require_procedure(code);
    id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    IF version IS NOT NULL AND NOT EXISTS (SELECT FROM gmp.procedure x WHERE x.code = p.code AND x.version = record_training.version) THEN
        RAISE EXCEPTION 'procedure % has no version %', p.code, version USING ERRCODE = 'GM001',
            HINT = format('its latest is version %s: gmp sop show %s', p.version, p.code);
    END IF;
    PERFORM set_config('gmp.reason', 'training recorded', true);
    INSERT INTO gmp.training_record AS t (trainee, code, version, trained_at, note)
    VALUES (trainee, p.code, coalesce(version, p.version), coalesce(trained_at, clock_timestamp()), nullif(btrim(note), ''))
    RETURNING t.id INTO id;
    PERFORM gmp_rules.record_signature(challenge, 'performed', 'gmp.training_record', id::text,
        format('I trained %s on %s version %s', trainee, p.code, coalesce(version, p.version)));
    RETURN id;
END;
$$;

-- The trainee acknowledges their training, signed "reviewed": from then on it qualifies.
CREATE OR REPLACE FUNCTION gmp.acknowledge_training(challenge uuid, training_id bigint, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    t gmp.training_record;
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT * INTO t FROM gmp.training_record x WHERE x.id = training_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no training record %', training_id USING ERRCODE = 'GM001',
            HINT = 'gmp training matrix --person ID shows the trainings awaiting a signature';
    END IF;
    IF EXISTS (SELECT FROM gmp.training_acknowledgement a WHERE a.training_id = t.id) THEN
        RAISE EXCEPTION 'training % is already acknowledged', t.id USING ERRCODE = 'GM003';
    END IF;
    PERFORM set_config('gmp.reason', 'training acknowledged', true);
    INSERT INTO gmp.training_acknowledgement (training_id) VALUES (t.id);
    RETURN gmp_rules.record_signature(challenge, 'reviewed', 'gmp.training_acknowledgement', t.id::text,
        coalesce(nullif(btrim(statement), ''),
                 format('I was trained on %s version %s and I have read and understood it', t.code, t.version)));
END;
$$;

-- Names the procedure the next step or QC result recorded in this transaction follows
-- (gmp lot step|qc record --procedure): the rules refuse it when it is not the procedure
-- covering that step or test. It applies to one record and is then cleared.
CREATE OR REPLACE FUNCTION gmp.name_procedure(code text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.require_procedure(code);
    PERFORM set_config('gmp.procedure', code, true);
END;
$$;

-- The training matrix at a time: every active person holding the operator, qc or qa role
-- against every registered procedure, with where they stand (gmp_rules.qualification).
CREATE OR REPLACE FUNCTION gmp.training_matrix(at timestamptz)
RETURNS TABLE (person text, full_name text, code text, title text, version integer, effective_on date, state text,
               trained_version integer, window_ends_on date, awaiting_training_id bigint)
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT a.id, a.full_name, p.code, p.title, q.version,
           (SELECT x.effective_on FROM gmp.procedure x WHERE x.code = p.code AND x.version = q.version),
           q.state, q.trained_version, q.window_ends_on, q.awaiting_training_id
    FROM gmp.account a
    CROSS JOIN (SELECT DISTINCT ON (x.code) x.code, x.title FROM gmp.procedure x ORDER BY x.code, x.version DESC) p
    CROSS JOIN LATERAL gmp_rules.qualification(a.id, p.code, coalesce(at, clock_timestamp())) q
    WHERE a.status = 'active'
      AND EXISTS (SELECT FROM gmp.account_role r WHERE r.account_id = a.id AND r.role IN ('operator', 'qc', 'qa'))
    ORDER BY p.code, a.id
$$;
