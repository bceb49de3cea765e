-- custody: Chain of custody: one append-only chain of events per unit, placing, moving,
-- withdrawing, thawing, discarding, and signed hand-overs with their receipts.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- A custody event continues its unit's chain: it names the unit's last event (filled
-- in when omitted, refused when another), takes the unit's row lock so two events
-- cannot both continue the same holding, follows an allowed action from the unit's
-- state, and happens after the holding it ends and not in the future. A position must
-- be inside its box's layout in a device that may hold the lot's product kind.
CREATE OR REPLACE FUNCTION gmp_rules.check_custody_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    u        gmp.unit;
    previous gmp.custody_event;
    box      gmp.storage_location;
    device   gmp.storage_location;
    kind     text;
BEGIN
    SELECT * INTO u FROM gmp.unit WHERE id = NEW.unit_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no unit %', NEW.unit_id USING ERRCODE = 'GM001', HINT = 'gmp storage find LOT lists a lot''s units';
    END IF;
    IF NEW.action = 'filled' THEN
        IF u.last_event IS NOT NULL OR NEW.state <> 'in_hand' THEN
            RAISE EXCEPTION 'unit % was filled already', u.id USING ERRCODE = 'GM003';
        END IF;
    ELSE
        IF NEW.previous_event IS NULL THEN
            NEW.previous_event := u.last_event;
        ELSIF NEW.previous_event IS DISTINCT FROM u.last_event THEN
            RAISE EXCEPTION 'custody of unit % has moved on since event %', u.id, NEW.previous_event
                USING ERRCODE = 'GM010', HINT = 'someone else recorded a custody event for it first: look again (gmp custody history)';
        END IF;
        SELECT * INTO previous FROM gmp.custody_event WHERE id = u.last_event;
        IF NOT EXISTS (SELECT FROM gmp_meta.custody_action a
                       WHERE a.action = NEW.action AND a.from_state = u.state AND a.to_state = NEW.state) THEN
            RAISE EXCEPTION 'unit % is %: it cannot be %', u.id, replace(u.state, '_', ' '), replace(NEW.action, '_', ' ')
                USING ERRCODE = 'GM003',
                      HINT = CASE u.state WHEN 'discarded' THEN 'a discarded unit stays discarded; its record remains'
                                          WHEN 'stored' THEN 'withdraw it from storage first: gmp unit withdraw'
                                          WHEN 'in_hand' THEN 'place it in storage first: gmp unit place'
                                          ELSE 'gmp custody history shows where it is' END;
        END IF;
        IF NEW.at < previous.at THEN
            RAISE EXCEPTION 'a custody event at % would precede the holding it ends (from %)', NEW.at, previous.at
                USING ERRCODE = 'GM007', HINT = 'custody times run forward';
        END IF;
        IF EXISTS (SELECT FROM gmp.pending_transfer t WHERE t.unit_ids @> ARRAY[NEW.unit_id]
                   AND NEW.transfer_id IS DISTINCT FROM t.id) THEN
            RAISE EXCEPTION 'unit % is being handed over: its receiver has not confirmed yet', u.id USING ERRCODE = 'GM007',
                HINT = 'the named receiver confirms first: gmp custody receive';
        END IF;
    END IF;
    IF NEW.at > clock_timestamp() THEN
        RAISE EXCEPTION 'custody time % is in the future', NEW.at USING ERRCODE = '22007',
            HINT = 'give the time it happened, no later than now';
    END IF;
    IF NEW.box_id IS NOT NULL THEN
        SELECT * INTO box FROM gmp.storage_location WHERE id = NEW.box_id;
        IF box.kind IS DISTINCT FROM 'box' THEN
            RAISE EXCEPTION '% is a %, not a box', NEW.box_id, coalesce(box.kind, 'unknown location')
                USING ERRCODE = 'GM002', HINT = 'units go into a position of a box: --box BOX --position C7';
        END IF;
        IF NEW.box_row NOT BETWEEN 1 AND box.rows OR NEW.box_column NOT BETWEEN 1 AND box.columns THEN
            RAISE EXCEPTION 'box % has rows A–% and columns 1–%: there is no position %', box.id, chr(64 + box.rows),
                box.columns, gmp_rules.position_label(NEW.box_row, NEW.box_column) USING ERRCODE = 'GM002',
                HINT = 'gmp storage layout BOX shows its positions';
        END IF;
        SELECT * INTO device FROM gmp.storage_location WHERE id = box.device_id;
        SELECT l.product_kind INTO kind FROM gmp.lot l WHERE l.din = u.din;
        IF NOT kind = ANY (device.holds) THEN
            RAISE EXCEPTION '% holds % only, not %', device.id, array_to_string(device.holds, ', '), kind
                USING ERRCODE = 'GM002', HINT = 'choose a device that may hold this product';
        END IF;
        NEW.device_id := device.id;
    END IF;
    RETURN NEW;
