-- Issue 15, part 3: QA's signed review of a lot's executed batch record.
--
-- The review covers the SHA-256 of the batch record's reviewed content
-- (gmp_rules.batch_record_content, sql/code/24_batch_record.sql). A lot made under a master
-- batch record needs a review whose hash is the current content's before release
-- (gmp_rules.batch_record_blockers, sql/code/10_release.sql).

-- QA's review: the hash of the batch record content the reviewer was shown, signed
-- "reviewed" (the signature, gmp.signature keyed by id, covers the row and so the hash).
CREATE TABLE gmp.batch_record_review (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    din             text        NOT NULL REFERENCES gmp.lot,
    document_sha256 bytea       NOT NULL CHECK (octet_length(document_sha256) = 32),
    statement       text        CHECK (btrim(statement) <> '' AND length(statement) <= 4000 AND statement !~ '[[:cntrl:]]'),
    reviewed_by     text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    reviewed_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX batch_record_review_din ON gmp.batch_record_review (din, id);
COMMENT ON TABLE gmp.batch_record_review IS 'QA''s signed reviews of executed batch records, over the record''s SHA-256; append-only.';
SELECT gmp_meta.make_append_only('gmp.batch_record_review');
SELECT gmp_audit.audit_table('gmp.batch_record_review', 'id');
GRANT SELECT ON gmp.batch_record_review TO gmp_person;
