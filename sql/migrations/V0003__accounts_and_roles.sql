-- V0003 accounts and roles: one PostgreSQL login role per person.
--
-- 21 CFR 11.100 and 11.300: accounts are personal, never shared and never reused;
-- authentication is PostgreSQL's own (SCRAM), so the person behind every change is the
-- authenticated session user, not a name a client claims.
--
--   * A person is a LOGIN role with a row in gmp.account (full printed name, status).
--     Accounts are disabled, never deleted; an id once used cannot be taken again.
--   * What a person may do comes from group roles: gmp_operator, gmp_qc, gmp_qa,
--     gmp_director, gmp_admin, gmp_auditor (README, "Roles"). Every person is also in
--     gmp_person. Nobody, admin included, may write a GMP table: changes go through
--     the SECURITY DEFINER functions below, each granted to the roles that may call it.
--   * Password rules: at least 12 printable ASCII characters, not containing the
--     account id; they expire after 90 days (VALID UNTIL, enforced by the server at
--     login); a password set by an admin is temporary (7 days) and must be changed
--     before the person may do anything but change it.

-- Event triggers, role creation and reading pg_authid all need a superuser.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'gmp db migrate must run as a superuser (it creates roles and event triggers)'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'run gmp db migrate as the database owner with superuser rights, e.g. postgres';
    END IF;
END;
$$;

-- Roles are cluster-wide: several databases migrating at once (tests do) must not
-- race to create them. The lock is released at commit.
LOCK TABLE pg_catalog.pg_authid IN SHARE ROW EXCLUSIVE MODE;
DO $$
DECLARE
    group_role text;
BEGIN
    FOREACH group_role IN ARRAY ARRAY['gmp_person', 'gmp_operator', 'gmp_qc', 'gmp_qa',
                                      'gmp_director', 'gmp_admin', 'gmp_auditor'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = group_role) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', group_role);
        END IF;
    END LOOP;
END;
$$;

GRANT USAGE ON SCHEMA gmp, gmp_audit TO gmp_person;

-- The people. `id` is the PostgreSQL role name.
CREATE TABLE gmp.account (
    id                      text        PRIMARY KEY
                                        CHECK (id ~ '^[a-z][a-z0-9_]{1,39}$' AND id !~ '^(pg_|gmp_)'),
    full_name               text        NOT NULL
                                        CHECK (btrim(full_name) <> '' AND length(full_name) <= 200
                                               AND full_name !~ '[[:cntrl:]]'),
    status                  text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    locked_at               timestamptz,
    failed_signing_attempts integer     NOT NULL DEFAULT 0 CHECK (failed_signing_attempts >= 0),
    must_change_password    boolean     NOT NULL DEFAULT true,
    password_changed_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    password_expires_at     timestamptz NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by              text        NOT NULL DEFAULT session_user
);
COMMENT ON TABLE gmp.account IS 'One row per person: the PostgreSQL login role id and the printed name used in signatures.';
CREATE TRIGGER never_deleted BEFORE DELETE ON gmp.account
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp.account ENABLE ALWAYS TRIGGER never_deleted;
SELECT gmp_audit.audit_table('gmp.account', 'id');

-- Which roles a person holds. Revoking deletes the row; the audit trail keeps when
-- and why. The record key is the account, so an account's report shows its roles.
CREATE TABLE gmp.account_role (
    account_id text        NOT NULL REFERENCES gmp.account,
    role       text        NOT NULL CHECK (role IN ('operator', 'qc', 'qa', 'director', 'admin', 'auditor')),
    granted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    granted_by text        NOT NULL DEFAULT session_user,
    PRIMARY KEY (account_id, role)
);
COMMENT ON TABLE gmp.account_role IS 'The roles each person holds; mirrored by membership of the gmp_<role> group roles.';
SELECT gmp_audit.audit_table('gmp.account_role', 'account_id');

-- A fingerprint of the password verifier gmp last set, so a password changed outside
-- gmp (ALTER ROLE … PASSWORD, which PostgreSQL lets anyone do for themselves) is
-- noticed: such an account must set its password through gmp before signing.
CREATE TABLE gmp_meta.credential (
    account_id  text  PRIMARY KEY REFERENCES gmp.account,
    fingerprint bytea NOT NULL CHECK (octet_length(fingerprint) = 32)
);

-- Security events QA reviews (gmp audit alerts): failed signing attempts, lockouts,
-- unlocks. Append-only and audited, so they are in the chain too.
CREATE TABLE gmp_audit.security_event (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    account_id  text        NOT NULL REFERENCES gmp.account,
    kind        text        NOT NULL CHECK (kind IN ('signing_failed', 'account_locked', 'account_unlocked',
                                                    'account_disabled', 'account_enabled', 'password_reset',
                                                    'password_changed')),
    detail      text,
    recorded_by text        NOT NULL DEFAULT session_user
);
SELECT gmp_meta.make_append_only('gmp_audit.security_event');
SELECT gmp_audit.audit_table('gmp_audit.security_event', 'account_id');