END;
$$;

-- The unit row follows its newest event.
CREATE OR REPLACE FUNCTION gmp_rules.apply_custody_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE gmp.unit SET state = NEW.state, box_id = NEW.box_id, box_row = NEW.box_row, box_column = NEW.box_column,
                        holder_person = NEW.holder_person, holder_party = NEW.holder_party,
                        device_id = NEW.device_id, shipment_id = NEW.shipment_id, last_event = NEW.id
    WHERE id = NEW.unit_id;
    RETURN NULL;
END;
$$;

-- A unit changes only by its newest custody event: every other column is fixed, the
-- holder and state must equal that event's, and units are never deleted.
CREATE OR REPLACE FUNCTION gmp_rules.guard_unit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    e gmp.custody_event;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'units are never deleted' USING ERRCODE = 'GM004', HINT = 'discard it with a reason: gmp unit discard';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.last_event IS NOT NULL OR NEW.state <> 'in_hand' THEN
            RAISE EXCEPTION 'a unit starts in the hands of the person who filled it' USING ERRCODE = 'GM007';
        END IF;
        RETURN NEW;
    END IF;
    IF (OLD.id, OLD.din, OLD.division, OLD.container, OLD.volume_ml, OLD.created_at)
       IS DISTINCT FROM (NEW.id, NEW.din, NEW.division, NEW.container, NEW.volume_ml, NEW.created_at) THEN
        RAISE EXCEPTION 'unit % is recorded: only custody events change it', OLD.id USING ERRCODE = 'GM004';
    END IF;
    SELECT * INTO e FROM gmp.custody_event WHERE id = NEW.last_event;
    IF NOT FOUND OR e.unit_id <> NEW.id OR e.previous_event IS DISTINCT FROM OLD.last_event
       OR (e.state, e.box_id, e.box_row, e.box_column, e.holder_person, e.holder_party, e.device_id, e.shipment_id)
          IS DISTINCT FROM (NEW.state, NEW.box_id, NEW.box_row, NEW.box_column, NEW.holder_person, NEW.holder_party,
                            NEW.device_id, NEW.shipment_id) THEN
        RAISE EXCEPTION 'unit % changes holder only by a custody event', OLD.id USING ERRCODE = 'GM007',
            HINT = 'use gmp unit place|move|withdraw, gmp custody hand-over, or gmp ship';
    END IF;
    RETURN NEW;
END;
$$;

-- Only the named receiver receives, once, no earlier than the sign-off and not later than now.
CREATE OR REPLACE FUNCTION gmp_rules.check_custody_receipt() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    t gmp.custody_transfer;
BEGIN
    SELECT * INTO STRICT t FROM gmp.custody_transfer WHERE id = NEW.transfer_id;
    IF NEW.received_by <> t.to_person THEN
        RAISE EXCEPTION 'custody transfer % is to %, not to %', t.id, t.to_person, NEW.received_by
            USING ERRCODE = 'insufficient_privilege', HINT = format('only %s can confirm receipt', t.to_person);
    ELSIF NEW.received_at < t.signed_off_at OR NEW.received_at > clock_timestamp() THEN
        RAISE EXCEPTION 'receipt at % is before the sign-off at % or in the future', NEW.received_at, t.signed_off_at
            USING ERRCODE = 'GM002', HINT = 'give the time the units reached you';
    END IF;
    RETURN NEW;
