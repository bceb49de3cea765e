-- V0039 chaining decided once per transaction, from two marks read without a lock (issue 19).
--
-- gmp asks "is chaining due?" in the statement it already sends before each write's COMMIT
-- (the commit receipt), and sends gmp_audit.chain_if_due after the commit only when it is
-- (sql/code/01_audit.sql, gmp_audit.chain_due; docs/audit-trail.md, "Lazy chaining").
-- Asked inside a SERIALIZABLE writer's transaction, the question may read no table that
-- other writers write (the staging table, the chain: their predicate locks would make
-- writers on different records conflict) and take no lock a chainer or an administrator
-- holds (the chain head). Sequences are neither: reading one takes no predicate lock,
-- and the chainer moves them with setval, which waits for no one.
--
--   * gmp_audit.chained_through: the highest write_order the last chaining chained. With
--     gmp_audit.write_order's last value it estimates how many events may be pending.
--   * gmp_audit.chained_at_ms: when the last chaining ran (Unix time in milliseconds).
--
-- setval is not transactional: a chaining that rolls back (an error, a crash before its
-- commit reached the disk) leaves marks that are too optimistic. That only delays
-- chaining, and the delay is bounded by gmp.audit_chain_wait_ms: the first write that
-- commits that long after the mark's time finds chaining due (its own write_order is past
-- the mark), and every reader of the trail chains first anyway.

CREATE SEQUENCE gmp_audit.chained_through AS bigint MINVALUE 0 START 0 NO CYCLE;
COMMENT ON SEQUENCE gmp_audit.chained_through IS
    'The highest write_order the last chaining chained (docs/audit-trail.md, "Lazy chaining").';
CREATE SEQUENCE gmp_audit.chained_at_ms AS bigint MINVALUE 0 START 0 NO CYCLE;
COMMENT ON SEQUENCE gmp_audit.chained_at_ms IS
    'When the last chaining ran, Unix time in milliseconds (docs/audit-trail.md, "Lazy chaining").';

-- From what the chain holds now: nothing pending is counted as chained.
SELECT setval('gmp_audit.chained_through', coalesce((SELECT max(write_order) FROM gmp_audit.event), 0), true);
SELECT setval('gmp_audit.chained_at_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint, true);

REVOKE ALL ON SEQUENCE gmp_audit.chained_through, gmp_audit.chained_at_ms FROM PUBLIC;
-- The definer functions read the marks (chain_due) and move them (the chaining, setval).
GRANT USAGE, SELECT, UPDATE ON SEQUENCE gmp_audit.chained_through, gmp_audit.chained_at_ms TO gmp_definer;
