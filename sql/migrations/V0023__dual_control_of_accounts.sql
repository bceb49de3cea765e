-- Dual control of accounts (issue 20, items 5 and 6).
--
-- Item 5. An administrator knows every password they set (a new account's, a reset's),
-- so until now they could log in as the person, change the password and sign as them.
-- A password an administrator set now puts the account on hold: it may change the
-- password, and nothing else, until a second person (QA or a director, not that
-- administrator, not the account itself) confirms with their own e-signature that the
-- owner set their own password. The hold is kept on the account (credential_reset_*),
-- the confirmation is a signed record (gmp.identity_confirmation).
--
-- Item 6. An administrator could give a second account they control the qa role and
-- release with it. A role grant by an administrator is now a proposal
-- (gmp.role_proposal) that takes effect only when a second administrator approves it
-- (gmp.role_decision): not the proposer, not the grantee, and not anyone in the
-- proposer's line of account creation (created by them, or their creator, directly or
-- through accounts created in between). The database owner (a superuser) setting up
-- the first people grants directly: a superuser can do anything in any case.

-- Who set the account's current password for its owner, while no second person has
-- confirmed since. NULL: the owner's own password (or one set by the database owner).
ALTER TABLE gmp.account
    ADD COLUMN credential_reset_at timestamptz,
    ADD COLUMN credential_reset_by text,
    ADD CONSTRAINT account_credential_reset_whole CHECK ((credential_reset_at IS NULL) = (credential_reset_by IS NULL));
COMMENT ON COLUMN gmp.account.credential_reset_by IS
    'The administrator who set the current password (new account or reset); until a second person confirms the owner''s identity (gmp.identity_confirmation), the account does no GMP work.';

-- A second person's signed confirmation that the owner, not the administrator who set
-- the password, now holds the account. Signed with meaning "verified".
CREATE TABLE gmp.identity_confirmation (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      text        NOT NULL REFERENCES gmp.account,
    password_set_at timestamptz NOT NULL,
    password_set_by text        NOT NULL,
    statement       text,
    confirmed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    confirmed_by    text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    CHECK (confirmed_by <> account_id AND confirmed_by <> password_set_by)
);
COMMENT ON TABLE gmp.identity_confirmation IS
    'A QA person''s or director''s signed confirmation that the owner set their own password after an administrator set one.';
SELECT gmp_meta.make_append_only('gmp.identity_confirmation');
SELECT gmp_audit.audit_table('gmp.identity_confirmation', 'id');

-- A role an administrator proposes for an account; it takes effect on a second
-- administrator's approval.
CREATE TABLE gmp.role_proposal (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  text        NOT NULL REFERENCES gmp.account,
    role        text        NOT NULL CHECK (role IN ('operator', 'qc', 'qa', 'director', 'admin', 'auditor')),
    reason      text        NOT NULL CHECK (btrim(reason) <> ''),
    proposed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    proposed_by text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    CHECK (proposed_by <> account_id)
);
COMMENT ON TABLE gmp.role_proposal IS 'Role grants proposed by an administrator, waiting for or decided by a second one.';
SELECT gmp_meta.make_append_only('gmp.role_proposal');
SELECT gmp_audit.audit_table('gmp.role_proposal', 'account_id');

-- The decision on a proposal, one at most: approved (by a second administrator, or the
-- database owner) or declined (by any administrator, the proposer withdrawing it).
CREATE TABLE gmp.role_decision (
    proposal_id bigint      PRIMARY KEY REFERENCES gmp.role_proposal,
    outcome     text        NOT NULL CHECK (outcome IN ('approved', 'declined')),
    reason      text        NOT NULL CHECK (btrim(reason) <> ''),
    decided_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    decided_by  text        NOT NULL DEFAULT session_user
);
COMMENT ON TABLE gmp.role_decision IS 'Approval (the second person of dual control) or refusal of a proposed role grant.';
SELECT gmp_meta.make_append_only('gmp.role_decision');
SELECT gmp_audit.audit_table('gmp.role_decision', 'proposal_id');

-- A held role says who proposed it (granted_by) and who approved it; NULL approver for
-- grants made before dual control or by the database owner.
ALTER TABLE gmp.account_role
    ADD COLUMN approved_by text,
    ADD COLUMN proposal_id bigint REFERENCES gmp.role_proposal;

-- Role changes are security events too: gmp audit alerts flags them.
ALTER TABLE gmp_audit.security_event DROP CONSTRAINT security_event_kind_check;
ALTER TABLE gmp_audit.security_event ADD CONSTRAINT security_event_kind_check CHECK (kind IN (
    'signing_failed', 'account_locked', 'account_unlocked', 'account_disabled', 'account_enabled',
    'password_reset', 'password_changed', 'identity_confirmed',
    'role_proposed', 'role_granted', 'role_declined', 'role_revoked'));

GRANT SELECT ON gmp.identity_confirmation, gmp.role_proposal, gmp.role_decision TO gmp_person;
