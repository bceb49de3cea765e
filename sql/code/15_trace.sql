-- trace: Traceability both ways (21 CFR 1271.290): donor to every lot and unit, and back.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

CREATE OR REPLACE FUNCTION gmp_rules.donor_document(donor_code text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'code', d.code, 'intended_use', d.intended_use, 'living', d.living, 'birth_mother', d.birth_mother,
        'registered_at', d.registered_at,
        'consents', coalesce((SELECT jsonb_agg(jsonb_build_object('donor', c.donor_code, 'given_on', c.given_on,
                                  'scope', c.scope, 'taken_by', c.taken_by, 'withdrawn_on', c.withdrawn_on) ORDER BY c.id)
                              FROM gmp.consent c WHERE c.donor_code IN (d.code, d.birth_mother)), '[]'),
        'consent_withdrawn', EXISTS (SELECT FROM gmp.consent c
                                     WHERE c.donor_code IN (d.code, d.birth_mother) AND c.withdrawn_on IS NOT NULL))
    FROM gmp.donor d WHERE d.code = donor_code
$$;

CREATE OR REPLACE FUNCTION gmp_rules.collection_document(collection_id text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', c.id, 'donor', c.donor_code, 'source', c.source, 'site', c.site, 'collected_at', c.collected_at,
        'collector', c.collector, 'amount', c.amount::text, 'amount_unit', c.amount_unit,
        'transport_conditions', c.transport_conditions, 'received_at', c.received_at, 'received_by', c.received_by,
        'receipt_condition', c.receipt_condition,
        'eligibility', (SELECT jsonb_build_object('outcome', e.outcome, 'determination', e.determination_id,
                                                  'signed_by', e.signed_by, 'signed_at', e.signed_at,
                                                  'signature_intact', gmp_rules.signature_intact(e.signature_id),
                                                  'problems', to_jsonb(e.problems))
                        FROM gmp.eligibility e WHERE e.collection_id = c.id))
    FROM gmp.tissue_collection c WHERE c.id = collection_id
$$;

CREATE OR REPLACE FUNCTION gmp_rules.lot_document(l gmp.lot_overview) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'din', l.din, 'check_character', l.check_character, 'stage', l.stage, 'product_kind', l.product_kind,
        'intended_use', l.intended_use, 'status', l.status, 'donor', l.donor_code, 'collection', l.collection_id,
        'parent', l.parent_din, 'expires_on', l.expires_on, 'created_at', l.created_at, 'eligibility', l.eligibility,
        'consent_withdrawn', l.consent_withdrawn, 'reactive_tests', to_jsonb(l.reactive_tests),
        'units', l.units, 'unit_volume_ml', l.unit_volume_ml::text, 'cryopreserved_at', l.cryopreserved_at,
        'last_step', l.last_step)
$$;

-- A lot and its own manufacturing steps: what `gmp lot show` prints (gmp.lot_show), and
-- the start of the lot's trace (gmp.trace_lot adds the rest). jsonb keeps an object's
-- keys in its own order, so the trace reads the same whichever part builds which keys.
CREATE OR REPLACE FUNCTION gmp_rules.lot_and_steps(l gmp.lot) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'lot', (SELECT gmp_rules.lot_document(o) FROM gmp.lot_overview o WHERE o.din = l.din),
        'steps', coalesce((SELECT jsonb_agg(jsonb_build_object(
                               'kind', s.kind, 'performed_at', s.performed_at, 'performed_by', s.performed_by,
                               'passage', s.passage_number, 'cell_count', s.cell_count::text,
                               'viability_percent', s.viability_percent::text,
                               'population_doublings', s.population_doublings::text,
                               'cumulative_doublings', s.cumulative_doublings::text,
                               'units', s.units, 'unit_volume_ml', s.unit_volume_ml::text, 'note', s.note) ORDER BY s.id)
                           FROM gmp.manufacturing_step s WHERE s.din = l.din), '[]'))
$$;

