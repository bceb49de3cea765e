-- Issue 13 (one home per routine): logic that stood twice in the code files has one home,
-- and the helpers it replaces are dropped (IF EXISTS: on a fresh install the code files,
-- which create them, have not run yet).
--
-- The specification and master batch record imports both numbered a new version of their
-- code, refused a file already imported and inserted the same header row, each with its
-- own copy. That logic has one home now,
-- gmp_rules.insert_document_version (sql/code/07_specifications.sql), which takes the
-- lock of a code as a row of gmp_meta.serial_lock for both kinds: the master batch record
-- import used to take an advisory lock any role could hold to stall it.
-- gmp_rules.lock_specification_code was the specification's own lock and is used no more.
DROP FUNCTION IF EXISTS gmp_rules.lock_specification_code(text);

-- The same for approving and declining a role proposal: the checks both made first, in the
-- same order, are gmp_rules.role_proposal_to_decide (sql/code/02_accounts.sql), which
-- replaces gmp_rules.open_role_proposal.
DROP FUNCTION IF EXISTS gmp_rules.open_role_proposal(text, text);
