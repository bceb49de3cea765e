-- batch record: the executed batch record of a lot (21 CFR 211.188) as one document, and
-- QA's signed review of it, which a lot made under a master batch record needs before
-- release (issue 15; the blocker is in sql/code/10_release.sql, docs/batch-record.md).
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- What a review covers: the lot's header, every step with what it consumed and used, the
-- deviations and excursions touching the lot, the QC summary, the units and their custody,
-- and every signature on those records. Not covered, so that they do not break a review:
-- the lot's status and its dispositions (a hold or the release itself), the reviews, and
-- the audit-chain position (the chaining of events is not a change of the record). Its
-- text form is canonical (jsonb orders keys), so its SHA-256 is reproducible.
CREATE OR REPLACE FUNCTION gmp_rules.batch_record_content(lot_din text) RETURNS jsonb
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    WITH lot AS (SELECT * FROM gmp.lot l WHERE l.din = lot_din),
    -- One row per step; each part of a step is one LATERAL join below and one key here:
    -- materials, equipment, the procedure followed (the version in force at the step's
    -- time), the master step it executes, its parameters against the master's limits, and
    -- the second person's check.
    steps AS (
        SELECT s.id, jsonb_build_object(
                   'id', s.id, 'kind', s.kind, 'performed_at', s.performed_at, 'recorded_at', s.recorded_at,
                   'performed_by', s.performed_by, 'performer_name', a.full_name,
                   'passage_number', s.passage_number, 'cell_count', s.cell_count::text,
                   'viability_percent', s.viability_percent::text,
                   'population_doublings', s.population_doublings::text,
                   'cumulative_doublings', s.cumulative_doublings::text,
                   'units', s.units, 'unit_volume_ml', s.unit_volume_ml::text, 'note', s.note,
                   'materials', coalesce(m.materials, '[]'), 'equipment', coalesce(e.equipment, '[]'),
                   'procedure', s.procedure_code,
                   'procedure_version', (gmp_rules.procedure_in_force(s.procedure_code, s.performed_at)).version,
                   'master_procedure', ms.procedure_code, 'check_required', ms.check_required,
                   'parameters', coalesce(p.parameters, '[]'),
                   'check', CASE WHEN k.step_id IS NOT NULL THEN jsonb_build_object(
                                 'checked_by', k.checked_by, 'checker_name', ka.full_name, 'checked_at', k.checked_at) END)
                   AS step
        FROM gmp.manufacturing_step s
        JOIN gmp.account a ON a.id = s.performed_by
        LEFT JOIN LATERAL (SELECT (gmp_rules.master_step_of(s.din, s.kind)).*) ms ON true
        LEFT JOIN LATERAL (
            SELECT jsonb_agg(jsonb_build_object(
                       'name', sp.name, 'value', sp.value::text, 'unit', sp.unit,
                       'at_least', mp.at_least::text, 'at_most', mp.at_most::text,
                       'within_limits', sp.within_limits, 'deviation_id', sp.deviation_id) ORDER BY mp.ordinal, sp.name)
                   AS parameters
            FROM gmp.step_parameter sp
            LEFT JOIN gmp.master_parameter mp ON mp.master_id = ms.master_id AND mp.kind = s.kind AND mp.name = sp.name
            WHERE sp.step_id = s.id) p ON true
        LEFT JOIN gmp.step_check k ON k.step_id = s.id
        LEFT JOIN gmp.account ka ON ka.id = k.checked_by
        LEFT JOIN LATERAL (
            SELECT jsonb_agg(jsonb_build_object(
                       'material_lot', ml.id, 'type', ml.type_code, 'supplier', ml.supplier, 'supplier_lot', ml.supplier_lot,
                       'expires_on', ml.expires_on, 'quantity', c.quantity::text, 'unit', c.unit, 'used_at', c.used_at,
                       'recorded_by', c.recorded_by) ORDER BY c.id) AS materials
            FROM gmp.material_consumption c JOIN gmp.material_lot ml ON ml.id = c.material_lot_id
            WHERE c.step_id = s.id) m ON true
        LEFT JOIN LATERAL (
            SELECT jsonb_agg(jsonb_build_object('equipment', q.id, 'kind', q.kind, 'name', q.name, 'used_at', u.used_at,
                                                'recorded_by', u.recorded_by) ORDER BY u.used_at, u.id) AS equipment
            FROM gmp.equipment_use u JOIN gmp.equipment q ON q.id = u.equipment_id
            WHERE u.step_id = s.id) e ON true
        WHERE s.din = lot_din),
    units AS (SELECT u.* FROM gmp.unit u WHERE u.din = lot_din),
    deviations AS (SELECT d.* FROM gmp.deviation_lot dl JOIN gmp.deviation d ON d.id = dl.deviation_id WHERE dl.din = lot_din),
    excursions AS (SELECT x.*, eu.units AS unit_ids FROM gmp.excursion x
                   JOIN (SELECT e.excursion_id, array_agg(e.unit_id ORDER BY e.unit_id) AS units
                         FROM gmp.excursion_unit e WHERE e.din = lot_din GROUP BY e.excursion_id) eu ON eu.excursion_id = x.id),
    results AS (SELECT r.id FROM gmp.qc_result r WHERE r.din = lot_din),
    transfers AS (SELECT DISTINCT e.transfer_id AS id FROM gmp.custody_event e JOIN units u ON u.id = e.unit_id
                  WHERE e.transfer_id IS NOT NULL),
    -- The records whose signatures the batch record shows (dispositions and reviews are
    -- the outer document's: gmp.batch_record).
    signed (record_table, record_key) AS (
        SELECT 'gmp.lot_specification', lot_din
        UNION ALL SELECT 'gmp.eligibility_determination', x.id::text
                  FROM gmp.eligibility_determination x JOIN lot ON x.collection_id = lot.collection_id
        UNION ALL SELECT 'gmp.qc_result', r.id::text FROM results r
        UNION ALL SELECT 'gmp.qc_invalidation', r.id::text FROM results r
        UNION ALL SELECT 'gmp.deviation', d.id FROM deviations d
        UNION ALL SELECT 'gmp.excursion', x.id FROM excursions x
        UNION ALL SELECT 'gmp.custody_transfer', t.id::text FROM transfers t
        UNION ALL SELECT 'gmp.custody_receipt', t.id::text FROM transfers t
        UNION ALL SELECT 'gmp.step_check', st.id::text FROM steps st)
    SELECT jsonb_build_object(
        'lot', jsonb_build_object('din', l.din, 'keyed_id', l.din || l.check_character,
                                  'eye_readable', substr(l.din, 1, 5) || ' ' || substr(l.din, 6, 2) || ' '
                                                  || substr(l.din, 8, 6) || ' ' || l.check_character,
                                  'stage', l.stage, 'product_kind', l.product_kind, 'intended_use', l.intended_use,
                                  'donor_code', l.donor_code, 'collection_id', l.collection_id, 'parent_din', l.parent_din,
                                  'expires_on', l.expires_on, 'created_at', l.created_at, 'created_by', l.created_by),
        'specification', (SELECT jsonb_build_object('id', sp.id, 'code', sp.code, 'version', sp.version, 'title', sp.title,
                                                    'approved_at', sp.approved_at, 'approved_by', sp.approved_by)
                          FROM gmp.lot_specification ls JOIN gmp.specification sp ON sp.id = ls.specification_id
                          WHERE ls.din = l.din),
        'steps', coalesce((SELECT jsonb_agg(s.step ORDER BY (s.step->>'performed_at')::timestamptz, s.id) FROM steps s), '[]'),
        'deviations', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                    'id', d.id, 'kind', d.kind, 'title', d.title, 'status', d.status, 'outcome', d.outcome,
                                    'opened_at', d.opened_at, 'opened_by', d.opened_by,
                                    'closed_at', d.closed_at, 'closed_by', d.closed_by) ORDER BY d.id)
                                FROM deviations d), '[]'),
        'excursions', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                    'id', x.id, 'device', x.device_id, 'started_at', x.started_at, 'ended_at', x.ended_at,
                                    'peak_celsius', x.peak_celsius::text, 'limit_celsius', x.limit_celsius::text,
                                    'status', x.status, 'assessment', x.assessment, 'assessed_by', x.assessed_by,
                                    'assessed_at', x.assessed_at, 'units', to_jsonb(x.unit_ids)) ORDER BY x.id)
                                FROM excursions x), '[]'),
        'qc', coalesce((SELECT jsonb_agg(jsonb_build_object(
                            'test', e.test, 'name', e.name, 'method', e.method, 'limit', e.limit_text, 'unit', e.unit,
                            'verdict', e.verdict,
                            'results', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                            'id', r->'id', 'attempt', r->'attempt',
                                            'result', CASE WHEN r->>'value' IS NOT NULL
                                                           THEN CASE WHEN r->>'qualifier' = '=' THEN '' ELSE r->>'qualifier' END
                                                                || (r->>'value')
                                                           ELSE (SELECT string_agg(o, '; ')
                                                                 FROM jsonb_array_elements_text(r->'outcomes') o) END,
                                            'result_unit', r->'unit', 'counted', r->'counted',
                                            'analyst', r->'analyst', 'performed_at', r->'performed_at',
                                            'analyst_name', (SELECT a.full_name FROM gmp.account a WHERE a.id = r->>'analyst'),
                                            'recorded_by', r->'recorded_by',
                                            'verified_by', r->'verified_by', 'verified_at', r->'verified_at',
                                            'verifier_name', (SELECT a.full_name FROM gmp.account a
                                                              WHERE a.id = r->>'verified_by'),
                                            'invalidated_by', r->'invalidated_by', 'deviation_id', r->'deviation_id')
                                            ORDER BY (r->>'id')::bigint), '[]')
                                        FROM jsonb_array_elements(e.results) r)) ORDER BY e.ordinal)
                        FROM gmp_rules.lot_evaluation(l.din) e), '[]'),
        'units', coalesce((SELECT jsonb_agg(jsonb_build_object(
                               'unit', u.id, 'container', u.container, 'volume_ml', u.volume_ml::text, 'state', u.state,
                               'holder', coalesce(u.box_id || ' ' || gmp_rules.position_label(u.box_row, u.box_column),
                                                  u.holder_person, u.holder_party),
                               'shipment', u.shipment_id) ORDER BY u.division)
                           FROM units u), '[]'),
        'custody', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                 'id', c.id, 'unit', c.unit_id, 'at', c.at, 'action', c.action, 'state', c.state,
                                 'holder', coalesce(c.box_id || ' ' || gmp_rules.position_label(c.box_row, c.box_column),
                                                    c.holder_person, c.holder_party),
                                 'transfer_id', c.transfer_id, 'shipment', c.shipment_id, 'reason', c.reason,
                                 'recorded_by', c.recorded_by) ORDER BY c.at, c.id)
                             FROM gmp.custody_event c JOIN units u ON u.id = c.unit_id), '[]'),
        'signatures', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                    'id', g.id, 'record_table', g.record_table, 'record_key', g.record_key,
                                    'signer', g.signer, 'printed_name', g.printed_name, 'signed_at', g.signed_at,
                                    'meaning', g.meaning, 'statement', g.statement) ORDER BY g.id)
                                FROM gmp.signature g JOIN signed x ON x.record_table = g.record_table
                                                                  AND x.record_key = g.record_key), '[]'))
    FROM lot l
