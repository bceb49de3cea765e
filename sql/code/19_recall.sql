-- recall: Recall and lookback (21 CFR 1271.160(b)(2), 1271.290; issue 17): QA's signed
-- opening holds every derived lot that is not final and every unit still in the
-- facility and lists the shipped ones by consignee, in one transaction; each consignee
-- is notified and acknowledges; QA closes it, signed, once every consignee acknowledged
-- and every unit has a disposition. While a recall is open, no unit of a lot it reached
-- ships and no such lot is released, whoever writes (the triggers below, ENABLE ALWAYS).
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

CREATE OR REPLACE FUNCTION gmp_rules.require_recall(recall_id text) RETURNS gmp.recall
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r gmp.recall;
BEGIN
    SELECT * INTO r FROM gmp.recall x WHERE x.id = recall_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no recall %', recall_id USING ERRCODE = 'GM001', HINT = 'gmp recall list shows the recalls';
    END IF;
    RETURN r;
END;
$$;

-- The recall, locked against a concurrent closure, refused when it is closed.
CREATE OR REPLACE FUNCTION gmp_rules.require_open_recall(recall_id text) RETURNS gmp.recall
LANGUAGE plpgsql AS $$
DECLARE
    r gmp.recall := gmp_rules.require_recall(recall_id);
    c gmp.recall_closure;
BEGIN
    PERFORM FROM gmp.recall x WHERE x.id = r.id FOR UPDATE;
    SELECT * INTO c FROM gmp.recall_closure x WHERE x.recall_id = r.id;
    IF FOUND THEN
        RAISE EXCEPTION 'recall % was closed at % by %', r.id, c.closed_at, c.closed_by USING ERRCODE = 'GM004',
            HINT = 'a closed recall is final; open a new one if there is new information';
    END IF;
    RETURN r;
END;
$$;

-- The donor codes a donor's recall and lookback cover: the donor and every newborn whose
-- birth mother the donor is (a newborn's screening is its birth mother's, as in
-- gmp.trace_donor).
CREATE OR REPLACE FUNCTION gmp_rules.lookback_donors(donor_code text) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT $1 UNION ALL (SELECT d.code FROM gmp.donor d WHERE d.birth_mother = $1 ORDER BY d.code))
$$;

-- Every lot a cause reached: the donor's (and newborns') lots, the lots that consumed a
-- material lot, or a product lot; each with every lot made from them.
CREATE OR REPLACE FUNCTION gmp_rules.recall_scope(cause text, donor_code text, material_lot_id text, lot_din text)
RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE reached AS (
        SELECT l.din FROM gmp.lot l
        WHERE ($1 = 'donor' AND l.donor_code = ANY (gmp_rules.lookback_donors($2)))
           OR ($1 IN ('product_lot', 'post_release_result') AND l.din = $4)
        UNION
        SELECT c.din FROM gmp.material_consumption c WHERE $1 = 'material_lot' AND c.material_lot_id = $3
        UNION
        SELECT l.din FROM gmp.lot l JOIN reached ON l.parent_din = reached.din)
    SELECT din FROM reached
$$;

-- The open recalls that reached a lot.
CREATE OR REPLACE FUNCTION gmp_rules.open_recalls_of_lot(lot_din text) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT rl.recall_id FROM gmp.recall_lot rl
                 WHERE rl.din = lot_din
                   AND NOT EXISTS (SELECT FROM gmp.recall_closure c WHERE c.recall_id = rl.recall_id)
                 ORDER BY rl.recall_id)
$$;

-- The units a recall reached, as its lots recorded them at the opening.
CREATE OR REPLACE FUNCTION gmp_rules.recall_units(recall_id text)
RETURNS TABLE (unit_id text, din text, state_at_open text, shipped boolean, shipment_id text, consignee text)
LANGUAGE sql STABLE AS $$
    SELECT e->>'unit', rl.din, e->>'state', e->>'state' IN ('in_transit', 'delivered'), e->>'shipment', e->>'consignee'
    FROM gmp.recall_lot rl CROSS JOIN LATERAL jsonb_array_elements(rl.units) e
    WHERE rl.recall_id = $1
$$;

