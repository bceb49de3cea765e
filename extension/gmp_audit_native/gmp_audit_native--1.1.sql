-- gmp_audit_native 1.1: the C twins of gmp_audit.record_change and gmp_audit.event_hash_v2
-- (sql/code/01_audit.sql). gmp_audit.bind_audit_implementation binds them (the audit
-- triggers, and event_hash_v2's body) when the extension is installed; the PL/pgSQL stays
-- in force otherwise. The trigger is SECURITY DEFINER, as the PL/pgSQL (gmp db migrate
-- gives it to gmp_definer); record_change's pinned settings are pinned by the C itself,
-- only where the session differs (1.0 declared them: gmp_audit_native--1.0--1.1.sql).
\echo Use "CREATE EXTENSION gmp_audit_native" to load this file. \quit

CREATE FUNCTION gmp_audit.record_change_native() RETURNS trigger
LANGUAGE c SECURITY DEFINER
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
