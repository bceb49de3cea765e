-- Voiding a wrongly imported temperature log, and locks no other role can take
-- (issue 20, item 9 and the advisory-lock finding).
--
--   * One future-dated reading (2099) blinded a tank for ever: imports go in time
--     order, so every later real reading was refused and no excursion opened. The
--     database now refuses a reading later than its clock plus a small tolerance
--     (gmp_rules.reading_clock_tolerance, sql/code/13_readings.sql); a log already
--     imported wrongly is voided by QA with a signature (gmp.void_readings_import):
--     the void is a record of its own, below, and the import and its readings stay.
--     Voided readings no longer count for the device's time order or its excursions;
--     an excursion they opened, not yet assessed, is voided with them.
--   * Imports of a device and versions of a specification code were serialised by
--     pg_advisory_xact_lock on keys any role could take, so anyone could stall them.
--     They are now row locks: a device's import locks the device's row, and a
--     specification import locks its code's row in gmp_meta.serial_lock; no gmp role
--     may lock either (row locks need UPDATE on the table, which no role has).

-- QA's void of a readings import: one per import, never changed, signed (meaning
-- "approved") over this row.
CREATE TABLE gmp.reading_import_void (
    import_id bigint      PRIMARY KEY REFERENCES gmp.reading_import,
    reason    text        NOT NULL CHECK (btrim(reason) <> '' AND length(reason) <= 4000),
    voided_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    voided_by text        NOT NULL DEFAULT session_user REFERENCES gmp.account
);
COMMENT ON TABLE gmp.reading_import_void IS 'Readings imports voided by QA (signed): their readings stay, but no longer count for the device''s time order or excursions; append-only.';
SELECT gmp_meta.make_append_only('gmp.reading_import_void');
SELECT gmp_audit.audit_table('gmp.reading_import_void', 'import_id');
GRANT SELECT ON gmp.reading_import_void TO gmp_person;

-- An excursion opened only by readings that were then voided is voided with them: it no
-- longer blocks release or shipping, and its reason is its import's void. A voided
-- excursion may have no end (the voided readings were still out of limit).
ALTER TABLE gmp.excursion DROP CONSTRAINT excursion_status_check,
    ADD CONSTRAINT excursion_status_check CHECK (status IN ('open', 'closed', 'voided')),
    DROP CONSTRAINT excursion_check3,
    ADD CONSTRAINT excursion_closed_has_ended CHECK (status <> 'closed' OR ended_at IS NOT NULL);

-- Keys of work done one at a time, e.g. ('gmp.specification', code): the row is locked
-- (SELECT … FOR UPDATE) by gmp's SECURITY DEFINER functions until commit. Internal:
-- no gmp role may read or lock it.
CREATE TABLE gmp_meta.serial_lock (
    scope text NOT NULL,
    key   text NOT NULL,
    PRIMARY KEY (scope, key)
);
COMMENT ON TABLE gmp_meta.serial_lock IS 'Rows locked by gmp''s functions to serialise work per key (instead of advisory locks, which any role can take).';
REVOKE ALL ON gmp_meta.serial_lock FROM PUBLIC;
