-- scripts/bench_release.sql: QC results for the release-check benchmark
-- (scripts/bench_release.py, `scripts/bench --release`), on top of the facility of
-- scripts/bench_trace.sql (10,000 donors, 100,000 lots), which must be loaded first.
--
-- Adds:
--   * five approved specifications of 60 criteria each (BENCH-MCB, BENCH-WCB, BENCH-DP,
--     BENCH-DP-CM, BENCH-DP-EV: one per stage and product kind of the generated lots),
--     imported by bench_qc through gmp.import_specification and approved by bench_qa
--     through gmp.approve_specification with a real signing ceremony (the SCRAM proof is
--     derived here from the password this script sets; docs/signatures.md);
--   * every lot assigned its specification (gmp.assign_specification, as bench_qc);
--   * about :results QC results (default 5,000,000; -v results=N): 40 to 60 per lot
--     (50 on average), so on ⌈N/50⌉ lots in DIN order, all passing, recorded by bench_qc
--     through gmp.record_result with bench_operator as analyst; and the target lot
--     (-v target=DIN) with all 60, recorded last, as the lot being checked would be;
--   * verifications, each through gmp.verify_result by bench_qa with its own signing
--     ceremony: the target's 60 results and every result of one lot in 1,000 of the
--     others. The other results stay unverified (signing millions one by one would take
--     hours and changes nothing about reading one lot).
--
-- Run once, as a superuser, after scripts/bench_trace.sql:
--
--     psql -X -q -At -v ON_ERROR_STOP=1 -v results=5000000 -v target=G123426064994 \
--          -f scripts/bench_release.sql
--
-- Nothing is switched off: the check_result rule trigger (lot open, specification,
-- criterion, analyst, attempt, verdict), the verification rule, foreign keys and the
-- audit trigger run for every row. The writes go through gmp's own functions under the
-- named person's session (the superuser switches session_authorization to bench_qc or
-- bench_qa around each chunk), set-based, committed about every 3,000 results with a
-- VACUUM of the audit chain head after each chunk (docs/benchmarks.md).
--
-- Prints one line per phase (what, time), progress during the results, and the total.

\set ON_ERROR_STOP on
\if :{?results}
\else
    \set results 5000000
\endif
\if :{?target}
\else
    \set target G123426064994
\endif
SET client_min_messages = warning;

DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        RAISE EXCEPTION 'bench_release.sql runs as a superuser (the bench server''s gmp_owner)';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp.lot) OR NOT EXISTS (SELECT FROM gmp.account WHERE id = 'bench_qa') THEN
        RAISE EXCEPTION 'bench_release.sql needs the generated facility: load scripts/bench_trace.sql first';
    END IF;
    IF EXISTS (SELECT FROM gmp.specification) OR EXISTS (SELECT FROM gmp.qc_result) THEN
        RAISE EXCEPTION 'bench_release.sql adds specifications and results to a server without any; this one has some';
    END IF;
END $$;
SET bench.target = :'target';
SET bench.results = :'results';
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM gmp.lot WHERE din = current_setting('bench.target') AND status = 'quarantine') THEN
        RAISE EXCEPTION 'target lot % is not a generated lot in quarantine', current_setting('bench.target');
    END IF;
END $$;

\ir bench_clock.sql

-- Permanent passwords for the people who record, approve and verify (accounts are made
-- with a temporary one, and a temporary password cannot record or sign), and each
-- signer's SCRAM ClientKey, derived from that password as a client does:
-- ClientKey = HMAC(PBKDF2-HMAC-SHA-256(password, salt, iterations), 'Client Key').
DO $$
BEGIN
    PERFORM set_config('gmp.reason', 'release benchmark: generated facility', true);
    PERFORM gmp_rules.set_password(a, 'Release-bench-2026!', false) FROM unnest(ARRAY['bench_qc', 'bench_qa']) a;
END $$;
CREATE FUNCTION pg_temp.client_key(account text, password text) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
    v record;
    pw bytea := convert_to(password, 'UTF8');
    u bytea;
    salted bytea;
