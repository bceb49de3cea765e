-- V0031 label prints: every printed label is an audited event (issue 16, labels).
--
--   * gmp.label_print: one row per label printed (a lot's, or one unit's by division),
--     with the ISBT 128 data structures its bar codes carried, the formats written (a
--     label-sheet PDF, ZPL for a label printer, or both from one command), who printed it and when.
--   * A label printed again for the same lot or unit is a reprint and needs its reason
--     (a second label in circulation is how a mix-up starts). The rule lives in
--     gmp.record_label_print (sql/code/18_labels.sql); the CHECK below holds whoever inserts.
--   * Append-only and audited: a print is never edited or deleted.

CREATE TABLE gmp.label_print (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    din           text        NOT NULL REFERENCES gmp.lot,
    division      integer     CHECK (division BETWEEN 1 AND 999),
    formats       text[]      NOT NULL CHECK (cardinality(formats) BETWEEN 1 AND 2 AND formats <@ ARRAY['pdf', 'zpl']
                                              AND array_position(formats, NULL) IS NULL),
    din_data      text        NOT NULL CHECK (din_data ~ '^=[A-NP-Z1-9][A-NP-Z0-9]{4}[0-9]{8}[0-9]{2}$'),
    product_data  text        NOT NULL CHECK (product_data ~ '^=<[A-Z0-9]{5}[A-Za-z0-9][A-Z0-9][a-z0-9]$'),
    expiry_data   text        NOT NULL CHECK (expiry_data ~ '^=>[0-9]{6}$'),
    reprint       boolean     NOT NULL,
    reason        text        CHECK (btrim(reason) <> '' AND length(reason) <= 2000 AND reason !~ '[[:cntrl:]]'),
    printed_by    text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    printed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (substr(din_data, 2, 13) = din),
    CHECK (NOT reprint OR reason IS NOT NULL)
);
COMMENT ON TABLE gmp.label_print IS 'Every label printed, lot or unit, with its bar codes'' data; a reprint carries its reason; append-only.';
CREATE INDEX label_print_target ON gmp.label_print (din, division);
SELECT gmp_meta.make_append_only('gmp.label_print');
SELECT gmp_audit.audit_table('gmp.label_print', 'id');

GRANT SELECT ON gmp.label_print TO gmp_person;