$$;

-- The hash a review signs: the content's canonical text, hashed as a release package is.
CREATE OR REPLACE FUNCTION gmp_rules.batch_record_sha256(lot_din text) RETURNS bytea
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT gmp_rules.package_sha256(gmp_rules.batch_record_content(lot_din))
$$;

-- The newest audit event of the records the batch record shows: where the document
-- sits in the chain (NULL seq while its newest change is still pending; readers chain first).
CREATE OR REPLACE FUNCTION gmp_rules.batch_record_position(lot_din text, content jsonb) RETURNS jsonb
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    WITH covered (table_name, record_key) AS (
        SELECT t, lot_din FROM unnest(ARRAY['gmp.lot', 'gmp.manufacturing_step', 'gmp.lot_specification',
                                            'gmp.deviation_lot', 'gmp.equipment_deviation']) t
        UNION ALL SELECT 'gmp.qc_result', r.id::text FROM gmp.qc_result r WHERE r.din = lot_din
        UNION ALL SELECT 'gmp.qc_verification', r.id::text FROM gmp.qc_result r WHERE r.din = lot_din
        UNION ALL SELECT t, u->>'unit' FROM jsonb_array_elements(content->'units') u,
                  unnest(ARRAY['gmp.unit', 'gmp.custody_event']) t
        UNION ALL SELECT 'gmp.deviation', d->>'id' FROM jsonb_array_elements(content->'deviations') d
        UNION ALL SELECT 'gmp.excursion', x->>'id' FROM jsonb_array_elements(content->'excursions') x
        UNION ALL SELECT 'gmp.equipment_use', u.id::text FROM gmp.equipment_use u WHERE u.din = lot_din
        UNION ALL SELECT t, s.id::text FROM gmp.manufacturing_step s, unnest(ARRAY['gmp.step_parameter', 'gmp.step_check']) t
                  WHERE s.din = lot_din),
    newest AS (
        SELECT e.seq FROM gmp_audit.event e JOIN covered c ON c.table_name = e.table_name AND c.record_key = e.record_key
        UNION ALL
        SELECT e.seq FROM gmp_audit.event e
        JOIN jsonb_array_elements(content->'signatures') g ON e.table_name = 'gmp.signature'
             AND e.record_key = g->>'record_key' AND e.new_values->>'id' = g->>'id'
        UNION ALL
        SELECT e.seq FROM gmp_audit.event e
        WHERE e.table_name = 'gmp.material_consumption' AND e.new_values->>'din' = lot_din
          AND e.record_key IN (SELECT DISTINCT c.material_lot_id FROM gmp.material_consumption c WHERE c.din = lot_din)
        ORDER BY 1 DESC LIMIT 1)
    SELECT jsonb_build_object('seq', e.seq, 'hash', encode(e.hash, 'hex'))
    FROM newest n JOIN gmp_audit.event e ON e.seq = n.seq
