-- V0009 lots: ISBT 128 identifiers, lineage, manufacturing steps in order, and the
-- lot status state machine.
--
--   * The facility's ISBT 128 facility identification number and its passage and
--     population-doubling limits live in gmp.facility (one row), set by an admin from
--     config/gmp.yaml (gmp facility apply); the database enforces the values it holds.
--   * A lot is identified by a Donation Identification Number: facility (5) + year (2)
--     + sequence (6). Its ISO/IEC 7064 MOD 37-2 check character is derived, never typed
--     into the database.
--   * A lot comes from a received tissue collection, or from a parent cell bank
--     (master cell bank → working cell bank → drug product); either way it carries its
--     donor and root collection, so a recall finds every lot in one lookup.
--   * Manufacturing steps are append-only and checked in order on every insert.
--   * Status is a state machine: every lot starts in quarantine; only the transitions in
--     gmp_meta.lot_transition are allowed, whoever asks (README, "Lot status").

CREATE FUNCTION gmp_meta.iso7064_mod37_2(text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*';
    p integer := 0;
    v integer;
BEGIN
    FOR i IN 1..length($1) LOOP
        v := position(substr($1, i, 1) IN alphabet) - 1;
        IF v < 0 OR v > 35 THEN
            RETURN NULL;
        END IF;
        p := ((p + v) * 2) % 37;
    END LOOP;
    RETURN substr(alphabet, (38 - p) % 37 + 1, 1);
END;
$$;

CREATE TABLE gmp.facility (
    isbt128_facility         text    PRIMARY KEY CHECK (isbt128_facility ~ '^[A-NP-Z1-9][A-NP-Z0-9]{4}$'),
    singleton                boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton),
    max_passage              integer NOT NULL CHECK (max_passage BETWEEN 1 AND 50),
    max_population_doublings numeric NOT NULL CHECK (max_population_doublings > 0 AND max_population_doublings <= 100),
    updated_at               timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_by               text    NOT NULL DEFAULT session_user
);
COMMENT ON TABLE gmp.facility IS 'This facility: ISBT 128 facility number and manufacturing limits (from config/gmp.yaml).';
CREATE TRIGGER never_deleted BEFORE DELETE ON gmp.facility FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp.facility ENABLE ALWAYS TRIGGER never_deleted;
SELECT gmp_audit.audit_table('gmp.facility', 'isbt128_facility');

