-- V0029 equipment: the instruments a batch record names (21 CFR 1271.200, 211.67, 211.68,
-- 211.182); issue 14, the equipment half.
--
--   * A register of equipment (gmp.equipment), each of a kind from a closed vocabulary;
--     a storage device is the tank, freezer or shipper gmp already knows, named, not
--     copied. Each has its calibration and maintenance intervals (days; none: not due).
--   * Its status, in service or out of service, changes only with a signed record
--     (gmp.equipment_status_change); registered in service.
--   * Calibration and maintenance records (gmp.equipment_service): performed at, due
--     next, as found / as left (in or out of tolerance) for a calibration, signed
--     "performed" by the person who did it; append-only.
--   * gmp.equipment_use: which equipment a manufacturing step or QC result used. Its rule
--     (sql/code/17_equipment.sql) refuses equipment out of service, or whose calibration
--     or maintenance was overdue at the step's time, whoever inserts.
--   * A calibration found out of tolerance opens a deviation on every lot whose steps or
--     results used the equipment since its last good calibration (and the lots made from
--     them) still open; gmp.equipment_deviation keeps which (the deviation blocks release).
--   * The routines, guards and their trigger bindings live in 17_equipment.sql.

CREATE TABLE gmp_meta.equipment_kind (
    kind        text PRIMARY KEY CHECK (kind ~ '^[a-z][a-z_]*$'),
    description text NOT NULL CHECK (btrim(description) <> '')
);
COMMENT ON TABLE gmp_meta.equipment_kind IS 'The closed vocabulary of equipment kinds.';
-- Audited before its rows go in, so the trail holds every row (gmp audit verify reconciles).
SELECT gmp_meta.make_append_only('gmp_meta.equipment_kind');
SELECT gmp_audit.audit_table('gmp_meta.equipment_kind', 'kind');
INSERT INTO gmp_meta.equipment_kind VALUES
    ('biosafety_cabinet', 'biosafety cabinet (class II)'),
    ('incubator', 'CO2 incubator'),
    ('centrifuge', 'centrifuge'),
    ('cell_counter', 'cell counter'),
    ('flow_cytometer', 'flow cytometer'),
    ('controlled_rate_freezer', 'controlled-rate freezer'),
    ('storage_device', 'storage device: a tank, freezer or shipper of gmp storage');

CREATE TABLE gmp.equipment (
    id                        text        PRIMARY KEY CHECK (id ~ '^[A-Z0-9][A-Z0-9._-]{0,31}$'),
    kind                      text        NOT NULL REFERENCES gmp_meta.equipment_kind,
    name                      text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200 AND name !~ '[[:cntrl:]]'),
    storage_device_id         text        UNIQUE REFERENCES gmp.storage_location,
    calibration_interval_days integer     CHECK (calibration_interval_days BETWEEN 1 AND 3660),
    maintenance_interval_days integer     CHECK (maintenance_interval_days BETWEEN 1 AND 3660),
    status                    text        NOT NULL DEFAULT 'in_service' CHECK (status IN ('in_service', 'out_of_service')),
    registered_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    registered_by             text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    CHECK ((kind = 'storage_device') = (storage_device_id IS NOT NULL))
);
COMMENT ON TABLE gmp.equipment IS 'Equipment register: kind, intervals, status (in service / out of service, signed changes).';
SELECT gmp_audit.audit_table('gmp.equipment', 'id');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON gmp.equipment FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp.equipment ENABLE ALWAYS TRIGGER no_truncate;
-- Its guard (only the status changes, never deleted) is bound in sql/code/17_equipment.sql.

