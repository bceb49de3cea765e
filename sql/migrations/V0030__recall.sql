-- V0030 recall: recall and lookback as signed records (21 CFR 1271.160(b)(2), 1271.290);
-- issue 17.
--
--   * gmp.recall: QA's signed opening, with its cause: a donor (a late reactive result
--     or new information), a material lot (a supplier's recall), a product lot, or a
--     result after release. Append-only: its closure is a record of its own
--     (gmp.recall_closure), so the opening's signature stays intact.
--   * gmp.recall_lot: what the opening found and held, in the same transaction: every
--     derived lot (non-final ones held) with its units, each with its state and, when
--     shipped, its shipment and consignee.
--   * gmp.recall_notification and gmp.recall_acknowledgement: each consignee told (who,
--     when, how) and their answer (who, when); gmp.recall_unit_disposition: what became
--     of each unit, from the consignee's answer (returned, destroyed, administered) or
--     QA's decision for a unit held in the facility (discarded, rejected, cleared).
--   * A returned unit re-enters custody as "recalled" (custody action "returned").
--   * The rules, the holds (no affected unit ships, no affected lot is released, whoever
--     writes) and their trigger bindings live in sql/code/19_recall.sql.

CREATE SEQUENCE gmp_meta.recall_number;

-- A returned unit is held by the person who took it back, in the state "recalled".
ALTER TABLE gmp.unit DROP CONSTRAINT unit_state_check;
ALTER TABLE gmp.unit ADD CONSTRAINT unit_state_check
    CHECK (state IN ('in_hand', 'stored', 'packed', 'in_transit', 'delivered', 'thawed', 'discarded', 'recalled'));
ALTER TABLE gmp.custody_event ADD CONSTRAINT custody_event_recalled_by_person
    CHECK (state <> 'recalled' OR holder_person IS NOT NULL);
INSERT INTO gmp_meta.custody_action VALUES
    ('returned', 'delivered', 'recalled'), ('returned', 'in_transit', 'recalled'),
    ('placed', 'recalled', 'stored'), ('discarded', 'recalled', 'discarded');

CREATE TABLE gmp.recall (
    id              text        PRIMARY KEY CHECK (id ~ '^RCL[0-9]{2}-[0-9]{5,}$'),
    cause           text        NOT NULL CHECK (cause IN ('donor', 'material_lot', 'product_lot', 'post_release_result')),
    donor_code      text        REFERENCES gmp.donor,
    material_lot_id text        REFERENCES gmp.material_lot,
    din             text        REFERENCES gmp.lot,
    result_id       bigint      REFERENCES gmp.qc_result,
    description     text        NOT NULL CHECK (btrim(description) <> '' AND length(description) <= 2000),
    opened_by       text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    opened_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((cause = 'donor') = (donor_code IS NOT NULL)),
    CHECK ((cause = 'material_lot') = (material_lot_id IS NOT NULL)),
    CHECK ((cause IN ('product_lot', 'post_release_result')) = (din IS NOT NULL)),
    CHECK (result_id IS NULL OR cause = 'post_release_result')
);
COMMENT ON TABLE gmp.recall IS 'Recalls: QA''s signed opening with its cause; append-only (closure: gmp.recall_closure).';
SELECT gmp_meta.make_append_only('gmp.recall');
SELECT gmp_audit.audit_table('gmp.recall', 'id');

-- Every lot the cause reached when the recall was opened; held: it was not final then.
-- Its units as they were then, one element each: {unit, state, shipment, consignee}
-- (the last two for a unit shipped: in transit or delivered). One row per lot, not per
-- unit: an opening over 1,000 lots writes 1,000 rows to the trail, not 11,000
-- (docs/benchmarks.md, "Recall").
CREATE TABLE gmp.recall_lot (
    recall_id      text    NOT NULL REFERENCES gmp.recall,
    din            text    NOT NULL REFERENCES gmp.lot,
    status_at_open text    NOT NULL,
    held           boolean NOT NULL,
    units          jsonb   NOT NULL CHECK (jsonb_typeof(units) = 'array'),
    PRIMARY KEY (recall_id, din)
);
COMMENT ON TABLE gmp.recall_lot IS 'The lots a recall reached, with their status and units at its opening; append-only.';
CREATE INDEX recall_lot_din ON gmp.recall_lot (din);
SELECT gmp_meta.make_append_only('gmp.recall_lot');
SELECT gmp_audit.audit_table('gmp.recall_lot', 'recall_id');

-- Each time a consignee was told: who told whom, when, how.
CREATE TABLE gmp.recall_notification (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recall_id   text        NOT NULL REFERENCES gmp.recall,
    consignee   text        NOT NULL,
    method      text        NOT NULL CHECK (method IN ('phone', 'email', 'fax', 'letter', 'courier', 'in_person')),
    contact     text        NOT NULL CHECK (btrim(contact) <> '' AND length(contact) <= 200 AND contact !~ '[[:cntrl:]]'),
    notified_at timestamptz NOT NULL,
    note        text        CHECK (btrim(note) <> '' AND length(note) <= 2000),
    recorded_by text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE gmp.recall_notification IS 'A consignee notified of a recall: contact, method, time; append-only.';
CREATE INDEX recall_notification_recall ON gmp.recall_notification (recall_id, consignee);
SELECT gmp_meta.make_append_only('gmp.recall_notification');
SELECT gmp_audit.audit_table('gmp.recall_notification', 'recall_id');

-- The consignee's answer: who there acknowledged, when; what they did with each unit is
-- in gmp.recall_unit_disposition.
CREATE TABLE gmp.recall_acknowledgement (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recall_id       text        NOT NULL REFERENCES gmp.recall,
    consignee       text        NOT NULL,
    acknowledged_by text        NOT NULL CHECK (btrim(acknowledged_by) <> '' AND length(acknowledged_by) <= 200
                                                AND acknowledged_by !~ '[[:cntrl:]]'),
    acknowledged_at timestamptz NOT NULL,
    note            text        CHECK (btrim(note) <> '' AND length(note) <= 2000),
    recorded_by     text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (recall_id, consignee)
);
COMMENT ON TABLE gmp.recall_acknowledgement IS 'A consignee''s acknowledgement of a recall; one per consignee; append-only.';
SELECT gmp_meta.make_append_only('gmp.recall_acknowledgement');
SELECT gmp_audit.audit_table('gmp.recall_acknowledgement', 'recall_id');

-- What became of each unit: the consignee's (returned, destroyed, administered, with
-- their acknowledgement) or QA's for a held unit (discarded, rejected with its lot,
-- cleared with a reason).
CREATE TABLE gmp.recall_unit_disposition (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recall_id          text        NOT NULL,
    unit_id            text        NOT NULL REFERENCES gmp.unit,
    disposition        text        NOT NULL CHECK (disposition IN ('returned', 'destroyed', 'administered',
                                                                   'discarded', 'rejected', 'cleared')),
    acknowledgement_id bigint      REFERENCES gmp.recall_acknowledgement,
    reason             text        CHECK (btrim(reason) <> '' AND length(reason) <= 2000),
    decided_by         text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    decided_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (recall_id, unit_id),
    FOREIGN KEY (recall_id) REFERENCES gmp.recall,
    CHECK ((disposition IN ('returned', 'destroyed', 'administered')) = (acknowledgement_id IS NOT NULL)),
    CHECK (disposition <> 'cleared' OR reason IS NOT NULL)
);
COMMENT ON TABLE gmp.recall_unit_disposition IS 'What became of each unit a recall reached; append-only.';
SELECT gmp_meta.make_append_only('gmp.recall_unit_disposition');
SELECT gmp_audit.audit_table('gmp.recall_unit_disposition', 'recall_id');

-- QA's signed closure; its existence is what makes a recall closed.
CREATE TABLE gmp.recall_closure (
    recall_id text        PRIMARY KEY REFERENCES gmp.recall,
    summary   text        NOT NULL CHECK (btrim(summary) <> '' AND length(summary) <= 4000),
    closed_by text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    closed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE gmp.recall_closure IS 'QA''s signed closure of a recall; append-only.';
SELECT gmp_meta.make_append_only('gmp.recall_closure');
SELECT gmp_audit.audit_table('gmp.recall_closure', 'recall_id');

GRANT SELECT ON gmp.recall, gmp.recall_lot, gmp.recall_notification, gmp.recall_acknowledgement,
    gmp.recall_unit_disposition, gmp.recall_closure TO gmp_person;