-- QA opens a recall, signed "held": in one transaction every lot the cause reached is
-- listed (those in quarantine put on hold), every unit of them listed (shipped ones with
-- their consignee), and the opening signed. Returns the recall's id.
CREATE OR REPLACE FUNCTION gmp.open_recall(challenge uuid, cause text, subject text, result_id bigint, description text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    new_id  text;
    l       gmp.lot;
    res     gmp.qc_result;
    reached text[];
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.give_reason(description);
    IF cause IS NULL OR cause NOT IN ('donor', 'material_lot', 'product_lot', 'post_release_result') THEN
        RAISE EXCEPTION 'unknown recall cause %', cause USING ERRCODE = 'GM002',
            HINT = 'causes: donor, material_lot, product_lot, post_release_result';
    END IF;
    IF cause = 'donor' THEN
        PERFORM gmp_rules.require_donor(subject);
    ELSIF cause = 'material_lot' THEN
        PERFORM gmp_rules.require_material_lot(subject);
    ELSE
        l := gmp_rules.require_lot(subject);
    END IF;
    IF cause = 'post_release_result' THEN
        IF l.status NOT IN ('released', 'exceptionally_released') THEN
            RAISE EXCEPTION 'lot % is %: a post-release result concerns a released lot', l.din, replace(l.status, '_', ' ')
                USING ERRCODE = 'GM003', HINT = 'recall it as a product lot (--lot), or hold it (gmp lot hold)';
        END IF;
        IF result_id IS NOT NULL THEN
            SELECT * INTO res FROM gmp.qc_result r WHERE r.id = open_recall.result_id;
            IF NOT FOUND OR res.din <> l.din THEN
                RAISE EXCEPTION 'no result % of lot %', result_id, l.din USING ERRCODE = 'GM001',
                    HINT = 'gmp qc list shows the lot''s results';
            END IF;
        END IF;
    ELSIF result_id IS NOT NULL THEN
        RAISE EXCEPTION 'a result is named only for a post-release result' USING ERRCODE = 'GM002';
    END IF;
    new_id := 'RCL' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YY') || '-'
          || lpad(nextval('gmp_meta.recall_number')::text, 5, '0');
    INSERT INTO gmp.recall (id, cause, donor_code, material_lot_id, din, result_id, description)
    VALUES (new_id, cause, CASE WHEN cause = 'donor' THEN subject END, CASE WHEN cause = 'material_lot' THEN subject END,
            l.din, result_id, btrim(description));
    -- The donors or the material lot locked first, then the lots and units: a release,
    -- dispatch, new lot, unit or consumption written meanwhile waits for this
    -- transaction, then finds the hold (gmp_rules.check_recall_derivation and the
    -- release and custody checks lock in the same order).
    IF cause = 'donor' THEN
        PERFORM FROM gmp.donor d WHERE d.code = ANY (gmp_rules.lookback_donors(subject)) ORDER BY d.code FOR UPDATE;
    ELSIF cause = 'material_lot' THEN
        PERFORM FROM gmp.material_lot m WHERE m.id = subject FOR UPDATE;
    END IF;
    reached := ARRAY(SELECT s FROM gmp_rules.recall_scope(cause, subject, subject, l.din) s ORDER BY 1);
    IF cardinality(reached) = 0 THEN
        RAISE EXCEPTION 'the % % reached no lot: there is nothing to recall', replace(cause, '_', ' '), subject
            USING ERRCODE = 'GM003', HINT = 'gmp trace shows what it reached';
    END IF;
    PERFORM FROM gmp.lot x JOIN unnest(reached) r(din) ON r.din = x.din ORDER BY x.din FOR UPDATE OF x;
    PERFORM FROM gmp.unit u JOIN unnest(reached) r(din) ON r.din = u.din ORDER BY u.id FOR UPDATE OF u;
    INSERT INTO gmp.recall_lot (recall_id, din, status_at_open, held, units)
    SELECT new_id, x.din, x.status, x.status IN ('quarantine', 'on_hold'),
           coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'unit', u.id, 'state', u.state,
                                'shipment', CASE WHEN u.state IN ('in_transit', 'delivered') THEN u.shipment_id END,
                                'consignee', CASE WHEN u.state IN ('in_transit', 'delivered') THEN s.consignee END)
                            ORDER BY u.id)
                     FROM gmp.unit u LEFT JOIN gmp.shipment s ON s.id = u.shipment_id WHERE u.din = x.din), '[]')
    FROM gmp.lot x JOIN unnest(reached) r(din) ON r.din = x.din;
    UPDATE gmp.lot x SET status = 'on_hold', status_changed_at = clock_timestamp(), status_changed_by = session_user
    FROM unnest(reached) r(din) WHERE r.din = x.din AND x.status = 'quarantine';
    PERFORM gmp_rules.record_signature(challenge, 'held', 'gmp.recall', new_id, description);
    RETURN new_id;
END;
$$;

-- While a recall is open, no unit of a lot it reached leaves the facility or is used,
-- whoever writes: not packed, not dispatched, not thawed (a thaw is the start of an
-- administration). Moving, withdrawing, handing over within the facility and discarding
-- stay allowed: the unit stays here, or is destroyed, and QA's disposition records it.
-- The unit's row lock first: a recall opened meanwhile is seen once it commits.
CREATE OR REPLACE FUNCTION gmp_rules.check_recall_custody() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    lot_din text;
    recalls text[];
