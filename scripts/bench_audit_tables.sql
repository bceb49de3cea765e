-- The audit benchmarks' two tables (scripts/bench_audit*.py): gmp.bench_audited, under
-- the audit trail, and its unaudited twin public.bench_plain, of the same shape. Idempotent.
SELECT set_config('gmp.reason', 'audit benchmark tables (scripts/bench_audit_tables.sql)', false);
CREATE TABLE IF NOT EXISTS gmp.bench_audited (id bigserial PRIMARY KEY, note text NOT NULL);
CREATE TABLE IF NOT EXISTS public.bench_plain (id bigserial PRIMARY KEY, note text NOT NULL);
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'audit' AND tgrelid = 'gmp.bench_audited'::regclass) THEN
    PERFORM gmp_audit.audit_table('gmp.bench_audited', 'id');
  END IF;
END $$;