$$;

-- The executed batch record of a lot (`gmp batch-record LOT`): the reviewed content (above)
-- with its SHA-256, the lot's status and dispositions, whether it was made under a master
-- batch record, QA's reviews (each saying whether the record is still the one reviewed),
-- the audit-chain position of the newest event it covers, and when it was issued.
CREATE OR REPLACE FUNCTION gmp.batch_record(din text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    l gmp.lot := gmp_rules.require_lot(din);
    content jsonb := gmp_rules.batch_record_content(l.din);
    content_sha256 bytea := gmp_rules.package_sha256(content);
BEGIN
    RETURN content || jsonb_build_object(
        'content_sha256', encode(content_sha256, 'hex'),
        'status', l.status,
        'master_record', (SELECT jsonb_build_object('code', m.master_code, 'version', m.master_version)
                          FROM gmp.lot_master_record m WHERE m.din = l.din),
        'dispositions', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                      'id', d.id, 'decision', d.decision, 'reason', d.reason, 'decided_by', d.decided_by,
                                      'decided_at', d.decided_at, 'printed_name', d.printed_name, 'signed_at', d.signed_at,
                                      'meaning', d.meaning, 'signature_id', d.signature_id) ORDER BY d.id)
                                  FROM gmp.disposition_record d WHERE d.din = l.din), '[]'),
        'reviews', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                 'id', r.id, 'reviewed_by', r.reviewed_by, 'reviewed_at', r.reviewed_at,
                                 'statement', r.statement, 'document_sha256', encode(r.document_sha256, 'hex'),
                                 'current', r.document_sha256 = content_sha256,
                                 'signature_id', s.id, 'printed_name', s.printed_name, 'signed_at', s.signed_at,
                                 'meaning', s.meaning) ORDER BY r.id)
                             FROM gmp.batch_record_review r
                             LEFT JOIN gmp.signature s ON s.record_table = 'gmp.batch_record_review'
                                                      AND s.record_key = r.id::text
                             WHERE r.din = l.din), '[]'),
        'audit', gmp_rules.batch_record_position(l.din, content),
        'issued_at', clock_timestamp());