BEGIN
    IF NEW.action NOT IN ('packed', 'dispatched', 'thawed') THEN
        RETURN NEW;
    END IF;
    SELECT u.din INTO lot_din FROM gmp.unit u WHERE u.id = NEW.unit_id FOR UPDATE;
    recalls := gmp_rules.open_recalls_of_lot(lot_din);
    IF cardinality(recalls) > 0 THEN
        RAISE EXCEPTION 'unit % is held by open recall %: it is not %', NEW.unit_id, array_to_string(recalls, ', '),
            CASE NEW.action WHEN 'thawed' THEN 'thawed' ELSE 'shipped' END
            USING ERRCODE = 'GM006', HINT = 'gmp recall show ' || recalls[1] || ' lists what it holds; QA disposes of'
                                            || ' the unit (gmp recall dispose) and closes the recall first';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER custody_recall_hold BEFORE INSERT ON gmp.custody_event
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_recall_custody();
ALTER TABLE gmp.custody_event ENABLE ALWAYS TRIGGER custody_recall_hold;

-- The open recalls whose cause reaches a new lot, unit or consumption: nothing new is
-- derived from what a recall holds while it is open, so what it recorded at its opening
-- stays everything it reached. Refused, whoever writes: a child lot of a held lot, a
-- new lot of a recalled donor (or of a newborn of one), a new unit of a held lot, and a
-- consumption of a recalled material lot. The parent (donor, material lot) is locked
-- first, as gmp.open_recall locks it: an opening meanwhile is seen once it commits.
CREATE OR REPLACE FUNCTION gmp_rules.check_recall_derivation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    recalls text[] := '{}';
    source  text;
BEGIN
    IF TG_TABLE_NAME = 'lot' THEN
        -- Donor before lot, the order gmp.open_recall locks them in.
        PERFORM FROM gmp.donor d WHERE d.code = NEW.donor_code FOR SHARE;
        IF NEW.parent_din IS NOT NULL THEN
            PERFORM FROM gmp.lot l WHERE l.din = NEW.parent_din FOR SHARE;
            recalls := gmp_rules.open_recalls_of_lot(NEW.parent_din);
            source := 'lot ' || NEW.parent_din;
        END IF;
        IF cardinality(recalls) = 0 AND NEW.donor_code IS NOT NULL THEN
            recalls := ARRAY(SELECT r.id FROM gmp.recall r
                             WHERE r.cause = 'donor' AND NEW.donor_code = ANY (gmp_rules.lookback_donors(r.donor_code))
                               AND NOT EXISTS (SELECT FROM gmp.recall_closure c WHERE c.recall_id = r.id)
                             ORDER BY r.id);
            source := 'donor ' || NEW.donor_code;
        END IF;
    ELSIF TG_TABLE_NAME = 'unit' THEN
        PERFORM FROM gmp.lot l WHERE l.din = NEW.din FOR SHARE;
        recalls := gmp_rules.open_recalls_of_lot(NEW.din);
        source := 'lot ' || NEW.din;
    ELSE
        -- FOR NO KEY UPDATE, the lock gmp_rules.check_consumption takes next: two
        -- consumptions each holding a share and then asking for more would deadlock.
        PERFORM FROM gmp.material_lot m WHERE m.id = NEW.material_lot_id FOR NO KEY UPDATE;
        recalls := ARRAY(SELECT r.id FROM gmp.recall r
                         WHERE r.cause = 'material_lot' AND r.material_lot_id = NEW.material_lot_id
                           AND NOT EXISTS (SELECT FROM gmp.recall_closure c WHERE c.recall_id = r.id)
                         ORDER BY r.id);
        source := 'material lot ' || NEW.material_lot_id;
    END IF;
    IF cardinality(recalls) > 0 THEN
        RAISE EXCEPTION '% is held by open recall %: nothing new is made from it', source, array_to_string(recalls, ', ')
            USING ERRCODE = 'GM006', HINT = 'gmp recall show ' || recalls[1] || ' lists what it holds; QA closes it first';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER lot_recall_derivation BEFORE INSERT ON gmp.lot
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_recall_derivation();
ALTER TABLE gmp.lot ENABLE ALWAYS TRIGGER lot_recall_derivation;
CREATE OR REPLACE TRIGGER unit_recall_derivation BEFORE INSERT ON gmp.unit
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_recall_derivation();
ALTER TABLE gmp.unit ENABLE ALWAYS TRIGGER unit_recall_derivation;
CREATE OR REPLACE TRIGGER consumption_recall_derivation BEFORE INSERT ON gmp.material_consumption
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_recall_derivation();
ALTER TABLE gmp.material_consumption ENABLE ALWAYS TRIGGER consumption_recall_derivation;