END;
$$;

-- Hand-overs signed off and not yet received.
CREATE OR REPLACE VIEW gmp.pending_transfer AS
SELECT t.* FROM gmp.custody_transfer t
WHERE NOT EXISTS (SELECT FROM gmp.custody_receipt r WHERE r.transfer_id = t.id);

-- Each holding with its end: the event's time until the next event's (NULL: now).
CREATE OR REPLACE VIEW gmp.custody_holding AS
SELECT e.id AS event_id, e.unit_id, e.action, e.state, e.at AS since, n.at AS until,
       e.box_id, e.box_row, e.box_column,
       CASE WHEN e.box_id IS NOT NULL THEN gmp_rules.position_label(e.box_row, e.box_column) END AS position,
       e.holder_person, e.holder_party, e.device_id, e.shipment_id, e.transfer_id, e.condition, e.reason,
       e.recorded_by, e.recorded_at, e.previous_event
FROM gmp.custody_event e
LEFT JOIN gmp.custody_event n ON n.previous_event = e.id;

-- Breaks in a unit's chain that the rules above make impossible through gmp but an
-- inspector must see if they are there: a missing or second start, a holding ended
-- twice, times running backwards, a current holder that is not the newest event's.
CREATE OR REPLACE FUNCTION gmp_rules.custody_problems(unit_id text) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(
        SELECT p FROM (
            SELECT 'no custody event records its filling' AS p
            WHERE NOT EXISTS (SELECT FROM gmp.custody_event e WHERE e.unit_id = $1 AND e.action = 'filled')
            UNION ALL
            SELECT format('event %s continues event %s, which belongs to another unit or does not exist', e.id, e.previous_event)
            FROM gmp.custody_event e LEFT JOIN gmp.custody_event p ON p.id = e.previous_event
            WHERE e.unit_id = $1 AND e.previous_event IS NOT NULL AND p.unit_id IS DISTINCT FROM e.unit_id
            UNION ALL
            SELECT format('event %s at %s is earlier than the holding it ends (event %s at %s)', e.id, e.at, p.id, p.at)
            FROM gmp.custody_event e JOIN gmp.custody_event p ON p.id = e.previous_event
            WHERE e.unit_id = $1 AND e.at < p.at
            UNION ALL
            SELECT format('events %s are not one chain', string_agg(e.id::text, ', '))
            FROM gmp.custody_event e WHERE e.unit_id = $1
            HAVING count(*) <> (WITH RECURSIVE chain AS (
                                    SELECT c.id FROM gmp.custody_event c WHERE c.unit_id = $1 AND c.previous_event IS NULL
                                    UNION ALL
                                    SELECT c.id FROM gmp.custody_event c JOIN chain ON c.previous_event = chain.id)
                                SELECT count(*) FROM chain)
            UNION ALL
            SELECT 'the unit''s current holder is not its newest custody event''s'
            FROM gmp.unit u LEFT JOIN gmp.custody_event e ON e.id = u.last_event
            WHERE u.id = $1
              AND (e.id IS NULL OR EXISTS (SELECT FROM gmp.custody_event n WHERE n.previous_event = e.id)
                   OR (e.state, e.box_id, e.box_row, e.box_column, e.holder_person, e.holder_party)
                      IS DISTINCT FROM (u.state, u.box_id, u.box_row, u.box_column, u.holder_person, u.holder_party))
        ) problems)
$$;