END;
$$;

-- Whoever inserts a review (gmp.review_batch_record or a superuser): a QA person who
-- performed none of the lot's steps, over the batch record as it is now, of an open lot.
CREATE OR REPLACE FUNCTION gmp_rules.check_batch_record_review() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    l gmp.lot;
BEGIN
    -- The lot's row, so that no step, result or disposition of it commits in between.
    SELECT * INTO l FROM gmp.lot x WHERE x.din = NEW.din FOR UPDATE;
    IF NOT pg_has_role(NEW.reviewed_by, 'gmp_qa', 'MEMBER') THEN
        RAISE EXCEPTION '% may not review batch records: that needs the qa role', NEW.reviewed_by
            USING ERRCODE = 'insufficient_privilege', HINT = 'QA reviews the executed batch record before release';
    END IF;
    IF EXISTS (SELECT FROM gmp.manufacturing_step s WHERE s.din = l.din AND s.performed_by = NEW.reviewed_by) THEN
        RAISE EXCEPTION '% performed steps of lot %: another person reviews its batch record', NEW.reviewed_by, l.din
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'a QA person who took no part in making the lot reviews it (segregation of duties)';
    END IF;
    IF l.status NOT IN ('quarantine', 'on_hold') THEN
        RAISE EXCEPTION 'lot % is %: its batch record is reviewed before the disposition', l.din,
            replace(l.status, '_', ' ') USING ERRCODE = 'GM003', HINT = 'a decided lot''s record is closed';
    END IF;
    IF NEW.document_sha256 IS DISTINCT FROM gmp_rules.batch_record_sha256(l.din) THEN
        RAISE EXCEPTION 'the batch record of lot % changed since it was shown to the reviewer', l.din
            USING ERRCODE = 'GM010', HINT = 'print it again (gmp batch-record ' || l.din || l.check_character
                                            || ') and review what it shows now';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER batch_record_review_rules BEFORE INSERT ON gmp.batch_record_review
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_batch_record_review();
ALTER TABLE gmp.batch_record_review ENABLE ALWAYS TRIGGER batch_record_review_rules;

