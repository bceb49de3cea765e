-- accounts: Personal accounts: password rules, the administrator's account functions, role groups
-- and security events.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- Password policy, in one place.
CREATE OR REPLACE FUNCTION gmp_rules.password_max_age() RETURNS interval LANGUAGE sql IMMUTABLE AS $$ SELECT interval '90 days' $$;

CREATE OR REPLACE FUNCTION gmp_rules.temporary_password_max_age() RETURNS interval LANGUAGE sql IMMUTABLE AS $$ SELECT interval '7 days' $$;

CREATE OR REPLACE FUNCTION gmp_rules.password_min_length() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 12 $$;

-- Every way a proposed password breaks the rules; empty when it is acceptable.
CREATE OR REPLACE FUNCTION gmp_rules.password_problems(account_id text, password text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_remove(ARRAY[
        CASE WHEN length(password) < gmp_rules.password_min_length()
             THEN format('shorter than %s characters', gmp_rules.password_min_length()) END,
        -- Printable ASCII only: every client then derives the same key from it when
        -- signing (PostgreSQL normalises other characters with SASLprep).
        CASE WHEN password ~ '[^ -~]' THEN 'contains a character that is not printable ASCII' END,
        CASE WHEN strpos(lower(password), lower(account_id)) > 0 THEN 'contains the account id' END
    ], NULL)
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_password_rules(account_id text, password text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    problems text[] := gmp_rules.password_problems(account_id, password);
BEGIN
    IF cardinality(problems) > 0 THEN
        RAISE EXCEPTION 'the password is not acceptable: %', array_to_string(problems, '; ')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('choose at least %s printable ASCII characters that do not contain the account id',
                                gmp_rules.password_min_length());
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.is_superuser() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user
$$;

-- Records the reason for the changes this transaction makes; refuses a blank one.
CREATE OR REPLACE FUNCTION gmp_rules.give_reason(reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'a reason is required for this change'
            USING ERRCODE = 'GM008', HINT = 'say why, e.g. --reason "left the company"';
    END IF;
    PERFORM set_config('gmp.reason', reason, true);
END;
$$;

-- The calling person's account, checked usable: it exists, is active and unlocked,
-- and its password is not a temporary one awaiting change.
CREATE OR REPLACE FUNCTION gmp_rules.active_person() RETURNS gmp.account
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    person gmp.account;
BEGIN
    SELECT * INTO person FROM gmp.account WHERE id = session_user;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% is not a person''s account', session_user
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'GMP records are changed by named people: connect with your personal account (gmp --user ID)';
    ELSIF person.status = 'disabled' THEN
        RAISE EXCEPTION 'account % is disabled', person.id USING ERRCODE = 'insufficient_privilege',
            HINT = 'an administrator can enable it again: gmp user enable';
    ELSIF person.locked_at IS NOT NULL THEN
        RAISE EXCEPTION 'account % is locked after failed signing attempts', person.id
            USING ERRCODE = 'insufficient_privilege', HINT = 'an administrator must unlock it: gmp user enable';
    ELSIF person.must_change_password THEN
        RAISE EXCEPTION 'account % must change its temporary password first', person.id
            USING ERRCODE = 'insufficient_privilege', HINT = 'set your own password: gmp user passwd';
    ELSIF person.credential_reset_by IS NOT NULL THEN
        -- The administrator who set the password knew it: until a second person confirms
        -- that the owner set their own, nothing is done in the owner's name (issue 20, item 5).
        RAISE EXCEPTION 'account % waits for a second person to confirm its owner''s identity: administrator % set its password at %',
            person.id, person.credential_reset_by,
            to_char(person.credential_reset_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('a QA person or director other than %s confirms it with their signature: gmp user confirm %s',
                                person.credential_reset_by, person.id);
    END IF;
    RETURN person;
END;
$$;

-- Account administration is for gmp_admin members (the EXECUTE grants enforce it)
-- and for a superuser setting up the first administrator.
CREATE OR REPLACE FUNCTION gmp_rules.require_administrator() RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT gmp_rules.is_superuser() THEN
        PERFORM gmp_rules.active_person();
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.account_for_change(account_id text) RETURNS gmp.account
LANGUAGE plpgsql STABLE AS $$
DECLARE
    target gmp.account;
BEGIN
    SELECT * INTO target FROM gmp.account WHERE id = account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no account %', account_id USING ERRCODE = 'GM001',
            HINT = 'gmp user list shows every account';
    END IF;
    IF account_id = session_user THEN
        RAISE EXCEPTION 'administrators cannot change their own account or roles'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'another administrator must make this change (segregation of duties)';
    END IF;
    RETURN target;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.role_group(role text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF role IS NULL OR role NOT IN ('operator', 'qc', 'qa', 'director', 'admin', 'auditor') THEN
        RAISE EXCEPTION 'unknown role %', coalesce(role, 'NULL') USING ERRCODE = 'invalid_parameter_value',
            HINT = 'the roles are operator, qc, qa, director, admin and auditor';
    END IF;
    RETURN 'gmp_' || role;
END;
$$;

-- Sets a password through the server (which stores only its SCRAM verifier) and
-- remembers the verifier's fingerprint and expiry.
CREATE OR REPLACE FUNCTION gmp_rules.set_password(account_id text, password text, temporary boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET password_encryption = 'scram-sha-256' AS $$
DECLARE
    expires timestamptz := clock_timestamp()
        + CASE WHEN temporary THEN gmp_rules.temporary_password_max_age() ELSE gmp_rules.password_max_age() END;
BEGIN
    PERFORM gmp_rules.require_password_rules(account_id, password);
    -- VALID UNTIL makes the server itself refuse a login after expiry.
    EXECUTE format('ALTER ROLE %I PASSWORD %L VALID UNTIL %L', account_id, password, expires);
    INSERT INTO gmp_meta.credential (account_id, fingerprint)
    SELECT account_id, sha256(convert_to(rolpassword, 'UTF8')) FROM pg_authid WHERE rolname = account_id
    ON CONFLICT ON CONSTRAINT credential_pkey DO UPDATE SET fingerprint = excluded.fingerprint;
    UPDATE gmp.account
    SET must_change_password = temporary, password_changed_at = clock_timestamp(), password_expires_at = expires
    WHERE id = account_id;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.record_security_event(account_id text, kind text, detail text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO gmp_audit.security_event (account_id, kind, detail) VALUES (account_id, kind, detail)
$$;

-- gmp user add: a new person with a temporary password and their roles.
CREATE OR REPLACE FUNCTION gmp.add_account(account_id text, full_name text, password text, roles text[], reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    role text;
BEGIN
    PERFORM gmp_rules.require_administrator();
    PERFORM gmp_rules.give_reason(coalesce(nullif(btrim(reason), ''), 'new account'));
    IF EXISTS (SELECT FROM gmp.account a WHERE a.id = account_id) THEN
        RAISE EXCEPTION 'account id % was already used', account_id USING ERRCODE = 'unique_violation',
            HINT = 'ids are never reused (21 CFR 11.100): choose another, e.g. with a digit';
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = account_id) THEN
        RAISE EXCEPTION 'a database role named % already exists', account_id USING ERRCODE = 'unique_violation',
            HINT = 'choose another id; gmp creates each person''s role itself';
    END IF;
    IF account_id IS NULL OR account_id !~ '^[a-z][a-z0-9_]{1,39}$' OR account_id ~ '^(pg_|gmp_)' THEN
        RAISE EXCEPTION 'invalid account id %', coalesce(account_id, 'NULL') USING ERRCODE = 'invalid_parameter_value',
            HINT = '2 to 40 characters: a lowercase letter, then lowercase letters, digits or _; not starting with pg_ or gmp_';
    END IF;
    PERFORM gmp_rules.require_password_rules(account_id, password);
    EXECUTE format('CREATE ROLE %I LOGIN IN ROLE gmp_person', account_id);
    INSERT INTO gmp.account (id, full_name, password_expires_at)
    VALUES (account_id, btrim(full_name), clock_timestamp());
    PERFORM gmp_rules.set_password(account_id, password, true);
    PERFORM gmp_rules.hold_for_confirmation(account_id);
    -- Each role is a proposal a second administrator approves (issue 20, item 6).
    FOREACH role IN ARRAY coalesce(roles, '{}') LOOP
        PERFORM gmp_rules.propose_role(account_id, role, coalesce(nullif(btrim(reason), ''), 'new account'));
    END LOOP;
END;
$$;

-- gmp user grant: an administrator proposes a role; it takes effect when a second
-- administrator approves it (gmp.approve_role). The database owner grants at once.
CREATE OR REPLACE FUNCTION gmp.grant_role(account_id text, role text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.require_administrator();
    PERFORM gmp_rules.give_reason(reason);
    PERFORM gmp_rules.account_for_change(account_id);
    IF EXISTS (SELECT FROM gmp.account_role r WHERE r.account_id = grant_role.account_id AND r.role = grant_role.role) THEN
        RAISE EXCEPTION '% already holds the role %', account_id, role USING ERRCODE = 'GM003',
            HINT = 'gmp user show lists an account''s roles';
    END IF;
    PERFORM gmp_rules.propose_role(account_id, role, reason);
END;
$$;

CREATE OR REPLACE FUNCTION gmp.revoke_role(account_id text, role text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.require_administrator();
    PERFORM gmp_rules.give_reason(reason);
    PERFORM gmp_rules.account_for_change(account_id);
    EXECUTE format('REVOKE %I FROM %I', gmp_rules.role_group(role), account_id);
    DELETE FROM gmp.account_role r WHERE r.account_id = revoke_role.account_id AND r.role = revoke_role.role;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% does not hold the role %', account_id, role USING ERRCODE = 'GM003',
            HINT = 'gmp user show lists an account''s roles; a proposed one is declined with gmp user decline';
    END IF;
    PERFORM gmp_rules.record_security_event(account_id, 'role_revoked', format('%s revoked by %s: %s', role, session_user, reason));
END;
$$;

-- Whether `creator` created `account_id`, directly or through accounts it created in
-- turn: such accounts may be in the creator's hands (they knew each first password).
CREATE OR REPLACE FUNCTION gmp_rules.created_through(creator text, account_id text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE line(id) AS (
        SELECT a.created_by FROM gmp.account a WHERE a.id = created_through.account_id
        UNION
        SELECT a.created_by FROM gmp.account a JOIN line ON a.id = line.id
    )
    SELECT EXISTS (SELECT FROM line WHERE line.id = created_through.creator)
$$;

-- Records a role as proposed for `account_id`; the database owner's grant takes effect
-- at once (set-up of the first people; a superuser can do anything in any case).
CREATE OR REPLACE FUNCTION gmp_rules.propose_role(account_id text, role text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    proposal gmp.role_proposal;
BEGIN
    PERFORM gmp_rules.role_group(role);
    IF gmp_rules.is_superuser() THEN
        PERFORM gmp_rules.give_role(account_id, role, NULL,
                                    format('%s granted by the database owner %s: %s', role, session_user, reason));
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM gmp.role_proposal p WHERE p.account_id = propose_role.account_id AND p.role = propose_role.role
               AND NOT EXISTS (SELECT FROM gmp.role_decision d WHERE d.proposal_id = p.id)) THEN
        RAISE EXCEPTION 'the role % is already proposed for %', role, account_id USING ERRCODE = 'GM003',
            HINT = format('a second administrator approves it: gmp user approve %s %s --reason …', account_id, role);
    END IF;
    INSERT INTO gmp.role_proposal (account_id, role, reason) VALUES (account_id, role, reason) RETURNING * INTO proposal;
    PERFORM gmp_rules.record_security_event(account_id, 'role_proposed',
        format('%s proposed by %s: %s (waits for a second administrator)', role, session_user, reason));
END;
$$;

-- Makes the role effective: the group membership and gmp's record of it.
CREATE OR REPLACE FUNCTION gmp_rules.give_role(account_id text, role text, proposal gmp.role_proposal, detail text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('GRANT %I TO %I', gmp_rules.role_group(role), account_id);
    INSERT INTO gmp.account_role (account_id, role, granted_by, approved_by, proposal_id)
    VALUES (account_id, role, coalesce(proposal.proposed_by, session_user),
            CASE WHEN proposal.id IS NOT NULL THEN session_user END, proposal.id);
    PERFORM gmp_rules.record_security_event(account_id, 'role_granted', detail);
END;
$$;

-- What approving and declining a proposal both first check, in this order: the decider
-- is an administrator, gives a reason, and the account may be changed. Returns the open
-- proposal of `role` for `account_id`, locked; refused when there is none.
CREATE OR REPLACE FUNCTION gmp_rules.role_proposal_to_decide(account_id text, role text, reason text)
RETURNS gmp.role_proposal
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    proposal gmp.role_proposal;
BEGIN
    PERFORM gmp_rules.require_administrator();
    PERFORM gmp_rules.give_reason(reason);
    PERFORM gmp_rules.account_for_change(account_id);
    SELECT * INTO proposal FROM gmp.role_proposal p
    WHERE p.account_id = role_proposal_to_decide.account_id AND p.role = role_proposal_to_decide.role
      AND NOT EXISTS (SELECT FROM gmp.role_decision d WHERE d.proposal_id = p.id)
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no proposal of the role % for % is waiting', role, account_id USING ERRCODE = 'GM001',
            HINT = 'gmp user pending lists the proposals; an administrator proposes one with gmp user grant';
    END IF;
    RETURN proposal;
END;
$$;

-- gmp user approve: the second administrator of dual control. Not the proposer, not the
-- grantee, and no one in the proposer's line of account creation (created by them, or
-- their creator, directly or through accounts created in between): an administrator
-- may not complete their own proposal through an account they made, nor through the one
-- who made theirs.
CREATE OR REPLACE FUNCTION gmp.approve_role(account_id text, role text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    proposal gmp.role_proposal;
BEGIN
    proposal := gmp_rules.role_proposal_to_decide(account_id, role, reason);
    IF proposal.proposed_by = session_user THEN
        RAISE EXCEPTION 'you proposed the role % for %: a second administrator approves it', role, account_id
            USING ERRCODE = 'GM005', HINT = 'dual control: another administrator runs gmp user approve';
    ELSIF NOT gmp_rules.is_superuser() AND (gmp_rules.created_through(proposal.proposed_by, session_user)
                                             OR gmp_rules.created_through(session_user, proposal.proposed_by)) THEN
        RAISE EXCEPTION '% proposed the role % for %, and one of you created the other''s account (directly or through accounts created in between): an independent administrator approves it',
            proposal.proposed_by, role, account_id
            USING ERRCODE = 'GM005', HINT = 'dual control needs two people: an administrator outside that line of accounts approves';
    END IF;
    IF EXISTS (SELECT FROM gmp.account_role r WHERE r.account_id = approve_role.account_id AND r.role = approve_role.role) THEN
        RAISE EXCEPTION '% already holds the role %', account_id, role USING ERRCODE = 'GM003',
            HINT = 'decline the proposal instead: gmp user decline';
    END IF;
    INSERT INTO gmp.role_decision (proposal_id, outcome, reason) VALUES (proposal.id, 'approved', reason);
    PERFORM gmp_rules.give_role(account_id, role, proposal,
        format('%s proposed by %s, approved by %s: %s', role, proposal.proposed_by, session_user, reason));
END;
$$;

-- gmp user decline: any administrator refuses a proposal; the proposer withdraws it.
CREATE OR REPLACE FUNCTION gmp.decline_role(account_id text, role text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    proposal gmp.role_proposal;
BEGIN
    proposal := gmp_rules.role_proposal_to_decide(account_id, role, reason);
    INSERT INTO gmp.role_decision (proposal_id, outcome, reason) VALUES (proposal.id, 'declined', reason);
    PERFORM gmp_rules.record_security_event(account_id, 'role_declined',
        format('%s proposed by %s, declined by %s: %s', role, proposal.proposed_by, session_user, reason));
END;
$$;

-- Role proposals waiting for a second administrator (gmp user pending).
CREATE OR REPLACE VIEW gmp.pending_role AS
SELECT p.id, p.account_id, p.role, p.reason, p.proposed_at, p.proposed_by
FROM gmp.role_proposal p
WHERE NOT EXISTS (SELECT FROM gmp.role_decision d WHERE d.proposal_id = p.id);

-- Disabling stops logins at once and ends the person's open sessions.
CREATE OR REPLACE FUNCTION gmp.disable_account(account_id text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target gmp.account;
BEGIN
    PERFORM gmp_rules.require_administrator();
    PERFORM gmp_rules.give_reason(reason);
    target := gmp_rules.account_for_change(account_id);
    IF target.status = 'disabled' THEN
        RAISE EXCEPTION 'account % is already disabled', account_id USING ERRCODE = 'GM003',
            HINT = 'nothing to do';
    END IF;
    EXECUTE format('ALTER ROLE %I NOLOGIN', account_id);
    UPDATE gmp.account SET status = 'disabled' WHERE id = account_id;
    PERFORM gmp_rules.record_security_event(account_id, 'account_disabled', reason);
    PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = account_id;
END;
$$;

-- Enabling also unlocks an account locked after failed signing attempts.
CREATE OR REPLACE FUNCTION gmp.enable_account(account_id text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target gmp.account;
BEGIN
    PERFORM gmp_rules.require_administrator();
    PERFORM gmp_rules.give_reason(reason);
    target := gmp_rules.account_for_change(account_id);
    IF target.status = 'active' AND target.locked_at IS NULL
       AND target.failed_signing_attempts + gmp_rules.unrecorded_signing_failures(account_id) < 5 THEN
        RAISE EXCEPTION 'account % is already enabled and unlocked', account_id USING ERRCODE = 'GM003',
            HINT = 'nothing to do';
    END IF;
    -- Wrong signing passwords whose check the caller rolled back are recorded (and may
    -- lock the account here) before the unlock resets the count.
    PERFORM gmp_rules.record_signing_failures(target, NULL);
    PERFORM gmp_rules.give_reason(reason);
    SELECT * INTO target FROM gmp.account a WHERE a.id = account_id;
    EXECUTE format('ALTER ROLE %I LOGIN', account_id);
    UPDATE gmp.account SET status = 'active', locked_at = NULL, failed_signing_attempts = 0 WHERE id = account_id;
    PERFORM gmp_rules.record_security_event(account_id,
        CASE WHEN target.locked_at IS NOT NULL THEN 'account_unlocked' ELSE 'account_enabled' END, reason);
END;
$$;

-- An administrator sets a temporary password (the person forgot theirs, or it expired).
CREATE OR REPLACE FUNCTION gmp.reset_password(account_id text, password text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.require_administrator();
    PERFORM gmp_rules.give_reason(reason);
    PERFORM gmp_rules.account_for_change(account_id);
    PERFORM gmp_rules.set_password(account_id, password, true);
    PERFORM gmp_rules.hold_for_confirmation(account_id);
    PERFORM gmp_rules.record_security_event(account_id, 'password_reset',
        format('by %s: %s (the account waits for a second person to confirm its owner)', session_user, reason));
END;
$$;

-- An administrator set the account's password and so knows it: the account does no GMP
-- work until a second person confirms its owner (gmp.confirm_identity, issue 20, item 5).
-- The database owner setting up the first people puts no hold: a superuser can do
-- anything in any case.
CREATE OR REPLACE FUNCTION gmp_rules.hold_for_confirmation(account_id text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT gmp_rules.is_superuser() THEN
        UPDATE gmp.account a SET credential_reset_at = clock_timestamp(), credential_reset_by = session_user
        WHERE a.id = hold_for_confirmation.account_id;
    END IF;
END;
$$;

-- gmp user confirm: a QA person or director, neither the account itself nor the
-- administrator who set its password, signs ("verified") that the owner has set their
-- own password and holds the account; the hold is lifted. They take the owner's word
-- in person or through a channel the administrator does not control (docs/signatures.md).
CREATE OR REPLACE FUNCTION gmp.confirm_identity(challenge uuid, account_id text, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me gmp.account := gmp_rules.active_person();
    target gmp.account;
    confirmation_id bigint;
BEGIN
    SELECT * INTO target FROM gmp.account a WHERE a.id = confirm_identity.account_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no account %', account_id USING ERRCODE = 'GM001', HINT = 'gmp user list shows every account';
    ELSIF target.id = me.id THEN
        RAISE EXCEPTION 'nobody confirms their own identity' USING ERRCODE = 'GM005',
            HINT = 'a QA person or director other than the administrator who set your password confirms it';
    ELSIF NOT (pg_has_role(me.id, 'gmp_qa', 'MEMBER') OR pg_has_role(me.id, 'gmp_director', 'MEMBER')) THEN
        RAISE EXCEPTION '% may not confirm identities: that needs the qa or director role', me.id
            USING ERRCODE = 'insufficient_privilege', HINT = 'a QA person or a director confirms it';
    ELSIF target.credential_reset_by IS NULL THEN
        RAISE EXCEPTION 'account % has no password set by an administrator to confirm', target.id USING ERRCODE = 'GM003',
            HINT = 'gmp user pending lists the accounts waiting for confirmation';
    ELSIF target.credential_reset_by = me.id THEN
        RAISE EXCEPTION 'you set the password of %: another person confirms its owner', target.id USING ERRCODE = 'GM005',
            HINT = 'a QA person or director other than the administrator who set it runs gmp user confirm';
    ELSIF target.must_change_password THEN
        RAISE EXCEPTION 'the owner of % has not yet set their own password', target.id USING ERRCODE = 'GM003',
            HINT = format('the person replaces the temporary password first (gmp -U %s user passwd), then you confirm', target.id);
    END IF;
    PERFORM gmp_rules.give_reason(coalesce(nullif(btrim(statement), ''), 'owner''s identity confirmed after a password set by an administrator'));
    INSERT INTO gmp.identity_confirmation (account_id, password_set_at, password_set_by, statement)
    VALUES (target.id, target.credential_reset_at, target.credential_reset_by, nullif(btrim(statement), ''))
    RETURNING id INTO confirmation_id;
    UPDATE gmp.account a SET credential_reset_at = NULL, credential_reset_by = NULL WHERE a.id = target.id;
    PERFORM gmp_rules.record_security_event(target.id, 'identity_confirmed',
        format('by %s after the password set by %s', me.id, target.credential_reset_by));
    RETURN gmp_rules.record_signature(challenge, 'verified', 'gmp.identity_confirmation', confirmation_id::text, statement);
END;
$$;

-- What gmp user list/show print: the account with its roles, and where the server's
-- view differs from gmp's (a role granted or a password changed outside gmp).
CREATE OR REPLACE VIEW gmp.account_overview AS
SELECT a.id, a.full_name, a.status, a.locked_at,
       -- With the wrong entries whose check was rolled back (gmp_rules.unrecorded_signing_failures).
       a.failed_signing_attempts + (SELECT count(*)::integer FROM gmp_audit.signing_challenge c
                                    WHERE c.account_id = a.id AND c.proof_valid = false AND c.used_at IS NULL
                                      AND c.proof_submitted_xact IS DISTINCT FROM txid_current_if_assigned())
           AS failed_signing_attempts,
       a.must_change_password,
       a.password_changed_at, a.password_expires_at, a.created_at, a.created_by,
       coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM gmp.account_role r WHERE r.account_id = a.id),
                '{}') AS roles,
       coalesce((SELECT array_agg(substr(g.rolname, 5) ORDER BY g.rolname)
                 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles p ON p.oid = m.member
                 WHERE p.rolname = a.id AND g.rolname ~ '^gmp_(operator|qc|qa|director|admin|auditor)$'
                   AND substr(g.rolname, 5) NOT IN (SELECT r.role FROM gmp.account_role r WHERE r.account_id = a.id)),
                '{}') AS roles_granted_outside_gmp,
       coalesce((SELECT p.rolcanlogin FROM pg_roles p WHERE p.rolname = a.id), false) AS can_log_in,
       coalesce((SELECT c.fingerprint IS DISTINCT FROM sha256(convert_to(s.rolpassword, 'UTF8'))
                 FROM pg_authid s LEFT JOIN gmp_meta.credential c ON c.account_id = s.rolname
                 WHERE s.rolname = a.id), true) AS password_changed_outside_gmp,
       -- Roles proposed and waiting for a second administrator (issue 20, item 6).
       coalesce((SELECT array_agg(p.role ORDER BY p.role) FROM gmp.pending_role p WHERE p.account_id = a.id),
                '{}') AS pending_roles,
       -- Set while the account waits for a second person to confirm its owner (item 5).
       a.credential_reset_at, a.credential_reset_by
FROM gmp.account a;

-- Failed logins (issue 20, item 2). PostgreSQL 15 runs no SQL at login, so a wrong
-- password is seen only in the server's log: with logging_collector on and jsonlog in
-- log_destination, each is one JSON line with state_code 28P01, and with log_connections
-- each successful login is one too ("connection authorized"). gmp_audit.record_failed_logins
-- reads the lines written since it last read, records each failure of a gmp account as a
-- security event and locks the account after gmp_rules.login_failure_limit() in a row.
-- gmp calls it on every connection, unless the server's background worker
-- (extension/gmp_chainer) calls it every naptime and says so at login (docs/signatures.md, "Logins").

CREATE OR REPLACE FUNCTION gmp_rules.login_failure_limit() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 5 $$;

-- Failed logins of an account since its last successful login, unlock or enable.
CREATE OR REPLACE FUNCTION gmp_rules.login_failures_in_row(account_id text) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*)::integer FROM gmp_audit.security_event e
    WHERE e.account_id = login_failures_in_row.account_id AND e.kind = 'login_failed'
      AND e.id > coalesce((SELECT max(r.id) FROM gmp_audit.security_event r
                           WHERE r.account_id = login_failures_in_row.account_id
                             AND r.kind IN ('login_succeeded', 'account_unlocked', 'account_enabled')), 0)
$$;

-- What keeps failed logins from being seen or slowed: each with whether it blinds gmp
-- (blocking) or only weakens the defence. gmp doctor reports them with their fix.
CREATE OR REPLACE FUNCTION gmp_audit.login_watch_problems(OUT problem text, OUT blocking boolean) RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.problem, p.blocking FROM (VALUES
        (current_setting('logging_collector') <> 'on',
         'logging_collector is off: failed logins are not written to a log file gmp can read', true),
        ('jsonlog' <> ALL (string_to_array(replace(current_setting('log_destination'), ' ', ''), ',')),
         format('log_destination (%s) does not include jsonlog: failed logins cannot be read', current_setting('log_destination')), true),
        (current_setting('log_min_messages') = 'panic',
         'log_min_messages = panic: failed logins (FATAL) are not logged', true),
        (current_setting('log_connections') <> 'on',
         'log_connections is off: a successful login cannot end a run of failed logins, so typing mistakes add up to a lock', false),
        (coalesce(current_setting('auth_delay.milliseconds', true), '0') IN ('0', ''),
         'auth_delay is not loaded: password guessing is not slowed', false)
    ) AS p(applies, problem, blocking)
    WHERE p.applies
$$;

-- Locks an account after a run of failed logins: NOLOGIN, its sessions ended, and the
-- security event. The lock is the signing lock too (the login password signs). Called by
-- gmp_audit.read_failed_logins only.
CREATE OR REPLACE FUNCTION gmp_rules.lock_after_failed_logins(account_id text, failures integer) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM set_config('gmp.reason', format('locked after %s failed logins in a row', failures), true);
    UPDATE gmp.account a SET locked_at = clock_timestamp() WHERE a.id = account_id AND a.locked_at IS NULL;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER ROLE %I NOLOGIN', account_id);
    PERFORM gmp_rules.record_security_event(account_id, 'account_locked', format('%s failed logins in a row', failures));
    PERFORM pg_terminate_backend(s.pid) FROM pg_stat_activity s
    WHERE s.usename = account_id AND s.pid <> pg_backend_pid();
END;
$$;

-- The lines of a piece of the server's jsonlog that can tell a login's outcome: a
-- failed password (state_code 28P01) or a successful login (log_connections) of a user
-- name that can be a gmp account. A line with a byte that is not UTF-8 is skipped (it
-- names no gmp account: ids are ASCII), and cannot stop the reading of the others.
CREATE OR REPLACE FUNCTION gmp_rules.login_log_lines(chunk bytea) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    failure constant text := '"state_code":"28P01"';
    success constant text := '"message":"connection authorized: ';
    kept text[] := '{}';
    line text;
BEGIN
    BEGIN
        RETURN ARRAY(SELECT l FROM regexp_split_to_table(convert_from(chunk, 'UTF8'), '\n') l
                     WHERE (strpos(l, failure) > 0 OR strpos(l, success) > 0)
                       AND l ~ '"user":"[a-z][a-z0-9_]*"');
    EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
        NULL;   -- one line or more is not UTF-8: take the lines one by one
    END;
    FOR line IN SELECT l FROM regexp_split_to_table(encode(chunk, 'escape'), '\n') l LOOP
        BEGIN
            line := convert_from(decode(line, 'escape'), 'UTF8');
            IF (strpos(line, failure) > 0 OR strpos(line, success) > 0) AND line ~ '"user":"[a-z][a-z0-9_]*"' THEN
                kept := kept || line;
            END IF;
        EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
            NULL;
        END;
    END LOOP;
    RETURN kept;
END;
$$;

-- Reads the server's jsonlog from the position this database last read to the last
-- complete line, and records what it finds: each failed login of a gmp account
-- (login_failed, at the time the server logged it), a successful login that ends a run
-- of failures (login_succeeded), and the lock at the limit. Returns the failed logins
-- recorded. Lines are told apart by the server's own fields (state_code, message,
-- user), never by text a client chooses. No write unless it finds something or has
-- read 16 kB past the stored position. Called by gmp_audit.record_failed_logins only
-- (whose owner, a superuser, may read the log files), when its quick look found
-- something to read.
CREATE OR REPLACE FUNCTION gmp_audit.read_failed_logins() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    current_file text := pg_current_logfile('jsonlog');
    here     oid := (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
    pos      gmp_audit.login_log_position;
    locked   gmp_audit.login_log_position;
    files    text[];
    path     text;
    watched  text;
    concerns boolean;
    start    bigint;
    size     bigint;
    chunk    bytea;
    complete integer;
    lines    text[];
    end_file text;
    end_offset bigint;
    entry    jsonb;
    seen     text[] := '{}';
    failures integer;
    recorded integer := 0;
BEGIN
    IF current_file IS NULL THEN
        RETURN 0;   -- no jsonlog: gmp doctor says so (gmp_audit.login_watch_problems)
    END IF;
    FOR attempt IN 1..2 LOOP
        SELECT * INTO pos FROM gmp_audit.login_log_position;
        IF NOT FOUND OR pos.database_oid <> here THEN
            -- First read in this database: nothing logged before it concerns its accounts.
            -- Start after the last whole line.
            size := coalesce((pg_stat_file(current_file, true)).size, 0);
            start := greatest(size - 65536, 0);
            chunk := coalesce(pg_read_binary_file(current_file, start, size - start, true), '');
            complete := octet_length(chunk);
            WHILE complete > 0 AND get_byte(chunk, complete - 1) <> 10 LOOP
                complete := complete - 1;
            END LOOP;
            INSERT INTO gmp_audit.login_log_position (database_oid, log_file, log_offset, read_at, watched)
            VALUES (here, current_file, start + complete, clock_timestamp(), '{}')
            ON CONFLICT (singleton) DO UPDATE
            SET database_oid = excluded.database_oid, log_file = excluded.log_file,
                log_offset = excluded.log_offset, read_at = excluded.read_at, watched = excluded.watched;
            RETURN 0;
        END IF;
        size := coalesce((pg_stat_file(current_file, true)).size, 0);
        IF pos.log_file = current_file AND pos.log_offset = size THEN
            RETURN 0;
        END IF;
        -- The stored file from its offset; after a rotation, every later file of the log
        -- directory too (time-stamped names sort in time order), up to the current one.
        IF pos.log_file = current_file THEN
            files := ARRAY[current_file];
        ELSE
            files := ARRAY(SELECT regexp_replace(current_file, '[^/]*$', '') || l.name
                           FROM pg_ls_logdir() l
                           WHERE l.name LIKE '%.json' AND l.name >= regexp_replace(pos.log_file, '^.*/', '')
                             AND l.name <= regexp_replace(current_file, '^.*/', '')
                           ORDER BY l.name);
        END IF;
        lines := '{}';
        end_file := pos.log_file;
        end_offset := pos.log_offset;
        FOREACH path IN ARRAY files LOOP
            IF path <> current_file THEN
                size := coalesce((pg_stat_file(path, true)).size, 0);
            END IF;
            start := CASE WHEN path = pos.log_file AND size >= pos.log_offset THEN pos.log_offset ELSE 0 END;
            chunk := coalesce(pg_read_binary_file(path, start, size - start, true), '');
            -- Only whole lines: the server may be writing the last one.
            complete := octet_length(chunk);
            WHILE complete > 0 AND get_byte(chunk, complete - 1) <> 10 LOOP
                complete := complete - 1;
            END LOOP;
            -- Split into lines only a piece with a failed login, or a login of an account
            -- with failures in a row: most pieces are just logins, gmp's own among them.
            concerns := position('"state_code":"28P01"'::bytea IN chunk) > 0;
            FOREACH watched IN ARRAY pos.watched LOOP
                concerns := concerns OR position(convert_to('"user":"' || watched || '"', 'UTF8') IN chunk) > 0;
            END LOOP;
            IF complete > 0 AND concerns THEN
                lines := lines || gmp_rules.login_log_lines(substring(chunk FROM 1 FOR complete));
            END IF;
            end_file := path;
            end_offset := start + complete;
        END LOOP;
        IF end_file = pos.log_file AND end_offset = pos.log_offset THEN
            RETURN 0;
        END IF;
        -- Nothing for an account, and not far: leave the position (no write); the next
        -- read starts from it again.
        IF end_file = pos.log_file AND end_offset - pos.log_offset < 16384 THEN
            IF cardinality(lines) = 0 THEN
                RETURN 0;   -- the common case, kept apart so that it plans no query
            ELSIF NOT EXISTS (SELECT FROM unnest(lines) l JOIN gmp.account a
                              ON a.id = substring(l FROM '"user":"([a-z][a-z0-9_]*)"')) THEN
                RETURN 0;
            END IF;
        END IF;
        -- SKIP LOCKED: a session that holds the position (recording, or left open in a
        -- transaction) must not stall every other gmp command; it records the lines.
        SELECT * INTO locked FROM gmp_audit.login_log_position FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN 0;
        END IF;
        IF (locked.database_oid, locked.log_file, locked.log_offset)
           IS DISTINCT FROM (pos.database_oid, pos.log_file, pos.log_offset) THEN
            CONTINUE;   -- another session read them meanwhile: start again from where it ended
        END IF;
        FOR entry IN SELECT l::jsonb FROM unnest(lines) WITH ORDINALITY AS u(l, n) ORDER BY n LOOP
            CONTINUE WHEN NOT EXISTS (SELECT FROM gmp.account a WHERE a.id = entry ->> 'user');
            seen := seen || (entry ->> 'user');
            failures := gmp_rules.login_failures_in_row(entry ->> 'user');
            IF entry ->> 'state_code' = '28P01' THEN
                failures := failures + 1;
                recorded := recorded + 1;
                INSERT INTO gmp_audit.security_event (occurred_at, account_id, kind, detail)
                VALUES ((entry ->> 'timestamp')::timestamptz, entry ->> 'user', 'login_failed',
                        format('wrong password at login from %s (server process %s); %s of %s in a row',
                               coalesce(entry ->> 'remote_host', 'the local socket'), entry ->> 'pid',
                               failures, gmp_rules.login_failure_limit()));
                IF failures >= gmp_rules.login_failure_limit() THEN
                    PERFORM gmp_rules.lock_after_failed_logins(entry ->> 'user', failures);
                END IF;
            ELSIF failures > 0 THEN
                INSERT INTO gmp_audit.security_event (occurred_at, account_id, kind, detail)
                VALUES ((entry ->> 'timestamp')::timestamptz, entry ->> 'user', 'login_succeeded',
                        format('logged in after %s failed login(s) in a row%s', failures,
                               CASE WHEN failures >= gmp_rules.login_failure_limit()
                                    THEN ' (the account was locked for them: confirm who logged in)' ELSE '' END));
            END IF;
        END LOOP;
        UPDATE gmp_audit.login_log_position
        SET log_file = end_file, log_offset = end_offset, read_at = clock_timestamp(),
            watched = ARRAY(SELECT DISTINCT w FROM unnest(pos.watched || seen) w
                            WHERE gmp_rules.login_failures_in_row(w) > 0 ORDER BY w);
        RETURN recorded;
    END LOOP;
    RETURN recorded;
END;
$$;

-- What gmp calls on every connection, or gmp_chainer's worker every naptime
-- (docs/signatures.md, "Logins"): the failed logins
-- the server logged since this database last read, recorded; returns how many. Most
-- calls find nothing, so this first looks without PL/pgSQL, in one planned statement:
-- the log has not grown since the stored position, or what it grew by (less than 16 kB)
-- holds no failed login and no login of a watched account. Only otherwise does
-- gmp_audit.read_failed_logins read and record (it would find nothing and write nothing
-- in the cases answered here). A fresh session pays about a millisecond less per command.
CREATE OR REPLACE FUNCTION gmp_audit.record_failed_logins() RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN f.file IS NULL THEN 0   -- no jsonlog: gmp doctor says so (gmp_audit.login_watch_problems)
        WHEN p.log_offset = z.size THEN 0
        WHEN c.chunk IS NOT NULL AND position('"state_code":"28P01"'::bytea IN c.chunk) = 0
             AND NOT EXISTS (SELECT FROM unnest(p.watched) w
                             WHERE position(convert_to('"user":"' || w || '"', 'UTF8') IN c.chunk) > 0) THEN 0
        ELSE gmp_audit.read_failed_logins()
    END
    FROM (SELECT pg_current_logfile('jsonlog') AS file) f
    CROSS JOIN LATERAL (SELECT coalesce((pg_stat_file(f.file, true)).size, 0) AS size) z
    LEFT JOIN gmp_audit.login_log_position p
           ON p.log_file = f.file AND p.database_oid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
    CROSS JOIN LATERAL (SELECT CASE WHEN z.size - p.log_offset BETWEEN 1 AND 16383
                                    THEN coalesce(pg_read_binary_file(f.file, p.log_offset, z.size - p.log_offset, true), '')
                               END AS chunk) c
$$;
