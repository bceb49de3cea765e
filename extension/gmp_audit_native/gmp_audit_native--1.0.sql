-- gmp_audit_native 1.0: the C twins of gmp_audit.record_change and gmp_audit.event_hash_v2
-- (sql/code/01_audit.sql). gmp_audit.bind_audit_implementation binds them (the audit
-- triggers, and event_hash_v2's body) when the extension is installed; the PL/pgSQL stays
-- in force otherwise. Same attributes as the PL/pgSQL: the trigger is SECURITY DEFINER
-- (gmp db migrate gives it to gmp_definer) with record_change's pinned settings.
\echo Use "CREATE EXTENSION gmp_audit_native" to load this file. \quit

CREATE FUNCTION gmp_audit.record_change_native() RETURNS trigger
LANGUAGE c SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET IntervalStyle = 'postgres'
SET bytea_output = 'hex' SET extra_float_digits = 1
AS 'MODULE_PATHNAME', 'gmp_audit_record_change';

CREATE FUNCTION gmp_audit.event_hash_v2_native(
    seq bigint, write_order bigint, occurred_at timestamptz, transaction_id bigint, actor text, action text,
    table_name text, record_key text, old_values jsonb, new_values jsonb, reason text,
    previous_hash bytea) RETURNS bytea
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'gmp_audit_event_hash_v2';

REVOKE ALL ON FUNCTION gmp_audit.record_change_native() FROM PUBLIC;
REVOKE ALL ON FUNCTION gmp_audit.event_hash_v2_native(bigint, bigint, timestamptz, bigint, text, text, text, text,
                                                      jsonb, jsonb, text, bytea) FROM PUBLIC;
