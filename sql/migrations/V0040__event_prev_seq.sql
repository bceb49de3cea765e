-- V0040 each row event names the event before it on the same record (issue 18).
--
-- gmp_audit.event.prev_seq: for an UPDATE or DELETE chained from now on, the seq of the
-- latest earlier event with the same table_name and record_key (filled at chaining,
-- gmp_audit.chain_batch in sql/code/01_audit.sql); NULL for an INSERT, for an event with
-- no record key, for a key with no earlier event, and for every event chained before this
-- migration. It is a hint, not evidence: it is not in the hash, and `gmp audit verify`
-- trusts no value of it. It lets the verifier check each key's history as links
-- (event n's old image = event prev(n)'s new image) in any order, in the one pass that
-- already hashes every event, instead of reading and sorting the whole trail a second time
-- (docs/audit-trail.md, "Links"). A wrong or missing value can only make the verifier
-- take the slower key-ordered merge for that table.
--
-- event_record gains seq as its last column, so that the chaining finds a key's latest
-- event (and the verifier a live row's) with one index probe instead of visiting the
-- key's whole history; it serves every query the two-column index served.

ALTER TABLE gmp_audit.event ADD COLUMN prev_seq bigint CHECK (prev_seq > 0 AND prev_seq < seq);
COMMENT ON COLUMN gmp_audit.event.prev_seq IS
    'The seq of the previous event on the same table and record key, for UPDATE and DELETE events chained since V0040 (a hint for verification; not hashed).';

CREATE INDEX event_record_seq ON gmp_audit.event (table_name, record_key, seq);
DROP INDEX gmp_audit.event_record;
