-- release: Release: what blocks a lot, the release package a signature covers, and the signed
-- dispositions (release, reject, hold, exceptional release); the Certificate of Analysis.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- QA rejects a lot: a signed disposition, whose signature covers the disposition and its
-- release package.
CREATE OR REPLACE FUNCTION gmp.reject_lot(challenge uuid, din text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.give_reason(reason);
    PERFORM gmp_rules.lock_for_disposition(din, 'rejected');
    RETURN gmp_rules.decide(challenge, din, 'rejected', gmp_rules.release_package(din), reason, NULL, NULL, NULL, NULL, NULL);
END;
$$;

-- Each criterion of the lot's specification with its results and verdict:
-- pass, fail, missing, unconfirmed, unverified, invalidated (no retest left) or retest
-- pending. "unconfirmed": a result another person recorded in its analyst's name that the
-- analyst has not confirmed (issue 20, item 11); judged for open lots only, so that the
-- package of a lot decided before the rule reads as it was signed.
CREATE OR REPLACE FUNCTION gmp_rules.lot_evaluation(lot_din text)
RETURNS TABLE (ordinal integer, test text, name text, method text, limit_text text, unit text, parts text[],
               verdict text, results jsonb)
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT c.ordinal, c.test, c.name, c.method,
           gmp_rules.limit_text(c, ls.max_dose_ml_per_kg_h, ls.intrathecal), c.unit, c.parts,
           CASE
               WHEN r.attempts = 0 THEN 'missing'
               WHEN r.counted_fail THEN 'fail'
               WHEN r.counted = 0 THEN CASE WHEN r.max_attempt - 1 < c.max_retests THEN 'retest pending'
                                            ELSE 'invalidated' END
               WHEN r.counted_unconfirmed AND l.status IN ('quarantine', 'on_hold') THEN 'unconfirmed'
               WHEN r.counted_unverified THEN 'unverified'
               ELSE 'pass'
           END,
           coalesce(r.results, '[]'::jsonb)
    FROM gmp.lot_specification ls
    JOIN gmp.criterion c ON c.specification_id = ls.specification_id
    LEFT JOIN LATERAL (
        SELECT count(*) AS attempts, max(s.attempt) AS max_attempt,
               count(*) FILTER (WHERE NOT s.superseded AND s.invalidated_by IS NULL) AS counted,
               bool_or(s.verdict = 'fail') FILTER (WHERE NOT s.superseded AND s.invalidated_by IS NULL) AS counted_fail,
               bool_or(s.verified_by IS NULL) FILTER (WHERE NOT s.superseded AND s.invalidated_by IS NULL) AS counted_unverified,
               bool_or(s.awaiting_analyst) FILTER (WHERE NOT s.superseded AND s.invalidated_by IS NULL) AS counted_unconfirmed,
               jsonb_agg(jsonb_build_object(
                   'id', s.id, 'attempt', s.attempt, 'corrects', s.corrects, 'correction_reason', s.correction_reason,
                   'qualifier', s.qualifier, 'value', s.value::text, 'unit', s.unit, 'outcomes', s.outcomes,
                   'method', s.method, 'instrument', s.instrument, 'analyst', s.analyst,
                   'performed_at', s.performed_at, 'recorded_by', s.recorded_by, 'recorded_at', s.recorded_at,
                   'verdict', s.verdict, 'deviation_id', s.deviation_id, 'superseded', s.superseded,
                   'counted', NOT s.superseded AND s.invalidated_by IS NULL,
                   'verified_by', s.verified_by, 'verified_at', s.verified_at,
                   'invalidated_by', s.invalidated_by, 'invalidated_at', s.invalidated_at,
                   'assignable_cause', s.assignable_cause)
                   -- Only where a confirmation exists, so that older packages hash as signed.
                   || CASE WHEN s.analyst_confirmed_by IS NULL THEN '{}'::jsonb
                           ELSE jsonb_build_object('analyst_confirmed_by', s.analyst_confirmed_by,
                                                   'analyst_confirmed_at', s.analyst_confirmed_at) END
                   ORDER BY s.id) AS results
        FROM gmp.qc_result_status s WHERE s.din = ls.din AND s.test = c.test) r ON true
    JOIN gmp.lot l ON l.din = ls.din
    WHERE ls.din = lot_din
    ORDER BY c.ordinal
$$;

-- A lot and the cell banks it was made from, up its line of parents: what its materials,
-- equipment and material blockers are gathered over.
CREATE OR REPLACE FUNCTION gmp_rules.lot_line(lot_din text) RETURNS TABLE (din text)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE line AS (
        SELECT l.din, l.parent_din FROM gmp.lot l WHERE l.din = lot_din
        UNION ALL
        SELECT p.din, p.parent_din FROM gmp.lot p JOIN line ON p.din = line.parent_din)
    SELECT line.din FROM line
$$;

-- The materials a lot and the cell banks it was made from consumed, for its trace and
-- its release package (no status: a recall after release shows as a blocker, and the
-- signed package stays the one QA decided on).
CREATE OR REPLACE FUNCTION gmp_rules.lot_materials(lot_din text) RETURNS jsonb
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT jsonb_agg(jsonb_build_object(
               'material_lot', m.id, 'type', m.type_code, 'supplier', m.supplier, 'supplier_lot', m.supplier_lot,
               'expires_on', m.expires_on, 'certificate_sha256', encode(m.certificate_sha256, 'hex'),
               'lot', c.din, 'quantity', c.quantity::text, 'unit', c.unit, 'used_at', c.used_at,
               'step_id', c.step_id, 'result_id', c.result_id) ORDER BY c.id)
    FROM gmp_rules.lot_line(lot_din) line JOIN gmp.material_consumption c ON c.din = line.din
    JOIN gmp.material_lot m ON m.id = c.material_lot_id
$$;

-- The equipment a lot and the cell banks it was made from used, for its trace and its
-- release package (no status: the signed package stays the one QA decided on). An
-- equipment found out of tolerance blocks through the deviation it opens on the lot
-- (sql/code/17_equipment.sql), so no blocker of its own.
CREATE OR REPLACE FUNCTION gmp_rules.lot_equipment(lot_din text) RETURNS jsonb
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT jsonb_agg(jsonb_build_object(
               'equipment', e.id, 'kind', e.kind, 'name', e.name, 'lot', u.din, 'used_at', u.used_at,
               'step_id', u.step_id, 'result_id', u.result_id) ORDER BY u.used_at, u.id)
    FROM gmp_rules.lot_line(lot_din) line JOIN gmp.equipment_use u ON u.din = line.din
    JOIN gmp.equipment e ON e.id = u.equipment_id
$$;

-- The release blocker of materials (sql/code/16_materials.sql): a material lot the product lot (or a cell bank it was made from)
-- consumed is rejected. No exceptional release covers it.
CREATE OR REPLACE FUNCTION gmp_rules.material_blockers(lot_din text)
RETURNS TABLE (kind text, item text, problem text)
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT 'material', m.id,
           format('material lot %s (%s, supplier lot %s) consumed by lot %s was rejected: %s',
                  m.id, m.type_code, m.supplier_lot, string_agg(DISTINCT c.din, ', '), d.reason)
    FROM gmp_rules.lot_line(lot_din) line JOIN gmp.material_consumption c ON c.din = line.din
    JOIN gmp.material_lot m ON m.id = c.material_lot_id AND m.status = 'rejected'
    LEFT JOIN gmp.material_disposition d ON d.material_lot_id = m.id AND d.decision = 'rejected'
    GROUP BY m.id, m.type_code, m.supplier_lot, d.reason
$$;

-- The release blocker of recalls (sql/code/19_recall.sql): an open recall holds the lot.
-- Only held lots (not final at the opening), so a released lot's signed package stays as
-- it was.
CREATE OR REPLACE FUNCTION gmp_rules.recall_blockers(lot_din text)
RETURNS TABLE (kind text, item text, problem text)
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT 'recall', r.id, format('recall %s (%s: %s) is open and holds lot %s', r.id, replace(r.cause, '_', ' '),
                                  coalesce(r.donor_code, r.material_lot_id, r.din), rl.din)
    FROM gmp.recall_lot rl JOIN gmp.recall r ON r.id = rl.recall_id
    WHERE rl.din = lot_din AND rl.held AND NOT EXISTS (SELECT FROM gmp.recall_closure c WHERE c.recall_id = r.id)
$$;

-- The release blocker of the batch record review (sql/code/24_batch_record.sql, issue 15):
-- a lot made under a master batch record, still open, needs QA's review of the batch record
-- as it is now. Open lots only, so that a decided lot's signed package stays as it was.
-- PL/pgSQL: the hash it compares is defined in 24_batch_record.sql, applied after this file.
CREATE OR REPLACE FUNCTION gmp_rules.batch_record_blockers(lot_din text)
RETURNS TABLE (kind text, item text, problem text)
LANGUAGE plpgsql STABLE SET TimeZone = 'UTC' AS $$
BEGIN
    RETURN QUERY
    SELECT 'batch_record_review'::text,
           coalesce(r.id::text, l.din),
           CASE WHEN r.id IS NULL
                THEN format('the executed batch record of lot %s (made under master record %s version %s) has not been '
                            'reviewed by QA: gmp batch-record review %s', l.din, m.master_code, m.master_version,
                            l.din || l.check_character)
                ELSE format('the batch record of lot %s changed since the review at %s by %s; review again: '
                            'gmp batch-record review %s', l.din, to_char(r.reviewed_at, 'YYYY-MM-DD HH24:MI:SS"Z"'),
                            r.reviewed_by, l.din || l.check_character) END
    FROM gmp.lot l
    JOIN gmp.lot_master_record m ON m.din = l.din
    LEFT JOIN LATERAL (SELECT x.id, x.reviewed_at, x.reviewed_by, x.document_sha256 FROM gmp.batch_record_review x
                       WHERE x.din = l.din ORDER BY x.id DESC LIMIT 1) r ON true
    WHERE l.din = batch_record_blockers.lot_din AND l.status IN ('quarantine', 'on_hold')
      AND (r.id IS NULL OR r.document_sha256 <> gmp_rules.batch_record_sha256(l.din));
END;
$$;


-- The release blocker of master batch records (sql/code/23_master_records.sql):
-- a step whose master step requires a second-person check that has none.
CREATE OR REPLACE FUNCTION gmp_rules.master_record_blockers(lot_din text)
RETURNS TABLE (kind text, item text, problem text)
LANGUAGE sql STABLE AS $$
    SELECT 'unchecked_step', s.id::text,
           format('step %s (%s) needs a second person''s check (master batch record %s): gmp lot check %s',
                  s.id, s.kind, ms.master_id, s.id)
    FROM gmp.lot_master_record lm
    JOIN gmp.master_step ms ON ms.master_id = lm.master_code || '@' || lm.master_version AND ms.check_required
    JOIN gmp.manufacturing_step s ON s.din = lm.din AND s.kind = ms.kind
    WHERE lm.din = lot_din AND NOT EXISTS (SELECT FROM gmp.step_check c WHERE c.step_id = s.id)
$$;

-- What blocks a release of the lot, given its evaluation: no specification, a criterion
-- not passed, a donor not determined eligible (or exempt) or whose evidence changed after
-- the determination, withdrawn consent, an open deviation, expiry, an open
-- temperature excursion that affects any of its units, a rejected material lot it
-- consumed, an open recall that holds it, and a batch record not reviewed as it is now.
CREATE OR REPLACE FUNCTION gmp_rules.blockers_of(lot_din text, evaluation jsonb)
RETURNS TABLE (kind text, item text, problem text)
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT 'specification', l.din, 'no specification assigned: gmp spec assign ' || l.din || ' CODE'
    FROM gmp.lot l WHERE l.din = lot_din AND NOT EXISTS (SELECT FROM gmp.lot_specification ls WHERE ls.din = l.din)
    UNION ALL
    SELECT 'criterion', e->>'test', (e->>'verdict') || ': ' || (e->>'name') || ' (' || (e->>'limit_text')
                                    || coalesce(' ' || (e->>'unit'), '') || ')'
    FROM jsonb_array_elements(evaluation) e WHERE e->>'verdict' <> 'pass'
    UNION ALL
    SELECT 'eligibility', l.donor_code,
           CASE WHEN d.outcome IS NULL THEN 'donor ' || l.donor_code || ' has no eligibility determination'
                ELSE 'donor ' || l.donor_code || ' is ' || d.outcome END
    FROM gmp.lot l
    LEFT JOIN LATERAL (SELECT x.outcome FROM gmp.eligibility_determination x
                       WHERE x.collection_id = l.collection_id ORDER BY x.id DESC LIMIT 1) d ON true
    WHERE l.din = lot_din AND d.outcome IS DISTINCT FROM 'eligible' AND d.outcome IS DISTINCT FROM 'exempt'
    UNION ALL
    -- A determination stands on its evidence: a reactive or indeterminate result of the
    -- tested person (the birth mother for a newborn) recorded after an "eligible" undoes
    -- it until the donor is determined again.
    SELECT 'eligibility', r.id::text,
           format('donor %s: %s %s (specimen %s) was recorded after the eligible determination %s: determine again',
                  l.donor_code, t.name, r.result, r.specimen_on, d.id)
    FROM gmp.lot l
    JOIN gmp.donor dn ON dn.code = l.donor_code
    JOIN LATERAL (SELECT x.id, x.outcome, x.determined_at FROM gmp.eligibility_determination x
                  WHERE x.collection_id = l.collection_id ORDER BY x.id DESC LIMIT 1) d ON d.outcome = 'eligible'
    JOIN gmp.screening_result r ON r.donor_code = coalesce(dn.birth_mother, dn.code)
                               AND r.result IN ('reactive', 'indeterminate') AND r.recorded_at > d.determined_at
    JOIN gmp.screening_test t ON t.code = r.test_code
    WHERE l.din = lot_din
    UNION ALL
    -- A donor who withdrew consent (and gave none again since): the donation is not used.
    -- Not an eligibility matter, so no exceptional release covers it.
    SELECT 'consent', l.donor_code,
           format('donor %s withdrew consent on %s: the donation may not be used', l.donor_code, c.withdrawn_on)
    FROM gmp.lot l
    JOIN LATERAL (SELECT x.withdrawn_on FROM gmp.consent x WHERE x.donor_code = l.donor_code
                  ORDER BY x.id DESC LIMIT 1) c ON c.withdrawn_on IS NOT NULL
    WHERE l.din = lot_din
    UNION ALL
    SELECT 'deviation', d.id, d.kind || ' ' || d.id || ' is open: ' || d.title
    FROM gmp.deviation_lot dl JOIN gmp.deviation d ON d.id = dl.deviation_id
    WHERE dl.din = lot_din AND d.status = 'open'
    UNION ALL
    SELECT 'expiry', l.din, 'expired on ' || l.expires_on
    FROM gmp.lot l WHERE l.din = lot_din AND l.expires_on < (clock_timestamp() AT TIME ZONE 'UTC')::date
    UNION ALL
    SELECT 'excursion', x.id, 'temperature excursion ' || x.id || ' of ' || x.device_id || ' is open (units '
                              || string_agg(e.unit_id, ', ' ORDER BY e.unit_id) || '): gmp excursion assess ' || x.id
    FROM gmp.excursion_unit e JOIN gmp.excursion x ON x.id = e.excursion_id
    WHERE e.din = lot_din AND e.excursion_status = 'open'
    GROUP BY x.id, x.device_id
    UNION ALL
    -- A material lot it (or a cell bank it was made from) consumed was rejected (16_materials.sql).
    SELECT m.kind, m.item, m.problem FROM gmp_rules.material_blockers(lot_din) m
    UNION ALL
    -- An open recall holds it (19_recall.sql).
    SELECT r.kind, r.item, r.problem FROM gmp_rules.recall_blockers(lot_din) r
    UNION ALL
    -- A step its master batch record requires checked has no second person's check (23_master_records.sql).
    SELECT m.kind, m.item, m.problem FROM gmp_rules.master_record_blockers(lot_din) m
    UNION ALL
    -- Made under a master batch record and not reviewed as it is now (24_batch_record.sql).
    SELECT b.kind, b.item, b.problem FROM gmp_rules.batch_record_blockers(lot_din) b
$$;

-- The blockers of a lot as it stands now.
CREATE OR REPLACE FUNCTION gmp_rules.release_blockers(lot_din text)
RETURNS TABLE (kind text, item text, problem text)
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT b.* FROM gmp_rules.blockers_of(lot_din, coalesce(
        (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.ordinal) FROM gmp_rules.lot_evaluation(lot_din) e), '[]')) b