BEGIN
    SELECT * INTO STRICT v FROM gmp_rules.scram_verifier(account);
    u := gmp_rules.hmac_sha256(pw, v.salt || '\x00000001'::bytea);
    salted := u;
    FOR i IN 2..v.iterations LOOP
        u := gmp_rules.hmac_sha256(pw, u);
        salted := gmp_rules.xor_bytes(salted, u);
    END LOOP;
    RETURN gmp_rules.hmac_sha256(salted, convert_to('Client Key', 'UTF8'));
END;
$$;
CREATE TEMP TABLE signing_key AS SELECT 'bench_qa'::text AS account, pg_temp.client_key('bench_qa', 'Release-bench-2026!') AS client_key;

-- A signing operation as `signer`, with the whole ceremony in one transaction:
-- gmp.begin_signing, the proof (computed by the superuser from the ClientKey) through
-- gmp.submit_signing_proof, gmp.authenticate_signer, then `call` (a format string whose
-- %s is the challenge). gmp checks a proof only once it was committed; to keep each
-- signature in the generator's transaction, the superuser marks the submission as made
-- in an earlier transaction (proof_submitted_xact = 0), which no gmp role can do.
CREATE FUNCTION pg_temp.signed(signer text, call text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    owner text := session_user;
    key bytea;
    ch record;
    proof bytea;
    outcome text;
    id bigint;
BEGIN
    SELECT k.client_key INTO STRICT key FROM pg_temp.signing_key k WHERE k.account = signer;
    PERFORM set_config('session_authorization', signer, true);
    SELECT * INTO STRICT ch FROM gmp.begin_signing();
    PERFORM set_config('session_authorization', owner, true);
    proof := gmp_rules.xor_bytes(key, gmp_rules.hmac_sha256(sha256(key),
                 convert_to('gmp-sign-v1', 'UTF8') || uuid_send(ch.challenge) || ch.nonce));
    PERFORM set_config('session_authorization', signer, true);
    PERFORM gmp.submit_signing_proof(ch.challenge, proof);
    PERFORM set_config('session_authorization', owner, true);
    UPDATE gmp_audit.signing_challenge c SET proof_submitted_xact = 0 WHERE c.id = ch.challenge;
    PERFORM set_config('session_authorization', signer, true);
    SELECT a.outcome INTO STRICT outcome FROM gmp.authenticate_signer(ch.challenge) a;
    IF outcome <> 'authenticated' THEN
        RAISE EXCEPTION 'signing as % was %', signer, outcome;
    END IF;
    EXECUTE format(call, quote_literal(ch.challenge) || '::uuid') INTO id;
    PERFORM set_config('session_authorization', owner, true);
    RETURN id;
END;
$$;
SELECT pg_temp.lap('passwords and signing keys');

-- The specifications: 60 criteria each, mostly % bounds (at least, at most, a window),
-- every tenth qualitative. Imported by bench_qc, approved by bench_qa.
CREATE TEMP TABLE spec_plan (code text, title text, product_kind text, stage text);
INSERT INTO spec_plan VALUES
    ('BENCH-MCB', 'Benchmark MSC master cell bank', 'cells', 'master_cell_bank'),
    ('BENCH-WCB', 'Benchmark MSC working cell bank', 'cells', 'working_cell_bank'),
    ('BENCH-DP', 'Benchmark MSC drug product', 'cells', 'drug_product'),
    ('BENCH-DP-CM', 'Benchmark MSC conditioned medium', 'conditioned_medium', 'drug_product'),
    ('BENCH-DP-EV', 'Benchmark MSC extracellular vesicles', 'extracellular_vesicles', 'drug_product');
CREATE TEMP TABLE criterion_plan AS
SELECT k, format('t%s', lpad(k::text, 2, '0')) AS test,
       CASE WHEN k % 10 = 0 THEN 'qualitative' WHEN k % 3 = 1 THEN 'lower' WHEN k % 3 = 2 THEN 'upper' ELSE 'window' END AS kind
FROM generate_series(1, 60) AS k;
CREATE PROCEDURE pg_temp.gen_specifications() LANGUAGE plpgsql AS $$
DECLARE
    owner text := session_user;
    s record;
    doc jsonb;
BEGIN
    FOR s IN SELECT * FROM pg_temp.spec_plan ORDER BY code LOOP
        SELECT jsonb_build_object('code', s.code, 'title', s.title, 'product_kind', s.product_kind, 'stage', s.stage,
                                  'criteria', jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'test', c.test, 'name', format('Marker %s', c.k), 'method', format('Bench assay panel %s', 1 + (c.k - 1) / 10),
               'kind', c.kind, 'max_retests', 1,
               'unit', CASE WHEN c.kind <> 'qualitative' THEN '%' END,
               'lower', CASE c.kind WHEN 'lower' THEN 70 + c.k % 26 WHEN 'window' THEN 10 + c.k % 20 END,
               'lower_inclusive', CASE WHEN c.kind IN ('lower', 'window') THEN true END,
               'upper', CASE c.kind WHEN 'upper' THEN 1 + c.k % 10 WHEN 'window' THEN 60 + c.k % 30 END,
               'upper_inclusive', CASE WHEN c.kind IN ('upper', 'window') THEN true END,
               'accept', CASE WHEN c.kind = 'qualitative'
                              THEN jsonb_build_array((ARRAY['negative', 'not_detected', 'conforms', 'no_growth',
                                                            'normal_karyotype', 'single_origin'])[c.k / 10]) END))
               ORDER BY c.k))
        INTO doc FROM pg_temp.criterion_plan c;
        PERFORM set_config('session_authorization', 'bench_qc', true);
        PERFORM gmp.import_specification(doc, format('# generated for the release benchmark\n%s', doc));
        PERFORM set_config('session_authorization', owner, true);
        PERFORM pg_temp.signed('bench_qa', format('SELECT gmp.approve_specification(%%s, %L, %L)', s.code || '@1',
                                                  'approved for the release benchmark'));
    END LOOP;
