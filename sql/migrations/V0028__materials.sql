-- V0023 materials: the reagent and material lots a batch record names (21 CFR 1271.210,
-- 211.84, 211.184, 211.188(b)); issue 14, the materials half.
--
--   * A register of material types (gmp.material_type), each of a category from a
--     closed vocabulary, and of received material lots (gmp.material_lot): supplier,
--     supplier lot, quantity, receipt and its condition, expiry, days usable after
--     opening, the SHA-256 of the supplier's certificate, storage condition.
--   * A material lot starts in quarantine; QA releases or rejects it with a signed
--     disposition (gmp.material_disposition); a released lot may still be rejected
--     (a supplier's recall). Nothing else about it changes but its one opening.
--   * gmp.material_consumption: which material lot, how much, in which manufacturing
--     step or QC result (1271.210(d)). Its rule (sql/code/16_materials.sql) refuses a
--     lot that was not released at the step's time, is rejected, expired, or past its
--     use-by after opening, whoever inserts.
--   * The routines, the guards and their trigger bindings live in 16_materials.sql; the
--     same tables with an equipment register follow this pattern.

CREATE TABLE gmp_meta.material_category (
    category    text PRIMARY KEY CHECK (category ~ '^[a-z][a-z_]*$'),
    description text NOT NULL CHECK (btrim(description) <> '')
);
COMMENT ON TABLE gmp_meta.material_category IS 'The closed vocabulary of material categories.';
-- Audited before its rows go in, so the trail holds every row (gmp audit verify reconciles).
SELECT gmp_meta.make_append_only('gmp_meta.material_category');
SELECT gmp_audit.audit_table('gmp_meta.material_category', 'category');
INSERT INTO gmp_meta.material_category VALUES
    ('culture_medium', 'culture medium'),
    ('platelet_lysate_or_serum', 'human platelet lysate or serum'),
    ('dissociation_enzyme', 'dissociation enzyme (trypsin, TrypLE, collagenase)'),
    ('cryoprotectant', 'cryoprotectant (DMSO) and freezing media'),
    ('buffer', 'buffers and solutions (PBS, saline)'),
    ('kit', 'test and reagent kits'),
    ('consumable', 'consumables in contact with the product: bags, vials, flasks, tubing');

-- The units a received or consumed quantity is counted in.
CREATE TABLE gmp_meta.material_unit (
    symbol text PRIMARY KEY CHECK (btrim(symbol) <> ''),
    kind   text NOT NULL CHECK (kind IN ('volume', 'mass', 'count'))
);
COMMENT ON TABLE gmp_meta.material_unit IS 'The units of material quantities.';
-- Audited before its rows go in, so the trail holds every row (gmp audit verify reconciles).
SELECT gmp_meta.make_append_only('gmp_meta.material_unit');
SELECT gmp_audit.audit_table('gmp_meta.material_unit', 'symbol');
INSERT INTO gmp_meta.material_unit VALUES
    ('L', 'volume'), ('mL', 'volume'), ('µL', 'volume'), ('g', 'mass'), ('mg', 'mass'), ('µg', 'mass'),
    ('each', 'count'), ('vial', 'count'), ('bag', 'count'), ('kit', 'count'), ('test', 'count');

CREATE TABLE gmp.material_type (
    code              text        PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    name              text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200 AND name !~ '[[:cntrl:]]'),
    category          text        NOT NULL REFERENCES gmp_meta.material_category,
    storage_condition text        NOT NULL CHECK (btrim(storage_condition) <> '' AND length(storage_condition) <= 200
                                                  AND storage_condition !~ '[[:cntrl:]]'),
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by        text        NOT NULL DEFAULT session_user REFERENCES gmp.account
);
COMMENT ON TABLE gmp.material_type IS 'Material types: culture media, lysate, enzymes, cryoprotectant, buffers, kits, consumables; append-only.';
SELECT gmp_meta.make_append_only('gmp.material_type');
SELECT gmp_audit.audit_table('gmp.material_type', 'code');

CREATE SEQUENCE gmp_meta.material_lot_number;