-- Each change of an equipment's status, signed ("approved") by who made it; append-only.
CREATE TABLE gmp.equipment_status_change (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    equipment_id text        NOT NULL REFERENCES gmp.equipment,
    status       text        NOT NULL CHECK (status IN ('in_service', 'out_of_service')),
    reason       text        NOT NULL CHECK (btrim(reason) <> '' AND length(reason) <= 2000),
    changed_by   text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    changed_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE gmp.equipment_status_change IS 'Signed changes of an equipment''s status; append-only.';
CREATE INDEX equipment_status_change_equipment ON gmp.equipment_status_change (equipment_id, changed_at);
SELECT gmp_meta.make_append_only('gmp.equipment_status_change');
SELECT gmp_audit.audit_table('gmp.equipment_status_change', 'id');

-- Calibrations and maintenance, signed ("performed") by who did them; append-only.
CREATE TABLE gmp.equipment_service (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    equipment_id text        NOT NULL REFERENCES gmp.equipment,
    kind         text        NOT NULL CHECK (kind IN ('calibration', 'maintenance')),
    performed_at timestamptz NOT NULL,
    performed_by text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    due_at       timestamptz NOT NULL,
    as_found     text        CHECK (as_found IN ('in_tolerance', 'out_of_tolerance')),
    as_left      text        CHECK (as_left IN ('in_tolerance', 'out_of_tolerance')),
    reference    text        CHECK (btrim(reference) <> '' AND length(reference) <= 200 AND reference !~ '[[:cntrl:]]'),
    note         text        CHECK (btrim(note) <> '' AND length(note) <= 2000),
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((kind = 'calibration') = (as_found IS NOT NULL AND as_left IS NOT NULL)),
    CHECK (due_at > performed_at)
);
COMMENT ON TABLE gmp.equipment_service IS 'Calibration (as found / as left) and maintenance records of equipment, signed; append-only.';
CREATE INDEX equipment_service_equipment ON gmp.equipment_service (equipment_id, kind, performed_at);
SELECT gmp_meta.make_append_only('gmp.equipment_service');
SELECT gmp_audit.audit_table('gmp.equipment_service', 'id');

-- Which equipment a manufacturing step or a QC result used. din and used_at are taken
-- by the rule from the step or result itself.
CREATE TABLE gmp.equipment_use (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    equipment_id text        NOT NULL REFERENCES gmp.equipment,
    step_id      bigint      REFERENCES gmp.manufacturing_step,
    result_id    bigint      REFERENCES gmp.qc_result,
    din          text        NOT NULL REFERENCES gmp.lot,
    used_at      timestamptz NOT NULL,
    recorded_by  text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (num_nonnulls(step_id, result_id) = 1),
    UNIQUE (equipment_id, step_id),
    UNIQUE (equipment_id, result_id)
);
COMMENT ON TABLE gmp.equipment_use IS 'Equipment used by manufacturing steps and QC results; append-only.';
CREATE INDEX equipment_use_equipment ON gmp.equipment_use (equipment_id, used_at);
CREATE INDEX equipment_use_lot ON gmp.equipment_use (din);
CREATE INDEX equipment_use_result ON gmp.equipment_use (result_id) WHERE result_id IS NOT NULL;
SELECT gmp_meta.make_append_only('gmp.equipment_use');
SELECT gmp_audit.audit_table('gmp.equipment_use', 'id');

-- The deviation a calibration found out of tolerance opened on each lot it touched.
CREATE TABLE gmp.equipment_deviation (
    service_id   bigint NOT NULL REFERENCES gmp.equipment_service,
    din          text   NOT NULL REFERENCES gmp.lot,
    deviation_id text   NOT NULL REFERENCES gmp.deviation,
    PRIMARY KEY (service_id, din)
);
COMMENT ON TABLE gmp.equipment_deviation IS 'Deviations opened by an out-of-tolerance calibration, one per affected lot; append-only.';
CREATE INDEX equipment_deviation_lot ON gmp.equipment_deviation (din);
SELECT gmp_meta.make_append_only('gmp.equipment_deviation');
SELECT gmp_audit.audit_table('gmp.equipment_deviation', 'din');

GRANT SELECT ON gmp_meta.equipment_kind, gmp.equipment, gmp.equipment_status_change, gmp.equipment_service,
    gmp.equipment_use, gmp.equipment_deviation TO gmp_person;