$$;

-- The release package: what a disposition decides on and its signature covers. Its
-- text form is canonical (jsonb orders keys), so its SHA-256 is reproducible.
CREATE OR REPLACE FUNCTION gmp_rules.release_package(lot_din text) RETURNS jsonb
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT jsonb_build_object(
        'lot', jsonb_build_object('din', l.din, 'keyed_id', l.din || l.check_character, 'stage', l.stage,
                                  'product_kind', l.product_kind, 'intended_use', l.intended_use,
                                  'donor_code', l.donor_code, 'collection_id', l.collection_id,
                                  'parent_din', l.parent_din, 'expires_on', l.expires_on,
                                  'manufactured_on', (SELECT (max(s.performed_at) AT TIME ZONE 'UTC')::date
                                                      FROM gmp.manufacturing_step s WHERE s.din = l.din),
                                  'units', f.units, 'unit_volume_ml', f.unit_volume_ml::text),
        'specification', (SELECT jsonb_build_object('id', sp.id, 'code', sp.code, 'version', sp.version,
                                                    'title', sp.title, 'approved_at', sp.approved_at,
                                                    'approved_by', sp.approved_by,
                                                    'criteria_sha256', encode(sp.criteria_sha256, 'hex'))
                          FROM gmp.specification sp WHERE sp.id = ls.specification_id),
        -- A signed dose (issue 20, item 7) adds who set it, the signature and the range the
        -- specification permits; a lot without one keeps the package it always had.
        'dose', CASE WHEN ls.din IS NOT NULL THEN
                    jsonb_build_object('max_dose_ml_per_kg_h', ls.max_dose_ml_per_kg_h::text, 'intrathecal', ls.intrathecal)
                    || coalesce((SELECT jsonb_build_object(
                                     'unit', 'mL/kg/h', 'set_by', ls.assigned_by, 'set_at', ls.assigned_at,
                                     'signed_by', ds.printed_name, 'signed_at', ds.signed_at, 'meaning', ds.meaning,
                                     'signature_id', ds.id,
                                     'permitted', (SELECT jsonb_agg(jsonb_build_object('test', c.test,
                                                                    'min', c.max_dose_min::text, 'max', c.max_dose_max::text)
                                                                    ORDER BY c.ordinal)
                                                   FROM gmp.criterion c WHERE c.specification_id = ls.specification_id
                                                   AND c.kind = 'endotoxin_dose'))
                                 FROM gmp.signature ds
                                 WHERE ds.record_table = 'gmp.lot_specification' AND ds.record_key = ls.din
                                 ORDER BY ds.id LIMIT 1), '{}'::jsonb) END,
        'evaluation', ev.evaluation,
        'deviations', coalesce((SELECT jsonb_agg(jsonb_build_object('id', d.id, 'kind', d.kind, 'title', d.title,
                                                                    'status', d.status, 'outcome', d.outcome,
                                                                    'opened_at', d.opened_at, 'closed_at', d.closed_at,
                                                                    'closed_by', d.closed_by) ORDER BY d.id)
                                FROM gmp.deviation_lot dl JOIN gmp.deviation d ON d.id = dl.deviation_id
                                WHERE dl.din = l.din), '[]'),
        'eligibility', (SELECT jsonb_build_object('determination_id', x.id, 'outcome', x.outcome,
                                                  'determined_by', x.determined_by, 'determined_at', x.determined_at,
                                                  'signed_by', s.printed_name, 'signed_at', s.signed_at)
                        FROM gmp.eligibility_determination x
                        LEFT JOIN gmp.signature s ON s.record_table = 'gmp.eligibility_determination'
                                                 AND s.record_key = x.id::text
                        WHERE x.collection_id = l.collection_id ORDER BY x.id DESC LIMIT 1),
        'blockers', coalesce((SELECT jsonb_agg(to_jsonb(b) ORDER BY b.kind, b.item)
                              FROM gmp_rules.blockers_of(l.din, ev.evaluation) b), '[]'))
        -- Only a lot that consumed materials has the key, so earlier packages hash the same.
        || coalesce((SELECT jsonb_build_object('materials', x) FROM gmp_rules.lot_materials(l.din) x
                     WHERE x IS NOT NULL), '{}')
        -- Likewise the equipment (sql/code/17_equipment.sql): only a lot that used some has the key.
        || coalesce((SELECT jsonb_build_object('equipment', x) FROM gmp_rules.lot_equipment(l.din) x
                     WHERE x IS NOT NULL), '{}')
        -- Likewise QA's newest batch record review (sql/code/24_batch_record.sql): only a lot
        -- that has one has the key.
        || coalesce((SELECT jsonb_build_object('batch_record_review', jsonb_build_object(
                                'id', r.id, 'document_sha256', encode(r.document_sha256, 'hex'),
                                'reviewed_by', r.reviewed_by, 'reviewed_at', r.reviewed_at,
                                'signature_id', s.id, 'printed_name', s.printed_name, 'signed_at', s.signed_at,
                                'meaning', s.meaning))
                     FROM gmp.batch_record_review r
                     LEFT JOIN gmp.signature s ON s.record_table = 'gmp.batch_record_review' AND s.record_key = r.id::text
                     WHERE r.din = l.din ORDER BY r.id DESC LIMIT 1), '{}')
    FROM gmp.lot l
    LEFT JOIN gmp.lot_specification ls ON ls.din = l.din
    LEFT JOIN gmp.manufacturing_step f ON f.din = l.din AND f.kind = 'fill'
    -- OFFSET 0: evaluated once, not substituted into both of its uses.
    CROSS JOIN LATERAL (SELECT coalesce((SELECT jsonb_agg(to_jsonb(e) ORDER BY e.ordinal)
                                         FROM gmp_rules.lot_evaluation(l.din) e), '[]') AS evaluation
                        OFFSET 0) ev
    WHERE l.din = lot_din
