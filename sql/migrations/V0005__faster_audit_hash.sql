-- V0005 faster audit hashing: the same hash format v1, computed in PL/pgSQL.
--
-- V0002 built the encoding from nested SQL functions; called from the row trigger they
-- were planned again on every event. PL/pgSQL caches its plans for the session, which
-- halves the cost of an audited write (docs/benchmarks.md). The output is byte for byte
-- the same: docs/audit/test-vectors.md, checked by the tamper and vector tests.
CREATE OR REPLACE FUNCTION gmp_audit.event_hash(
    seq bigint, occurred_at timestamptz, transaction_id bigint, actor text, action text,
    table_name text, record_key text, old_values jsonb, new_values jsonb, reason text,
    previous_hash bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    null_field constant bytea := '\xffffffff';
    part bytea;
    -- field('gmp-audit-v1'): its 4-byte length (12) and its bytes.
    encoded bytea := '\x0000000c676d702d61756469742d7631'::bytea;
BEGIN
    part := convert_to(seq::text, 'UTF8');
    encoded := encoded || int4send(octet_length(part)) || part;
    part := convert_to(gmp_audit.canonical_time(occurred_at), 'UTF8');
    encoded := encoded || int4send(octet_length(part)) || part;
    part := convert_to(transaction_id::text, 'UTF8');
    encoded := encoded || int4send(octet_length(part)) || part;
    part := convert_to(actor, 'UTF8');
    encoded := encoded || int4send(octet_length(part)) || part;
    part := convert_to(action, 'UTF8');
    encoded := encoded || int4send(octet_length(part)) || part;
    part := convert_to(table_name, 'UTF8');
    encoded := encoded || int4send(octet_length(part)) || part;
    -- The nullable fields: NULL propagates through ||, and coalesce turns it into FF FF FF FF.
    part := convert_to(record_key, 'UTF8');
    encoded := encoded || coalesce(int4send(octet_length(part)) || part, null_field);
    part := convert_to(old_values::text, 'UTF8');
    encoded := encoded || coalesce(int4send(octet_length(part)) || part, null_field);
    part := convert_to(new_values::text, 'UTF8');
    encoded := encoded || coalesce(int4send(octet_length(part)) || part, null_field);
    part := convert_to(reason, 'UTF8');
    encoded := encoded || coalesce(int4send(octet_length(part)) || part, null_field);
    encoded := encoded || int4send(octet_length(previous_hash)) || previous_hash;
    RETURN sha256(encoded);
END;
$$;
REVOKE EXECUTE ON FUNCTION gmp_audit.event_hash(bigint, timestamptz, bigint, text, text, text, text, jsonb, jsonb, text, bytea) FROM PUBLIC;