END;
$$;
CALL pg_temp.gen_specifications();
SELECT pg_temp.lap(format('%s specifications approved, %s criteria', count(DISTINCT s.id), count(*)))
FROM gmp.specification s JOIN gmp.criterion c ON c.specification_id = s.id WHERE s.status = 'approved';

-- Every lot its specification, as bench_qc. Lot numbers: substr(din, 8)::integer.
CREATE PROCEDURE pg_temp.gen_assignments(lo integer, hi integer) LANGUAGE plpgsql AS $$
DECLARE
    owner text := session_user;
BEGIN
    PERFORM set_config('session_authorization', 'bench_qc', true);
    PERFORM count(gmp.assign_specification(l.din,
                  CASE WHEN l.stage = 'master_cell_bank' THEN 'BENCH-MCB' WHEN l.stage = 'working_cell_bank' THEN 'BENCH-WCB'
                       WHEN l.product_kind = 'cells' THEN 'BENCH-DP' WHEN l.product_kind = 'conditioned_medium' THEN 'BENCH-DP-CM'
                       ELSE 'BENCH-DP-EV' END, NULL, false))
    FROM gmp.lot l
    WHERE l.din BETWEEN 'G123426' || lpad(lo::text, 6, '0') AND 'G123426' || lpad(hi::text, 6, '0');
    PERFORM set_config('session_authorization', owner, true);
END;
$$;
SELECT format('CALL pg_temp.gen_assignments(%s, %s)', lo, lo + 2999), 'VACUUM gmp_audit.chain_head'
FROM generate_series(1, (SELECT max(substr(din, 8)::integer) FROM gmp.lot), 3000) AS lo \gexec
SELECT pg_temp.lap(format('%s lots assigned a specification', count(*))) FROM gmp.lot_specification;