CREATE FUNCTION gmp.configure_facility(isbt128_facility text, max_passage integer,
                                       max_population_doublings numeric, reason text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    current gmp.facility;
    configured boolean;
BEGIN
    PERFORM gmp_meta.require_administrator();
    SELECT * INTO current FROM gmp.facility FOR UPDATE;
    configured := FOUND;
    IF configured AND current.isbt128_facility = configure_facility.isbt128_facility
       AND current.max_passage = configure_facility.max_passage
       AND current.max_population_doublings = configure_facility.max_population_doublings THEN
        RETURN false;
    END IF;
    IF configured AND current.isbt128_facility <> configure_facility.isbt128_facility
       AND EXISTS (SELECT FROM gmp.lot) THEN
        RAISE EXCEPTION 'the facility number is %, and lots carry it', current.isbt128_facility
            USING ERRCODE = 'P0001', HINT = 'a facility number is fixed once lots exist; correct isbt128_facility in the configuration';
    END IF;
    PERFORM gmp_meta.give_reason(reason);
    IF configured THEN
        UPDATE gmp.facility f SET isbt128_facility = configure_facility.isbt128_facility,
                                  max_passage = configure_facility.max_passage,
                                  max_population_doublings = configure_facility.max_population_doublings,
                                  updated_at = clock_timestamp(), updated_by = session_user;
    ELSE
        INSERT INTO gmp.facility (isbt128_facility, max_passage, max_population_doublings)
        VALUES (isbt128_facility, max_passage, max_population_doublings);
    END IF;
    RETURN true;
END;
$$;

CREATE TABLE gmp.lot (
    din               text        PRIMARY KEY CHECK (din ~ '^[A-NP-Z1-9][A-NP-Z0-9]{4}[0-9]{2}[0-9]{6}$'),
    check_character   text        NOT NULL GENERATED ALWAYS AS (gmp_meta.iso7064_mod37_2(din)) STORED,
    stage             text        NOT NULL CHECK (stage IN ('master_cell_bank', 'working_cell_bank', 'drug_product')),
    product_kind      text        NOT NULL CHECK (product_kind IN ('cells', 'conditioned_medium', 'extracellular_vesicles')),
    intended_use      text        NOT NULL CHECK (intended_use IN ('allogeneic', 'autologous')),
    donor_code        text        NOT NULL REFERENCES gmp.donor,
    collection_id     text        NOT NULL REFERENCES gmp.tissue_collection,
    parent_din        text        REFERENCES gmp.lot CHECK (parent_din <> din),
    expires_on        date        NOT NULL,
    status            text        NOT NULL DEFAULT 'quarantine',
    status_changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    status_changed_by text        NOT NULL DEFAULT session_user,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by        text        NOT NULL DEFAULT session_user
);
COMMENT ON TABLE gmp.lot IS 'Lots (batches) by ISBT 128 DIN, with donor, root collection, parent, and status.';
CREATE INDEX lot_donor ON gmp.lot (donor_code);
CREATE INDEX lot_parent ON gmp.lot (parent_din) WHERE parent_din IS NOT NULL;
CREATE INDEX lot_collection ON gmp.lot (collection_id);

-- The lot status state machine: these transitions and no others. Release (and
-- exceptional release) arrive with QC and disposition, in their own migration.
CREATE TABLE gmp_meta.lot_transition (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    PRIMARY KEY (from_status, to_status)
);
SELECT gmp_meta.make_append_only('gmp_meta.lot_transition');
-- Audited, so that even a superuser adding a transition leaves a trace.
SELECT gmp_audit.audit_table('gmp_meta.lot_transition', 'from_status');
INSERT INTO gmp_meta.lot_transition VALUES
    ('quarantine', 'on_hold'), ('on_hold', 'quarantine'),
    ('quarantine', 'rejected'), ('on_hold', 'rejected');

-- Every insert starts in quarantine; an update may change the status only, along an
-- allowed transition; nothing is deleted.
CREATE FUNCTION gmp_meta.guard_lot_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    allowed text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'lots are never deleted' USING ERRCODE = 'P0001', HINT = 'reject the lot instead';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'quarantine' THEN
            RAISE EXCEPTION 'a new lot starts in quarantine, not %', NEW.status USING ERRCODE = 'P0001';
        END IF;
        RETURN NEW;
    END IF;
    -- check_character is generated, and NULL in NEW until after this trigger.
    IF (to_jsonb(OLD) - '{status,status_changed_at,status_changed_by,check_character}'::text[])
       IS DISTINCT FROM (to_jsonb(NEW) - '{status,status_changed_at,status_changed_by,check_character}'::text[]) THEN
        RAISE EXCEPTION 'lot % is recorded; only its status changes, and only through gmp', OLD.din
            USING ERRCODE = 'P0001', HINT = 'a mistaken lot record is handled by a deviation, never an edit';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp_meta.lot_transition t WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
        SELECT string_agg(t.to_status, ', ' ORDER BY t.to_status) INTO allowed
        FROM gmp_meta.lot_transition t WHERE t.from_status = OLD.status;
        RAISE EXCEPTION 'lot % cannot go from % to %', OLD.din, OLD.status, NEW.status
            USING ERRCODE = 'P0001',
                  HINT = CASE WHEN allowed IS NULL THEN format('%s is final: nothing may change it', OLD.status)
                              ELSE format('from %s a lot may go to: %s', OLD.status, allowed) END;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER lot_guard BEFORE INSERT OR UPDATE OR DELETE ON gmp.lot
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.guard_lot_change();
ALTER TABLE gmp.lot ENABLE ALWAYS TRIGGER lot_guard;
SELECT gmp_audit.audit_table('gmp.lot', 'din');

CREATE FUNCTION gmp_meta.require_lot(lot_din text) RETURNS gmp.lot
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_lot gmp.lot;
BEGIN
    SELECT * INTO found_lot FROM gmp.lot l WHERE l.din = lot_din;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no lot %', lot_din USING ERRCODE = 'P0002', HINT = 'gmp lot list shows the lots';
    END IF;
    RETURN found_lot;
END;
$$;

-- The order of manufacturing steps: a step may follow steps of lower rank only
-- (passages may repeat). Checked by gmp_meta.check_step on every insert.
CREATE TABLE gmp_meta.step_kind (
    kind text    PRIMARY KEY,
    rank integer NOT NULL UNIQUE
);
SELECT gmp_meta.make_append_only('gmp_meta.step_kind');
SELECT gmp_audit.audit_table('gmp_meta.step_kind', 'kind');
INSERT INTO gmp_meta.step_kind VALUES
    ('isolation', 1), ('passage', 2), ('harvest', 3), ('formulation', 4), ('fill', 5), ('cryopreservation', 6);

CREATE TABLE gmp.manufacturing_step (
    id                    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    din                   text        NOT NULL REFERENCES gmp.lot,
    kind                  text        NOT NULL REFERENCES gmp_meta.step_kind,
    performed_at          timestamptz NOT NULL,
    performed_by          text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    passage_number        integer     CHECK (passage_number >= 0),
    cell_count            numeric     CHECK (cell_count > 0),
    viability_percent     numeric     CHECK (viability_percent BETWEEN 0 AND 100),
    population_doublings  numeric     CHECK (population_doublings >= 0),
    cumulative_doublings  numeric     CHECK (cumulative_doublings >= 0),
    units                 integer     CHECK (units > 0),
    unit_volume_ml        numeric     CHECK (unit_volume_ml > 0),
    note                  text        CHECK (note !~ '[[:cntrl:]]' AND length(note) <= 1000),
    recorded_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (kind <> 'passage' OR (cell_count IS NOT NULL AND viability_percent IS NOT NULL AND population_doublings IS NOT NULL)),
    CHECK (kind <> 'fill' OR (units IS NOT NULL AND unit_volume_ml IS NOT NULL))
);
COMMENT ON TABLE gmp.manufacturing_step IS 'Manufacturing steps as they happen, append-only, in the enforced order.';
CREATE INDEX manufacturing_step_lot ON gmp.manufacturing_step (din, id);
SELECT gmp_meta.make_append_only('gmp.manufacturing_step');
SELECT gmp_audit.audit_table('gmp.manufacturing_step', 'din');

CREATE FUNCTION gmp_meta.check_step() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    l        gmp.lot;
    f        gmp.facility;
    new_rank integer;
    last     record;
    previous gmp.manufacturing_step;
    done     text;
BEGIN
    SELECT * INTO STRICT l FROM gmp.lot WHERE din = NEW.din FOR UPDATE;  -- one step at a time per lot
    SELECT * INTO f FROM gmp.facility;
    IF l.status <> 'quarantine' THEN
        RAISE EXCEPTION 'lot % is %: no manufacturing step can be recorded', l.din, l.status USING ERRCODE = 'P0001',
            HINT = CASE l.status WHEN 'on_hold' THEN 'QA must lift the hold first (gmp lot unhold)'
                                 ELSE 'the lot''s record is closed' END;
    END IF;
    SELECT rank INTO STRICT new_rank FROM gmp_meta.step_kind WHERE kind = NEW.kind;
    SELECT s.kind, k.rank, s.performed_at INTO last
    FROM gmp.manufacturing_step s JOIN gmp_meta.step_kind k USING (kind)
    WHERE s.din = l.din ORDER BY k.rank DESC, s.id DESC LIMIT 1;
    SELECT string_agg(DISTINCT s.kind, ', ') INTO done FROM gmp.manufacturing_step s WHERE s.din = l.din;
    IF last.rank IS NOT NULL AND (last.rank > new_rank OR (last.rank = new_rank AND NEW.kind <> 'passage')) THEN
        RAISE EXCEPTION 'step out of order: no % after %', NEW.kind, last.kind USING ERRCODE = 'P0001',
            HINT = format('lot %s has recorded: %s; the order is isolation, passages, harvest, formulation, fill, cryopreservation', l.din, done);
    END IF;
    IF NEW.kind = 'isolation' AND l.parent_din IS NOT NULL THEN
        RAISE EXCEPTION 'lot % comes from the cell bank %: isolation is recorded on lots made from tissue', l.din, l.parent_din
            USING ERRCODE = 'P0001', HINT = 'record its first passage instead';
    END IF;
    IF NEW.kind = 'passage' AND l.parent_din IS NULL AND last.kind IS NULL THEN
        RAISE EXCEPTION 'step out of order: a passage needs the isolation first' USING ERRCODE = 'P0001',
            HINT = format('record the isolation of lot %s: gmp lot step %s isolation', l.din, l.din);
    END IF;
    IF NEW.kind = 'harvest' AND NOT EXISTS (SELECT FROM gmp.manufacturing_step s WHERE s.din = l.din AND s.kind IN ('isolation', 'passage')) THEN
        RAISE EXCEPTION 'step out of order: no harvest before isolation or a passage' USING ERRCODE = 'P0001',
            HINT = 'record the culture steps first';
    END IF;
    IF NEW.kind IN ('formulation', 'fill') AND NOT EXISTS (SELECT FROM gmp.manufacturing_step s WHERE s.din = l.din AND s.kind = 'harvest') THEN
        RAISE EXCEPTION 'step out of order: no % before harvest', NEW.kind USING ERRCODE = 'P0001',
            HINT = 'record the harvest first';
    END IF;
    IF NEW.kind = 'cryopreservation' AND NOT EXISTS (SELECT FROM gmp.manufacturing_step s WHERE s.din = l.din AND s.kind = 'fill') THEN
        RAISE EXCEPTION 'step out of order: no cryopreservation before fill' USING ERRCODE = 'P0001',
            HINT = 'record the fill (number and volume of units) first';
    END IF;
    IF NEW.performed_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'step time % is in the future', NEW.performed_at USING ERRCODE = 'P0001',
            HINT = 'record steps as they happen; give the time in ISO 8601 or leave it out for now';
    END IF;
    IF NEW.performed_at < (SELECT max(s.performed_at) FROM gmp.manufacturing_step s WHERE s.din = l.din) THEN
        RAISE EXCEPTION 'step time % is before the lot''s previous step', NEW.performed_at USING ERRCODE = 'P0001',
            HINT = 'steps are recorded in the order they happen';
    END IF;
    -- Passage numbers and population doublings continue from the parent cell bank.
    IF NEW.kind IN ('isolation', 'passage') THEN
        SELECT s.* INTO previous FROM gmp.manufacturing_step s
        WHERE s.din IN (l.din, l.parent_din) AND s.kind IN ('isolation', 'passage')
        ORDER BY (s.din = l.din) DESC, s.id DESC LIMIT 1;
        IF NEW.kind = 'isolation' THEN
            NEW.passage_number := 0;
            NEW.cumulative_doublings := coalesce(NEW.population_doublings, 0);
        ELSE
            NEW.passage_number := coalesce(previous.passage_number, 0) + 1;
            NEW.cumulative_doublings := coalesce(previous.cumulative_doublings, 0) + NEW.population_doublings;
            IF f.max_passage IS NOT NULL AND NEW.passage_number > f.max_passage THEN
                RAISE EXCEPTION 'passage % exceeds the facility''s limit of % passages', NEW.passage_number, f.max_passage
                    USING ERRCODE = 'P0001', HINT = 'cells beyond the validated passage limit cannot be used; harvest or reject the lot';
            END IF;
        END IF;
        -- Isolation counts too: its doublings start the cumulative count.
        IF f.max_population_doublings IS NOT NULL AND NEW.cumulative_doublings > f.max_population_doublings THEN
            RAISE EXCEPTION '% cumulative population doublings exceed the facility''s limit of %',
                NEW.cumulative_doublings, f.max_population_doublings
                USING ERRCODE = 'P0001', HINT = 'cells beyond the validated doubling limit cannot be used; check the counts or reject the lot';
        END IF;
    ELSE
        NEW.passage_number := NULL;
        NEW.cumulative_doublings := NULL;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER step_rules BEFORE INSERT ON gmp.manufacturing_step
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.check_step();
ALTER TABLE gmp.manufacturing_step ENABLE ALWAYS TRIGGER step_rules;

-- ---------------------------------------------------------------------------------
-- Writing.

CREATE FUNCTION gmp.create_lot(collection_id text, parent_din text, stage text, product_kind text,
                               intended_use text, expires_on date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f        gmp.facility;
    c        gmp.tissue_collection;
    parent   gmp.lot;
    who      gmp.donor;
    prefix   text;
    last_din text;
BEGIN
    PERFORM gmp_meta.active_person();
    SELECT * INTO f FROM gmp.facility FOR UPDATE;  -- serializes numbering
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the facility''s ISBT 128 number is not set' USING ERRCODE = 'P0001',
            HINT = 'an administrator sets it from config/gmp.yaml: gmp facility apply --reason …';
    END IF;
    IF num_nonnulls(collection_id, parent_din) <> 1 THEN
        RAISE EXCEPTION 'a lot comes from a tissue collection or from a parent lot, exactly one' USING ERRCODE = 'P0001',
            HINT = 'give --collection ID or --parent DIN';
    END IF;
    IF parent_din IS NOT NULL THEN
        parent := gmp_meta.require_lot(parent_din);
        c := gmp_meta.require_collection(parent.collection_id);
        IF parent.stage = 'drug_product' OR (parent.stage = 'working_cell_bank' AND stage <> 'drug_product')
           OR (parent.stage = 'master_cell_bank' AND stage = 'master_cell_bank') THEN
            RAISE EXCEPTION 'a % cannot be made from a %', replace(stage, '_', ' '), replace(parent.stage, '_', ' ')
                USING ERRCODE = 'P0001', HINT = 'the lineage is master cell bank → working cell bank → drug product';
        END IF;
        IF parent.status = 'rejected' THEN
            RAISE EXCEPTION 'parent lot % is rejected', parent.din USING ERRCODE = 'P0001',
                HINT = 'make lots from a cell bank that is not rejected';
        END IF;
        IF NOT EXISTS (SELECT FROM gmp.manufacturing_step s WHERE s.din = parent.din AND s.kind = 'cryopreservation') THEN
            RAISE EXCEPTION 'parent lot % has no cryopreserved units yet', parent.din USING ERRCODE = 'P0001',
                HINT = 'a cell bank is used once it is filled and cryopreserved';
        END IF;
    ELSE
        c := gmp_meta.require_collection(collection_id);
        IF c.received_at IS NULL THEN
            RAISE EXCEPTION 'collection % has not been received at the facility', c.id USING ERRCODE = 'P0001',
                HINT = format('record the receipt first: gmp tissue receive %s', c.id);
        END IF;
        IF stage = 'working_cell_bank' THEN
            RAISE EXCEPTION 'a working cell bank is made from a master cell bank, not from tissue' USING ERRCODE = 'P0001',
                HINT = 'create a master cell bank or a drug product from the tissue';
        END IF;
    END IF;
    SELECT * INTO STRICT who FROM gmp.donor d WHERE d.code = c.donor_code;
    IF intended_use IS DISTINCT FROM who.intended_use THEN
        RAISE EXCEPTION 'donor % is %: the lot''s intended use must be %', who.code, who.intended_use, who.intended_use
            USING ERRCODE = 'P0001', HINT = format('give --use %s', who.intended_use);
    END IF;
    IF expires_on IS NULL OR expires_on <= current_date THEN
        RAISE EXCEPTION 'expiry % is not in the future', expires_on USING ERRCODE = 'P0001',
            HINT = 'give --expires YYYY-MM-DD after today';
    END IF;
    prefix := f.isbt128_facility || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YY');
    -- Every DIN with this prefix sorts between prefix || '000000' and prefix || '999999'.
    SELECT max(l.din) INTO last_din FROM gmp.lot l
    WHERE l.din >= prefix || '000000' AND l.din <= prefix || '999999';
    PERFORM set_config('gmp.reason', 'lot created', true);
    INSERT INTO gmp.lot (din, stage, product_kind, intended_use, donor_code, collection_id, parent_din, expires_on)
    VALUES (prefix || lpad((coalesce(substr(last_din, 8, 6)::integer, 0) + 1)::text, 6, '0'),
            stage, product_kind, intended_use, who.code, c.id, parent.din, expires_on)
    RETURNING din INTO last_din;
    RETURN last_din;
END;
$$;

-- Returns the passage number the step was given (0 for isolation; null for the steps
-- after culture), which the rule trigger derives from the lot and its parent bank.
CREATE FUNCTION gmp.record_step(din text, kind text, performed_at timestamptz, cell_count numeric,
                                viability_percent numeric, population_doublings numeric, units integer,
                                unit_volume_ml numeric, note text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    passage integer;
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.require_lot(din);
    IF NOT EXISTS (SELECT FROM gmp_meta.step_kind k WHERE k.kind = record_step.kind) THEN
        RAISE EXCEPTION 'unknown manufacturing step %', kind USING ERRCODE = 'P0001',
            HINT = 'steps: isolation, passage, harvest, formulation, fill, cryopreservation';
    END IF;
    INSERT INTO gmp.manufacturing_step (din, kind, performed_at, cell_count, viability_percent, population_doublings,
                                        units, unit_volume_ml, note)
    VALUES (din, kind, coalesce(performed_at, clock_timestamp()), cell_count, viability_percent, population_doublings,
            units, unit_volume_ml, nullif(btrim(note), ''))
    RETURNING passage_number INTO passage;
    RETURN passage;
END;
$$;

CREATE FUNCTION gmp_meta.set_lot_status(din text, status text, reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gmp_meta.require_lot(din);
    PERFORM gmp_meta.give_reason(reason);
    UPDATE gmp.lot l SET status = set_lot_status.status, status_changed_at = clock_timestamp(),
                         status_changed_by = session_user
    WHERE l.din = set_lot_status.din;
END;
$$;

CREATE FUNCTION gmp.hold_lot(din text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.set_lot_status(din, 'on_hold', reason);
END;
$$;

CREATE FUNCTION gmp.unhold_lot(din text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.set_lot_status(din, 'quarantine', reason);
END;
$$;

-- QA rejects, signing with the meaning "rejected"; the signature covers the lot row
-- in its final state.
CREATE FUNCTION gmp.reject_lot(challenge uuid, din text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.set_lot_status(din, 'rejected', reason);
    RETURN gmp_meta.record_signature(challenge, 'rejected', 'gmp.lot', din, reason);
END;
$$;

GRANT SELECT ON gmp.facility, gmp.lot, gmp.manufacturing_step TO gmp_person;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp, gmp_meta, gmp_audit FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gmp.configure_facility(text, integer, numeric, text) TO gmp_admin;
GRANT EXECUTE ON FUNCTION gmp.create_lot(text, text, text, text, text, date),
                          gmp.record_step(text, text, timestamptz, numeric, numeric, numeric, integer, numeric, text)
                          TO gmp_operator;
GRANT EXECUTE ON FUNCTION gmp.hold_lot(text, text), gmp.unhold_lot(text, text),
                          gmp.reject_lot(uuid, text, text) TO gmp_qa;
