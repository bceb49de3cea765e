-- gmp_audit_native 1.1 -> 1.2: the chaining of a batch in C (issue 18), the twin of
-- gmp_audit.chain_batch_plpgsql (sql/code/01_audit.sql): the same locks, guards, rows and
-- hashes. gmp_audit.chain_batch calls it when the caller may (bind_audit_implementation
-- grants it to gmp_definer when the C twins are bound), the PL/pgSQL otherwise. Its
-- settings as chain_batch's: search_path pinned. CREATE EXTENSION installs 1.2 as 1.0 and
-- the update scripts after it.
\echo Use "ALTER EXTENSION gmp_audit_native UPDATE TO '1.2'" to load this file. \quit

CREATE OR REPLACE FUNCTION gmp_audit.chain_batch_native(max_events integer, wait boolean) RETURNS integer
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'gmp_audit_chain_batch';

REVOKE ALL ON FUNCTION gmp_audit.chain_batch_native(integer, boolean) FROM PUBLIC;
