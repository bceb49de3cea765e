-- V0011 rule fixes found by the donor and lot rule tests.
--
--   * Population doublings recorded at isolation count against the facility's limit
--     (V0009 checked the limit on passages only).
--   * A donor who withdrew consent and later consents again may donate again: a
--     collection needs a consent in force (given on or before it, not withdrawn);
--     V0008 refused any donor with a withdrawal on record, for good.
--   * The lot state machine and the step order are audited: adding a transition or a
--     step kind, even as a superuser, now leaves an audit event (V0009 left them
--     unaudited, so a superuser could add quarantine → released without a trace).

CREATE OR REPLACE FUNCTION gmp_meta.check_new_collection() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    src gmp.tissue_source;
    who gmp.donor;
BEGIN
    SELECT * INTO STRICT src FROM gmp.tissue_source WHERE code = NEW.source;
    SELECT * INTO STRICT who FROM gmp.donor WHERE code = NEW.donor_code;
    IF NOT NEW.amount_unit = ANY (src.units) THEN
        RAISE EXCEPTION 'unit % does not fit %', NEW.amount_unit, src.name USING ERRCODE = 'P0001',
            HINT = format('give the amount of %s in %s', src.name, array_to_string(src.units, ' or '));
    END IF;
    IF src.newborn AND who.birth_mother IS NULL THEN
        RAISE EXCEPTION '% is a newborn tissue, and donor % has no birth mother linked', src.name, who.code
            USING ERRCODE = 'P0001',
                  HINT = 'the birth mother is the one tested: register the newborn with --birth-mother CODE';
    END IF;
    IF NEW.collected_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'collection time % is in the future', NEW.collected_at USING ERRCODE = 'P0001',
            HINT = 'give the time the tissue was recovered (ISO 8601, e.g. 2026-11-30T09:15:00Z)';
    END IF;
    -- Consent in force: given on or before the collection and not withdrawn. A donor
    -- who withdrew and later consents again is in force from the new consent.
    IF NOT EXISTS (SELECT FROM gmp.consent c WHERE c.donor_code IN (who.code, who.birth_mother)
                   AND c.withdrawn_on IS NULL AND c.given_on <= (NEW.collected_at AT TIME ZONE 'UTC')::date) THEN
        IF EXISTS (SELECT FROM gmp.consent c WHERE c.donor_code IN (who.code, who.birth_mother) AND c.withdrawn_on IS NOT NULL) THEN
            RAISE EXCEPTION 'donor % has withdrawn consent: no new collection may be recorded', who.code
                USING ERRCODE = 'P0001', HINT = 'the withdrawal stands; only a new consent, recorded with gmp donor consent, allows a collection';
        END IF;
        RAISE EXCEPTION 'donor % has no consent given on or before the collection', who.code
            USING ERRCODE = 'P0001', HINT = 'record the consent first: gmp donor consent CODE --given-on … --scope … --taken-by …';
    END IF;
    RETURN NEW;
END;
$$;


CREATE OR REPLACE FUNCTION gmp_meta.check_step() RETURNS trigger
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


SELECT gmp_audit.audit_table('gmp_meta.lot_transition', 'from_status');
SELECT gmp_audit.audit_table('gmp_meta.step_kind', 'kind');

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp, gmp_meta, gmp_audit FROM PUBLIC;
