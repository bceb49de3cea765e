-- work queues: what is waiting for someone (gmp todo, alias gmp inbox), issue 16.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).
--
-- One read-only view per queue, readable by every person (a queue shows only what the
-- records already show them), and gmp.work_queue, which picks the queues of the signed-in
-- person's roles. Nothing here changes a record.

-- QC results that still need their second-person verification: not verified, not
-- invalidated, not superseded by a correction, on a lot whose QC record is open. A result
-- still waiting for its named analyst's confirmation is in queue_qc_to_confirm first.
CREATE OR REPLACE VIEW gmp.queue_qc_to_verify AS
SELECT r.id, l.din || l.check_character AS lot, r.test, r.attempt, r.verdict, r.analyst, r.recorded_by,
       r.recorded_at, r.awaiting_analyst, r.analyst_confirmed_by
FROM gmp.qc_result_status r
JOIN gmp.lot l ON l.din = r.din
WHERE r.verified_by IS NULL AND r.invalidated_by IS NULL AND NOT r.superseded
  AND l.status IN ('quarantine', 'on_hold');

-- Lots in quarantine whose manufacture is finished (cryopreserved): QA's release decision
-- is what they wait for. The counts say how far their QC record is.
CREATE OR REPLACE VIEW gmp.queue_lot_to_release AS
SELECT l.din || l.check_character AS lot, l.stage, l.product_kind, l.expires_on, s.performed_at AS cryopreserved_at,
       ls.specification_id,
       (SELECT count(*) FROM gmp.qc_result_status r
        WHERE r.din = l.din AND NOT r.superseded AND r.invalidated_by IS NULL AND r.verified_by IS NULL) AS unverified_results,
       (SELECT count(*) FROM gmp.deviation_lot dl JOIN gmp.deviation d ON d.id = dl.deviation_id
        WHERE dl.din = l.din AND d.status = 'open') AS open_deviations
FROM gmp.lot l
JOIN gmp.manufacturing_step s ON s.din = l.din AND s.kind = 'cryopreservation'
LEFT JOIN gmp.lot_specification ls ON ls.din = l.din
WHERE l.status = 'quarantine';

-- Deviations (and OOS investigations) not yet closed.
CREATE OR REPLACE VIEW gmp.queue_open_deviation AS
SELECT d.id, d.kind, d.title, d.opened_at, d.opened_by,
       ARRAY(SELECT dl.din FROM gmp.deviation_lot dl WHERE dl.deviation_id = d.id ORDER BY dl.din) AS lots
FROM gmp.deviation d
WHERE d.status = 'open';

-- Temperature excursions not yet assessed (voided ones are not work).
CREATE OR REPLACE VIEW gmp.queue_open_excursion AS
SELECT x.id, x.device_id, x.started_at, x.ended_at, x.peak_celsius, x.limit_celsius
FROM gmp.excursion x
WHERE x.status = 'open';

-- Lots still usable (not rejected) and material lots not rejected, with their expiry:
-- gmp.work_queue takes those within the window asked for.
CREATE OR REPLACE VIEW gmp.queue_expiring_lot AS
SELECT l.din, l.din || l.check_character AS lot, l.status, l.stage, l.product_kind, l.expires_on
FROM gmp.lot l
WHERE l.status <> 'rejected';

CREATE OR REPLACE VIEW gmp.queue_expiring_material AS
SELECT m.id, m.type_code, m.status, m.expires_on, m.supplier, m.supplier_lot
FROM gmp.material_lot m
WHERE m.status <> 'rejected';

-- Material lots received and not yet released or rejected by QA.
CREATE OR REPLACE VIEW gmp.queue_material_quarantine AS
SELECT m.id, m.type_code, m.supplier, m.supplier_lot, m.received_at, m.received_by, m.expires_on
FROM gmp.material_lot m
WHERE m.status = 'quarantine';