-- While a recall is open, no lot it reached is released, exceptionally either, whoever writes.
CREATE OR REPLACE FUNCTION gmp_rules.check_recall_release() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    recalls text[];
BEGIN
    -- Looked up only for a release: the opening itself updates a thousand lots to on_hold.
    IF NEW.status NOT IN ('released', 'exceptionally_released') OR NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;
    recalls := gmp_rules.open_recalls_of_lot(NEW.din);
    IF cardinality(recalls) > 0 THEN
        RAISE EXCEPTION 'lot % is held by open recall %: it is not released', NEW.din, array_to_string(recalls, ', ')
            USING ERRCODE = 'GM006', HINT = 'the recall is closed first (gmp recall close)';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER lot_recall_hold BEFORE UPDATE OF status ON gmp.lot
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_recall_release();
ALTER TABLE gmp.lot ENABLE ALWAYS TRIGGER lot_recall_hold;

-- A consignee of the recall is told: how, whom, when. Returns the notification's id.
CREATE OR REPLACE FUNCTION gmp.notify_recall(recall_id text, consignee text, method text, contact text,
                                             notified_at timestamptz, note text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    r  gmp.recall;
    id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    r := gmp_rules.require_open_recall(recall_id);
    PERFORM gmp_rules.require_consignee(r.id, consignee);
    IF method IS NULL OR method NOT IN ('phone', 'email', 'fax', 'letter', 'courier', 'in_person') THEN
        RAISE EXCEPTION 'unknown notification method %', method USING ERRCODE = 'GM002',
            HINT = 'methods: phone, email, fax, letter, courier, in_person';
    END IF;
    IF btrim(coalesce(contact, '')) = '' THEN
        RAISE EXCEPTION 'a notification names whom at the consignee was told' USING ERRCODE = 'GM002',
            HINT = 'give --contact "Dr A. Name, transplant unit"';
    END IF;
    IF coalesce(notified_at, clock_timestamp()) > clock_timestamp() + interval '5 minutes'
       OR coalesce(notified_at, clock_timestamp()) < r.opened_at THEN
        RAISE EXCEPTION 'notification time % is in the future or before the recall was opened', notified_at
            USING ERRCODE = 'GM002', HINT = 'give the time the consignee was told';
    END IF;
    PERFORM set_config('gmp.reason', 'recall notified', true);
    INSERT INTO gmp.recall_notification (recall_id, consignee, method, contact, notified_at, note)
    VALUES (r.id, consignee, method, btrim(contact), coalesce(notified_at, clock_timestamp()), nullif(btrim(note), ''))
    RETURNING recall_notification.id INTO id;
    RETURN id;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_consignee(recall_id text, consignee text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM gmp_rules.recall_units(require_consignee.recall_id) u WHERE u.shipped
                   AND u.consignee = require_consignee.consignee) THEN
        RAISE EXCEPTION 'no unit of recall % was shipped to %', recall_id, consignee USING ERRCODE = 'GM001',
            HINT = 'gmp recall show ' || recall_id || ' lists its consignees';
    END IF;
END;
$$;

-- The consignee's acknowledgement, with what they did with every unit shipped to them:
-- returned (it re-enters custody as recalled, held by the recorder), destroyed or
-- administered. Returns the acknowledgement's id.
CREATE OR REPLACE FUNCTION gmp.acknowledge_recall(recall_id text, consignee text, acknowledged_by text,
                                                  acknowledged_at timestamptz, returned text[], destroyed text[],
                                                  administered text[], note text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    r       gmp.recall;
    id      bigint;
    at      timestamptz := coalesce(acknowledged_at, clock_timestamp());
    named   text[];
    missing text;
    extra   text;
    one_id  text;
BEGIN
    PERFORM gmp_rules.active_person();
    r := gmp_rules.require_open_recall(recall_id);
    PERFORM gmp_rules.require_consignee(r.id, consignee);
    IF NOT EXISTS (SELECT FROM gmp.recall_notification n WHERE n.recall_id = r.id AND n.consignee = acknowledge_recall.consignee) THEN
        RAISE EXCEPTION '% was not notified of recall % yet', consignee, r.id USING ERRCODE = 'GM003',
            HINT = 'record the notification first: gmp recall notify';
    END IF;
    IF EXISTS (SELECT FROM gmp.recall_acknowledgement a WHERE a.recall_id = r.id AND a.consignee = acknowledge_recall.consignee) THEN
        RAISE EXCEPTION '% acknowledged recall % already', consignee, r.id USING ERRCODE = 'GM004',
            HINT = 'an acknowledgement is recorded once';
    END IF;
    IF btrim(coalesce(acknowledged_by, '')) = '' THEN
        RAISE EXCEPTION 'an acknowledgement names who at the consignee acknowledged' USING ERRCODE = 'GM002';
    END IF;
    IF at > clock_timestamp() + interval '5 minutes' OR at < r.opened_at THEN
        RAISE EXCEPTION 'acknowledgement time % is in the future or before the recall was opened', at USING ERRCODE = 'GM002';
    END IF;
    named := ARRAY(SELECT upper(btrim(x)) FROM unnest(coalesce(returned, '{}') || coalesce(destroyed, '{}')
                                                       || coalesce(administered, '{}')) x);
    IF cardinality(named) <> (SELECT count(DISTINCT x) FROM unnest(named) x) THEN
        RAISE EXCEPTION 'a unit is named twice' USING ERRCODE = 'GM002', HINT = 'each unit has one outcome';
    END IF;
    SELECT string_agg(u.unit_id, ', ' ORDER BY u.unit_id) INTO missing FROM gmp_rules.recall_units(r.id) u
    WHERE u.shipped AND u.consignee = acknowledge_recall.consignee AND NOT u.unit_id = ANY (named);
    SELECT string_agg(x, ', ' ORDER BY x) INTO extra FROM unnest(named) x
    WHERE NOT EXISTS (SELECT FROM gmp_rules.recall_units(r.id) u WHERE u.shipped AND u.unit_id = x
                      AND u.consignee = acknowledge_recall.consignee);
    IF missing IS NOT NULL OR extra IS NOT NULL THEN
        RAISE EXCEPTION '%', format('the acknowledgement accounts for every unit shipped to %s and no other:%s%s', consignee,
            coalesce(' missing ' || missing, ''), coalesce(' not theirs ' || extra, '')) USING ERRCODE = 'GM002',
            HINT = 'give each unit with --returned, --destroyed or --administered';
    END IF;
    PERFORM set_config('gmp.reason', 'recall acknowledged by ' || btrim(acknowledged_by), true);
    INSERT INTO gmp.recall_acknowledgement (recall_id, consignee, acknowledged_by, acknowledged_at, note)
    VALUES (r.id, consignee, btrim(acknowledged_by), at, nullif(btrim(note), ''))
    RETURNING recall_acknowledgement.id INTO id;
    INSERT INTO gmp.recall_unit_disposition (recall_id, unit_id, disposition, acknowledgement_id)
    SELECT r.id, upper(btrim(x.unit)), x.disposition, id
    FROM (SELECT unnest(coalesce(returned, '{}')) AS unit, 'returned' AS disposition
          UNION ALL SELECT unnest(coalesce(destroyed, '{}')), 'destroyed'
          UNION ALL SELECT unnest(coalesce(administered, '{}')), 'administered') x;
    FOREACH one_id IN ARRAY ARRAY(SELECT upper(btrim(x)) FROM unnest(coalesce(returned, '{}')) x ORDER BY 1) LOOP
        PERFORM gmp_rules.record_custody(one_id, 'returned', 'recalled', NULL, NULL, NULL, session_user, NULL,
                                        'returned under recall ' || r.id, NULL, NULL);
    END LOOP;
    RETURN id;
END;
$$;

-- QA's disposition of a unit the recall held in the facility: discarded (the unit was
-- discarded), rejected (its lot was rejected) or cleared (with the reason it is not
-- affected). Returns the disposition's id.
CREATE OR REPLACE FUNCTION gmp.dispose_recall_unit(recall_id text, unit_id text, disposition text, reason text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    r  gmp.recall;
    ru record;
    u  gmp.unit;
    id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    r := gmp_rules.require_open_recall(recall_id);
    SELECT * INTO ru FROM gmp_rules.recall_units(r.id) x WHERE x.unit_id = upper(btrim(dispose_recall_unit.unit_id));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'recall % did not reach unit %', r.id, unit_id USING ERRCODE = 'GM001',
            HINT = 'gmp recall show ' || r.id || ' lists its units';
    ELSIF ru.shipped THEN
        RAISE EXCEPTION 'unit % was shipped to %: its consignee''s acknowledgement says what became of it', ru.unit_id,
            ru.consignee USING ERRCODE = 'GM003', HINT = 'gmp recall acknowledge';
    ELSIF EXISTS (SELECT FROM gmp.recall_unit_disposition d WHERE d.recall_id = r.id AND d.unit_id = ru.unit_id) THEN
        RAISE EXCEPTION 'unit % has its disposition under recall % already', ru.unit_id, r.id USING ERRCODE = 'GM004';
    END IF;
    SELECT * INTO u FROM gmp.unit x WHERE x.id = ru.unit_id;
    IF disposition = 'discarded' AND u.state <> 'discarded' THEN
        RAISE EXCEPTION 'unit % is %, not discarded', u.id, replace(u.state, '_', ' ') USING ERRCODE = 'GM003',
            HINT = 'discard it first: gmp unit discard';
    ELSIF disposition = 'rejected' AND NOT EXISTS (SELECT FROM gmp.lot l WHERE l.din = u.din AND l.status = 'rejected') THEN
        RAISE EXCEPTION 'lot % of unit % is not rejected', u.din, u.id USING ERRCODE = 'GM003',
            HINT = 'QA rejects the lot first: gmp release reject';
    ELSIF disposition = 'cleared' THEN
        PERFORM gmp_rules.give_reason(reason);
    ELSIF disposition IS NULL OR disposition NOT IN ('discarded', 'rejected') THEN
        RAISE EXCEPTION 'unknown disposition % for a held unit', disposition USING ERRCODE = 'GM002',
            HINT = 'discarded, rejected or cleared (with --reason)';
    END IF;
    PERFORM set_config('gmp.reason', coalesce(nullif(btrim(reason), ''), 'recall disposition ' || disposition), true);
    INSERT INTO gmp.recall_unit_disposition (recall_id, unit_id, disposition, reason)
    VALUES (r.id, u.id, disposition, nullif(btrim(reason), '')) RETURNING recall_unit_disposition.id INTO id;
    RETURN id;
END;
$$;

-- A unit's disposition names a unit the recall reached, while it is open, whoever inserts.
CREATE OR REPLACE FUNCTION gmp_rules.check_recall_unit_disposition() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT FROM gmp.recall_closure c WHERE c.recall_id = NEW.recall_id) THEN
        RAISE EXCEPTION 'recall % is closed', NEW.recall_id USING ERRCODE = 'GM004';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp_rules.recall_units(NEW.recall_id) u WHERE u.unit_id = NEW.unit_id) THEN
        RAISE EXCEPTION 'recall % did not reach unit %', NEW.recall_id, NEW.unit_id USING ERRCODE = 'GM001',
            HINT = 'gmp recall show ' || NEW.recall_id || ' lists its units';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER recall_unit_disposition_rules BEFORE INSERT ON gmp.recall_unit_disposition
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_recall_unit_disposition();
ALTER TABLE gmp.recall_unit_disposition ENABLE ALWAYS TRIGGER recall_unit_disposition_rules;