-- A unit's chain of custody, with its chain of identity back to the donor: the tissue
-- collection (collector, transport, receipt), the lot's manufacturing steps, and every
-- holding since the fill. One document per unit.
CREATE OR REPLACE FUNCTION gmp_rules.custody_document(unit_id text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'unit', u.id, 'lot', u.din, 'check_character', l.check_character, 'division', u.division,
        'container', u.container, 'volume_ml', u.volume_ml::text, 'state', u.state, 'lot_status', l.status,
        'donor', l.donor_code, 'collection', c.id, 'product_kind', l.product_kind,
        'identity', jsonb_build_array(
            jsonb_build_object('kind', 'donor', 'id', l.donor_code),
            jsonb_build_object('kind', 'collection', 'id', c.id, 'collected_at', c.collected_at, 'collector', c.collector,
                               'site', c.site, 'transport_conditions', c.transport_conditions,
                               'received_at', c.received_at, 'received_by', c.received_by,
                               'receipt_condition', c.receipt_condition),
            jsonb_build_object('kind', 'lot', 'id', l.din, 'stage', l.stage, 'parent', l.parent_din),
            jsonb_build_object('kind', 'unit', 'id', u.id)),
        'holdings', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                  'event', h.event_id, 'action', h.action, 'state', h.state, 'since', h.since,
                                  'until', h.until, 'location', b.path, 'position', h.position,
                                  'person', h.holder_person, 'party', h.holder_party, 'device', h.device_id,
                                  'shipment', h.shipment_id, 'transfer', h.transfer_id, 'condition', h.condition,
                                  'reason', h.reason, 'recorded_by', h.recorded_by) ORDER BY h.since, h.event_id)
                              FROM gmp.custody_holding h LEFT JOIN gmp.storage_location b ON b.id = h.box_id
                              WHERE h.unit_id = u.id), '[]'),
        'problems', to_jsonb(gmp_rules.custody_problems(u.id)))
    FROM gmp.unit u JOIN gmp.lot l ON l.din = u.din JOIN gmp.tissue_collection c ON c.id = l.collection_id
    WHERE u.id = unit_id
$$;