-- The signed-in person's work, by their roles, one row per item:
--   qc_to_confirm        results recorded for you as analyst by someone else (everyone)
--   qc_to_verify         results to verify, not recorded or performed by you (qc, qa)
--   lot_to_release       cryopreserved lots in quarantine (qa)
--   deviation_open       open deviations and OOS investigations (qa, director)
--   excursion_open       excursions to assess (qa)
--   transfer_to_receive  hand-overs to you not yet received (everyone)
--   lot_expiring         lots expiring within `within_days` (operator, qa, director)
--   material_expiring    material lots expiring within `within_days` (operator, qc, qa)
--   material_quarantine  material lots awaiting QA's decision (qa)
--   role_to_decide       role proposals waiting for a second administrator (admin)
-- `item` is what the gmp command that does the work takes (role_to_decide: "ACCOUNT ROLE",
-- as gmp user approve takes them); `due_on` the date something runs out.
CREATE OR REPLACE FUNCTION gmp.work_queue(within_days integer)
RETURNS TABLE (queue text, item text, summary text, since timestamptz, due_on date)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH me AS (
        SELECT session_user::text AS id,
               pg_has_role(session_user, 'gmp_qc', 'MEMBER') AS qc,
               pg_has_role(session_user, 'gmp_qa', 'MEMBER') AS qa,
               pg_has_role(session_user, 'gmp_director', 'MEMBER') AS director,
               pg_has_role(session_user, 'gmp_operator', 'MEMBER') AS operator,
               pg_has_role(session_user, 'gmp_admin', 'MEMBER') AS admin
    ), items AS (
        SELECT 1 AS rank, 'qc_to_confirm' AS queue, q.id::text AS item,
               format('%s %s attempt %s (%s), recorded by %s: confirm it (gmp qc confirm)',
                      q.lot, q.test, q.attempt, q.verdict, q.recorded_by) AS summary,
               q.recorded_at AS since, NULL::date AS due_on
        FROM gmp.queue_qc_to_verify q, me WHERE q.awaiting_analyst AND q.analyst = me.id
        UNION ALL
        SELECT 2, 'qc_to_verify', q.id::text,
               format('%s %s attempt %s (%s), analyst %s', q.lot, q.test, q.attempt, q.verdict, q.analyst),
               q.recorded_at, NULL
        FROM gmp.queue_qc_to_verify q, me
        WHERE (me.qc OR me.qa) AND NOT q.awaiting_analyst AND me.id NOT IN (q.analyst, q.recorded_by)
        UNION ALL
        SELECT 3, 'lot_to_release', q.lot,
               format('%s %s, specification %s, %s unverified result(s), %s open deviation(s)',
                      q.stage, q.product_kind, coalesce(q.specification_id, 'not assigned'),
                      q.unverified_results, q.open_deviations),
               q.cryopreserved_at, q.expires_on
        FROM gmp.queue_lot_to_release q, me WHERE me.qa
        UNION ALL
        SELECT 4, 'deviation_open', q.id,
               q.kind || ': ' || q.title || CASE WHEN cardinality(q.lots) > 0
                                                 THEN ' (lots ' || array_to_string(q.lots, ', ') || ')' ELSE '' END,
               q.opened_at, NULL
        FROM gmp.queue_open_deviation q, me WHERE me.qa OR me.director
        UNION ALL
        SELECT 5, 'excursion_open', q.id,
               format('%s peaked at %s °C (limit %s °C)%s', q.device_id, q.peak_celsius, q.limit_celsius,
                      CASE WHEN q.ended_at IS NULL THEN ', still going on' ELSE '' END),
               q.started_at, NULL
        FROM gmp.queue_open_excursion q, me WHERE me.qa
        UNION ALL
        SELECT 6, 'transfer_to_receive', t.id::text,
               format('%s unit(s) from %s: %s', cardinality(t.unit_ids), t.from_person, array_to_string(t.unit_ids, ', ')),
               t.signed_off_at, NULL
        FROM gmp.pending_transfer t, me WHERE t.to_person = me.id
        UNION ALL
        SELECT 7, 'lot_expiring', q.lot, format('%s %s, %s', q.stage, q.product_kind, q.status), NULL, q.expires_on
        FROM gmp.queue_expiring_lot q, me
        WHERE (me.operator OR me.qa OR me.director) AND q.expires_on <= current_date + within_days
        UNION ALL
        SELECT 8, 'material_expiring', q.id, format('%s from %s lot %s, %s', q.type_code, q.supplier, q.supplier_lot, q.status),
               NULL, q.expires_on
        FROM gmp.queue_expiring_material q, me
        WHERE (me.operator OR me.qc OR me.qa) AND q.expires_on <= current_date + within_days
        UNION ALL
        SELECT 9, 'material_quarantine', q.id, format('%s from %s lot %s, received by %s', q.type_code, q.supplier,
                                                      q.supplier_lot, q.received_by),
               q.received_at, q.expires_on
        FROM gmp.queue_material_quarantine q, me WHERE me.qa
        UNION ALL
        SELECT 10, 'role_to_decide', p.account_id || ' ' || p.role,
               format('%s proposes role %s for %s: %s', p.proposed_by, p.role, p.account_id, p.reason),
               p.proposed_at, NULL
        FROM gmp.pending_role p, me WHERE me.admin AND p.proposed_by <> me.id
    )
    SELECT i.queue, i.item, i.summary, i.since, i.due_on FROM items i
    ORDER BY i.rank, i.due_on NULLS LAST, i.since NULLS LAST, i.item
$$;