-- What still stands between a recall and its closure: consignees that have not
-- acknowledged, units without a disposition (units discarded before the opening need none).
CREATE OR REPLACE FUNCTION gmp_rules.recall_outstanding(recall_id text) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(
        SELECT p FROM (
            SELECT 1 AS o, format('consignee %s has not acknowledged', u.consignee) AS p
            FROM gmp_rules.recall_units($1) u WHERE u.shipped
            AND NOT EXISTS (SELECT FROM gmp.recall_acknowledgement a WHERE a.recall_id = $1 AND a.consignee = u.consignee)
            GROUP BY u.consignee
            UNION ALL
            SELECT 2, format('%s unit(s) held without a disposition: %s', count(*),
                             string_agg(u.unit_id, ', ' ORDER BY u.unit_id) FILTER (WHERE u.n <= 10)
                             || CASE WHEN count(*) > 10 THEN ' …' ELSE '' END)
            FROM (SELECT x.unit_id, row_number() OVER (ORDER BY x.unit_id) AS n FROM gmp_rules.recall_units($1) x
                  WHERE NOT x.shipped AND x.state_at_open <> 'discarded'
                  AND NOT EXISTS (SELECT FROM gmp.recall_unit_disposition d
                                  WHERE d.recall_id = $1 AND d.unit_id = x.unit_id)) u
            HAVING count(*) > 0) q ORDER BY o, p)
