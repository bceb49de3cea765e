-- lots: Lots (batches): ISBT 128 DINs, creation, the ordered manufacturing steps, the lot
-- state machine, holds, and the lot overview.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

CREATE OR REPLACE FUNCTION gmp_rules.iso7064_mod37_2(text) RETURNS text
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

CREATE OR REPLACE FUNCTION gmp.configure_facility(isbt128_facility text, max_passage integer,
                                       max_population_doublings numeric, reason text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    current gmp.facility;
    configured boolean;
BEGIN
    PERFORM gmp_rules.require_administrator();
    PERFORM gmp_rules.require_finite(max_population_doublings, 'the maximum population doublings');
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
            USING ERRCODE = 'GM004', HINT = 'a facility number is fixed once lots exist; correct isbt128_facility in the configuration';
    END IF;
    PERFORM gmp_rules.give_reason(reason);
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

-- Every insert starts in quarantine; an update may change the status only, along an
-- allowed transition; nothing is deleted.
CREATE OR REPLACE FUNCTION gmp_rules.guard_lot_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    allowed text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'lots are never deleted' USING ERRCODE = 'GM004', HINT = 'reject the lot instead';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'quarantine' THEN
            RAISE EXCEPTION 'a new lot starts in quarantine, not %', NEW.status USING ERRCODE = 'GM003';
        END IF;
        RETURN NEW;
    END IF;
    -- check_character is generated, and NULL in NEW until after this trigger.
    IF (to_jsonb(OLD) - '{status,status_changed_at,status_changed_by,check_character}'::text[])
       IS DISTINCT FROM (to_jsonb(NEW) - '{status,status_changed_at,status_changed_by,check_character}'::text[]) THEN
        RAISE EXCEPTION 'lot % is recorded; only its status changes, and only through gmp', OLD.din
            USING ERRCODE = 'GM004', HINT = 'a mistaken lot record is handled by a deviation, never an edit';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp_meta.lot_transition t WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
        SELECT string_agg(t.to_status, ', ' ORDER BY t.to_status) INTO allowed
        FROM gmp_meta.lot_transition t WHERE t.from_status = OLD.status;
        RAISE EXCEPTION 'lot % cannot go from % to %', OLD.din, OLD.status, NEW.status
            USING ERRCODE = 'GM003',
                  HINT = CASE WHEN allowed IS NULL THEN format('%s is final: nothing may change it', OLD.status)
                              ELSE format('from %s a lot may go to: %s', OLD.status, allowed) END;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_lot(lot_din text) RETURNS gmp.lot
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_lot gmp.lot;
BEGIN
    SELECT * INTO found_lot FROM gmp.lot l WHERE l.din = lot_din;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no lot %', lot_din USING ERRCODE = 'GM001', HINT = 'gmp lot list shows the lots';
    END IF;
    RETURN found_lot;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.check_step() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    l        gmp.lot;
    f        gmp.facility;
    new_rank integer;
    last     record;
    previous gmp.manufacturing_step;
    done     text;
BEGIN
    PERFORM gmp_rules.require_finite(NEW.cell_count, 'the cell count'),
            gmp_rules.require_finite(NEW.viability_percent, 'the viability'),
            gmp_rules.require_finite(NEW.population_doublings, 'the population doublings'),
            gmp_rules.require_finite(NEW.cumulative_doublings, 'the cumulative population doublings'),
            gmp_rules.require_finite(NEW.unit_volume_ml, 'the unit volume');
    SELECT * INTO STRICT l FROM gmp.lot WHERE din = NEW.din FOR UPDATE;  -- one step at a time per lot
    SELECT * INTO f FROM gmp.facility;
    IF l.status <> 'quarantine' THEN
        RAISE EXCEPTION 'lot % is %: no manufacturing step can be recorded', l.din, l.status USING ERRCODE = 'GM003',
            HINT = CASE l.status WHEN 'on_hold' THEN 'QA must lift the hold first (gmp lot unhold)'
                                 ELSE 'the lot''s record is closed' END;
    END IF;
    SELECT rank INTO STRICT new_rank FROM gmp_meta.step_kind WHERE kind = NEW.kind;
    SELECT s.kind, k.rank, s.performed_at INTO last
    FROM gmp.manufacturing_step s JOIN gmp_meta.step_kind k USING (kind)
    WHERE s.din = l.din ORDER BY k.rank DESC, s.id DESC LIMIT 1;
    SELECT string_agg(DISTINCT s.kind, ', ') INTO done FROM gmp.manufacturing_step s WHERE s.din = l.din;
    IF last.rank IS NOT NULL AND (last.rank > new_rank OR (last.rank = new_rank AND NEW.kind <> 'passage')) THEN
        RAISE EXCEPTION 'step out of order: no % after %', NEW.kind, last.kind USING ERRCODE = 'GM003',
            HINT = format('lot %s has recorded: %s; the order is isolation, passages, harvest, formulation, fill, cryopreservation', l.din, done);
    END IF;
    IF NEW.kind = 'isolation' AND l.parent_din IS NOT NULL THEN
        RAISE EXCEPTION 'lot % comes from the cell bank %: isolation is recorded on lots made from tissue', l.din, l.parent_din
            USING ERRCODE = 'GM002', HINT = 'record its first passage instead';
    END IF;
    IF NEW.kind = 'passage' AND l.parent_din IS NULL AND last.kind IS NULL THEN
        RAISE EXCEPTION 'step out of order: a passage needs the isolation first' USING ERRCODE = 'GM003',
            HINT = format('record the isolation of lot %s: gmp lot step %s isolation', l.din, l.din || l.check_character);
    END IF;
    IF NEW.kind = 'harvest' AND NOT EXISTS (SELECT FROM gmp.manufacturing_step s WHERE s.din = l.din AND s.kind IN ('isolation', 'passage')) THEN
        RAISE EXCEPTION 'step out of order: no harvest before isolation or a passage' USING ERRCODE = 'GM003',
            HINT = 'record the culture steps first';
    END IF;
    IF NEW.kind IN ('formulation', 'fill') AND NOT EXISTS (SELECT FROM gmp.manufacturing_step s WHERE s.din = l.din AND s.kind = 'harvest') THEN
        RAISE EXCEPTION 'step out of order: no % before harvest', NEW.kind USING ERRCODE = 'GM003',
            HINT = 'record the harvest first';
    END IF;
    IF NEW.kind = 'cryopreservation' AND NOT EXISTS (SELECT FROM gmp.manufacturing_step s WHERE s.din = l.din AND s.kind = 'fill') THEN
        RAISE EXCEPTION 'step out of order: no cryopreservation before fill' USING ERRCODE = 'GM003',
            HINT = 'record the fill (number and volume of units) first';
    END IF;
    IF NEW.performed_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'step time % is in the future', NEW.performed_at USING ERRCODE = 'GM002',
            HINT = 'record steps as they happen; give the time in ISO 8601 or leave it out for now';
    END IF;
    IF NEW.performed_at < (SELECT max(s.performed_at) FROM gmp.manufacturing_step s WHERE s.din = l.din) THEN
        RAISE EXCEPTION 'step time % is before the lot''s previous step', NEW.performed_at USING ERRCODE = 'GM002',
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
                    USING ERRCODE = 'GM002', HINT = 'cells beyond the validated passage limit cannot be used; harvest or reject the lot';
            END IF;
        END IF;
        -- Isolation counts too: its doublings start the cumulative count.
        IF f.max_population_doublings IS NOT NULL AND NEW.cumulative_doublings > f.max_population_doublings THEN
            RAISE EXCEPTION '% cumulative population doublings exceed the facility''s limit of %',
                NEW.cumulative_doublings, f.max_population_doublings
                USING ERRCODE = 'GM002', HINT = 'cells beyond the validated doubling limit cannot be used; check the counts or reject the lot';
        END IF;
    ELSE
        NEW.passage_number := NULL;
        NEW.cumulative_doublings := NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION gmp.create_lot(collection_id text, parent_din text, stage text, product_kind text,
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
    PERFORM gmp_rules.active_person();
    SELECT * INTO f FROM gmp.facility FOR UPDATE;  -- serializes numbering
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the facility''s ISBT 128 number is not set' USING ERRCODE = 'GM002',
            HINT = 'an administrator sets it from the configuration file (gmp config init writes one): gmp facility apply --reason …';
    END IF;
    IF num_nonnulls(collection_id, parent_din) <> 1 THEN
        RAISE EXCEPTION 'a lot comes from a tissue collection or from a parent lot, exactly one' USING ERRCODE = 'GM002',
            HINT = 'give --collection ID or --parent DIN';
    END IF;
    IF parent_din IS NOT NULL THEN
        parent := gmp_rules.require_lot(parent_din);
        -- FOR SHARE: a rejection of the parent (or a step on it) committing meanwhile is
        -- waited for and then seen, so the checks below hold at READ COMMITTED too (#19).
        SELECT * INTO STRICT parent FROM gmp.lot x WHERE x.din = parent.din FOR SHARE;
        c := gmp_rules.require_collection(parent.collection_id);
        IF parent.stage = 'drug_product' OR (parent.stage = 'working_cell_bank' AND stage <> 'drug_product')
           OR (parent.stage = 'master_cell_bank' AND stage = 'master_cell_bank') THEN
            RAISE EXCEPTION 'a % cannot be made from a %', replace(stage, '_', ' '), replace(parent.stage, '_', ' ')
                USING ERRCODE = 'GM002', HINT = 'the lineage is master cell bank → working cell bank → drug product';
        END IF;
        IF parent.status = 'rejected' THEN
            RAISE EXCEPTION 'parent lot % is rejected', parent.din USING ERRCODE = 'GM006',
                HINT = 'make lots from a cell bank that is not rejected';
        END IF;
        IF NOT EXISTS (SELECT FROM gmp.manufacturing_step s WHERE s.din = parent.din AND s.kind = 'cryopreservation') THEN
            RAISE EXCEPTION 'parent lot % has no cryopreserved units yet', parent.din USING ERRCODE = 'GM003',
                HINT = 'a cell bank is used once it is filled and cryopreserved';
        END IF;
    ELSE
        c := gmp_rules.require_collection(collection_id);
        IF c.received_at IS NULL THEN
            RAISE EXCEPTION 'collection % has not been received at the facility', c.id USING ERRCODE = 'GM003',
                HINT = format('record the receipt first: gmp tissue receive %s', c.id);
        END IF;
        IF stage = 'working_cell_bank' THEN
            RAISE EXCEPTION 'a working cell bank is made from a master cell bank, not from tissue' USING ERRCODE = 'GM002',
                HINT = 'create a master cell bank or a drug product from the tissue';
        END IF;
    END IF;
    SELECT * INTO STRICT who FROM gmp.donor d WHERE d.code = c.donor_code;
    IF intended_use IS DISTINCT FROM who.intended_use THEN
        RAISE EXCEPTION 'donor % is %: the lot''s intended use must be %', who.code, who.intended_use, who.intended_use
            USING ERRCODE = 'GM006', HINT = format('give --use %s', who.intended_use);
    END IF;
    IF expires_on IS NULL OR expires_on <= current_date THEN
        RAISE EXCEPTION 'expiry % is not in the future', expires_on USING ERRCODE = 'GM002',
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
CREATE OR REPLACE FUNCTION gmp.record_step(din text, kind text, performed_at timestamptz, cell_count numeric,
                                viability_percent numeric, population_doublings numeric, units integer,
                                unit_volume_ml numeric, note text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    passage integer;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_lot(din);
    IF NOT EXISTS (SELECT FROM gmp_meta.step_kind k WHERE k.kind = record_step.kind) THEN
        RAISE EXCEPTION 'unknown manufacturing step %', kind USING ERRCODE = 'GM002',
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

CREATE OR REPLACE FUNCTION gmp_rules.set_lot_status(din text, status text, reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gmp_rules.require_lot(din);
    PERFORM gmp_rules.give_reason(reason);
    UPDATE gmp.lot l SET status = set_lot_status.status, status_changed_at = clock_timestamp(),
                         status_changed_by = session_user
    WHERE l.din = set_lot_status.din;
END;
$$;

CREATE OR REPLACE FUNCTION gmp.hold_lot(din text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.set_lot_status(din, 'on_hold', reason);
END;
$$;

CREATE OR REPLACE FUNCTION gmp.unhold_lot(din text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.set_lot_status(din, 'quarantine', reason);
END;
$$;

-- A lot as every report shows it: what it is, where it stands, and what its label
-- must say about the donor. The determination in force is found per lot through the
-- (collection_id, id DESC) index: the DISTINCT ON view gmp.eligibility cannot be filtered
-- by a join key, and joining it would sort every determination for every report.
CREATE OR REPLACE VIEW gmp.lot_overview AS
SELECT l.din, l.din || l.check_character AS keyed_id, l.check_character, l.stage, l.product_kind, l.intended_use,
       l.status, l.donor_code, l.collection_id, l.parent_din, l.expires_on, l.created_at, l.created_by,
       e.outcome AS eligibility, e.id AS determination_id, e.signed_by AS eligibility_signed_by,
       e.signed_at AS eligibility_signed_at,
       EXISTS (SELECT FROM gmp.consent c JOIN gmp.donor d ON c.donor_code IN (d.code, d.birth_mother)
               WHERE d.code = l.donor_code AND c.withdrawn_on IS NOT NULL) AS consent_withdrawn,
       ARRAY(SELECT DISTINCT t.name FROM gmp.screening_result r JOIN gmp.screening_test t ON t.code = r.test_code
             JOIN gmp.donor d ON r.donor_code = coalesce(d.birth_mother, d.code)
             WHERE d.code = l.donor_code AND r.result = 'reactive' ORDER BY t.name) AS reactive_tests,
       fill.units, fill.unit_volume_ml,
       (SELECT s.performed_at FROM gmp.manufacturing_step s WHERE s.din = l.din AND s.kind = 'cryopreservation')
           AS cryopreserved_at,
       (SELECT s.kind FROM gmp.manufacturing_step s WHERE s.din = l.din ORDER BY s.id DESC LIMIT 1) AS last_step
FROM gmp.lot l
LEFT JOIN LATERAL (
    SELECT d.id, d.outcome, s.printed_name AS signed_by, s.signed_at
    FROM gmp.eligibility_determination d
    LEFT JOIN gmp.signature s ON s.record_table = 'gmp.eligibility_determination' AND s.record_key = d.id::text
    WHERE d.collection_id = l.collection_id
    ORDER BY d.id DESC LIMIT 1) e ON true
LEFT JOIN gmp.manufacturing_step fill ON fill.din = l.din AND fill.kind = 'fill';
