-- scripts/bench_materials.sql: the materials of the generated facility, for the
-- material-trace benchmark (scripts/bench_materials.py, `scripts/bench --materials`).
--
-- Runs after scripts/bench_trace.sql (100,000 product lots with their manufacturing
-- steps), as a superuser:
--
--     psql -X -q -At -v ON_ERROR_STOP=1 [-v material_lots=10000 -v consumptions=1000000] \
--          -f scripts/bench_materials.sql
--
-- * 7 material types (one per category) and 10,000 material lots MAT26-00001 …, received
--   400 days ago by bench_operator, expiring in about five years, each released by
--   bench_qa with a disposition dated 399 days ago and its signature (true content hash,
--   no signing ceremony, as bench_trace.sql signs its determinations). Constraints, the
--   guard and disposition triggers and the audit trigger all run, about 1,000 lots a
--   transaction.
-- * 1,000,000 consumptions by the manufacturing steps in their order, five a step at
--   most: consumption c (0-based) uses material lot 3 + c * 9,998 / 1,000,000 (lots 3 …
--   10,000, about 100 consecutive consumptions, i.e. 20 consecutive steps, each), so a
--   lot used by cell-bank steps reaches every lot made from those banks. MAT26-00001 is
--   unused (traced as "never consumed"); MAT26-00002 is consumed once, by the last step
--   of one drug product (the lot reaching few).
--
-- What is switched off, and how (the one shortcut, for speed): the consumptions are
-- inserted in ONE transaction with three triggers of gmp.material_consumption disabled for
-- that transaction only, its audit trigger and its rules (gmp_rules.check_consumption, and
-- the recall hold, as no recall is open in the generated facility):
-- `ALTER EVENT TRIGGER gmp_record_ddl DISABLE` (it refuses a disabled audit trigger),
-- `ALTER TABLE … DISABLE TRIGGER audit, DISABLE TRIGGER consumption_rules, …`, the INSERT,
-- then all three `ENABLE ALWAYS` and the event trigger `ENABLE ALWAYS` before COMMIT. No
-- other session ever sees them disabled (ALTER TABLE holds the table's lock to the end),
-- and the trail records neither ALTER. The columns the rule sets (the step's lot and
-- time, the recorder) are given as it sets them, and what it checks (each material lot
-- released before its first use and unexpired at its last; every product lot in
-- quarantine or on hold) is asserted over the whole load before COMMIT. Foreign keys and
-- constraints run. Through the audit trigger a million rows take ~0.2 ms each and must
-- be committed ~1,000 at a time (docs/benchmarks.md, "Generating the facility"), and
-- the rule's row locks another ~0.1 ms each: several more minutes on an idle machine.
--
-- So the generated database is for timing only: `gmp audit verify --no-reconcile`
-- (the chain) still passes, but the reconciliation reports the consumptions as rows
-- missing from the trail, as it must.
--
-- Prints one line per phase (what, time) and the total.

\set ON_ERROR_STOP on
\if :{?material_lots}
\else
    \set material_lots 10000
\endif
\if :{?consumptions}
\else
    \set consumptions 1000000
\endif
SET client_min_messages = warning;

DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        RAISE EXCEPTION 'bench_materials.sql runs as a superuser (the bench server''s gmp_owner)';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp.manufacturing_step) THEN
        RAISE EXCEPTION 'bench_materials.sql needs the facility of scripts/bench_trace.sql (steps to consume materials)';
    END IF;
    IF EXISTS (SELECT FROM gmp.material_lot) THEN
        RAISE EXCEPTION 'bench_materials.sql generates materials on a server without material lots; this one has some'
            USING HINT = 'use a fresh server: scripts/bench --materials makes one';
    END IF;
END $$;

\ir bench_clock.sql

DO $$
BEGIN
    PERFORM set_config('gmp.reason', 'material benchmark: generated types', true);
    INSERT INTO gmp.material_type (code, name, category, storage_condition, created_by)
    SELECT upper(replace(c.category, '_', '-')), initcap(replace(c.description, '_', ' ')), c.category,
           CASE c.category WHEN 'platelet_lysate_or_serum' THEN '-20 °C' WHEN 'culture_medium' THEN '2-8 °C'
                           ELSE '15-25 °C' END, 'bench_operator'
    FROM gmp_meta.material_category c;
END $$;

CREATE TEMP TABLE material_plan AS
SELECT i, format('MAT26-%s', lpad(i::text, 5, '0')) AS id,
       (SELECT array_agg(code ORDER BY code) FROM gmp.material_type) AS types
FROM generate_series(1, :material_lots) AS i;
CREATE UNIQUE INDEX ON material_plan (i);
ANALYZE material_plan;