$$;

-- A closure only when nothing is outstanding, whoever inserts it.
CREATE OR REPLACE FUNCTION gmp_rules.check_recall_closure() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    outstanding text[];
BEGIN
    PERFORM FROM gmp.recall x WHERE x.id = NEW.recall_id FOR UPDATE;
    outstanding := gmp_rules.recall_outstanding(NEW.recall_id);
    IF cardinality(outstanding) > 0 THEN
        RAISE EXCEPTION 'recall % cannot be closed: %', NEW.recall_id, array_to_string(outstanding, '; ')
            USING ERRCODE = 'GM006', HINT = 'record each acknowledgement (gmp recall acknowledge) and disposition (gmp recall dispose)';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER recall_closure_rules BEFORE INSERT ON gmp.recall_closure
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_recall_closure();
ALTER TABLE gmp.recall_closure ENABLE ALWAYS TRIGGER recall_closure_rules;

-- QA closes the recall, signed "approved"; returns the signature's id.
CREATE OR REPLACE FUNCTION gmp.close_recall(challenge uuid, recall_id text, summary text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    r gmp.recall;
BEGIN
    PERFORM gmp_rules.active_person();
    r := gmp_rules.require_open_recall(recall_id);
    PERFORM gmp_rules.give_reason(summary);
    INSERT INTO gmp.recall_closure (recall_id, summary) VALUES (r.id, btrim(summary));
    RETURN gmp_rules.record_signature(challenge, 'approved', 'gmp.recall_closure', r.id, summary);
END;
$$;

-- At COMMIT, whoever wrote them: an opening and a closure each carry QA's intact
-- signature (held, approved).
CREATE OR REPLACE FUNCTION gmp_rules.check_recall_signed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    target  text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    key     text := CASE WHEN TG_TABLE_NAME = 'recall' THEN to_jsonb(NEW)->>'id' ELSE to_jsonb(NEW)->>'recall_id' END;
    who     text := CASE WHEN TG_TABLE_NAME = 'recall' THEN to_jsonb(NEW)->>'opened_by' ELSE to_jsonb(NEW)->>'closed_by' END;
    meaning text := CASE WHEN TG_TABLE_NAME = 'recall' THEN 'held' ELSE 'approved' END;
    sig     gmp.signature;
BEGIN
    SELECT * INTO sig FROM gmp.signature s WHERE s.record_table = target AND s.record_key = key ORDER BY s.id LIMIT 1;
    IF NOT FOUND OR sig.meaning <> meaning OR sig.signer <> who
       OR sig.content_hash <> gmp_rules.content_hash(target, key) THEN
        RAISE EXCEPTION '% % needs the intact e-signature of %, meaning %', target, key, who, meaning
            USING ERRCODE = 'insufficient_privilege', HINT = 'QA uses gmp recall open|close';
    END IF;
    IF NOT pg_has_role(who, 'gmp_qa', 'MEMBER') THEN
        RAISE EXCEPTION '% may not open or close recalls: that needs the qa role', who USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;
-- PostgreSQL cannot CREATE OR REPLACE a constraint trigger: bound once, here, and its
-- function replaced in place whenever this file changes.
SELECT gmp_meta.bind_commit_check('gmp.recall', 'recall_signed', 'INSERT', 'gmp_rules.check_recall_signed');
SELECT gmp_meta.bind_commit_check('gmp.recall_closure', 'recall_closure_signed', 'INSERT', 'gmp_rules.check_recall_signed');

-- One recall as every report shows it: its cause and signatures, every lot and unit it
-- reached with its state then and now and its disposition, each consignee with their
-- notifications and acknowledgement, what is outstanding, and the closure.
CREATE OR REPLACE FUNCTION gmp.recall_document(recall_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    r gmp.recall := gmp_rules.require_recall(recall_id);
BEGIN
    RETURN jsonb_build_object(
        'id', r.id, 'cause', r.cause, 'subject', coalesce(r.donor_code, r.material_lot_id, r.din),
        'result_id', r.result_id, 'description', r.description, 'opened_by', r.opened_by, 'opened_at', r.opened_at,
        'status', CASE WHEN EXISTS (SELECT FROM gmp.recall_closure c WHERE c.recall_id = r.id) THEN 'closed' ELSE 'open' END,
        'newborns', CASE WHEN r.cause = 'donor' THEN to_jsonb((gmp_rules.lookback_donors(r.donor_code))[2:]) END,
        'signatures', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                    'id', s.id, 'record', s.record_table, 'meaning', s.meaning, 'signer', s.signer,
                                    'printed_name', s.printed_name, 'signed_at', s.signed_at,
                                    'intact', gmp_rules.signature_intact(s.id)) ORDER BY s.id)
                                FROM gmp.signature s WHERE s.record_table IN ('gmp.recall', 'gmp.recall_closure')
                                AND s.record_key = r.id), '[]'),
        'lots', coalesce((SELECT jsonb_agg(jsonb_build_object(
                              'din', l.din, 'keyed_id', l.din || l.check_character, 'stage', l.stage,
                              'status_at_open', rl.status_at_open, 'status', l.status, 'held', rl.held) ORDER BY l.din)
                          FROM gmp.recall_lot rl JOIN gmp.lot l ON l.din = rl.din WHERE rl.recall_id = r.id), '[]'),
        'units', coalesce((SELECT jsonb_agg(jsonb_build_object(
                               'unit', u.unit_id, 'lot', u.din, 'state_at_open', u.state_at_open, 'state', x.state,
                               'shipped', u.shipped, 'shipment', u.shipment_id, 'consignee', u.consignee,
                               'disposition', d.disposition, 'disposition_reason', d.reason,
                               'disposed_by', d.decided_by, 'disposed_at', d.decided_at) ORDER BY u.unit_id)
                           FROM gmp_rules.recall_units(r.id) u JOIN gmp.unit x ON x.id = u.unit_id
                           LEFT JOIN gmp.recall_unit_disposition d ON d.recall_id = r.id AND d.unit_id = u.unit_id), '[]'),
        'consignees', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                    'consignee', c.consignee, 'units', c.units,
                                    'notifications', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                                                   'id', n.id, 'method', n.method, 'contact', n.contact,
                                                                   'notified_at', n.notified_at, 'note', n.note,
                                                                   'recorded_by', n.recorded_by) ORDER BY n.id)
                                                               FROM gmp.recall_notification n
                                                               WHERE n.recall_id = r.id AND n.consignee = c.consignee), '[]'),
                                    'acknowledgement', (SELECT jsonb_build_object(
                                                            'id', a.id, 'acknowledged_by', a.acknowledged_by,
                                                            'acknowledged_at', a.acknowledged_at, 'note', a.note,
                                                            'recorded_by', a.recorded_by)
                                                        FROM gmp.recall_acknowledgement a
                                                        WHERE a.recall_id = r.id AND a.consignee = c.consignee))
                                    ORDER BY c.consignee)
                                FROM (SELECT u.consignee, jsonb_agg(u.unit_id ORDER BY u.unit_id) AS units
                                      FROM gmp_rules.recall_units(r.id) u WHERE u.shipped
                                      GROUP BY u.consignee) c), '[]'),
        'outstanding', to_jsonb(gmp_rules.recall_outstanding(r.id)),
        'closure', (SELECT jsonb_build_object('summary', c.summary, 'closed_by', c.closed_by, 'closed_at', c.closed_at)
                    FROM gmp.recall_closure c WHERE c.recall_id = r.id));
