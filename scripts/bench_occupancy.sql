-- scripts/bench_occupancy.sql: the storage of the occupancy benchmark
-- (scripts/bench_occupancy.py, `scripts/bench --occupancy`), on top of a generated
-- facility (scripts/bench_trace.sql) whose fills made the units, in bench_operator's hands.
--
-- Adds, as bench_operator through gmp.add_location and gmp.place_unit (every rule
-- trigger, foreign key and the audit trigger run for every row):
--   * the site BENCH-SITE with :tanks tanks (default 10, BENCH-T01 …, ≤ -150 °C, any
--     product kind), :racks racks in each (default 10) and :boxes boxes of 9 × 9 in each
--     rack (default 13): 10 × 10 × 13 × 81 = 105,300 positions in 1,300 boxes;
--   * :units stored units (default 5,000, or as many as the fills made), spread over
--     every box in turn, committed in chunks of 1,000.
--
-- Run once, as a superuser:
--
--     psql -X -q -At -v ON_ERROR_STOP=1 -v units=5000 -f scripts/bench_occupancy.sql
--
-- Prints one line per phase (what, time) and the total.

\set ON_ERROR_STOP on
\if :{?tanks}
\else
    \set tanks 10
\endif
\if :{?racks}
\else
    \set racks 10
\endif
\if :{?boxes}
\else
    \set boxes 13
\endif
\if :{?units}
\else
    \set units 5000
\endif
SET client_min_messages = warning;

DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        RAISE EXCEPTION 'bench_occupancy.sql runs as a superuser (the bench server''s gmp_owner)';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp.unit WHERE holder_person = 'bench_operator' AND state = 'in_hand') THEN
        RAISE EXCEPTION 'bench_occupancy.sql needs units in bench_operator''s hands: load scripts/bench_trace.sql first';
    END IF;
    IF EXISTS (SELECT FROM gmp.storage_location WHERE id = 'BENCH-SITE') THEN
        RAISE EXCEPTION 'bench_occupancy.sql adds BENCH-SITE, which this server has already';
    END IF;
END $$;

\ir bench_clock.sql

-- A permanent password for the operator who installs the storage and places the units
-- (accounts are made with a temporary one, which cannot record anything).
DO $$
BEGIN
    PERFORM set_config('gmp.reason', 'occupancy benchmark: generated storage', true);
    PERFORM gmp_rules.set_password('bench_operator', 'Occupancy-bench-2026!', false);
END $$;

-- Every location through gmp.add_location, as the operator who installs the storage.
SET bench.tanks = :'tanks';
SET bench.racks = :'racks';
SET bench.boxes = :'boxes';
DO $$
DECLARE
    owner text := session_user;
    tanks int := current_setting('bench.tanks')::int;
    racks int := current_setting('bench.racks')::int;
    boxes int := current_setting('bench.boxes')::int;
BEGIN
    PERFORM set_config('session_authorization', 'bench_operator', true);
    PERFORM gmp.add_location('BENCH-SITE', 'site', NULL, 'Benchmark site', NULL, NULL, NULL, NULL);
    PERFORM gmp.add_location(format('BENCH-T%s', lpad(t::text, 2, '0')), 'tank', 'BENCH-SITE', NULL, -150,
                             '{cells,conditioned_medium,extracellular_vesicles}', NULL, NULL)
    FROM generate_series(1, tanks) t;
    PERFORM gmp.add_location(format('BENCH-T%s-R%s', lpad(t::text, 2, '0'), lpad(r::text, 2, '0')), 'rack',
                             format('BENCH-T%s', lpad(t::text, 2, '0')), NULL, NULL, NULL, NULL, NULL)
    FROM generate_series(1, tanks) t, generate_series(1, racks) r;
    PERFORM gmp.add_location(format('BENCH-T%s-R%s-B%s', lpad(t::text, 2, '0'), lpad(r::text, 2, '0'), lpad(b::text, 2, '0')),
                             'box', format('BENCH-T%s-R%s', lpad(t::text, 2, '0'), lpad(r::text, 2, '0')),
                             NULL, NULL, NULL, 9, 9)
    FROM generate_series(1, tanks) t, generate_series(1, racks) r, generate_series(1, boxes) b;
    PERFORM set_config('session_authorization', owner, true);
END $$;
SELECT pg_temp.lap(format('%s storage locations, %s positions', count(*), sum(rows * columns)))
FROM gmp.storage_location WHERE site_id = 'BENCH-SITE';

-- Units into positions: the k-th unit into box k mod B, the next free position there.
CREATE TEMP TABLE placement AS
WITH b AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total
           FROM gmp.storage_location WHERE site_id = 'BENCH-SITE' AND kind = 'box'),
     u AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM gmp.unit
           WHERE holder_person = 'bench_operator' AND state = 'in_hand' ORDER BY id LIMIT :units)
SELECT u.k, u.id AS unit_id, b.id AS box_id, 1 + (u.k / b.total) / 9 AS box_row, 1 + (u.k / b.total) % 9 AS box_column
FROM u JOIN b ON b.n = u.k % b.total;
GRANT SELECT ON pg_temp.placement TO bench_operator;  -- read under the operator's authorization below

CREATE PROCEDURE pg_temp.place(lo bigint, hi bigint) LANGUAGE plpgsql AS $$
DECLARE
    owner text := session_user;
BEGIN
    PERFORM set_config('session_authorization', 'bench_operator', true);
    PERFORM gmp.place_unit(p.unit_id, p.box_id, p.box_row::int, p.box_column::int, 'benchmark storage')
    FROM pg_temp.placement p WHERE p.k BETWEEN lo AND hi ORDER BY p.k;
    PERFORM set_config('session_authorization', owner, true);
END;
$$;
SELECT format('CALL pg_temp.place(%s, %s)', lo, lo + 999), 'VACUUM gmp_audit.chain_head'
FROM generate_series(0, (SELECT count(*) - 1 FROM pg_temp.placement), 1000) AS lo \gexec
SELECT pg_temp.lap(format('%s units placed', count(*))) FROM gmp.unit WHERE state = 'stored';

SELECT pg_temp.total();
