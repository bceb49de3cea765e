-- V0034 master batch records (issue 15): the approved process a lot is made under, and
-- what its executed steps record against it.
--
--   * A master batch record is a controlled document with the life of a specification:
--     imported as a draft version (code@version) from a file under config/processes/,
--     approved by QA with an e-signature, never edited; a newer approved version of the
--     same code supersedes it. Its steps, parameters and requirements are written once,
--     in the import's transaction (sql/code/23_master_records.sql).
--   * A lot is made under one approved version (gmp.lot_master_record); its steps then
--     record their parameter values (gmp.step_parameter), judged by the database against
--     the master's limits, and a second person checks them (gmp.step_check, signed
--     "verified").
--
-- Rules, triggers and functions: sql/code/23_master_records.sql.

-- Units of process parameters join the house unit vocabulary.
INSERT INTO gmp_meta.unit VALUES
    ('°C', 'temperature', NULL), ('h', 'duration', NULL), ('min', 'duration', NULL),
    ('x g', 'relative centrifugal force', NULL), ('cells/cm²', 'seeding density', NULL), ('mL', 'volume', NULL);

CREATE TABLE gmp.master_record (
    id             text        PRIMARY KEY,
    code           text        NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    version        integer     NOT NULL CHECK (version > 0),
    title          text        NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 200 AND title !~ '[[:cntrl:]]'),
    product_kind   text        NOT NULL CHECK (product_kind IN ('cells', 'conditioned_medium', 'extracellular_vesicles')),
    stage          text        NOT NULL CHECK (stage IN ('master_cell_bank', 'working_cell_bank', 'drug_product')),
    source_text    text        NOT NULL,
    source_sha256  bytea       NOT NULL,
    status         text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved')),
    content_sha256 bytea,
    imported_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    imported_by    text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    imported_xact  bigint      NOT NULL DEFAULT txid_current(),
    approved_at    timestamptz,
    approved_by    text        REFERENCES gmp.account,
    UNIQUE (code, version),
    CHECK (id = code || '@' || version),
    CHECK ((status = 'approved') = (approved_at IS NOT NULL AND approved_by IS NOT NULL AND content_sha256 IS NOT NULL))
);
COMMENT ON TABLE gmp.master_record IS 'Master batch record versions (controlled documents): draft, then approved by QA; never edited once approved.';
SELECT gmp_audit.audit_table('gmp.master_record', 'id');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON gmp.master_record FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp.master_record ENABLE ALWAYS TRIGGER no_truncate;

-- The ordered steps of a version: each of the existing kinds, at most once (a passage
-- step stands for every passage), in rank order.
CREATE TABLE gmp.master_step (
    master_id      text    NOT NULL REFERENCES gmp.master_record,
    kind           text    NOT NULL REFERENCES gmp_meta.step_kind,
    ordinal        integer NOT NULL CHECK (ordinal > 0),
    procedure_code text    NOT NULL CHECK (procedure_code ~ '^SOP-[A-Z0-9]+(-[A-Z0-9]+)*$' AND length(procedure_code) <= 32),
    check_required boolean NOT NULL,
    PRIMARY KEY (master_id, kind),
    UNIQUE (master_id, ordinal)
);
COMMENT ON TABLE gmp.master_step IS 'The steps of a master batch record version, in order; written once, with the version.';
SELECT gmp_meta.make_append_only('gmp.master_step');
SELECT gmp_audit.audit_table('gmp.master_step', 'master_id');

CREATE TABLE gmp.master_parameter (
    master_id text    NOT NULL,
    kind      text    NOT NULL,
    name      text    NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    ordinal   integer NOT NULL CHECK (ordinal > 0),
    unit      text    NOT NULL REFERENCES gmp_meta.unit,
    at_least  numeric CHECK (at_least NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric)),
    at_most   numeric CHECK (at_most NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric)),
    PRIMARY KEY (master_id, kind, name),
    UNIQUE (master_id, kind, ordinal),
    FOREIGN KEY (master_id, kind) REFERENCES gmp.master_step (master_id, kind),
    CHECK (at_least IS NOT NULL OR at_most IS NOT NULL),
    CHECK (at_least IS NULL OR at_most IS NULL OR at_least <= at_most)
);
COMMENT ON TABLE gmp.master_parameter IS 'Parameters of a master step: unit and inclusive limits (at least, at most); written once.';
SELECT gmp_meta.make_append_only('gmp.master_parameter');
SELECT gmp_audit.audit_table('gmp.master_parameter', 'master_id');

