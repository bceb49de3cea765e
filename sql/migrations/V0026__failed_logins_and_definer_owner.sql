-- Failed logins are counted, alerted and lock the account (issue 20, item 2), and gmp's
-- SECURITY DEFINER functions get an owner of their own that is not a superuser (issue 20,
-- definer-owner finding).
--
-- PostgreSQL 15 runs no SQL at login, so a failed password is seen only in the server's
-- log (FATAL, SQLSTATE 28P01). gmp reads the server's jsonlog from the last position it
-- read (gmp_audit.record_failed_logins, sql/code/02_accounts.sql), records each failure
-- of a gmp account as a security event and locks the account after five in a row; a
-- logged successful login (log_connections) ends a run. docs/signatures.md, "Logins".

ALTER TABLE gmp_audit.security_event DROP CONSTRAINT security_event_kind_check;
ALTER TABLE gmp_audit.security_event ADD CONSTRAINT security_event_kind_check CHECK (kind IN (
    'signing_failed', 'account_locked', 'account_unlocked', 'account_disabled', 'account_enabled',
    'password_reset', 'password_changed', 'identity_confirmed',
    'role_proposed', 'role_granted', 'role_declined', 'role_revoked',
    'login_failed', 'login_succeeded'));

-- The failures in a row of an account are counted from its events since its last
-- successful login or unlock.
CREATE INDEX security_event_account ON gmp_audit.security_event (account_id, id);

-- How far this database has read the server's log. One row; a row copied from another
-- database (CREATE DATABASE … TEMPLATE, a restore) names that database and is started
-- again at the log's end. Bookkeeping, not a record: it is not audited.
CREATE TABLE gmp_audit.login_log_position (
    singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    database_oid oid         NOT NULL,
    log_file     text        NOT NULL,
    log_offset   bigint      NOT NULL CHECK (log_offset >= 0),
    read_at      timestamptz NOT NULL,
    -- Accounts with failed logins in a row not yet ended: only their successful logins
    -- need reading, so a log piece with no failure and none of them is skipped unsplit.
    watched      text[]      NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE gmp_audit.login_log_position IS
    'The server log file (jsonlog) and byte offset up to which failed and successful logins were read.';

-- The owner of gmp's SECURITY DEFINER functions. They were owned by whoever migrated,
-- a superuser, so an injection into any of them would run as the superuser. gmp_definer
-- cannot log in, is no superuser, creates no role or database, bypasses no row security
-- and may create nothing in any schema: it reads and writes gmp's tables (no DELETE: no
-- definer owned by it deletes; no TRUNCATE; the ledgers read only) and reads pg_authid,
-- whose SCRAM verifiers the signing ceremony checks proofs against. Which functions it
-- owns, and which stay with the superuser and why: gmp_meta.superuser_definers()
-- (sql/code/17_privileges.sql). Roles are cluster-wide: created once, under the lock.
LOCK TABLE pg_catalog.pg_authid IN SHARE ROW EXCLUSIVE MODE;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gmp_definer') THEN
        CREATE ROLE gmp_definer NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;
    END IF;
END;
$$;
GRANT USAGE ON SCHEMA gmp, gmp_rules, gmp_audit, gmp_meta, gmp_private TO gmp_definer;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA gmp, gmp_audit, gmp_meta, gmp_private TO gmp_definer;
REVOKE INSERT, UPDATE ON gmp_meta.schema_migrations, gmp_meta.code_applied FROM gmp_definer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA gmp, gmp_audit, gmp_meta, gmp_private TO gmp_definer;
-- Tables later migrations create (by the role that migrates) are the definer's to use too.
ALTER DEFAULT PRIVILEGES IN SCHEMA gmp, gmp_audit, gmp_meta, gmp_private
    GRANT SELECT, INSERT, UPDATE ON TABLES TO gmp_definer;
ALTER DEFAULT PRIVILEGES IN SCHEMA gmp, gmp_audit, gmp_meta, gmp_private
    GRANT USAGE, SELECT ON SEQUENCES TO gmp_definer;
GRANT SELECT ON pg_catalog.pg_authid TO gmp_definer;