END;
$$;

-- Every recall, newest first, with its counts.
CREATE OR REPLACE FUNCTION gmp.recall_list()
RETURNS TABLE (id text, cause text, subject text, opened_at timestamptz, opened_by text, status text, lots bigint,
               held_lots bigint, units bigint, shipped_units bigint, consignees bigint, acknowledged bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
    SELECT r.id, r.cause, coalesce(r.donor_code, r.material_lot_id, r.din), r.opened_at, r.opened_by,
           CASE WHEN EXISTS (SELECT FROM gmp.recall_closure c WHERE c.recall_id = r.id) THEN 'closed' ELSE 'open' END,
           (SELECT count(*) FROM gmp.recall_lot l WHERE l.recall_id = r.id),
           (SELECT count(*) FROM gmp.recall_lot l WHERE l.recall_id = r.id AND l.held),
           (SELECT count(*) FROM gmp_rules.recall_units(r.id) u),
           (SELECT count(*) FROM gmp_rules.recall_units(r.id) u WHERE u.shipped),
           (SELECT count(DISTINCT u.consignee) FROM gmp_rules.recall_units(r.id) u WHERE u.shipped),
           (SELECT count(*) FROM gmp.recall_acknowledgement a WHERE a.recall_id = r.id)
    FROM gmp.recall r ORDER BY r.opened_at DESC, r.id DESC
$$;

-- The lookback for a donor (1271.290): every unit made from the donor's (and their
-- newborns') tissue, grouped by the consignee that received it, and those still here.
CREATE OR REPLACE FUNCTION gmp.recall_lookback(donor_code text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    who   gmp.donor := gmp_rules.require_donor(donor_code);
    codes text[] := gmp_rules.lookback_donors(who.code);
BEGIN
    RETURN jsonb_build_object(
        'donor', who.code, 'birth_mother', who.birth_mother, 'newborns', to_jsonb(codes[2:]),
        'lots', coalesce((SELECT jsonb_agg(jsonb_build_object('din', l.din, 'keyed_id', l.din || l.check_character,
                                                              'donor', l.donor_code, 'stage', l.stage, 'status', l.status,
                                                              'open_recalls', to_jsonb(gmp_rules.open_recalls_of_lot(l.din)))
                                           ORDER BY l.din)
                          FROM gmp.lot l JOIN gmp_rules.recall_scope('donor', who.code, NULL, NULL) s ON s = l.din), '[]'),
        'consignees', coalesce((SELECT jsonb_agg(jsonb_build_object('consignee', c.consignee, 'units', c.units)
                                                 ORDER BY c.consignee)
                                FROM (SELECT s.consignee, jsonb_agg(jsonb_build_object(
                                                 'unit', u.id, 'lot', u.din, 'donor', l.donor_code, 'state', u.state,
                                                 'shipment', s.id, 'dispatched_at', s.dispatched_at,
                                                 'received_at', s.received_at) ORDER BY u.id) AS units
                                      FROM gmp.unit u JOIN gmp.lot l ON l.din = u.din
                                      JOIN gmp_rules.recall_scope('donor', who.code, NULL, NULL) sc ON sc = u.din
                                      JOIN gmp.shipment s ON s.id = u.shipment_id
                                      WHERE u.state IN ('in_transit', 'delivered')
                                      GROUP BY s.consignee) c), '[]'),
        'in_facility', coalesce((SELECT jsonb_agg(jsonb_build_object('unit', u.id, 'lot', u.din, 'state', u.state)
                                                  ORDER BY u.id)
                                 FROM gmp.unit u JOIN gmp_rules.recall_scope('donor', who.code, NULL, NULL) sc ON sc = u.din
                                 WHERE u.state NOT IN ('in_transit', 'delivered', 'discarded')), '[]'));
END;
$$;