-- At COMMIT, whoever wrote it: a review carries its reviewer's intact signature, meaning "reviewed".
CREATE OR REPLACE FUNCTION gmp_rules.check_batch_record_review_signed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    sig gmp.signature;
BEGIN
    SELECT * INTO sig FROM gmp.signature s
    WHERE s.record_table = 'gmp.batch_record_review' AND s.record_key = NEW.id::text ORDER BY s.id LIMIT 1;
    IF NOT FOUND OR sig.meaning <> 'reviewed' OR sig.signer <> NEW.reviewed_by
       OR sig.content_hash <> gmp_rules.content_hash('gmp.batch_record_review', NEW.id::text) THEN
        RAISE EXCEPTION 'batch record review % of lot % needs the intact e-signature of %, meaning reviewed', NEW.id,
            NEW.din, NEW.reviewed_by USING ERRCODE = 'insufficient_privilege', HINT = 'QA uses gmp batch-record review';
    END IF;
    RETURN NULL;
END;
$$;
-- PostgreSQL cannot CREATE OR REPLACE a constraint trigger: bound once, here, and its
-- function replaced in place whenever this file changes.
SELECT gmp_meta.bind_commit_check('gmp.batch_record_review', 'batch_record_review_signed', 'INSERT', 'gmp_rules.check_batch_record_review_signed');

-- QA reviews the batch record (`gmp batch-record review LOT`), signed "reviewed": the
-- hash the reviewer was shown must be the record's now. Returns the signature's id.
CREATE OR REPLACE FUNCTION gmp.review_batch_record(challenge uuid, din text, document_sha256 text, statement text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    l gmp.lot := gmp_rules.require_lot(din);
    given bytea;
    review_id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    IF review_batch_record.document_sha256 !~ '^[0-9a-fA-F]{64}$' THEN
        RAISE EXCEPTION 'the batch record hash must be 64 hexadecimal digits' USING ERRCODE = 'GM002',
            HINT = 'gmp batch-record review reads the record and signs its hash';
    END IF;
    given := decode(lower(review_batch_record.document_sha256), 'hex');
    PERFORM set_config('gmp.reason', coalesce(nullif(btrim(statement), ''), 'batch record reviewed'), true);
    INSERT INTO gmp.batch_record_review (din, document_sha256, statement)
    VALUES (l.din, given, nullif(btrim(statement), ''))
    RETURNING id INTO review_id;
    RETURN gmp_rules.record_signature(challenge, 'reviewed', 'gmp.batch_record_review', review_id::text, statement);
END;
$$;