$$;

CREATE OR REPLACE FUNCTION gmp_rules.package_sha256(package jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to(package::text, 'UTF8'))
$$;

-- The package's blockers that bar `decision`, joined; NULL when none does. An
-- exceptional release may override failed criteria and donor eligibility, nothing else.
CREATE OR REPLACE FUNCTION gmp_rules.barring_problems(package jsonb, decision text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(b->>'problem', '; ' ORDER BY b->>'kind', b->>'item')
    FROM jsonb_array_elements(package->'blockers') b
    WHERE decision = 'released'
       OR NOT (b->>'kind' = 'eligibility' OR (b->>'kind' = 'criterion' AND b->>'problem' LIKE 'fail:%'))
$$;

-- At COMMIT: the conditions of the decision hold. Runs as the owner, whoever inserted.
CREATE OR REPLACE FUNCTION gmp_rules.check_disposition() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    d gmp.disposition;
    l gmp.lot;
    sig gmp.signature;
    expected_meaning text;
    required_role text;
    blockers text;
    fresh jsonb;
    stake text;
BEGIN
    SELECT * INTO STRICT d FROM gmp.disposition WHERE id = NEW.id;
    SELECT * INTO STRICT l FROM gmp.lot WHERE din = d.din;
    expected_meaning := CASE d.decision WHEN 'released' THEN 'released' WHEN 'rejected' THEN 'rejected'
                                        WHEN 'on_hold' THEN 'held' ELSE 'authorized' END;
    required_role := CASE d.decision WHEN 'exceptionally_released' THEN 'gmp_director' ELSE 'gmp_qa' END;
    IF l.status <> d.decision THEN
        RAISE EXCEPTION 'disposition % says % but lot % is %', d.id, d.decision, l.din, l.status USING ERRCODE = 'GM003';
    END IF;
    SELECT * INTO sig FROM gmp.signature s WHERE s.record_table = 'gmp.disposition' AND s.record_key = d.id::text;
    IF NOT FOUND OR sig.meaning <> expected_meaning OR sig.signer <> d.decided_by
       OR sig.content_hash <> gmp_rules.content_hash('gmp.disposition', d.id::text) THEN
        RAISE EXCEPTION 'disposition % of lot % needs the decider''s intact e-signature (meaning %)', d.id, l.din,
            expected_meaning USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT pg_has_role(d.decided_by, required_role, 'MEMBER') THEN
        RAISE EXCEPTION '% may not decide %: that needs the % role', d.decided_by, d.decision,
            substr(required_role, 5) USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF d.decision IN ('released', 'rejected', 'exceptionally_released') AND EXISTS (
           SELECT FROM gmp.qc_result_status r WHERE r.din = d.din
           AND d.decided_by IN (r.recorded_by, r.analyst, r.verified_by)) THEN
        RAISE EXCEPTION '% recorded, performed or verified results of lot %: another person decides its disposition',
            d.decided_by, d.din USING ERRCODE = 'insufficient_privilege',
            HINT = 'a QA person who took no part in the lot''s QC decides it (segregation of duties)';
    END IF;
    -- Nor may someone with a part in the lot have put the decider in place during its
    -- life: created the decider's account, or proposed or approved the deciding role
    -- (issue 20, item 6). Otherwise a person excluded above decides through someone else.
    IF d.decision IN ('released', 'rejected', 'exceptionally_released') THEN
        SELECT string_agg(DISTINCT format('%s %s', g.who, g.act), ', ') INTO stake
        FROM (SELECT r.granted_by AS who, format('proposed %s''s %s role', d.decided_by, r.role) AS act, r.granted_at AS at
              FROM gmp.account_role r WHERE r.account_id = d.decided_by AND r.role = substr(required_role, 5)
              UNION ALL
              SELECT r.approved_by, format('approved %s''s %s role', d.decided_by, r.role), r.granted_at
              FROM gmp.account_role r WHERE r.account_id = d.decided_by AND r.role = substr(required_role, 5)
              UNION ALL
              SELECT a.created_by, format('created %s''s account', d.decided_by), a.created_at
              FROM gmp.account a WHERE a.id = d.decided_by) g
        WHERE g.at >= l.created_at AND g.who IN (
            SELECT l.created_by
            UNION SELECT s.performed_by FROM gmp.manufacturing_step s WHERE s.din = l.din
            UNION SELECT ls.assigned_by FROM gmp.lot_specification ls WHERE ls.din = l.din AND ls.max_dose_ml_per_kg_h IS NOT NULL
            UNION SELECT unnest(ARRAY[r.recorded_by, r.analyst, r.verified_by]) FROM gmp.qc_result_status r WHERE r.din = l.din);
        IF stake IS NOT NULL THEN
            RAISE EXCEPTION '% may not decide lot %: during its life, people who took part in it gave the decider their account or role (%)',
                d.decided_by, l.din, stake
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'a person whose role and account were not given by anyone with a part in the lot decides it (segregation of duties)';
        END IF;
    END IF;
    -- Whoever set the maximum dose of a K/M limit set an input of the verdict: another
    -- person decides (issue 20, item 7).
    IF d.decision IN ('released', 'rejected', 'exceptionally_released') AND EXISTS (
           SELECT FROM gmp.lot_specification ls WHERE ls.din = d.din
           AND ls.max_dose_ml_per_kg_h IS NOT NULL AND ls.assigned_by = d.decided_by) THEN
        RAISE EXCEPTION '% set the maximum dose of lot %: another person decides its disposition', d.decided_by, d.din
            USING ERRCODE = 'insufficient_privilege',
            HINT = 'a QA person who did not set the dose decides it (segregation of duties)';
    END IF;
    IF d.decision IN ('released', 'exceptionally_released') THEN
        -- The package the decider signed: a blocker that lapses with the final status (the
        -- batch record review, sql/code/24_batch_record.sql) is judged as it was signed.
        blockers := gmp_rules.barring_problems(d.package, d.decision);
        IF blockers IS NOT NULL THEN
            RAISE EXCEPTION 'lot % cannot be %: %', d.din, replace(d.decision, '_', ' '), blockers USING ERRCODE = 'GM006';
        END IF;
        fresh := gmp_rules.release_package(d.din);
        IF gmp_rules.package_sha256(fresh) <> d.package_sha256 THEN
            RAISE EXCEPTION 'the release package of lot % changed before the decision was committed', d.din
                USING ERRCODE = 'serialization_failure', HINT = 'check the lot again and decide on what it shows now';
        END IF;
        blockers := gmp_rules.barring_problems(fresh, d.decision);
        IF blockers IS NOT NULL THEN
            RAISE EXCEPTION 'lot % cannot be %: %', d.din, replace(d.decision, '_', ' '), blockers USING ERRCODE = 'GM006';
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

-- A final status comes only with its disposition (one per lot, by the unique index);
-- the unsigned `gmp lot hold` (sql/code/06_lots.sql) stays for holds.
CREATE OR REPLACE FUNCTION gmp_rules.check_status_disposition() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM gmp.disposition d WHERE d.din = NEW.din AND d.decision = NEW.status) THEN
        RAISE EXCEPTION 'lot % became % without a signed disposition', NEW.din, NEW.status
            USING ERRCODE = 'insufficient_privilege', HINT = 'use gmp release approve|reject|exceptional';
    END IF;
    RETURN NULL;