-- gmp custody history UNIT|LOT: the documents of one unit or of every unit of a lot.
CREATE OR REPLACE FUNCTION gmp.custody_history(unit_or_lot text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    IF unit_or_lot ~ '-[0-9]{3}$' THEN
        PERFORM gmp_rules.require_unit(unit_or_lot);
        RETURN jsonb_build_array(gmp_rules.custody_document(unit_or_lot));
    END IF;
    PERFORM gmp_rules.require_lot(unit_or_lot);
    RETURN coalesce((SELECT jsonb_agg(gmp_rules.custody_document(u.id) ORDER BY u.division)
                     FROM gmp.unit u WHERE u.din = unit_or_lot), '[]');
END;
$$;

-- Records a custody event for a unit the caller acts on; returns the event id.
CREATE OR REPLACE FUNCTION gmp_rules.record_custody(unit_id text, action text, state text, box_id text, box_row integer,
                                        box_column integer, holder_person text, holder_party text, reason text,
                                        shipment_id text DEFAULT NULL, device_id text DEFAULT NULL,
                                        transfer_id bigint DEFAULT NULL, condition text DEFAULT NULL,
                                        at timestamptz DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM gmp_rules.require_unit(unit_id);
    PERFORM set_config('gmp.reason', coalesce(nullif(btrim(reason), ''), replace(action, '_', ' ')), true);
    INSERT INTO gmp.custody_event (unit_id, at, action, state, box_id, box_row, box_column, holder_person, holder_party,
                                   device_id, shipment_id, transfer_id, condition, reason)
    VALUES (unit_id, coalesce(at, clock_timestamp()), action, state, upper(btrim(box_id)), box_row, box_column,
            holder_person, holder_party, device_id, shipment_id, transfer_id, nullif(btrim(condition), ''),
            nullif(btrim(reason), ''))
    RETURNING id INTO new_id;
    RETURN new_id;
END;
$$;

-- You act on what you hold: placing, thawing, discarding and packing need a unit in a
-- person's hands (or a thawed one) to be in yours; a stored unit is anyone's to move
-- or withdraw (the event names who did it).
CREATE OR REPLACE FUNCTION gmp_rules.require_in_hand(unit_id text) RETURNS gmp.unit
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u gmp.unit := gmp_rules.require_unit(unit_id);
BEGIN
    IF u.state IN ('in_hand', 'thawed') AND u.holder_person <> session_user THEN
        RAISE EXCEPTION 'unit % is in the hands of %, not yours', u.id, u.holder_person USING ERRCODE = 'GM005',
            HINT = format('%s hands it over to you first: gmp custody hand-over', u.holder_person);
    END IF;
    RETURN u;
END;
$$;

CREATE OR REPLACE FUNCTION gmp.place_unit(unit_id text, box_id text, box_row integer, box_column integer, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_in_hand(unit_id);
    PERFORM gmp_rules.require_location(box_id);
    RETURN gmp_rules.record_custody(unit_id, 'placed', 'stored', box_id, box_row, box_column, NULL, NULL,
                                   coalesce(reason, 'placed in storage'));
END;
$$;

-- Moving, withdrawing, thawing and discarding each need their reason.
CREATE OR REPLACE FUNCTION gmp_rules.require_reason(reason text, what text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION '% needs its reason', what USING ERRCODE = 'GM008', HINT = 'give --reason "…"';
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION gmp.move_unit(unit_id text, box_id text, box_row integer, box_column integer, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_location(box_id);
    PERFORM gmp_rules.require_reason(reason, 'a move');
    RETURN gmp_rules.record_custody(unit_id, 'moved', 'stored', box_id, box_row, box_column, NULL, NULL, reason);
END;
$$;

-- Withdrawing, thawing and discarding leave the unit in the caller's hands (a thawed
-- or discarded one stays on record there). Thawing and discarding need it in no one
-- else's hands first; a stored unit is anyone's to withdraw.
CREATE OR REPLACE FUNCTION gmp_rules.take_unit(unit_id text, action text, state text, reason text, what text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    IF action <> 'withdrawn' THEN
        PERFORM gmp_rules.require_in_hand(unit_id);
    END IF;
    PERFORM gmp_rules.require_reason(reason, what);
    RETURN gmp_rules.record_custody(unit_id, action, state, NULL, NULL, NULL, session_user, NULL, reason);
END;
$$;

CREATE OR REPLACE FUNCTION gmp.withdraw_unit(unit_id text, reason text) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT gmp_rules.take_unit(unit_id, 'withdrawn', 'in_hand', reason, 'a withdrawal') $$;

CREATE OR REPLACE FUNCTION gmp.thaw_unit(unit_id text, reason text) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT gmp_rules.take_unit(unit_id, 'thawed', 'thawed', reason, 'a thaw') $$;

CREATE OR REPLACE FUNCTION gmp.discard_unit(unit_id text, reason text) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT gmp_rules.take_unit(unit_id, 'discarded', 'discarded', reason, 'a discard') $$;

-- The sender signs off a hand-over of units in their hands to a named person
-- (meaning "performed"); custody passes when that person confirms receipt.
CREATE OR REPLACE FUNCTION gmp.hand_over(challenge uuid, unit_ids text[], to_person text, reason text,
                              OUT transfer_id bigint, OUT signature_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u      gmp.unit;
    one_id text;
BEGIN
    PERFORM gmp_rules.active_person();
    IF unit_ids IS NULL OR cardinality(unit_ids) = 0 THEN
        RAISE EXCEPTION 'a hand-over names its units' USING ERRCODE = 'GM002', HINT = 'give --unit at least once';
    END IF;
    IF to_person = session_user THEN
        RAISE EXCEPTION 'a hand-over is to someone else' USING ERRCODE = 'GM005',
            HINT = 'name the person who takes the units: --to ID';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp.account a WHERE a.id = to_person AND a.status = 'active') THEN
        RAISE EXCEPTION 'no active account %', to_person USING ERRCODE = 'GM001', HINT = 'gmp user list shows the accounts';
    END IF;
    FOREACH one_id IN ARRAY unit_ids LOOP
        SELECT * INTO u FROM gmp.unit x WHERE x.id = one_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no unit %', one_id USING ERRCODE = 'GM001', HINT = 'gmp storage find LOT lists a lot''s units';
        END IF;
        IF u.state <> 'in_hand' OR u.holder_person <> session_user THEN
            RAISE EXCEPTION 'unit % is not in your hands (it is %)', u.id, replace(u.state, '_', ' ') USING ERRCODE = 'GM007',
                HINT = 'withdraw it from storage, or have its holder hand it over to you, first';
        END IF;
        IF EXISTS (SELECT FROM gmp.pending_transfer t WHERE t.unit_ids @> ARRAY[u.id]) THEN
            RAISE EXCEPTION 'unit % is already being handed over', u.id USING ERRCODE = 'GM007',
                HINT = 'its receiver confirms that hand-over first';
        END IF;
    END LOOP;
    PERFORM gmp_rules.give_reason(reason);
    INSERT INTO gmp.custody_transfer (unit_ids, to_person, reason)
    VALUES (ARRAY(SELECT DISTINCT x FROM unnest(unit_ids) x ORDER BY x), to_person, btrim(reason))
    RETURNING id INTO transfer_id;
    signature_id := gmp_rules.record_signature(challenge, 'performed', 'gmp.custody_transfer', transfer_id::text, reason);
END;
$$;

-- The named receiver, and nobody else, confirms receipt with its time and the
-- condition of the units (meaning "verified"); each unit passes to them at that time.
CREATE OR REPLACE FUNCTION gmp.receive_transfer(challenge uuid, transfer_id bigint, received_at timestamptz, condition text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t      gmp.custody_transfer;
    r      gmp.custody_receipt;
    one_id text;
    at     timestamptz := coalesce(received_at, clock_timestamp());
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT * INTO t FROM gmp.custody_transfer x WHERE x.id = transfer_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no custody transfer %', transfer_id USING ERRCODE = 'GM001', HINT = 'gmp custody pending lists them';
    END IF;
    SELECT * INTO r FROM gmp.custody_receipt x WHERE x.transfer_id = t.id;
    IF FOUND THEN
        RAISE EXCEPTION 'custody transfer % was received by % at %', t.id, r.received_by, r.received_at USING ERRCODE = 'GM004';
    ELSIF t.to_person <> session_user THEN
        RAISE EXCEPTION 'custody transfer % is to %, not to you', t.id, t.to_person USING ERRCODE = 'insufficient_privilege',
            HINT = format('only %s can confirm receipt', t.to_person);
    ELSIF condition IS NULL OR btrim(condition) = '' THEN
        RAISE EXCEPTION 'a receipt records the condition of what was received' USING ERRCODE = 'GM002',
            HINT = 'give --condition "intact, frozen, labels legible"';
    END IF;
    PERFORM set_config('gmp.reason', 'custody transfer received', true);
    INSERT INTO gmp.custody_receipt (transfer_id, received_at, condition) VALUES (t.id, at, btrim(receive_transfer.condition));
    FOREACH one_id IN ARRAY t.unit_ids LOOP
        PERFORM gmp_rules.record_custody(one_id, 'handed_over', 'in_hand', NULL, NULL, NULL, session_user, NULL,
                                        format('from %s: %s', t.from_person, t.reason), NULL, NULL, t.id,
                                        receive_transfer.condition, at);
    END LOOP;
    RETURN gmp_rules.record_signature(challenge, 'verified', 'gmp.custody_receipt', t.id::text, condition);
END;
$$;