CREATE TABLE gmp.material_lot (
    id                 text        PRIMARY KEY CHECK (id ~ '^MAT[0-9]{2}-[0-9]{5,}$'),
    type_code          text        NOT NULL REFERENCES gmp.material_type,
    supplier           text        NOT NULL CHECK (btrim(supplier) <> '' AND length(supplier) <= 200 AND supplier !~ '[[:cntrl:]]'),
    supplier_lot       text        NOT NULL CHECK (btrim(supplier_lot) <> '' AND length(supplier_lot) <= 100
                                                   AND supplier_lot !~ '[[:cntrl:]]'),
    quantity           numeric     NOT NULL CHECK (quantity > 0 AND quantity NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric)),
    unit               text        NOT NULL REFERENCES gmp_meta.material_unit,
    received_at        timestamptz NOT NULL,
    received_by        text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    receipt_condition  text        NOT NULL CHECK (btrim(receipt_condition) <> '' AND length(receipt_condition) <= 1000
                                                   AND receipt_condition !~ '[[:cntrl:]]'),
    expires_on         date        NOT NULL,
    days_after_opening integer     CHECK (days_after_opening > 0),
    certificate_sha256 bytea       NOT NULL CHECK (octet_length(certificate_sha256) = 32),
    storage_condition  text        NOT NULL CHECK (btrim(storage_condition) <> '' AND length(storage_condition) <= 200
                                                   AND storage_condition !~ '[[:cntrl:]]'),
    status             text        NOT NULL DEFAULT 'quarantine' CHECK (status IN ('quarantine', 'released', 'rejected')),
    status_changed_at  timestamptz,
    status_changed_by  text        REFERENCES gmp.account,
    opened_at          timestamptz,
    opened_by          text        REFERENCES gmp.account,
    recorded_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((opened_at IS NULL) = (opened_by IS NULL)),
    CHECK (opened_at >= received_at),
    CHECK ((status = 'quarantine') = (status_changed_at IS NULL AND status_changed_by IS NULL))
);
COMMENT ON TABLE gmp.material_lot IS 'Received material lots: quarantine → released or rejected (signed by QA), released → rejected on a recall.';
CREATE INDEX material_lot_type ON gmp.material_lot (type_code, id);
CREATE INDEX material_lot_supplier_lot ON gmp.material_lot (supplier_lot);
SELECT gmp_audit.audit_table('gmp.material_lot', 'id');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON gmp.material_lot FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp.material_lot ENABLE ALWAYS TRIGGER no_truncate;
-- Its guard (status forward only, opened once, never deleted) is bound in sql/code/16_materials.sql.

-- QA's signed decisions on a material lot; append-only, so each signature stays intact.
CREATE TABLE gmp.material_disposition (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    material_lot_id text        NOT NULL REFERENCES gmp.material_lot,
    decision        text        NOT NULL CHECK (decision IN ('released', 'rejected')),
    reason          text        CHECK (btrim(reason) <> '' AND length(reason) <= 2000),
    decided_by      text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    decided_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (material_lot_id, decision),
    CHECK (decision <> 'rejected' OR reason IS NOT NULL)
);
COMMENT ON TABLE gmp.material_disposition IS 'Signed release or rejection of a material lot by QA; append-only.';
SELECT gmp_meta.make_append_only('gmp.material_disposition');
SELECT gmp_audit.audit_table('gmp.material_disposition', 'id');

-- What a manufacturing step or a QC result consumed (1271.210(d)): lot, quantity, unit.
-- din and used_at are taken by the rule from the step or result itself.
CREATE TABLE gmp.material_consumption (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    material_lot_id text        NOT NULL REFERENCES gmp.material_lot,
    quantity        numeric     NOT NULL CHECK (quantity > 0 AND quantity NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric)),
    unit            text        NOT NULL REFERENCES gmp_meta.material_unit,
    step_id         bigint      REFERENCES gmp.manufacturing_step,
    result_id       bigint      REFERENCES gmp.qc_result,
    din             text        NOT NULL REFERENCES gmp.lot,
    used_at         timestamptz NOT NULL,
    recorded_by     text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (num_nonnulls(step_id, result_id) = 1)
);
COMMENT ON TABLE gmp.material_consumption IS 'Material lots consumed by manufacturing steps and QC results; append-only.';
CREATE INDEX material_consumption_material ON gmp.material_consumption (material_lot_id, din);
CREATE INDEX material_consumption_lot ON gmp.material_consumption (din);
CREATE INDEX material_consumption_step ON gmp.material_consumption (step_id) WHERE step_id IS NOT NULL;
CREATE INDEX material_consumption_result ON gmp.material_consumption (result_id) WHERE result_id IS NOT NULL;
SELECT gmp_meta.make_append_only('gmp.material_consumption');
SELECT gmp_audit.audit_table('gmp.material_consumption', 'material_lot_id');

GRANT SELECT ON gmp_meta.material_category, gmp_meta.material_unit, gmp.material_type, gmp.material_lot,
    gmp.material_disposition, gmp.material_consumption TO gmp_person;