-- Received into quarantine, then released by QA with the signed disposition, as
-- gmp material receive and gmp material release would (the deferred rules check the
-- disposition and its signature at COMMIT).
CREATE PROCEDURE pg_temp.gen_material_lots(lo integer, hi integer) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('gmp.reason', 'material lot received (generated)', true);
    INSERT INTO gmp.material_lot (id, type_code, supplier, manufacturer, supplier_lot, quantity, unit, received_at,
                                  received_by, receipt_condition, expires_on, certificate_sha256, storage_condition)
    SELECT p.id, p.types[1 + p.i % cardinality(p.types)],
           (ARRAY['Nordic BioSupply', 'CellCulture Inc.', 'PharmaReagents GmbH'])[1 + p.i % 3],
           (ARRAY['Nordic BioSupply', 'CellCulture Inc.', 'PharmaReagents GmbH'])[1 + p.i % 3],  -- makes what it supplies
           format('SL-%s', 100000 + p.i), 500 + p.i % 500, 'mL',
           date_trunc('day', now()) - interval '400 days' + p.i * interval '1 minute', 'bench_operator',
           'intact, 2-8 °C logged', current_date + 1800 + p.i % 100,
           sha256(convert_to(p.id, 'UTF8')), '2-8 °C'
    FROM pg_temp.material_plan p WHERE p.i BETWEEN lo AND hi ORDER BY p.i;
    PERFORM set_config('gmp.reason', 'material lot released (generated)', true);
    INSERT INTO gmp.material_disposition (material_lot_id, decision, reason, decided_by, decided_at)
    SELECT p.id, 'released', 'certificate and receipt checked', 'bench_qa',
           date_trunc('day', now()) - interval '399 days' + p.i * interval '1 minute'
    FROM pg_temp.material_plan p WHERE p.i BETWEEN lo AND hi ORDER BY p.i;
    INSERT INTO gmp.signature (signer, printed_name, meaning, record_table, record_key, content_hash, challenge, statement)
    SELECT a.id, a.full_name, 'released', 'gmp.material_disposition', d.id::text,
           gmp_rules.content_hash('gmp.material_disposition', d.id::text), gen_random_uuid(),
           format('material lot %s released', d.material_lot_id)
    FROM gmp.material_disposition d JOIN pg_temp.material_plan p ON p.id = d.material_lot_id
    JOIN gmp.account a ON a.id = 'bench_qa'
    WHERE p.i BETWEEN lo AND hi ORDER BY d.id;
    UPDATE gmp.material_lot m SET status = 'released', status_changed_at = clock_timestamp(), status_changed_by = 'bench_qa'
    FROM pg_temp.material_plan p WHERE p.id = m.id AND p.i BETWEEN lo AND hi;
END;
$$;
SELECT format('CALL pg_temp.gen_material_lots(%s, %s)', lo, least(lo + 499, :material_lots)), 'VACUUM gmp_audit.chain_head'
FROM generate_series(1, :material_lots, 500) AS lo \gexec
SELECT pg_temp.lap(format('%s material lots received and released (signed)', count(*))) FROM gmp.material_lot;

-- The consumptions: one transaction, the audit trigger and the consumption rule off for
-- it only (see the top); the columns the rule would set (the step's lot and time, the
-- recorder) are given as it would set them, and what it would check is asserted after.
BEGIN;
ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
ALTER TABLE gmp.material_consumption DISABLE TRIGGER audit, DISABLE TRIGGER consumption_rules,
    DISABLE TRIGGER consumption_recall_derivation;
WITH steps AS (
    SELECT s.id, s.din, s.performed_at, row_number() OVER (ORDER BY s.id) - 1 AS n
    FROM gmp.manufacturing_step s
), few AS (
    SELECT s.id, s.din, s.performed_at FROM gmp.manufacturing_step s
    WHERE s.din = (SELECT min(l.din) FROM gmp.lot l JOIN gmp.manufacturing_step x ON x.din = l.din
                   WHERE l.stage = 'drug_product' AND l.status = 'quarantine')
    ORDER BY s.id DESC LIMIT 1
), uses AS (
    SELECT s.id AS step_id, s.din, s.performed_at, s.n * 5 + k AS c
    FROM steps s CROSS JOIN generate_series(0, 4) AS k
    WHERE s.n * 5 + k < :consumptions - 1
)
INSERT INTO gmp.material_consumption (material_lot_id, quantity, unit, step_id, din, used_at, recorded_by)
SELECT format('MAT26-%s', lpad((3 + u.c * (:material_lots - 2) / (:consumptions - 1))::text, 5, '0')),
       1 + u.c % 50, 'mL', u.step_id, u.din, u.performed_at, 'bench_operator'
FROM uses u
UNION ALL
SELECT 'MAT26-00002', 10, 'mL', few.id, few.din, few.performed_at, 'bench_operator' FROM few;
-- What the rule checks, asserted for the whole load at once: each material lot released
-- before its first use and unexpired at its last (none has a use-by after opening), and
-- every product lot in quarantine or on hold.
DO $$
BEGIN
    IF EXISTS (SELECT FROM (SELECT c.material_lot_id, min(c.used_at) AS first_use, max(c.used_at) AS last_use
                            FROM gmp.material_consumption c GROUP BY 1) u
               JOIN gmp.material_lot m ON m.id = u.material_lot_id
               JOIN gmp.material_disposition d ON d.material_lot_id = m.id AND d.decision = 'released'
               WHERE m.status <> 'released' OR m.days_after_opening IS NOT NULL OR u.first_use < d.decided_at
                  OR u.first_use < m.received_at OR (u.last_use AT TIME ZONE 'UTC')::date > m.expires_on)
       OR EXISTS (SELECT FROM gmp.lot l WHERE l.status NOT IN ('quarantine', 'on_hold')
                  AND EXISTS (SELECT FROM gmp.material_consumption c WHERE c.din = l.din)) THEN
        RAISE EXCEPTION 'a generated consumption breaks the consumption rule';
    END IF;
END $$;
SET CONSTRAINTS ALL IMMEDIATE;  -- a table with pending trigger events cannot be altered
ALTER TABLE gmp.material_consumption ENABLE ALWAYS TRIGGER audit, ENABLE ALWAYS TRIGGER consumption_rules,
    ENABLE ALWAYS TRIGGER consumption_recall_derivation;
ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
COMMIT;
SELECT pg_temp.lap(format('%s consumptions (neither audited nor through the rule trigger)', count(*))) FROM gmp.material_consumption;

SELECT setval('gmp_meta.material_lot_number', :material_lots) \g /dev/null
SELECT pg_temp.total();
