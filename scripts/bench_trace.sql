-- scripts/bench_trace.sql: a generated facility for the traceability benchmark
-- (scripts/bench_trace.py, `scripts/bench --trace`).
--
-- 10,000 donors D26-000001 … D26-010000 (set another count with -v donors=N), each with
-- one consent and one received tissue collection (T26-000001 …, mixed sources, a unit
-- each source allows); screening results of every tested person; one signed
-- eligibility determination per collection; and ten lots per donor (100,000): a master
-- cell bank from the collection, two working cell banks from it, seven drug products
-- from those, with manufacturing steps in order (every cell bank; the drug products
-- of one donor in five).
--
-- Every 5th donor from D26-000006 on (i % 5 = 1) is a newborn whose birth mother is the
-- donor before it, so newborn tissues (cord, cord blood, placenta, amnion) appear and
-- tracing a mother (D26-005000) also finds her newborn's collection and lots. About 1%
-- of tested people have a reactive anti-HBc (their collections are determined
-- ineligible), 0.5% of donors withdraw consent afterwards, 1% of drug products are on
-- hold.
--
-- Run once, as a superuser, on a server with no donors yet (the bench's private one):
--
--     psql -X -q -At -v ON_ERROR_STOP=1 -f scripts/bench_trace.sql
--
-- Nothing is switched off: constraints, foreign keys, the BEFORE INSERT rule triggers
-- (consent before a collection, units per source, step order, passage limits, the
-- eligibility rule) and the audit trigger on every row all run. The shortcuts, because
-- these are generated records and not people's work: rows are inserted set-based and
-- directly rather than one call at a time through gmp's functions (which would also
-- ask for a person's session); the audit actor of every event is the superuser, while
-- the records name four bench accounts; the determinations' signatures are inserted
-- with their true content hash but without a signing ceremony (no password proof).
--
-- Work is committed in chunks of about 1,000 rows with a VACUUM of the audit chain
-- head after each: every audited row updates that one row, and in one large
-- transaction its dead versions pile up and every append scans them all (the cost
-- per row grows with the size of the transaction; see docs/benchmarks.md).
--
-- Prints one line per phase (what, time) and the total.

\set ON_ERROR_STOP on
\if :{?donors}
\else
    \set donors 10000
\endif
SET client_min_messages = warning;

DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        RAISE EXCEPTION 'bench_trace.sql runs as a superuser (the bench server''s gmp_owner)';
    END IF;
    IF EXISTS (SELECT FROM gmp.donor) OR EXISTS (SELECT FROM gmp.lot) THEN
        RAISE EXCEPTION 'bench_trace.sql generates a facility on a server without donors or lots; this one has some'
            USING HINT = 'use a fresh server: scripts/bench --trace makes one';
    END IF;
END $$;

-- The stopwatch: pg_temp.lap('what') is the line for the phase just done.
\ir bench_clock.sql

-- The facility, and the people the records name.
DO $$
BEGIN
    PERFORM gmp.configure_facility('G1234', 10, 40, 'traceability benchmark: generated facility');
    PERFORM gmp.add_account(a.id, a.full_name, 'Bench-' || md5(random()::text), a.roles,
                            'traceability benchmark: generated facility')
    FROM (VALUES ('bench_operator', 'Bench Operator', '{operator}'::text[]),
                 ('bench_qc', 'Bench Analyst', '{qc}'),
                 ('bench_qa', 'Bench Reviewer', '{qa}'),
                 ('bench_director', 'Bench Director', '{director}')) AS a(id, full_name, roles)
    WHERE NOT EXISTS (SELECT FROM gmp.account x WHERE x.id = a.id);
END $$;
SELECT pg_temp.lap('facility and 4 accounts');

-- One row per donor: everything the phases below need to know about it.
CREATE TEMP TABLE plan AS
WITH base AS (
    SELECT i,
           i % 5 = 1 AND i > 1 AS newborn,
           i % 50 = 17 AS deceased,
           -- Spread over the past 330 days, 25 minutes apart.
           date_trunc('day', now()) - interval '330 days' + i * interval '25 minutes' AS collected_at
    FROM generate_series(1, :donors) AS i
), sourced AS (
    SELECT b.*,
           CASE WHEN b.newborn THEN (ARRAY['umbilical_cord', 'cord_blood', 'placenta', 'amniotic_membrane',
                                           'amniotic_fluid'])[1 + (b.i / 5) % 5]
                WHEN b.deceased THEN (ARRAY['bone_marrow', 'dermis'])[1 + (b.i / 50) % 2]
                WHEN b.i % 5 = 0 THEN (ARRAY['adipose', 'peripheral_blood'])[1 + (b.i / 5) % 2]  -- mothers
                ELSE (ARRAY['bone_marrow', 'adipose', 'peripheral_blood', 'dental_pulp', 'gingiva', 'dermis',
                            'hair_follicle'])[1 + b.i % 7]
           END AS source
    FROM base b
)
SELECT s.i,
       format('D26-%s', lpad(s.i::text, 6, '0')) AS code,
       format('T26-%s', lpad(s.i::text, 6, '0')) AS collection,
       CASE WHEN s.newborn THEN format('D26-%s', lpad((s.i - 1)::text, 6, '0')) END AS mother,
       CASE WHEN s.i % 10 = 3 THEN 'autologous' ELSE 'allogeneic' END AS intended_use,
       NOT s.deceased AS living,
       s.source,
       t.units[1 + s.i % cardinality(t.units)] AS unit,
       s.collected_at,
       -- The tested person (the mother, for a newborn) has a reactive anti-HBc.
       (CASE WHEN s.newborn THEN s.i - 1 ELSE s.i END) % 97 = 0 AS reactive,
       s.i % 200 = 57 AS withdraws
FROM sourced s JOIN gmp.tissue_source t ON t.code = s.source;
CREATE UNIQUE INDEX ON plan (i);
CREATE UNIQUE INDEX ON plan (code);
ANALYZE plan;

-- Donors, their consents, their collections (received on arrival).
CREATE PROCEDURE pg_temp.gen_donors(lo integer, hi integer) LANGUAGE sql AS $$
    INSERT INTO gmp.donor (code, intended_use, living, birth_mother)
    SELECT p.code, p.intended_use, p.living, p.mother FROM pg_temp.plan p
    WHERE p.i BETWEEN lo AND hi ORDER BY p.i;
$$;
CREATE PROCEDURE pg_temp.gen_consents(lo integer, hi integer) LANGUAGE sql AS $$
    INSERT INTO gmp.consent (donor_code, given_on, scope, taken_by)
    SELECT p.code, (p.collected_at AT TIME ZONE 'UTC')::date - 14 - p.i % 30,
           CASE WHEN p.mother IS NULL THEN 'recovery of tissue for manufacture of MSC products, testing, and record keeping'
                ELSE 'by the birth mother: recovery of the newborn''s tissue for manufacture of MSC products' END,
           (ARRAY['A. Martin, RN', 'B. Okafor, MD', 'C. Lindqvist, RN'])[1 + p.i % 3]
    FROM pg_temp.plan p WHERE p.i BETWEEN lo AND hi ORDER BY p.i;
$$;
CREATE PROCEDURE pg_temp.gen_collections(lo integer, hi integer) LANGUAGE sql AS $$
    INSERT INTO gmp.tissue_collection (id, donor_code, source, site, collected_at, collector, amount, amount_unit,
                                       transport_conditions, received_at, received_by, receipt_condition)
    SELECT p.collection, p.code, p.source,
           (ARRAY['St. Elsewhere Hospital', 'Northside Clinic', 'University Medical Center'])[1 + p.i % 3],
           p.collected_at, (ARRAY['D. Novak', 'E. Haddad', 'F. Rossi'])[1 + p.i % 3],
           CASE p.unit WHEN 'mL' THEN 20 + p.i % 80 WHEN 'g' THEN 2 + p.i % 40 WHEN 'cm' THEN 15 + p.i % 30
                       WHEN 'cm2' THEN 40 + p.i % 60 WHEN 'mm2' THEN 10 + p.i % 40 WHEN 'teeth' THEN 1 + p.i % 4
                       ELSE 50 + p.i % 100 END,
           p.unit, '2-8 °C in a validated shipper, temperature logged',
           p.collected_at + interval '4 hours', 'bench_operator', 'acceptable'
    FROM pg_temp.plan p WHERE p.i BETWEEN lo AND hi ORDER BY p.i;
$$;

SELECT format('CALL pg_temp.gen_donors(%s, %s)', lo, least(lo + 999, :donors)), 'VACUUM gmp_audit.chain_head'
FROM generate_series(1, :donors, 1000) AS lo \gexec
SELECT pg_temp.lap(format('%s donors', count(*))) FROM gmp.donor;
SELECT format('CALL pg_temp.gen_consents(%s, %s)', lo, least(lo + 999, :donors)), 'VACUUM gmp_audit.chain_head'
FROM generate_series(1, :donors, 1000) AS lo \gexec
SELECT pg_temp.lap(format('%s consents', count(*))) FROM gmp.consent;
SELECT format('CALL pg_temp.gen_collections(%s, %s)', lo, least(lo + 999, :donors)), 'VACUUM gmp_audit.chain_head'
FROM generate_series(1, :donors, 1000) AS lo \gexec
SELECT pg_temp.lap(format('%s collections (received)', count(*))) FROM gmp.tissue_collection;

-- gmp register-donor and gmp tissue collect would number from here on.
SELECT setval('gmp_meta.donor_number', :donors), setval('gmp_meta.collection_number', :donors) \g /dev/null

-- Screening of every tested person (not newborns: their mothers are tested), the full
-- panel but WNV NAT for the deceased, from a specimen drawn on the collection day.
CREATE PROCEDURE pg_temp.gen_screening(lo integer, hi integer) LANGUAGE sql AS $$
    INSERT INTO gmp.screening_result (donor_code, test_code, result, test_kit, specimen_on, analyst)
    SELECT p.code, t.code, CASE WHEN p.reactive AND t.code = 'anti-hbc' THEN 'reactive' ELSE 'nonreactive' END,
           format('%s assay, kit lot K%s', t.name, 1000 + p.i / 250), (p.collected_at AT TIME ZONE 'UTC')::date,
           'bench_qc'
    FROM pg_temp.plan p CROSS JOIN gmp.screening_test t
    WHERE p.i BETWEEN lo AND hi AND p.mother IS NULL AND (t.required_for <> 'living donor' OR p.living)
    ORDER BY p.i, t.code;
$$;
SELECT format('CALL pg_temp.gen_screening(%s, %s)', lo, least(lo + 99, :donors)), 'VACUUM gmp_audit.chain_head'
FROM generate_series(1, :donors, 100) AS lo \gexec
SELECT pg_temp.lap(format('%s screening results', count(*))) FROM gmp.screening_result;

-- One determination per collection, with the evidence gmp.determine_eligibility
-- records; the rule trigger computes the problems and refuses a wrong "eligible".
-- Then the director's signature on each.
CREATE PROCEDURE pg_temp.gen_determinations(lo integer, hi integer) LANGUAGE sql AS $$
    INSERT INTO gmp.eligibility_determination (donor_code, collection_id, outcome, evidence, problems, determined_by)
    SELECT p.code, c.id, CASE WHEN p.reactive THEN 'ineligible' ELSE 'eligible' END,
           jsonb_build_object('tested_person', coalesce(p.mother, p.code), 'collection', to_jsonb(c),
                              'results', coalesce((SELECT jsonb_agg(to_jsonb(r) ORDER BY r.id)
                                                   FROM gmp.screening_result r
                                                   WHERE r.donor_code = coalesce(p.mother, p.code)), '[]')),
           '{}', 'bench_director'
    FROM pg_temp.plan p JOIN gmp.tissue_collection c ON c.id = p.collection
    WHERE p.i BETWEEN lo AND hi ORDER BY p.i;
    INSERT INTO gmp.signature (signer, printed_name, meaning, record_table, record_key, content_hash, challenge, statement)
    SELECT a.id, a.full_name, 'determined', 'gmp.eligibility_determination', d.id::text,
           gmp_rules.content_hash('gmp.eligibility_determination', d.id::text), gen_random_uuid(),
           format('donor %s is %s', d.donor_code, d.outcome)
    FROM gmp.eligibility_determination d JOIN pg_temp.plan p ON p.code = d.donor_code
    JOIN gmp.account a ON a.id = 'bench_director'
    WHERE p.i BETWEEN lo AND hi ORDER BY d.id;
$$;
SELECT format('CALL pg_temp.gen_determinations(%s, %s)', lo, least(lo + 499, :donors)), 'VACUUM gmp_audit.chain_head'
FROM generate_series(1, :donors, 500) AS lo \gexec
SELECT pg_temp.lap(format('%s signed eligibility determinations', count(*))) FROM gmp.eligibility_determination;

-- Ten lots per donor. DINs: facility G1234, year 26, then master cell banks 1…N,
-- working cell banks N+1…3N, drug products 3N+1…10N (so a donor's lots are spread
-- over the table, as lots made over months are). The check character is generated.
CREATE FUNCTION pg_temp.din(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT 'G123426' || lpad(n::text, 6, '0')
$$;
CREATE PROCEDURE pg_temp.gen_lots(lo integer, hi integer) LANGUAGE sql AS $$
    INSERT INTO gmp.lot (din, stage, product_kind, intended_use, donor_code, collection_id, parent_din, expires_on,
                         status_changed_at, status_changed_by, created_at, created_by)
    SELECT pg_temp.din(p.i), 'master_cell_bank', 'cells', p.intended_use, p.code, p.collection, NULL,
           current_date + 3650, p.collected_at + interval '1 day', 'bench_operator',
           p.collected_at + interval '1 day', 'bench_operator'
    FROM pg_temp.plan p WHERE p.i BETWEEN lo AND hi ORDER BY p.i;
    INSERT INTO gmp.lot (din, stage, product_kind, intended_use, donor_code, collection_id, parent_din, expires_on,
                         status_changed_at, status_changed_by, created_at, created_by)
    SELECT pg_temp.din(n + 2 * (p.i - 1) + w), 'working_cell_bank', 'cells', p.intended_use, p.code,
           p.collection, pg_temp.din(p.i), current_date + 1825, p.collected_at + interval '22 days',
           'bench_operator', p.collected_at + interval '22 days', 'bench_operator'
    FROM pg_temp.plan p, generate_series(1, 2) AS w, (SELECT max(i) AS n FROM pg_temp.plan) AS total(n)
    WHERE p.i BETWEEN lo AND hi ORDER BY p.i, w;
    INSERT INTO gmp.lot (din, stage, product_kind, intended_use, donor_code, collection_id, parent_din, expires_on,
                         status_changed_at, status_changed_by, created_at, created_by)
    SELECT pg_temp.din(3 * n + 7 * (p.i - 1) + k), 'drug_product',
           CASE k WHEN 6 THEN 'conditioned_medium' WHEN 7 THEN 'extracellular_vesicles' ELSE 'cells' END,
           p.intended_use, p.code, p.collection, pg_temp.din(n + 2 * (p.i - 1) + 2 - k % 2),
           current_date + 365 + p.i % 180, p.collected_at + interval '40 days', 'bench_operator',
           p.collected_at + interval '40 days', 'bench_operator'
    FROM pg_temp.plan p, generate_series(1, 7) AS k, (SELECT max(i) AS n FROM pg_temp.plan) AS total(n)
    WHERE p.i BETWEEN lo AND hi ORDER BY p.i, k;
$$;
SELECT format('CALL pg_temp.gen_lots(%s, %s)', lo, least(lo + 99, :donors)), 'VACUUM gmp_audit.chain_head'
FROM generate_series(1, :donors, 100) AS lo \gexec
SELECT pg_temp.lap(format('%s lots', count(*))) FROM gmp.lot;

-- Manufacturing steps, lot by lot in the enforced order (one statement per step
-- position, so each row's rule trigger sees the steps before it); the cell banks
-- first, so passage numbers and doublings continue from the parent. Every cell bank
-- has its full record (isolation or passages to cryopreservation), as a drug product
-- is made only from a cryopreserved bank. Drug products have theirs for one donor in
-- five (the mothers i % 10 = 0 and their newborns, the traced D26-005000 and D26-005001
-- among them): at ~0.4 ms a step through the rule and audit triggers, the other 280,000
-- would add about two minutes, and a trace reads a lot's steps by index whatever the
-- other lots have.
CREATE TEMP TABLE step_plan (stage text, pos integer, kind text, after interval, cell_count numeric,
                             viability numeric, doublings numeric, units integer, unit_volume_ml numeric);
INSERT INTO step_plan VALUES
    ('master_cell_bank', 1, 'isolation',        '1 day',            NULL,  NULL, NULL, NULL, NULL),
    ('master_cell_bank', 2, 'passage',          '8 days',           2.1e7, 95.2, 3.1,  NULL, NULL),
    ('master_cell_bank', 3, 'passage',          '14 days',          4.3e7, 94.8, 2.9,  NULL, NULL),
    ('master_cell_bank', 4, 'harvest',          '18 days',          NULL,  NULL, NULL, NULL, NULL),
    ('master_cell_bank', 5, 'fill',             '19 days',          NULL,  NULL, NULL, 20,   1.0),
    ('master_cell_bank', 6, 'cryopreservation', '19 days 6 hours',  NULL,  NULL, NULL, NULL, NULL),
    ('working_cell_bank', 1, 'passage',         '24 days',          3.0e7, 94.1, 3.0,  NULL, NULL),
    ('working_cell_bank', 2, 'passage',         '30 days',          5.8e7, 93.7, 2.8,  NULL, NULL),
    ('working_cell_bank', 3, 'harvest',         '34 days',          NULL,  NULL, NULL, NULL, NULL),
    ('working_cell_bank', 4, 'fill',            '35 days',          NULL,  NULL, NULL, 40,   1.0),
    ('working_cell_bank', 5, 'cryopreservation', '35 days 6 hours', NULL,  NULL, NULL, NULL, NULL),
    ('drug_product', 1, 'passage',              '42 days',          1.2e8, 93.5, 2.7,  NULL, NULL),
    ('drug_product', 2, 'harvest',              '46 days',          NULL,  NULL, NULL, NULL, NULL),
    ('drug_product', 3, 'formulation',          '47 days',          NULL,  NULL, NULL, NULL, NULL),
    ('drug_product', 4, 'fill',                 '47 days 4 hours',  NULL,  NULL, NULL, 10,   5.0),
    ('drug_product', 5, 'cryopreservation',     '47 days 8 hours',  NULL,  NULL, NULL, NULL, NULL);
CREATE PROCEDURE pg_temp.gen_steps(lo integer, hi integer) LANGUAGE plpgsql AS $$
DECLARE
    step pg_temp.step_plan;
BEGIN
    FOR step IN SELECT * FROM pg_temp.step_plan
                ORDER BY CASE stage WHEN 'master_cell_bank' THEN 1 WHEN 'working_cell_bank' THEN 2 ELSE 3 END, pos
    LOOP
        INSERT INTO gmp.manufacturing_step (din, kind, performed_at, performed_by, cell_count, viability_percent,
                                            population_doublings, units, unit_volume_ml)
        SELECT l.din, step.kind, p.collected_at + step.after, 'bench_operator', step.cell_count, step.viability,
               step.doublings, step.units, step.unit_volume_ml
        FROM pg_temp.plan p JOIN gmp.lot l ON l.donor_code = p.code AND l.stage = step.stage
        WHERE p.i BETWEEN lo AND hi AND (step.stage <> 'drug_product' OR p.i % 10 IN (0, 1))
        ORDER BY l.din;
    END LOOP;
END;
$$;
SELECT format('CALL pg_temp.gen_steps(%s, %s)', lo, least(lo + 39, :donors)), 'VACUUM gmp_audit.chain_head'
FROM generate_series(1, :donors, 40) AS lo \gexec
SELECT pg_temp.lap(format('%s manufacturing steps', count(*))) FROM gmp.manufacturing_step;

-- Later events, each with its reason: withdrawn consents, drug products on hold.
DO $$
BEGIN
    PERFORM set_config('gmp.reason', 'donor withdrew consent (generated)', true);
    UPDATE gmp.consent c SET withdrawn_on = current_date - 7, withdrawal_recorded_by = 'bench_operator'
    FROM pg_temp.plan p WHERE p.code = c.donor_code AND p.withdraws;
    PERFORM set_config('gmp.reason', 'deviation under investigation (generated)', true);
    UPDATE gmp.lot l SET status = 'on_hold', status_changed_at = clock_timestamp(), status_changed_by = 'bench_qa'
    WHERE l.stage = 'drug_product' AND substr(l.din, 8)::integer % 100 = 42;
END $$;
SELECT pg_temp.lap(format('%s consents withdrawn, %s lots on hold',
                          (SELECT count(*) FROM gmp.consent WHERE withdrawn_on IS NOT NULL),
                          (SELECT count(*) FROM gmp.lot WHERE status = 'on_hold')));

SELECT pg_temp.total();
