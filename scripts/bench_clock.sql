-- scripts/bench_clock.sql: the generators' stopwatch (scripts/bench_trace.sql,
-- scripts/bench_release.sql include it with \ir). In the session's pg_temp:
--   lap('what')                  the line for the phase just done: what, seconds
--   progress('what', done, of)   a line within a long phase: how far, rows a second
--   total()                      the closing line: seconds since the start, audit events
CREATE TEMP TABLE bench_clock (started timestamptz NOT NULL, lap timestamptz NOT NULL);
INSERT INTO bench_clock VALUES (clock_timestamp(), clock_timestamp());
CREATE FUNCTION pg_temp.lap(what text) RETURNS text LANGUAGE sql AS $$
    WITH before AS (SELECT lap FROM pg_temp.bench_clock),
         now AS (UPDATE pg_temp.bench_clock SET lap = clock_timestamp() RETURNING lap)
    SELECT format('%-52s %7s s', what, round(extract(epoch FROM (SELECT lap FROM now) - (SELECT lap FROM before)), 1))
$$;
CREATE FUNCTION pg_temp.progress(what text, done bigint, planned bigint) RETURNS text LANGUAGE sql AS $$
    SELECT format('  %s: %s of %s, %s s into the phase, %s a second', what, done, planned,
                  round(extract(epoch FROM clock_timestamp() - lap), 1),
                  round(done / greatest(extract(epoch FROM clock_timestamp() - lap), 0.001)))
    FROM pg_temp.bench_clock
$$;
CREATE FUNCTION pg_temp.total() RETURNS text LANGUAGE sql AS $$
    SELECT format('%-52s %7s s', format('total (%s audit events)', (SELECT seq FROM gmp_audit.chain_head)),
                  round(extract(epoch FROM clock_timestamp() - started), 1))
    FROM pg_temp.bench_clock
$$;