-- What `gmp lot show` prints: the lot and its steps, as in its trace, without the rest of
-- the trace (lineage, tissue, donor, the eligibility determination's signature check,
-- screening, materials, equipment), which a fresh backend would otherwise read, plan and
-- hash for a command that prints none of it (issue 18).
CREATE OR REPLACE FUNCTION gmp.lot_show(lot_din text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
    SELECT gmp_rules.lot_and_steps(gmp_rules.require_lot(lot_din))
$$;

-- Back from a lot: its lineage to the tissue, the donor, the eligibility determination
-- and the screening results it rests on, its own steps, and the material lots it and its
-- cell banks consumed and the equipment they used.
CREATE OR REPLACE FUNCTION gmp.trace_lot(lot_din text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    l gmp.lot := gmp_rules.require_lot(lot_din);
BEGIN
    RETURN gmp_rules.lot_and_steps(l) || jsonb_build_object(
        'lineage', coalesce((WITH RECURSIVE up AS (
                                 SELECT p.*, 1 AS depth FROM gmp.lot p WHERE p.din = l.parent_din
                                 UNION ALL
                                 SELECT p.*, up.depth + 1 FROM gmp.lot p JOIN up ON p.din = up.parent_din)
                             SELECT jsonb_agg(jsonb_build_object('din', up.din, 'check_character', up.check_character,
                                                                 'stage', up.stage, 'status', up.status) ORDER BY up.depth)
                             FROM up), '[]'),
        'collection', gmp_rules.collection_document(l.collection_id),
        'donor', gmp_rules.donor_document(l.donor_code),
        'screening', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                   'donor', r.donor_code, 'test', t.name, 'result', r.result, 'test_kit', r.test_kit,
                                   'specimen_on', r.specimen_on, 'analyst', r.analyst) ORDER BY r.id)
                               FROM gmp.screening_result r JOIN gmp.screening_test t ON t.code = r.test_code
                               WHERE r.donor_code = gmp_rules.tested_person(l.donor_code)), '[]'),
        'materials', coalesce(gmp_rules.lot_materials(l.din), '[]'),
        'equipment', coalesce(gmp_rules.lot_equipment(l.din), '[]'));
END;
$$;

-- The forward trace: the donor, its collections and every lot made from them, each lot
-- with its units and where each is or which consignee received it ('whereabouts').
CREATE OR REPLACE FUNCTION gmp.trace_donor(donor_code text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    who gmp.donor := gmp_rules.require_donor(donor_code);
    codes text[];
BEGIN
    codes := ARRAY(SELECT who.code UNION ALL SELECT d.code FROM gmp.donor d WHERE d.birth_mother = who.code);
    RETURN jsonb_build_object(
        'donor', gmp_rules.donor_document(who.code),
        'newborns', to_jsonb(codes[2:]),
        'collections', coalesce((SELECT jsonb_agg(gmp_rules.collection_document(c.id) ORDER BY c.id)
                                 FROM gmp.tissue_collection c WHERE c.donor_code = ANY (codes)), '[]'),
        'lots', coalesce((SELECT jsonb_agg(gmp_rules.lot_document(o)
                                           || jsonb_build_object('whereabouts', coalesce(w.whereabouts, '[]'))
                                           ORDER BY o.din)
                          FROM gmp.lot_overview o
                          LEFT JOIN gmp_rules.lots_whereabouts(ARRAY(SELECT l.din FROM gmp.lot l
                                                                     WHERE l.donor_code = ANY (codes))) w ON w.din = o.din
                          WHERE o.donor_code = ANY (codes)), '[]'));
END;
$$;

-- The whereabouts of the units of many lots in one query (a row per lot that has
-- units): the donor trace takes them for every lot it reaches at once, not a query per
-- lot (issue 14: ~210 lots reached, ~2,450 units). A plain SQL function with no SET
-- clause, so the planner inlines it into the caller's query.
CREATE OR REPLACE FUNCTION gmp_rules.lots_whereabouts(dins text[]) RETURNS TABLE (din text, whereabouts jsonb)
LANGUAGE sql STABLE AS $$
    SELECT u.din, jsonb_agg(jsonb_build_object(
               'unit', u.id, 'division', u.division, 'container', u.container, 'state', u.state, 'since', e.at,
               'location', b.path,
               'position', CASE WHEN u.box_id IS NOT NULL THEN gmp_rules.position_label(u.box_row, u.box_column) END,
               'device', u.device_id, 'person', u.holder_person, 'party', u.holder_party, 'shipment', u.shipment_id,
               'consignee', s.consignee, 'received_at', s.received_at) ORDER BY u.division)
    FROM gmp.unit u
    LEFT JOIN gmp.custody_event e ON e.id = u.last_event
    LEFT JOIN gmp.storage_location b ON b.id = u.box_id
    LEFT JOIN gmp.shipment s ON s.id = u.shipment_id
    WHERE u.din = ANY (dins)
    GROUP BY u.din
$$;

-- Where each unit of a lot is now: its state and holder (a position with its location
-- path, a person, or an outside party), and for a shipped unit its shipment and
-- consignee. One lot's share of gmp_rules.lots_whereabouts.
CREATE OR REPLACE FUNCTION gmp_rules.unit_whereabouts(lot_din text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT w.whereabouts FROM gmp_rules.lots_whereabouts(ARRAY[lot_din]) w), '[]')
$$;
