-- V0006 a signature reads the signed record once.
--
-- V0004's gmp_meta.record_signature read the record twice (once to hash it, once to
-- check it exists) and checked the password fingerprint through the whole
-- gmp.account_overview view. Now the content is read once and hashed from that value,
-- and the fingerprint is compared directly. The hash format is unchanged.

-- The content hash of a record's content already read.
CREATE FUNCTION gmp_meta.content_hash(record_table text, record_key text, content jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(gmp_audit.field('gmp-record-v1'::text) || gmp_audit.field(record_table)
                  || gmp_audit.field(record_key) || gmp_audit.field(content::text))
$$;

CREATE OR REPLACE FUNCTION gmp_meta.content_hash(record_table text, record_key text) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT gmp_meta.content_hash(record_table, record_key, gmp_meta.record_content(record_table, record_key))
$$;

CREATE OR REPLACE FUNCTION gmp_meta.record_signature(challenge uuid, meaning text, record_table text, record_key text,
                                                     statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    person gmp.account := gmp_meta.active_person();
    content jsonb := gmp_meta.record_content(record_table, record_key);
    signature_id bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_authid s JOIN gmp_meta.credential c ON c.account_id = s.rolname
                   WHERE s.rolname = person.id AND c.fingerprint = sha256(convert_to(s.rolpassword, 'UTF8'))) THEN
        RAISE EXCEPTION 'the password of % was changed outside gmp', person.id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'set it through gmp (gmp user passwd) so its age and rules are tracked, then sign again';
    END IF;
    IF content IS NULL THEN
        RAISE EXCEPTION 'no record % in %', record_key, record_table USING ERRCODE = 'P0002',
            HINT = 'check the record you are signing';
    END IF;
    PERFORM gmp_meta.consume_authentication(challenge);
    INSERT INTO gmp.signature (signer, printed_name, meaning, record_table, record_key, content_hash, challenge, statement)
    VALUES (person.id, person.full_name, meaning, record_table, record_key,
            gmp_meta.content_hash(record_table, record_key, content), challenge, statement)
    RETURNING id INTO signature_id;
    RETURN signature_id;
END;
$$;

REVOKE EXECUTE ON FUNCTION gmp_meta.content_hash(text, text, jsonb), gmp_meta.content_hash(text, text),
                           gmp_meta.record_signature(uuid, text, text, text, text) FROM PUBLIC;