END;
$$;

-- The lot locked, in a status from which `decision` may be taken; clear refusals when
-- another person decided first.
CREATE OR REPLACE FUNCTION gmp_rules.lock_for_disposition(lot_din text, decision text) RETURNS gmp.lot
LANGUAGE plpgsql AS $$
DECLARE
    l gmp.lot;
    earlier gmp.disposition;
BEGIN
    PERFORM gmp_rules.require_lot(lot_din);
    SELECT * INTO l FROM gmp.lot WHERE din = lot_din FOR UPDATE;
    IF l.status IN ('released', 'rejected', 'exceptionally_released') THEN
        SELECT * INTO earlier FROM gmp.disposition d WHERE d.din = l.din ORDER BY d.id DESC LIMIT 1;
        RAISE EXCEPTION 'lot % is already %', l.din,
            replace(l.status, '_', ' ') || coalesce(format(' (by %s at %s)', earlier.decided_by, earlier.decided_at), '')
            USING ERRCODE = 'GM003', HINT = 'a final disposition is never changed';
    END IF;
    IF decision IN ('released', 'exceptionally_released', 'on_hold') AND l.status <> 'quarantine' THEN
        RAISE EXCEPTION 'lot % is %', l.din, replace(l.status, '_', ' ') USING ERRCODE = 'GM003',
            HINT = 'lift the hold first (gmp lot unhold) once its reason is resolved';
    END IF;
    RETURN l;