-- Password policy, in one place.
CREATE FUNCTION gmp_meta.password_max_age() RETURNS interval LANGUAGE sql IMMUTABLE AS $$ SELECT interval '90 days' $$;
CREATE FUNCTION gmp_meta.temporary_password_max_age() RETURNS interval LANGUAGE sql IMMUTABLE AS $$ SELECT interval '7 days' $$;
CREATE FUNCTION gmp_meta.password_min_length() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 12 $$;

-- Every way a proposed password breaks the rules; empty when it is acceptable.
CREATE FUNCTION gmp_meta.password_problems(account_id text, password text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_remove(ARRAY[
        CASE WHEN length(password) < gmp_meta.password_min_length()
             THEN format('shorter than %s characters', gmp_meta.password_min_length()) END,
        -- Printable ASCII only: every client then derives the same key from it when
        -- signing (PostgreSQL normalises other characters with SASLprep).
        CASE WHEN password ~ '[^ -~]' THEN 'contains a character that is not printable ASCII' END,
        CASE WHEN strpos(lower(password), lower(account_id)) > 0 THEN 'contains the account id' END
    ], NULL)
$$;

CREATE FUNCTION gmp_meta.require_password_rules(account_id text, password text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    problems text[] := gmp_meta.password_problems(account_id, password);
BEGIN
    IF cardinality(problems) > 0 THEN
        RAISE EXCEPTION 'the password is not acceptable: %', array_to_string(problems, '; ')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('choose at least %s printable ASCII characters that do not contain the account id',
                                gmp_meta.password_min_length());
    END IF;
END;
$$;

CREATE FUNCTION gmp_meta.is_superuser() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user
$$;

-- Records the reason for the changes this transaction makes; refuses a blank one.
CREATE FUNCTION gmp_meta.give_reason(reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'a reason is required for this change'
            USING ERRCODE = 'P0001', HINT = 'say why, e.g. --reason "left the company"';
    END IF;
    PERFORM set_config('gmp.reason', reason, true);
END;
$$;

-- The calling person's account, checked usable: it exists, is active and unlocked,
-- and its password is not a temporary one awaiting change.
CREATE FUNCTION gmp_meta.active_person() RETURNS gmp.account
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
    END IF;
    RETURN person;
END;
$$;

-- Account administration is for gmp_admin members (the EXECUTE grants enforce it)
-- and for a superuser setting up the first administrator.
CREATE FUNCTION gmp_meta.require_administrator() RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT gmp_meta.is_superuser() THEN
        PERFORM gmp_meta.active_person();
    END IF;
END;
$$;

CREATE FUNCTION gmp_meta.account_for_change(account_id text) RETURNS gmp.account
LANGUAGE plpgsql STABLE AS $$
DECLARE
    target gmp.account;
BEGIN
    SELECT * INTO target FROM gmp.account WHERE id = account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no account %', account_id USING ERRCODE = 'P0002',
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

CREATE FUNCTION gmp_meta.role_group(role text) RETURNS text
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
CREATE FUNCTION gmp_meta.set_password(account_id text, password text, temporary boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET password_encryption = 'scram-sha-256' AS $$
DECLARE
    expires timestamptz := clock_timestamp()
        + CASE WHEN temporary THEN gmp_meta.temporary_password_max_age() ELSE gmp_meta.password_max_age() END;
BEGIN
    PERFORM gmp_meta.require_password_rules(account_id, password);
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

CREATE FUNCTION gmp_meta.record_security_event(account_id text, kind text, detail text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO gmp_audit.security_event (account_id, kind, detail) VALUES (account_id, kind, detail)
$$;

-- gmp user add: a new person with a temporary password and their roles.
CREATE FUNCTION gmp.add_account(account_id text, full_name text, password text, roles text[], reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    role text;
BEGIN
    PERFORM gmp_meta.require_administrator();
    PERFORM gmp_meta.give_reason(coalesce(nullif(btrim(reason), ''), 'new account'));
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
    PERFORM gmp_meta.require_password_rules(account_id, password);
    EXECUTE format('CREATE ROLE %I LOGIN IN ROLE gmp_person', account_id);
    INSERT INTO gmp.account (id, full_name, password_expires_at)
    VALUES (account_id, btrim(full_name), clock_timestamp());
    PERFORM gmp_meta.set_password(account_id, password, true);
    FOREACH role IN ARRAY coalesce(roles, '{}') LOOP
        EXECUTE format('GRANT %I TO %I', gmp_meta.role_group(role), account_id);
        INSERT INTO gmp.account_role (account_id, role) VALUES (account_id, role);
    END LOOP;
END;
$$;

CREATE FUNCTION gmp.grant_role(account_id text, role text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_meta.require_administrator();
    PERFORM gmp_meta.give_reason(reason);
    PERFORM gmp_meta.account_for_change(account_id);
    IF EXISTS (SELECT FROM gmp.account_role r WHERE r.account_id = grant_role.account_id AND r.role = grant_role.role) THEN
        RAISE EXCEPTION '% already holds the role %', account_id, role USING ERRCODE = 'P0001',
            HINT = 'gmp user show lists an account''s roles';
    END IF;
    EXECUTE format('GRANT %I TO %I', gmp_meta.role_group(role), account_id);
    INSERT INTO gmp.account_role (account_id, role) VALUES (account_id, role);
END;
$$;

CREATE FUNCTION gmp.revoke_role(account_id text, role text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_meta.require_administrator();
    PERFORM gmp_meta.give_reason(reason);
    PERFORM gmp_meta.account_for_change(account_id);
    EXECUTE format('REVOKE %I FROM %I', gmp_meta.role_group(role), account_id);
    DELETE FROM gmp.account_role r WHERE r.account_id = revoke_role.account_id AND r.role = revoke_role.role;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% does not hold the role %', account_id, role USING ERRCODE = 'P0001',
            HINT = 'gmp user show lists an account''s roles';
    END IF;
END;
$$;

-- Disabling stops logins at once and ends the person's open sessions.
CREATE FUNCTION gmp.disable_account(account_id text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target gmp.account;
BEGIN
    PERFORM gmp_meta.require_administrator();
    PERFORM gmp_meta.give_reason(reason);
    target := gmp_meta.account_for_change(account_id);
    IF target.status = 'disabled' THEN
        RAISE EXCEPTION 'account % is already disabled', account_id USING ERRCODE = 'P0001',
            HINT = 'nothing to do';
    END IF;
    EXECUTE format('ALTER ROLE %I NOLOGIN', account_id);
    UPDATE gmp.account SET status = 'disabled' WHERE id = account_id;
    PERFORM gmp_meta.record_security_event(account_id, 'account_disabled', reason);
    PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = account_id;
END;
$$;

-- Enabling also unlocks an account locked after failed signing attempts.
CREATE FUNCTION gmp.enable_account(account_id text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target gmp.account;
BEGIN
    PERFORM gmp_meta.require_administrator();
    PERFORM gmp_meta.give_reason(reason);
    target := gmp_meta.account_for_change(account_id);
    IF target.status = 'active' AND target.locked_at IS NULL THEN
        RAISE EXCEPTION 'account % is already enabled and unlocked', account_id USING ERRCODE = 'P0001',
            HINT = 'nothing to do';
    END IF;
    EXECUTE format('ALTER ROLE %I LOGIN', account_id);
    UPDATE gmp.account SET status = 'active', locked_at = NULL, failed_signing_attempts = 0 WHERE id = account_id;
    PERFORM gmp_meta.record_security_event(account_id,
        CASE WHEN target.locked_at IS NOT NULL THEN 'account_unlocked' ELSE 'account_enabled' END, reason);
END;
$$;

-- An administrator sets a temporary password (the person forgot theirs, or it expired).
CREATE FUNCTION gmp.reset_password(account_id text, password text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_meta.require_administrator();
    PERFORM gmp_meta.give_reason(reason);
    PERFORM gmp_meta.account_for_change(account_id);
    PERFORM gmp_meta.set_password(account_id, password, true);
    PERFORM gmp_meta.record_security_event(account_id, 'password_reset', reason);
END;
$$;

-- What gmp user list/show print: the account with its roles, and where the server's
-- view differs from gmp's (a role granted or a password changed outside gmp).
CREATE VIEW gmp.account_overview AS
SELECT a.id, a.full_name, a.status, a.locked_at, a.failed_signing_attempts, a.must_change_password,
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
                 WHERE s.rolname = a.id), true) AS password_changed_outside_gmp
FROM gmp.account a;

-- Reading: everyone sees who the people are (their names appear in signatures);
-- administrators also see security events.
REVOKE ALL ON ALL TABLES IN SCHEMA gmp, gmp_audit, gmp_meta FROM PUBLIC;
GRANT SELECT ON gmp_meta.schema_migrations, gmp_meta.installation TO PUBLIC;
GRANT SELECT ON gmp.account, gmp.account_role, gmp.account_overview TO gmp_person;
GRANT SELECT ON gmp_audit.security_event TO gmp_admin, gmp_qa, gmp_director, gmp_auditor;
GRANT SELECT ON gmp_audit.event, gmp_audit.chain_head TO gmp_qa, gmp_director, gmp_auditor;
GRANT EXECUTE ON FUNCTION gmp_audit.machinery_problems() TO gmp_person;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp, gmp_meta FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gmp.add_account(text, text, text, text[], text),
                          gmp.grant_role(text, text, text),
                          gmp.revoke_role(text, text, text),
                          gmp.disable_account(text, text),
                          gmp.enable_account(text, text),
                          gmp.reset_password(text, text, text) TO gmp_admin;