CREATE TABLE gmp.master_material (
    master_id text NOT NULL,
    kind      text NOT NULL,
    category  text NOT NULL REFERENCES gmp_meta.material_category,
    PRIMARY KEY (master_id, kind, category),
    FOREIGN KEY (master_id, kind) REFERENCES gmp.master_step (master_id, kind)
);
COMMENT ON TABLE gmp.master_material IS 'Material categories a master step needs consumed; written once.';
SELECT gmp_meta.make_append_only('gmp.master_material');
SELECT gmp_audit.audit_table('gmp.master_material', 'master_id');

CREATE TABLE gmp.master_equipment (
    master_id      text NOT NULL,
    kind           text NOT NULL,
    equipment_kind text NOT NULL REFERENCES gmp_meta.equipment_kind,
    PRIMARY KEY (master_id, kind, equipment_kind),
    FOREIGN KEY (master_id, kind) REFERENCES gmp.master_step (master_id, kind)
);
COMMENT ON TABLE gmp.master_equipment IS 'Equipment kinds a master step needs used; written once.';
SELECT gmp_meta.make_append_only('gmp.master_equipment');
SELECT gmp_audit.audit_table('gmp.master_equipment', 'master_id');

-- The one approved version a lot is made under, fixed when the lot is created.
CREATE TABLE gmp.lot_master_record (
    din            text        PRIMARY KEY REFERENCES gmp.lot,
    master_code    text        NOT NULL,
    master_version integer     NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by    text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    FOREIGN KEY (master_code, master_version) REFERENCES gmp.master_record (code, version)
);
COMMENT ON TABLE gmp.lot_master_record IS 'The approved master batch record version each lot is made under; append-only.';
SELECT gmp_meta.make_append_only('gmp.lot_master_record');
SELECT gmp_audit.audit_table('gmp.lot_master_record', 'din');

-- The parameter values an executed step recorded; within_limits is set by the database,
-- and an out-of-range value names the deviation it opened.
CREATE TABLE gmp.step_parameter (
    step_id       bigint      NOT NULL REFERENCES gmp.manufacturing_step,
    name          text        NOT NULL,
    value         numeric     NOT NULL CHECK (value NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric)),
    unit          text        NOT NULL REFERENCES gmp_meta.unit,
    within_limits boolean     NOT NULL,
    deviation_id  text        REFERENCES gmp.deviation,
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by   text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    PRIMARY KEY (step_id, name),
    CHECK (within_limits = (deviation_id IS NULL))
);
COMMENT ON TABLE gmp.step_parameter IS 'Parameter values of executed steps, judged against the master''s limits; append-only.';
SELECT gmp_meta.make_append_only('gmp.step_parameter');
SELECT gmp_audit.audit_table('gmp.step_parameter', 'step_id');

-- The second person's check of an executed step; its e-signature (meaning "verified") is
-- the gmp.signature over this row (record_table 'gmp.step_check', record_key step_id).
CREATE TABLE gmp.step_check (
    step_id    bigint      PRIMARY KEY REFERENCES gmp.manufacturing_step,
    checked_by text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    checked_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE gmp.step_check IS 'Second-person checks of executed steps, each signed "verified"; append-only.';
SELECT gmp_meta.make_append_only('gmp.step_check');
SELECT gmp_audit.audit_table('gmp.step_check', 'step_id');

GRANT SELECT ON gmp.master_record, gmp.master_step, gmp.master_parameter, gmp.master_material, gmp.master_equipment,
    gmp.lot_master_record, gmp.step_parameter, gmp.step_check TO gmp_person;
