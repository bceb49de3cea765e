-- V0033 training: people qualified for the work (21 CFR 1271.170(b), 211.25(a));
-- issue 15, part 1.
--
--   * Controlled procedures (gmp.procedure): one row per version of an SOP code, the
--     version numbered by the database, with its effective date and the retraining window
--     after which a qualification on the previous version lapses; approved by QA with a
--     signature; append-only.
--   * What a procedure covers (gmp.procedure_coverage): manufacturing step kinds and QC
--     test codes; at most one procedure code covers a step kind or a test (unique), so a
--     step or result has at most one procedure in force.
--   * Training records (gmp.training_record, signed "performed" by the trainer) and the
--     trainee's acknowledgement (gmp.training_acknowledgement, signed "reviewed" by the
--     trainee); only a record with both qualifies.
--   * gmp.manufacturing_step.procedure_code and gmp.qc_result.procedure_code: the procedure
--     a step or result followed, filled in by the rules (sql/code/22_training.sql), which
--     refuse a performer, analyst or verifier not qualified at the time.

CREATE TABLE gmp.procedure (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                text        NOT NULL CHECK (code ~ '^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$' AND length(code) <= 40),
    version             integer     NOT NULL CHECK (version >= 1),
    title               text        NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 200 AND title !~ '[[:cntrl:]]'),
    effective_on        date        NOT NULL,
    retrain_within_days integer     NOT NULL DEFAULT 0 CHECK (retrain_within_days BETWEEN 0 AND 366),
    approved_by         text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    approved_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (code, version),
    UNIQUE (code, effective_on)
);
COMMENT ON TABLE gmp.procedure IS 'Controlled procedures (SOPs), one row per version, approved by QA with a signature; append-only.';
SELECT gmp_meta.make_append_only('gmp.procedure');
SELECT gmp_audit.audit_table('gmp.procedure', 'id');

-- What a procedure code covers, declared by the version that first named it.
CREATE TABLE gmp.procedure_coverage (
    id        bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code      text    NOT NULL,
    version   integer NOT NULL,
    step_kind text    UNIQUE REFERENCES gmp_meta.step_kind,
    test      text    UNIQUE CHECK (test ~ '^[a-z0-9_]{1,40}$'),
    FOREIGN KEY (code, version) REFERENCES gmp.procedure (code, version),
    CHECK (num_nonnulls(step_kind, test) = 1)
);
COMMENT ON TABLE gmp.procedure_coverage IS 'The step kinds and QC tests each procedure code covers; one code per kind or test; append-only.';
CREATE INDEX procedure_coverage_code ON gmp.procedure_coverage (code);
SELECT gmp_meta.make_append_only('gmp.procedure_coverage');
SELECT gmp_audit.audit_table('gmp.procedure_coverage', 'id');

-- A person trained on one version of a procedure, signed "performed" by the trainer.
CREATE TABLE gmp.training_record (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trainee     text        NOT NULL REFERENCES gmp.account,
    code        text        NOT NULL,
    version     integer     NOT NULL,
    trained_at  timestamptz NOT NULL,
    trainer     text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    note        text        CHECK (btrim(note) <> '' AND length(note) <= 1000 AND note !~ '[[:cntrl:]]'),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (code, version) REFERENCES gmp.procedure (code, version),
    CHECK (trainee <> trainer)
);
COMMENT ON TABLE gmp.training_record IS 'Training of a person on a procedure version, signed by the trainer; append-only.';
CREATE INDEX training_record_trainee ON gmp.training_record (trainee, code, version);
SELECT gmp_meta.make_append_only('gmp.training_record');
SELECT gmp_audit.audit_table('gmp.training_record', 'id');

-- The trainee's own acknowledgement of a training record, signed "reviewed".
CREATE TABLE gmp.training_acknowledgement (
    training_id     bigint      PRIMARY KEY REFERENCES gmp.training_record,
    acknowledged_by text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    acknowledged_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE gmp.training_acknowledgement IS 'The trainee''s signed acknowledgement of a training record; append-only.';
SELECT gmp_meta.make_append_only('gmp.training_acknowledgement');
SELECT gmp_audit.audit_table('gmp.training_acknowledgement', 'training_id');

-- The procedure each step and result followed (NULL: none covered it then).
ALTER TABLE gmp.manufacturing_step ADD COLUMN procedure_code text CHECK (length(procedure_code) <= 40);
ALTER TABLE gmp.qc_result ADD COLUMN procedure_code text CHECK (length(procedure_code) <= 40);

GRANT SELECT ON gmp.procedure, gmp.procedure_coverage, gmp.training_record, gmp.training_acknowledgement TO gmp_person;