-- The results of the lots numbered lo … hi but the target: criteria 1 … 40 + n % 21,
-- every value inside its limits, typed to one or two decimals. lo = 0: the target, all 60.
CREATE PROCEDURE pg_temp.gen_results(lo integer, hi integer) LANGUAGE plpgsql AS $$
DECLARE
    owner text := session_user;
    target text := current_setting('bench.target');
    first_din text := CASE WHEN lo = 0 THEN target ELSE 'G123426' || lpad(lo::text, 6, '0') END;
    last_din text := CASE WHEN lo = 0 THEN target ELSE 'G123426' || lpad(hi::text, 6, '0') END;
BEGIN
    PERFORM set_config('session_authorization', 'bench_qc', true);
    PERFORM count(gmp.record_result(x.din, x.test, CASE WHEN x.kind <> 'qualitative' THEN '=' END, x.value, x.unit,
                                    x.outcomes, x.method, 'BENCH-INST-' || (1 + x.n % 7), 'bench_operator',
                                    x.performed_at, NULL, NULL, NULL))
    FROM (SELECT l.din, c.test, c.kind, c.unit, c.method, n,
                 CASE c.kind
                     WHEN 'lower' THEN round(c.lower + (100 - c.lower) * ((n + c.ordinal) % 10) / 10.0, 1)
                     WHEN 'upper' THEN round(c.upper * ((n + c.ordinal) % 10) / 10.0, 2)
                     WHEN 'window' THEN round(c.lower + (c.upper - c.lower) * ((n + c.ordinal) % 10) / 10.0, 1)
                 END AS value,
                 CASE WHEN c.kind = 'qualitative' THEN ARRAY[c.accept[1]] END AS outcomes,
                 l.created_at + interval '3 days' + c.ordinal * interval '7 minutes' AS performed_at
          FROM gmp.lot l CROSS JOIN LATERAL (SELECT substr(l.din, 8)::integer AS n) AS number
          JOIN gmp.lot_specification ls ON ls.din = l.din
          JOIN gmp.criterion c ON c.specification_id = ls.specification_id
          WHERE l.din BETWEEN first_din AND last_din
            AND (lo = 0 OR (l.din <> target AND c.ordinal <= 40 + n % 21))
          ORDER BY l.din, c.ordinal) x;
    PERFORM set_config('session_authorization', owner, true);
END;
$$;
-- ⌈results / 50⌉ lots, 60 at a time (about 3,000 results a transaction); a progress
-- line every 50 chunks.
SELECT format('CALL pg_temp.gen_results(%s, %s)', lo, least(lo + 59, lots)), 'VACUUM gmp_audit.chain_head',
       CASE WHEN (lo / 60) % 50 = 49 THEN 'SELECT pg_temp.progress(''results'', coalesce(max(id), 0), ' || :results || ') FROM gmp.qc_result' END
FROM (SELECT least(ceil(:results / 50.0)::integer, (SELECT max(substr(din, 8)::integer) FROM gmp.lot))) AS planned(lots),
     generate_series(1, lots, 60) AS lo \gexec
CALL pg_temp.gen_results(0, 0);
SELECT pg_temp.lap(format('%s QC results on %s lots', count(*), count(DISTINCT din))) FROM gmp.qc_result;

-- Verifications, each signed by bench_qa: the target lot's results, then every result
-- of lots numbered 1000, 2000, … that have results. One lot a transaction.
CREATE PROCEDURE pg_temp.gen_verifications(lot text) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.signed('bench_qa', format('SELECT gmp.verify_result(%%s, %s, %L)', r.id,
                                              'checked against the raw data'))
    FROM gmp.qc_result r WHERE r.din = lot ORDER BY r.id;
END;
$$;
SELECT format('CALL pg_temp.gen_verifications(%L)', din), 'VACUUM gmp_audit.chain_head'
FROM (SELECT :'target' AS din
      UNION ALL
      SELECT DISTINCT r.din FROM gmp.qc_result r
      WHERE r.din <> :'target' AND substr(r.din, 8)::integer % 1000 = 0) AS lots \gexec
SELECT pg_temp.lap(format('%s results verified (signed), %s of them on %s', count(*),
                          count(*) FILTER (WHERE r.din = :'target'), :'target'))
FROM gmp.qc_verification v JOIN gmp.qc_result r ON r.id = v.result_id;

SELECT pg_temp.total();
