-- Two inputs that decide a release are now bounded and owned (issue 20, items 7 and 11).
--
--   * The maximum dose M of a K/M endotoxin limit was an unsigned, unbounded number
--     typed at assignment: 0.0001 mL/kg/h turned a failing 40 EU/mL into a pass, and its
--     assigner could then release the lot. A K/M criterion now carries the permitted range
--     of M, from the specification document QA approved (the approval's criteria hash
--     covers these columns); the lot's M must lie in that range, it is set with an
--     e-signature (gmp.assign_specification, meaning "determined"), and the person who set
--     it takes no part in the lot's disposition (gmp_rules.check_disposition).
--   * The analyst named on a QC result was whatever the recorder typed. A result whose
--     analyst is not its recorder now counts for release only once that analyst has
--     confirmed it, signed, as themselves (gmp.qc_analyst_confirmation).
--
-- Versions approved before this migration have no dose range: a lot cannot be given a
-- dose against them (the assignment names the fix, a new version). Doses set before it
-- stay as they were, unsigned; their assigner is excluded from deciding all the same.

ALTER TABLE gmp.criterion
    ADD COLUMN max_dose_min  numeric,
    ADD COLUMN max_dose_max  numeric,
    ADD COLUMN max_dose_unit text,
    ADD CONSTRAINT criterion_max_dose_range_whole
        CHECK ((max_dose_min IS NULL) = (max_dose_max IS NULL) AND (max_dose_min IS NULL) = (max_dose_unit IS NULL)),
    ADD CONSTRAINT criterion_max_dose_range_kind CHECK (max_dose_min IS NULL OR kind = 'endotoxin_dose'),
    ADD CONSTRAINT criterion_max_dose_range_order CHECK (max_dose_min > 0 AND max_dose_min <= max_dose_max),
    ADD CONSTRAINT criterion_max_dose_unit CHECK (max_dose_unit = 'mL/kg/h'),
    ADD CONSTRAINT criterion_max_dose_min_finite
        CHECK (max_dose_min NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric)),
    ADD CONSTRAINT criterion_max_dose_max_finite
        CHECK (max_dose_max NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
COMMENT ON COLUMN gmp.criterion.max_dose_min IS
    'K/M criteria: the smallest maximum dose M a lot may be given (max_dose_unit); a smaller M would loosen K/M.';
COMMENT ON COLUMN gmp.criterion.max_dose_max IS 'K/M criteria: the largest maximum dose M a lot may be given.';

CREATE TABLE gmp.qc_analyst_confirmation (
    result_id    bigint      PRIMARY KEY REFERENCES gmp.qc_result,
    confirmed_by text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    confirmed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE gmp.qc_analyst_confirmation IS
    'The named analyst''s own confirmation of a result someone else recorded; signed "performed" over the result.';
SELECT gmp_meta.make_append_only('gmp.qc_analyst_confirmation');
SELECT gmp_audit.audit_table('gmp.qc_analyst_confirmation', 'result_id');
GRANT SELECT ON gmp.qc_analyst_confirmation TO gmp_person;
