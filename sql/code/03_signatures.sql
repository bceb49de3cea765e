-- signatures: Electronic signatures (21 CFR Part 11): the SCRAM-style signing ceremony, lockout, the
-- content a signature is bound to and whether it is still intact.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- HMAC-SHA-256 (RFC 2104) from the built-in sha256(), so no extension is needed.
CREATE OR REPLACE FUNCTION gmp_rules.hmac_sha256(key bytea, message bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    block bytea := CASE WHEN octet_length(key) > 64 THEN sha256(key) ELSE key END;
    inner_pad bytea;
    outer_pad bytea;
BEGIN
    block := block || decode(repeat('00', 64 - octet_length(block)), 'hex');
    inner_pad := block;
    outer_pad := block;
    FOR i IN 0..63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(block, i) # 54);   -- 0x36
        outer_pad := set_byte(outer_pad, i, get_byte(block, i) # 92);   -- 0x5c
    END LOOP;
    RETURN sha256(outer_pad || sha256(inner_pad || message));
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.xor_bytes(a bytea, b bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    result bytea := a;
BEGIN
    IF octet_length(a) <> octet_length(b) THEN
        RETURN NULL;
    END IF;
    FOR i IN 0..octet_length(a) - 1 LOOP
        result := set_byte(result, i, get_byte(a, i) # get_byte(b, i));
    END LOOP;
    RETURN result;
END;
$$;

-- The SCRAM verifier's parts for a login role: SCRAM-SHA-256$<i>:<salt>$<StoredKey>:<ServerKey>.
CREATE OR REPLACE FUNCTION gmp_rules.scram_verifier(account_id text, OUT iterations integer, OUT salt bytea, OUT stored_key bytea)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    parts text[];
BEGIN
    SELECT regexp_match(rolpassword, '^SCRAM-SHA-256\$([0-9]+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$')
    INTO parts FROM pg_authid WHERE rolname = account_id;
    IF parts IS NULL THEN
        RAISE EXCEPTION 'account % has no SCRAM-SHA-256 password to sign with', account_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'set the password through gmp (gmp user passwd); signing needs a password the server verifies';
    END IF;
    iterations := parts[1]::integer;
    salt := decode(parts[2], 'base64');
    stored_key := decode(parts[3], 'base64');
END;
$$;

-- Whether `account_id` may sign now, checked at every step of the ceremony and again at
-- the moment of signing: the account is a person's, active, unlocked, may log in, and its
-- password has not expired. A session opened before the password expired (the server's
-- VALID UNTIL stops only new logins) or before the account was disabled signs nothing.
-- An expired password is not a wrong one: it is refused without counting a failure.
-- Locked counts the wrong entries whose check a caller rolled back (issue 20, item 1).
CREATE OR REPLACE FUNCTION gmp_rules.require_signing_allowed(account_id text) RETURNS gmp.account
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    person gmp.account;
    role   pg_authid;
BEGIN
    SELECT * INTO person FROM gmp.account a WHERE a.id = account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% cannot sign: not a person''s account', account_id
            USING ERRCODE = 'insufficient_privilege', HINT = 'connect with your personal account (gmp --user ID)';
    END IF;
    SELECT * INTO role FROM pg_authid r WHERE r.rolname = account_id;
    IF person.status <> 'active' OR NOT coalesce(role.rolcanlogin, false) AND person.locked_at IS NULL THEN
        RAISE EXCEPTION '% cannot sign: the account is disabled', account_id
            USING ERRCODE = 'insufficient_privilege', HINT = 'an administrator can enable it: gmp user enable';
    ELSIF person.locked_at IS NOT NULL
          OR person.failed_signing_attempts + gmp_rules.unrecorded_signing_failures(account_id) >= 5 THEN
        RAISE EXCEPTION '% cannot sign: the account is locked after failed signing attempts', account_id
            USING ERRCODE = 'insufficient_privilege', HINT = 'an administrator can enable it: gmp user enable';
    ELSIF person.password_expires_at <= clock_timestamp() OR role.rolvaliduntil <= clock_timestamp() THEN
        RAISE EXCEPTION '% cannot sign: the password expired at %', account_id,
            least(person.password_expires_at, coalesce(role.rolvaliduntil, person.password_expires_at))
            USING ERRCODE = 'GM009',
                  HINT = 'an expired password signs nothing: an administrator sets a temporary one (gmp user reset-password)';
    END IF;
    RETURN person;
END;
$$;

-- Step 1. Allowed for an account that may sign (gmp_rules.require_signing_allowed), even
-- one that must change its temporary password: changing it is itself signed with the
-- current one.
CREATE OR REPLACE FUNCTION gmp.begin_signing(OUT challenge uuid, OUT nonce bytea, OUT salt bytea, OUT iterations integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    person gmp.account;
BEGIN
    person := gmp_rules.require_signing_allowed(session_user);
    SELECT v.iterations, v.salt INTO iterations, salt FROM gmp_rules.scram_verifier(session_user) v;
    nonce := uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid());
    INSERT INTO gmp_audit.signing_challenge (account_id, nonce, expires_at)
    VALUES (session_user, nonce, clock_timestamp() + interval '5 minutes')
    RETURNING id INTO challenge;
END;
$$;

-- Wrong proofs committed (gmp.submit_signing_proof) whose outcome was never recorded,
-- because the caller rolled back the gmp.authenticate_signer that would have counted
-- them. They count as failures all the same (issue 20, item 1). A proof submitted in the
-- caller's own, still open transaction is left out: counting it there would tell the
-- caller the verdict before the proof is committed.
CREATE OR REPLACE FUNCTION gmp_rules.unrecorded_signing_failures(account_id text) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*)::integer FROM gmp_audit.signing_challenge c
    WHERE c.account_id = unrecorded_signing_failures.account_id AND c.proof_valid = false AND c.used_at IS NULL
      AND c.proof_submitted_xact IS DISTINCT FROM txid_current_if_assigned()
$$;

-- A signing challenge of the session's own, still open to a proof or to its check.
CREATE OR REPLACE FUNCTION gmp_rules.open_challenge(challenge uuid) RETURNS gmp_audit.signing_challenge
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    pending gmp_audit.signing_challenge;
BEGIN
    SELECT * INTO pending FROM gmp_audit.signing_challenge c WHERE c.id = challenge FOR UPDATE;
    IF NOT FOUND OR pending.account_id <> session_user THEN
        RAISE EXCEPTION 'unknown signing challenge' USING ERRCODE = 'GM009', HINT = 'start the signature again';
    ELSIF pending.used_at IS NOT NULL OR pending.authenticated_xact IS NOT NULL THEN
        RAISE EXCEPTION 'this signing challenge was already used' USING ERRCODE = 'GM009',
            HINT = 'each signature needs a new challenge: start the signature again';
    ELSIF pending.expires_at < clock_timestamp() THEN
        RAISE EXCEPTION 'the signing challenge expired' USING ERRCODE = 'GM009',
            HINT = 'enter the password within 5 minutes of starting the signature';
    END IF;
    RETURN pending;
END;
$$;

-- Step 2. Takes one proof per challenge and keeps its verdict where no gmp role can read
-- it; answers nothing about it. The caller commits this before step 3 can check it, so
-- no rollback can take a wrong guess back.
CREATE OR REPLACE FUNCTION gmp.submit_signing_proof(challenge uuid, proof bytea) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    pending gmp_audit.signing_challenge;
    stored  bytea;
    auth_message bytea;
BEGIN
    pending := gmp_rules.open_challenge(challenge);
    IF pending.proof_submitted_xact IS NOT NULL THEN
        RAISE EXCEPTION 'a password was already entered for this signing challenge' USING ERRCODE = 'GM009',
            HINT = 'each signature takes one password entry: start the signature again';
    END IF;
    PERFORM gmp_rules.require_signing_allowed(session_user);
    stored := (gmp_rules.scram_verifier(session_user)).stored_key;
    auth_message := convert_to('gmp-sign-v1', 'UTF8') || uuid_send(pending.id) || pending.nonce;
    UPDATE gmp_audit.signing_challenge c
    SET proof_submitted_xact = txid_current(), proof_submitted_at = clock_timestamp(),
        proof_valid = coalesce(octet_length(proof) = 32
            AND sha256(gmp_rules.xor_bytes(proof, gmp_rules.hmac_sha256(stored, auth_message))) = stored, false)
    WHERE c.id = pending.id;
END;
$$;

-- Step 3. Tells the verdict on the proof committed in step 2, and records it: returns
-- the outcome instead of raising on a wrong password, so the failure (and a lockout) is
-- committed by the client. Should the caller roll this back instead, the committed wrong
-- proof still counts (gmp_rules.unrecorded_signing_failures) and is recorded by the next
-- check or by an administrator's unlock.
CREATE OR REPLACE FUNCTION gmp.authenticate_signer(challenge uuid, OUT outcome text, OUT failed_attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    pending gmp_audit.signing_challenge;
    person  gmp.account;
BEGIN
    pending := gmp_rules.open_challenge(challenge);
    IF pending.proof_submitted_xact IS NULL THEN
        RAISE EXCEPTION 'no password was entered for this signing challenge' USING ERRCODE = 'GM009',
            HINT = 'call gmp.submit_signing_proof and commit it first (gmp does this for you)';
    ELSIF pending.proof_submitted_xact = txid_current() THEN
        RAISE EXCEPTION 'the password entry must be committed before it is checked' USING ERRCODE = 'GM009',
            HINT = 'commit gmp.submit_signing_proof, then check it in a new transaction (gmp does this for you)';
    END IF;
    SELECT * INTO STRICT person FROM gmp.account WHERE id = session_user FOR UPDATE;
    IF pending.proof_valid THEN
        PERFORM gmp_rules.require_signing_allowed(session_user);
        UPDATE gmp_audit.signing_challenge c SET authenticated_xact = txid_current() WHERE c.id = pending.id;
        IF person.failed_signing_attempts > 0 OR gmp_rules.unrecorded_signing_failures(person.id) > 0 THEN
            -- Wrong entries whose check was rolled back are recorded; fewer than five in a
            -- row (or require_signing_allowed refused), so this one resets the count.
            PERFORM gmp_rules.record_signing_failures(person, NULL);
            PERFORM set_config('gmp.reason', 'signing password entered correctly: failed attempts reset', true);
            UPDATE gmp.account SET failed_signing_attempts = 0 WHERE id = person.id;
        END IF;
        outcome := 'authenticated';
        failed_attempts := 0;
        RETURN;
    END IF;
    -- Wrong password. The account was allowed to sign when the proof was submitted.
    failed_attempts := gmp_rules.record_signing_failures(person, pending.id);
    outcome := CASE WHEN failed_attempts >= 5 THEN 'locked' ELSE 'rejected' END;
END;
$$;

-- The one-step check of earlier versions, which told its verdict in a transaction the
-- caller could roll back (issue 20, item 1). Kept so that an older gmp, or a script
-- written for it, is told what changed instead of finding no such function.
CREATE OR REPLACE FUNCTION gmp.authenticate_signer(challenge uuid, proof bytea,
                                        OUT outcome text, OUT failed_attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'the password is no longer checked in the signing transaction' USING ERRCODE = 'GM009',
        HINT = 'commit gmp.submit_signing_proof(challenge, proof) first, then call gmp.authenticate_signer(challenge) in the signing transaction; upgrade gmp';
END;
$$;

-- Wrong signing passwords not yet recorded as security events, because their check was
-- rolled back or never made: gmp audit alerts lists them with the recorded ones. The
-- viewer's own open transaction is left out, as in gmp_rules.unrecorded_signing_failures.
CREATE OR REPLACE VIEW gmp_audit.unrecorded_signing_failure AS
SELECT c.id AS challenge, c.account_id, c.proof_submitted_at
FROM gmp_audit.signing_challenge c
WHERE c.proof_valid = false AND c.used_at IS NULL
  AND c.proof_submitted_xact IS DISTINCT FROM txid_current_if_assigned();

-- Records the wrong password entries of `person` not yet recorded (`checked`, the one
-- being checked, among them): burns their challenges, counts them, writes a security
-- event for each (saying which ones a caller had rolled back) and locks the account at
-- five in a row. Returns the failed attempts in a row.
CREATE OR REPLACE FUNCTION gmp_rules.record_signing_failures(person gmp.account, checked uuid) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    attempt gmp_audit.signing_challenge;
    failed  integer := person.failed_signing_attempts;
BEGIN
    FOR attempt IN
        UPDATE gmp_audit.signing_challenge c SET used_at = clock_timestamp()
        WHERE c.account_id = person.id AND c.proof_valid = false AND c.used_at IS NULL
          AND (c.id = checked OR c.proof_submitted_xact IS DISTINCT FROM txid_current_if_assigned())
        RETURNING c.*
    LOOP
        failed := failed + 1;
        PERFORM gmp_rules.record_security_event(person.id, 'signing_failed', format('attempt %s of 5%s', failed,
            CASE WHEN attempt.id IS DISTINCT FROM checked
                 THEN format(' (password entered at %s; the caller rolled its check back)',
                             to_char(attempt.proof_submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                 ELSE '' END));
    END LOOP;
    IF failed = person.failed_signing_attempts THEN
        RETURN failed;
    END IF;
    PERFORM set_config('gmp.reason', format('failed signing attempt %s of 5', failed), true);
    UPDATE gmp.account SET failed_signing_attempts = failed WHERE id = person.id;
    IF failed >= 5 AND person.locked_at IS NULL THEN
        PERFORM set_config('gmp.reason', 'locked after 5 failed signing attempts in a row', true);
        UPDATE gmp.account SET locked_at = clock_timestamp() WHERE id = person.id;
        EXECUTE format('ALTER ROLE %I NOLOGIN', person.id);
        PERFORM gmp_rules.record_security_event(person.id, 'account_locked', '5 failed signing attempts in a row');
    END IF;
    RETURN failed;
END;
$$;

-- Takes the challenge authenticated in this very transaction, once. Returns the
-- signer's account.
CREATE OR REPLACE FUNCTION gmp_rules.consume_authentication(challenge uuid) RETURNS gmp.account
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    person gmp.account;
BEGIN
    UPDATE gmp_audit.signing_challenge c SET used_at = clock_timestamp()
    WHERE c.id = challenge AND c.account_id = session_user AND c.used_at IS NULL
      AND c.authenticated_xact = txid_current();
    IF NOT FOUND THEN
        RAISE EXCEPTION 'signing needs the password entered for this signature'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'commit gmp.submit_signing_proof, then call gmp.authenticate_signer in the signing transaction (gmp does this for you)';
    END IF;
    -- The moment of signing: the account and its password are checked again, under a
    -- lock that an administrator's disable or lock waits for.
    PERFORM FROM gmp.account a WHERE a.id = session_user FOR SHARE;
    person := gmp_rules.require_signing_allowed(session_user);
    RETURN person;
END;
$$;

-- The content a signature covers, as jsonb. Every session setting that changes how a
-- value is written as text is pinned here (and on the functions below that hash or
-- compare it): a signer's or a viewer's own bytea_output, DateStyle, IntervalStyle,
-- extra_float_digits, TimeZone, search_path or lc_* must not change a content hash, or
-- a valid signature would read broken.
CREATE OR REPLACE FUNCTION gmp_rules.record_content(record_table text, record_key text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET DateStyle = 'ISO, MDY' SET IntervalStyle = 'postgres'
SET bytea_output = 'hex' SET extra_float_digits = 1 SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C' AS $$
DECLARE
    target   regclass := to_regclass(record_table);
    key_col  text;
    key_type text;
    content  jsonb;
BEGIN
    IF target IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT convert_from(substring(t.tgargs FROM 1 FOR position('\x00'::bytea IN t.tgargs) - 1), 'UTF8')
    INTO key_col FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'audit';
    IF key_col IS NULL THEN
        SELECT a.attname INTO key_col
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = target AND i.indisprimary AND i.indnkeyatts = 1;
    END IF;
    SELECT format_type(a.atttypid, a.atttypmod) INTO key_type
    FROM pg_attribute a WHERE a.attrelid = target AND a.attname = key_col AND NOT a.attisdropped;
    BEGIN
        -- t.*, not t: a column named t would otherwise stand for the whole row.
        EXECUTE format('SELECT jsonb_agg(to_jsonb(t.*) ORDER BY to_jsonb(t.*)::text) FROM %s t '
                       'WHERE t.%I = $1::%s AND t.%I::text = $1', target, key_col, key_type, key_col)
        INTO content USING record_key;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range OR invalid_datetime_format
                   OR datetime_field_overflow THEN
        -- A key that is not even a value of the column's type names no record.
        RETURN NULL;
    END;
    -- An audit event written before V0032 (issue 19) has no write order: its content is
    -- the row as it was signed then, without the column added since, so that QA's signed
    -- reviews of the trail stay intact across the upgrade. prev_seq (V0040, issue 18) is
    -- never signed: a hint verify settles record links by, filled at chaining and outside
    -- the event's hash, which reviews signed before it did not cover either.
    IF target = 'gmp_audit.event'::regclass THEN
        content := (SELECT jsonb_agg((CASE WHEN e->'write_order' = 'null'::jsonb THEN e - 'write_order' ELSE e END)
                                     - 'prev_seq')
                    FROM jsonb_array_elements(content) e);
    END IF;
    -- Steps and QC results name the procedure they followed since the training migration
    -- (issue 15): a row recorded before it is the row as signed then, without the column.
    -- (By the migration's name: the coordinator may renumber it.)
    IF target IN ('gmp.manufacturing_step'::regclass, 'gmp.qc_result'::regclass) THEN
        content := (SELECT jsonb_agg(CASE WHEN e->'procedure_code' = 'null'::jsonb
                                          AND (e->>'recorded_at')::timestamptz
                                              < (SELECT m.applied_at FROM gmp_meta.schema_migrations m WHERE m.name = 'training')
                                     THEN e - 'procedure_code' ELSE e END)
                    FROM jsonb_array_elements(content) e);
    END IF;
    RETURN content;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.content_hash(record_table text, record_key text) RETURNS bytea
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET DateStyle = 'ISO, MDY' SET IntervalStyle = 'postgres'
SET bytea_output = 'hex' SET extra_float_digits = 1 SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C' AS $$
    SELECT gmp_rules.content_hash(record_table, record_key, gmp_rules.record_content(record_table, record_key))
$$;

CREATE OR REPLACE FUNCTION gmp_rules.record_signature(challenge uuid, meaning text, record_table text, record_key text,
                                                     statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET DateStyle = 'ISO, MDY' SET IntervalStyle = 'postgres'
SET bytea_output = 'hex' SET extra_float_digits = 1 SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C' AS $$
DECLARE
    person gmp.account := gmp_rules.active_person();
    content jsonb := gmp_rules.record_content(record_table, record_key);
    signature_id bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_authid s JOIN gmp_meta.credential c ON c.account_id = s.rolname
                   WHERE s.rolname = person.id AND c.fingerprint = sha256(convert_to(s.rolpassword, 'UTF8'))) THEN
        RAISE EXCEPTION 'the password of % was changed outside gmp', person.id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'set it through gmp (gmp user passwd) so its age and rules are tracked, then sign again';
    END IF;
    IF content IS NULL THEN
        RAISE EXCEPTION 'no record % in %', record_key, record_table USING ERRCODE = 'GM001',
            HINT = 'check the record you are signing';
    END IF;
    PERFORM gmp_rules.consume_authentication(challenge);
    INSERT INTO gmp.signature (signer, printed_name, meaning, record_table, record_key, content_hash, challenge, statement)
    VALUES (person.id, person.full_name, meaning, record_table, record_key,
            gmp_rules.content_hash(record_table, record_key, content), challenge, statement)
    RETURNING id INTO signature_id;
    RETURN signature_id;
END;
$$;

-- Whether a signature's record is unchanged since signing. SECURITY DEFINER, as it
-- reads the signed record whoever asks; it reveals only true or false.
CREATE OR REPLACE FUNCTION gmp_rules.signature_intact(signature_id bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET DateStyle = 'ISO, MDY' SET IntervalStyle = 'postgres'
SET bytea_output = 'hex' SET extra_float_digits = 1 SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C' AS $$
    SELECT s.content_hash = coalesce(gmp_rules.content_hash(s.record_table, s.record_key), '\x'::bytea)
    FROM gmp.signature s WHERE s.id = signature_id
$$;

-- Every signature with whether the signed content is unchanged since signing.
CREATE OR REPLACE VIEW gmp.signature_status AS
SELECT s.*, gmp_rules.signature_intact(s.id) AS intact
FROM gmp.signature s;

-- QA's periodic review of the audit trail (Annex 11 §9), signed: the signature covers
-- the event at `through_seq`, whose hash covers every event before it.
CREATE OR REPLACE FUNCTION gmp.sign_audit_review(challenge uuid, through_seq bigint, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.give_reason(coalesce(nullif(btrim(statement), ''), 'audit trail review'));
    RETURN gmp_rules.record_signature(challenge, 'reviewed', 'gmp_audit.event', through_seq::text, statement);
END;
$$;

-- A person changes their own password, proving the current one first.
CREATE OR REPLACE FUNCTION gmp.change_password(challenge uuid, new_password text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.consume_authentication(challenge);
    PERFORM set_config('gmp.reason', 'password changed by its owner', true);
    PERFORM gmp_rules.set_password(session_user, new_password, false);
    PERFORM gmp_rules.record_security_event(session_user, 'password_changed', NULL);
END;
$$;

CREATE OR REPLACE FUNCTION gmp.record_checkpoint(seq bigint, hash bytea, key_fingerprint text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    IF NOT EXISTS (SELECT FROM gmp_audit.event e WHERE e.seq = record_checkpoint.seq AND e.hash = record_checkpoint.hash) THEN
        RAISE EXCEPTION 'event % does not have that hash', seq USING ERRCODE = 'GM009',
            HINT = 'take the checkpoint again from the current chain';
    END IF;
    INSERT INTO gmp_audit.checkpoint (seq, hash, key_fingerprint)
    VALUES (record_checkpoint.seq, record_checkpoint.hash, record_checkpoint.key_fingerprint);
END;
$$;

-- The content hash of a record's content already read.
CREATE OR REPLACE FUNCTION gmp_rules.content_hash(record_table text, record_key text, content jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET DateStyle = 'ISO, MDY' SET IntervalStyle = 'postgres'
SET bytea_output = 'hex' SET extra_float_digits = 1 SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C' AS $$
    SELECT sha256(gmp_audit.field('gmp-record-v1'::text) || gmp_audit.field(record_table)
                  || gmp_audit.field(record_key) || gmp_audit.field(content::text))
$$;