END;
$$;

-- Writes the disposition and the lot's status, and signs the disposition row.
CREATE OR REPLACE FUNCTION gmp_rules.decide(challenge uuid, lot_din text, decision text, package jsonb, reason text,
                                physician text, physician_request text, physician_acceptance text,
                                risk_justification text, notified text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    disposition_id bigint;
BEGIN
    PERFORM set_config('gmp.reason', coalesce(nullif(btrim(reason), ''), replace(decision, '_', ' ')), true);
    INSERT INTO gmp.disposition (din, decision, reason, package, package_sha256, physician, physician_request,
                                 physician_acceptance, risk_justification, notified)
    VALUES (lot_din, decision, nullif(btrim(reason), ''), package, gmp_rules.package_sha256(package),
            nullif(btrim(physician), ''), nullif(btrim(physician_request), ''),
            nullif(btrim(physician_acceptance), ''), nullif(btrim(risk_justification), ''), nullif(btrim(notified), ''))
    RETURNING id INTO disposition_id;
    UPDATE gmp.lot l SET status = decision, status_changed_at = clock_timestamp(), status_changed_by = session_user
    WHERE l.din = lot_din;
    RETURN gmp_rules.record_signature(challenge,
        CASE decision WHEN 'released' THEN 'released' WHEN 'rejected' THEN 'rejected' WHEN 'on_hold' THEN 'held'
                      ELSE 'authorized' END,
        'gmp.disposition', disposition_id::text, reason);
END;
$$;

-- What `gmp release check` shows: the package and whether the lot is releasable now.
CREATE OR REPLACE FUNCTION gmp.release_check(din text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    l gmp.lot := gmp_rules.require_lot(din);
    package jsonb := gmp_rules.release_package(din);
    status_problem text;
BEGIN
    status_problem := CASE l.status WHEN 'quarantine' THEN NULL
                                    WHEN 'on_hold' THEN 'lot is on hold: lift the hold first (gmp lot unhold)'
                                    ELSE 'lot is already ' || replace(l.status, '_', ' ') END;
    RETURN package || jsonb_build_object(
        'status', l.status,
        'status_problem', status_problem,
        'releasable', status_problem IS NULL AND jsonb_array_length(package->'blockers') = 0,
        'package_sha256', encode(gmp_rules.package_sha256(package), 'hex'));
END;
$$;

-- QA releases: the package the signer was shown (its hash) must be the package now.
CREATE OR REPLACE FUNCTION gmp.release_lot(challenge uuid, din text, package_sha256 text, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    package jsonb;
    blockers text;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.lock_for_disposition(din, 'released');
    package := gmp_rules.release_package(din);
    blockers := gmp_rules.barring_problems(package, 'released');
    IF blockers IS NOT NULL THEN
        RAISE EXCEPTION 'lot % cannot be released: %', din, blockers USING ERRCODE = 'GM006',
            HINT = 'gmp release check ' || din || gmp_rules.iso7064_mod37_2(din) || ' lists each blocker';
    END IF;
    IF encode(gmp_rules.package_sha256(package), 'hex') IS DISTINCT FROM lower(release_lot.package_sha256) THEN
        RAISE EXCEPTION 'lot % changed since it was checked', din USING ERRCODE = 'GM010',
            HINT = 'run gmp release check again and decide on what it shows now';
    END IF;
    RETURN gmp_rules.decide(challenge, din, 'released', package, statement, NULL, NULL, NULL, NULL, NULL);
END;
$$;

-- QA holds a lot pending an investigation, signed "held".
CREATE OR REPLACE FUNCTION gmp.hold_for_disposition(challenge uuid, din text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.give_reason(reason);
    PERFORM gmp_rules.lock_for_disposition(din, 'on_hold');
    RETURN gmp_rules.decide(challenge, din, 'on_hold', gmp_rules.release_package(din), reason, NULL, NULL, NULL, NULL, NULL);
END;
$$;

-- The director releases a lot that does not meet its criteria, for one patient's
-- treating physician (FACT-JACIE D11.1.2, EU ATMP GMP 11.5), signed "authorized".
CREATE OR REPLACE FUNCTION gmp.release_exceptionally(challenge uuid, din text, package_sha256 text, physician text,
                                          physician_request text, physician_acceptance text,
                                          risk_justification text, notified text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    package jsonb;
    other text;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.lock_for_disposition(din, 'exceptionally_released');
    package := gmp_rules.release_package(din);
    IF jsonb_array_length(package->'blockers') = 0 THEN
        RAISE EXCEPTION 'lot % meets its release criteria: it is released normally, by QA', din USING ERRCODE = 'GM006',
            HINT = 'gmp release approve ' || din || gmp_rules.iso7064_mod37_2(din);
    END IF;
    other := gmp_rules.barring_problems(package, 'exceptionally_released');
    IF other IS NOT NULL THEN
        RAISE EXCEPTION 'exceptional release covers failed criteria and donor eligibility only; lot % also has: %', din, other
            USING ERRCODE = 'GM006', HINT = 'complete and verify every result and close the deviations first';
    END IF;
    IF btrim(coalesce(physician, '')) = '' OR btrim(coalesce(physician_request, '')) = ''
       OR btrim(coalesce(physician_acceptance, '')) = '' OR btrim(coalesce(risk_justification, '')) = ''
       OR btrim(coalesce(notified, '')) = '' THEN
        RAISE EXCEPTION 'exceptional release needs the physician, the request, the acceptance, the risk justification and who was notified'
            USING ERRCODE = 'GM005';
    END IF;
    IF encode(gmp_rules.package_sha256(package), 'hex') IS DISTINCT FROM lower(release_exceptionally.package_sha256) THEN
        RAISE EXCEPTION 'lot % changed since it was checked', din USING ERRCODE = 'GM010',
            HINT = 'run gmp release check again and decide on what it shows now';
    END IF;
    RETURN gmp_rules.decide(challenge, din, 'exceptionally_released', package, risk_justification, physician,
                           physician_request, physician_acceptance, risk_justification, notified);
END;
$$;

-- The Certificate of Analysis of a released lot (docs/qc-and-release.md): built from
-- the package the QA signature covers, so the certificate shows what was evaluated.
CREATE OR REPLACE FUNCTION gmp.certificate_of_analysis(din text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    l gmp.lot := gmp_rules.require_lot(din);
    d gmp.disposition;
    sig gmp.signature;
    ev gmp_audit.event;
BEGIN
    SELECT * INTO d FROM gmp.disposition x WHERE x.din = l.din AND x.decision = 'released';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lot % is %: a Certificate of Analysis is issued for released lots only', l.din,
            replace(l.status, '_', ' ') USING ERRCODE = 'GM006',
            HINT = CASE WHEN l.status = 'exceptionally_released'
                        THEN 'an exceptional release is documented by its signed authorization: gmp audit report --table gmp.disposition'
                        ELSE 'gmp release check ' || l.din || l.check_character || ' shows what stands in the way' END;
    END IF;
    SELECT * INTO STRICT sig FROM gmp.signature s WHERE s.record_table = 'gmp.disposition' AND s.record_key = d.id::text;
    SELECT * INTO ev FROM gmp_audit.event e
    WHERE e.table_name = 'gmp.signature' AND e.record_key = d.id::text AND e.action = 'INSERT'
      AND (e.new_values->>'id')::bigint = sig.id;
    RETURN jsonb_build_object(
        'lot', (d.package->'lot') || jsonb_build_object(
                   'eye_readable', substr(l.din, 1, 5) || ' ' || substr(l.din, 6, 2) || ' ' || substr(l.din, 8, 6)
                                   || ' ' || l.check_character),
        'specification', d.package->'specification',
        'dose', d.package->'dose',
        'tests', coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'test', e->>'test', 'name', e->>'name', 'method', e->>'method', 'limit', e->>'limit_text',
                     'unit', e->>'unit', 'verdict', e->>'verdict',
                     'result', CASE WHEN r->>'value' IS NOT NULL
                                    THEN CASE WHEN r->>'qualifier' = '=' THEN '' ELSE r->>'qualifier' END || (r->>'value')
                                    ELSE (SELECT string_agg(coalesce(p.part || ': ', '') || o.outcome, '; ' ORDER BY o.n)
                                          FROM jsonb_array_elements_text(r->'outcomes') WITH ORDINALITY o(outcome, n)
                                          LEFT JOIN jsonb_array_elements_text(CASE WHEN jsonb_typeof(e->'parts') = 'array'
                                                                                   THEN e->'parts' END)
                                                    WITH ORDINALITY p(part, m) ON p.m = o.n) END,
                     'result_unit', r->>'unit',
                     'analyst', r->>'analyst', 'performed_at', r->'performed_at',
                     'verified_by', r->>'verified_by', 'verified_at', r->'verified_at',
                     'result_id', (r->>'id')::bigint, 'attempt', (r->>'attempt')::integer) ORDER BY (e->>'ordinal')::integer)
                  FROM jsonb_array_elements(d.package->'evaluation') e
                  LEFT JOIN LATERAL (SELECT x FROM jsonb_array_elements(e->'results') x
                                     WHERE (x->>'counted')::boolean ORDER BY (x->>'id')::bigint DESC LIMIT 1) rr(r) ON true),
                  '[]'),
        'eligibility', d.package->'eligibility',
        'deviations', d.package->'deviations',
        'release', jsonb_build_object('decision', d.decision, 'disposition_id', d.id, 'signer', sig.signer,
                                      'printed_name', sig.printed_name, 'signed_at', sig.signed_at,
                                      'meaning', sig.meaning, 'signature_id', sig.id,
                                      'intact', sig.content_hash = gmp_rules.content_hash('gmp.disposition', d.id::text)
                                                AND d.package_sha256 = gmp_rules.package_sha256(gmp_rules.release_package(l.din)),
                                      'package_sha256', encode(d.package_sha256, 'hex')),
        'audit', jsonb_build_object('seq', ev.seq, 'hash', encode(ev.hash, 'hex')),
        'issued_at', clock_timestamp());
END;
$$;

-- Every disposition with its signature, for reports.
CREATE OR REPLACE VIEW gmp.disposition_record AS
SELECT d.id, d.din, d.decision, d.reason, d.physician, d.physician_request, d.physician_acceptance,
       d.risk_justification, d.notified, d.decided_by, d.decided_at, encode(d.package_sha256, 'hex') AS package_sha256,
       s.id AS signature_id, s.printed_name, s.signed_at, s.meaning
FROM gmp.disposition d
LEFT JOIN gmp.signature s ON s.record_table = 'gmp.disposition' AND s.record_key = d.id::text;

-- The rejection record of a rejected lot (issue 16): the lot, why (the reason given, the
-- criteria that were not met and the blockers as the signed package showed them, the
-- deviations), who rejected it with the signature's manifestation and whether it is
-- intact, where it sits in the audit chain, and what became of every unit.
CREATE OR REPLACE FUNCTION gmp.rejection_record(din text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    l gmp.lot := gmp_rules.require_lot(din);
    d gmp.disposition;
    sig gmp.signature;
    ev gmp_audit.event;
BEGIN
    SELECT * INTO d FROM gmp.disposition x WHERE x.din = l.din AND x.decision = 'rejected';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lot % is %: a rejection record exists for rejected lots only', l.din, replace(l.status, '_', ' ')
            USING ERRCODE = 'GM003', HINT = 'gmp lot show ' || l.din || l.check_character || ' shows its status';
    END IF;
    SELECT * INTO STRICT sig FROM gmp.signature s WHERE s.record_table = 'gmp.disposition' AND s.record_key = d.id::text;
    SELECT * INTO ev FROM gmp_audit.event e
    WHERE e.table_name = 'gmp.signature' AND e.action = 'INSERT' AND (e.new_values->>'id')::bigint = sig.id;
    RETURN jsonb_build_object(
        'lot', (d.package->'lot') || jsonb_build_object(
                   'eye_readable', substr(l.din, 1, 5) || ' ' || substr(l.din, 6, 2) || ' ' || substr(l.din, 8, 6)
                                   || ' ' || l.check_character, 'status', l.status),
        'specification', d.package->'specification',
        'reason', d.reason,
        'failed_criteria', coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'test', e->>'test', 'name', e->>'name', 'method', e->>'method', 'limit', e->>'limit_text',
                     'unit', e->>'unit', 'verdict', e->>'verdict',
                     'result', CASE WHEN r->>'value' IS NOT NULL
                                    THEN CASE WHEN r->>'qualifier' = '=' THEN '' ELSE r->>'qualifier' END || (r->>'value')
                                    ELSE (SELECT string_agg(o, '; ') FROM jsonb_array_elements_text(r->'outcomes') o) END,
                     'result_unit', r->>'unit') ORDER BY (e->>'ordinal')::integer)
                  FROM jsonb_array_elements(d.package->'evaluation') e
                  LEFT JOIN LATERAL (SELECT x FROM jsonb_array_elements(e->'results') x
                                     ORDER BY (x->>'id')::bigint DESC LIMIT 1) rr(r) ON true
                  WHERE e->>'verdict' <> 'pass'), '[]'),
        'blockers', d.package->'blockers',
        'deviations', d.package->'deviations',
        'rejection', jsonb_build_object('disposition_id', d.id, 'decided_at', d.decided_at, 'signer', sig.signer,
                                        'printed_name', sig.printed_name, 'signed_at', sig.signed_at,
                                        'meaning', sig.meaning, 'signature_id', sig.id,
                                        'intact', sig.content_hash = gmp_rules.content_hash('gmp.disposition', d.id::text),
                                        'package_sha256', encode(d.package_sha256, 'hex')),
        'units_filled', d.package->'lot'->'units',
        'units', coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'unit', u.id, 'state', u.state,
                     'holder', coalesce(u.box_id || ' ' || gmp_rules.position_label(u.box_row, u.box_column),
                                        u.holder_person, u.holder_party, u.shipment_id)) ORDER BY u.division)
                  FROM gmp.unit u WHERE u.din = l.din), '[]'),
        'audit', jsonb_build_object('seq', ev.seq, 'hash', encode(ev.hash, 'hex')),
        'issued_at', clock_timestamp());
END;
$$;
