-- gmp_audit_native 1.2 -> 1.3: chain_batch_native_direct (issue 18), chain_batch_native
-- with the chained rows deleted from the staging table by the C itself, by their ctid,
-- instead of by a DELETE statement whose guard_delete looked each row up in the chain
-- again: true by construction there, since the C has just inserted those very rows
-- (gmp_audit_native.c, delete_staged_directly). The guard stays on the table for every
-- other DELETE. gmp_audit.chain_batch calls it when the caller may
-- (bind_audit_implementation grants it to gmp_definer with the other twins); 1.2's
-- chain_batch_native is unchanged.
\echo Use "ALTER EXTENSION gmp_audit_native UPDATE TO '1.3'" to load this file. \quit

CREATE OR REPLACE FUNCTION gmp_audit.chain_batch_native_direct(max_events integer, wait boolean) RETURNS integer
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'gmp_audit_chain_batch_direct';

REVOKE ALL ON FUNCTION gmp_audit.chain_batch_native_direct(integer, boolean) FROM PUBLIC;
