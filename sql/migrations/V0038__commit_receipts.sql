-- V0038 commit receipts: the way to learn a lost COMMIT's outcome never answers wrongly
-- (issue 19, defect 2).
--
-- A COMMIT whose connection is lost leaves its outcome unknown; gmp says so and names the
-- transaction. Asked by transaction id alone (txid_status), the answer can be someone
-- else's: after a server crash, an id whose commit never reached the disk is handed out
-- again by the restarted server, and a later transaction with that id may commit.
--
--   * gmp_meta.commit_receipt: before each COMMIT of a writing transaction gmp stores a
--     request id it made (a random UUID) with the transaction's id, in the same round trip
--     that read the id before (gmp_meta.write_commit_receipt, sql/code/01_audit.sql). The
--     row commits or rolls back with the work: it is there exactly when the work committed,
--     and 'gmp db transaction ID:UUID' answers from it (docs/errors.md).
--   * Append-only for every role, the owner and superusers included (the guard fires
--     always: UPDATE, DELETE, TRUNCATE refused, 42501 as for every append-only table).
--   * Every person (gmp_person) may insert and read receipts: a row holds a random id, a
--     transaction id and a time, nothing personal, and nothing that names a record; the
--     answer to "did my write commit" must not depend on who asks (a colleague, QA).
--   * Not audited: a receipt is not a GMP record but the transaction's own proof of
--     commit; what the work changed is in the trail already. It lives in gmp_meta, so the
--     "table is not audited" check (schema gmp) and audit verify's reconciliation (tables
--     with an audit trigger) leave it out.
--   * Kept, not pruned: about 80 bytes a writing transaction (a million writes, ~80 MB).
--     A pruned receipt would turn "committed" into "not recorded" for an old question,
--     the wrong answer this table exists to prevent.

CREATE TABLE gmp_meta.commit_receipt (
    request_id uuid        PRIMARY KEY,
    xid        xid8        NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE gmp_meta.commit_receipt IS
    'Proof that a writing transaction committed, stored with its work: ''gmp db transaction ID:UUID'' (docs/errors.md).';

SELECT gmp_meta.make_append_only('gmp_meta.commit_receipt');

REVOKE ALL ON gmp_meta.commit_receipt FROM PUBLIC;
GRANT SELECT, INSERT ON gmp_meta.commit_receipt TO gmp_person;
