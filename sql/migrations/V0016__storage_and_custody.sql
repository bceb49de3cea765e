-- V0016 cryostorage, units and chain of custody (21 CFR 1271.260, 1271.290; FACT-JACIE).
--
--   * Storage is a tree of locations of any depth: site › device (tank, freezer, dry
--     shipper) › rack or canister (nested as deep as needed) › box. A device carries its
--     temperature limit and the product kinds it may hold; a box its layout (rows ×
--     columns). Positions are implicit (box, row, column), so a site of 100,000
--     positions costs a few thousand rows. Locations are never deleted or changed.
--   * Filling a lot creates its units, one per container, each with its own id: the
--     lot's DIN and a three-digit division (W123426000001-001).
--   * Custody is an append-only chain of events per unit. Each event starts a holding
--     (a storage position, a person, or an outside party such as a courier or the
--     consignee) and ends the one before it, which it names: so a unit always has
--     exactly one holder, there is no gap between holdings and no second chain. The
--     unit row carries its current holder, and only a custody event may change it; a
--     unique index on the current position makes "one unit per position" hold even for
--     two people placing at the same instant.
--   * A hand-over from one person to another is a custody transfer: the sender signs it
--     off, the named receiver confirms receipt with the time and condition (both
--     e-signatures, each on its own row); until then the sender keeps custody and the
--     units are frozen.

-- ---------------------------------------------------------------------------------
-- Locations.

CREATE TABLE gmp.storage_location (
    id          text        PRIMARY KEY CHECK (id ~ '^[A-Z0-9][A-Z0-9._-]{0,31}$'),
    kind        text        NOT NULL CHECK (kind IN ('site', 'tank', 'freezer', 'shipper', 'rack', 'canister', 'box')),
    parent_id   text        REFERENCES gmp.storage_location,
    device_id   text        REFERENCES gmp.storage_location,
    site_id     text        NOT NULL REFERENCES gmp.storage_location,
    path        text        NOT NULL,
    name        text        CHECK (btrim(name) <> '' AND length(name) <= 200 AND name !~ '[[:cntrl:]]'),
    max_celsius numeric(6,2) CHECK (max_celsius BETWEEN -273.15 AND 60),
    holds       text[],
    rows        integer     CHECK (rows BETWEEN 1 AND 26),
    columns     integer     CHECK (columns BETWEEN 1 AND 99),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by  text        NOT NULL DEFAULT session_user,
    CHECK ((kind = 'site') = (parent_id IS NULL)),
    CHECK ((kind IN ('tank', 'freezer', 'shipper')) = (max_celsius IS NOT NULL AND holds IS NOT NULL)),
    CHECK (holds IS NULL OR (cardinality(holds) > 0
           AND holds <@ ARRAY['cells', 'conditioned_medium', 'extracellular_vesicles'])),
    CHECK ((kind = 'box') = (rows IS NOT NULL AND columns IS NOT NULL))
);
COMMENT ON TABLE gmp.storage_location IS 'Storage tree: site › tank/freezer/shipper › rack/canister › box; positions are (box, row, column).';
CREATE INDEX storage_location_parent ON gmp.storage_location (parent_id);
CREATE INDEX storage_location_device ON gmp.storage_location (device_id) WHERE kind = 'box';

-- A location fits under its parent (a site holds devices; a device, rack or canister
-- holds racks, canisters and boxes; a box holds positions only), and inherits its
-- device, site and printed path. Nothing about a location changes once recorded.
CREATE FUNCTION gmp_meta.guard_storage_location() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent gmp.storage_location;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'storage location % is recorded: it is never changed or deleted', OLD.id USING ERRCODE = 'P0001',
            HINT = 'a location taken out of use stays in the record; add a new one for a new layout';
    END IF;
    IF NEW.kind = 'site' THEN
        NEW.site_id := NEW.id;
        NEW.device_id := NULL;
        NEW.path := NEW.id;
        RETURN NEW;
    END IF;
    SELECT * INTO parent FROM gmp.storage_location WHERE id = NEW.parent_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no storage location %', NEW.parent_id USING ERRCODE = 'P0002',
            HINT = 'gmp storage show lists the locations';
    END IF;
    IF (NEW.kind IN ('tank', 'freezer', 'shipper') AND parent.kind <> 'site')
       OR (NEW.kind IN ('rack', 'canister', 'box') AND parent.kind NOT IN ('tank', 'freezer', 'shipper', 'rack', 'canister')) THEN
        RAISE EXCEPTION 'a % cannot be inside a % (%)', NEW.kind, parent.kind, parent.id USING ERRCODE = 'P0001',
            HINT = 'the tree is site › tank, freezer or shipper › rack or canister › box';
    END IF;
    NEW.site_id := parent.site_id;
    NEW.device_id := CASE WHEN NEW.kind IN ('tank', 'freezer', 'shipper') THEN NEW.id ELSE parent.device_id END;
    NEW.path := parent.path || ' › ' || NEW.id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER storage_location_guard BEFORE INSERT OR UPDATE OR DELETE ON gmp.storage_location
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.guard_storage_location();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON gmp.storage_location FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp.storage_location ENABLE ALWAYS TRIGGER storage_location_guard, ENABLE ALWAYS TRIGGER no_truncate;
SELECT gmp_audit.audit_table('gmp.storage_location', 'id');

CREATE FUNCTION gmp_meta.require_location(location_id text) RETURNS gmp.storage_location
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_location gmp.storage_location;
BEGIN
    SELECT * INTO found_location FROM gmp.storage_location s WHERE s.id = upper(btrim(location_id));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no storage location %', location_id USING ERRCODE = 'P0002',
            HINT = 'gmp storage show lists the locations';
    END IF;
    RETURN found_location;
END;
$$;

-- A position as people write it: row letter, column number (C7).
CREATE FUNCTION gmp_meta.position_label(box_row integer, box_column integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT chr(64 + box_row) || box_column::text $$;

-- ---------------------------------------------------------------------------------
-- Units.

CREATE TABLE gmp.unit (
    id            text        PRIMARY KEY CHECK (id ~ '^[A-NP-Z1-9][A-NP-Z0-9]{4}[0-9]{8}-[0-9]{3}$'),
    din           text        NOT NULL REFERENCES gmp.lot,
    division      integer     NOT NULL CHECK (division BETWEEN 1 AND 999),
    container     text        NOT NULL CHECK (container IN ('vial', 'bag')),
    volume_ml     numeric     NOT NULL CHECK (volume_ml > 0),
    state         text        NOT NULL CHECK (state IN ('in_hand', 'stored', 'packed', 'in_transit', 'delivered',
                                                        'thawed', 'discarded')),
    box_id        text        REFERENCES gmp.storage_location,
    box_row       integer,
    box_column    integer,
    holder_person text        REFERENCES gmp.account,
    holder_party  text,
    device_id     text        REFERENCES gmp.storage_location,
    shipment_id   text,
    last_event    bigint,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (din, division),
    CHECK (id = din || '-' || lpad(division::text, 3, '0')),
    -- Exactly one holder: a position, a person or an outside party.
    CHECK (num_nonnulls(box_id, holder_person, holder_party) = 1 OR last_event IS NULL),
    CHECK ((box_id IS NULL) = (box_row IS NULL) AND (box_id IS NULL) = (box_column IS NULL)),
    CHECK ((state = 'stored') = (box_id IS NOT NULL))
);
COMMENT ON TABLE gmp.unit IS 'Vials and bags of a lot, with their current holder (kept by gmp.custody_event only).';
-- One unit per position, whoever places and however close together.
CREATE UNIQUE INDEX unit_position ON gmp.unit (box_id, box_row, box_column) WHERE box_id IS NOT NULL;
CREATE INDEX unit_lot ON gmp.unit (din);
CREATE INDEX unit_device ON gmp.unit (device_id) WHERE device_id IS NOT NULL;
SELECT gmp_audit.audit_table('gmp.unit', 'id');

-- What each custody action does to a unit: the state it needs and the one it leaves.
CREATE TABLE gmp_meta.custody_action (
    action     text NOT NULL,
    from_state text NOT NULL,
    to_state   text NOT NULL,
    PRIMARY KEY (action, from_state)
);
SELECT gmp_meta.make_append_only('gmp_meta.custody_action');
SELECT gmp_audit.audit_table('gmp_meta.custody_action', 'action');
INSERT INTO gmp_meta.custody_action VALUES
    ('filled', 'none', 'in_hand'),
    ('placed', 'in_hand', 'stored'),
    ('moved', 'stored', 'stored'),
    ('withdrawn', 'stored', 'in_hand'),
    ('handed_over', 'in_hand', 'in_hand'),
    ('thawed', 'in_hand', 'thawed'),
    ('discarded', 'in_hand', 'discarded'), ('discarded', 'stored', 'discarded'), ('discarded', 'thawed', 'discarded'),
    ('packed', 'in_hand', 'packed'),
    ('dispatched', 'packed', 'in_transit'),
    ('received', 'in_transit', 'delivered');

CREATE TABLE gmp.custody_event (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id        text        NOT NULL REFERENCES gmp.unit,
    previous_event bigint      UNIQUE REFERENCES gmp.custody_event,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    action         text        NOT NULL,
    state          text        NOT NULL,
    box_id         text        REFERENCES gmp.storage_location,
    box_row        integer,
    box_column     integer,
    holder_person  text        REFERENCES gmp.account,
    holder_party   text        CHECK (btrim(holder_party) <> '' AND length(holder_party) <= 200 AND holder_party !~ '[[:cntrl:]]'),
    device_id      text        REFERENCES gmp.storage_location,
    shipment_id    text,
    transfer_id    bigint,
    condition      text        CHECK (btrim(condition) <> '' AND length(condition) <= 1000 AND condition !~ '[[:cntrl:]]'),
    reason         text        CHECK (btrim(reason) <> '' AND length(reason) <= 1000 AND reason !~ '[[:cntrl:]]'),
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by    text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    CHECK (num_nonnulls(box_id, holder_person, holder_party) = 1),
    CHECK ((box_id IS NULL) = (box_row IS NULL) AND (box_id IS NULL) = (box_column IS NULL)),
    CHECK ((state = 'stored') = (box_id IS NOT NULL)),
    CHECK (state NOT IN ('in_transit', 'delivered') OR holder_party IS NOT NULL),
    CHECK (state NOT IN ('in_hand', 'packed', 'thawed', 'discarded') OR holder_person IS NOT NULL),
    CHECK ((previous_event IS NULL) = (action = 'filled'))
);
COMMENT ON TABLE gmp.custody_event IS 'Chain of custody: each event starts a holding of a unit and ends the one it names.';
CREATE UNIQUE INDEX custody_event_first ON gmp.custody_event (unit_id) WHERE previous_event IS NULL;
CREATE INDEX custody_event_unit ON gmp.custody_event (unit_id, id);
CREATE INDEX custody_event_device ON gmp.custody_event (device_id, at) WHERE device_id IS NOT NULL;
SELECT gmp_meta.make_append_only('gmp.custody_event');
SELECT gmp_audit.audit_table('gmp.custody_event', 'unit_id');

ALTER TABLE gmp.unit ADD FOREIGN KEY (last_event) REFERENCES gmp.custody_event DEFERRABLE INITIALLY DEFERRED;

-- A custody event continues its unit's chain: it names the unit's last event (filled
-- in when omitted, refused when another), takes the unit's row lock so two events
-- cannot both continue the same holding, follows an allowed action from the unit's
-- state, and happens after the holding it ends and not in the future. A position must
-- be inside its box's layout in a device that may hold the lot's product kind.
CREATE FUNCTION gmp_meta.check_custody_event() RETURNS trigger
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
        RAISE EXCEPTION 'no unit %', NEW.unit_id USING ERRCODE = 'P0002', HINT = 'gmp storage find LOT lists a lot''s units';
    END IF;
    IF NEW.action = 'filled' THEN
        IF u.last_event IS NOT NULL OR NEW.state <> 'in_hand' THEN
            RAISE EXCEPTION 'unit % was filled already', u.id USING ERRCODE = 'P0001';
        END IF;
    ELSE
        IF NEW.previous_event IS NULL THEN
            NEW.previous_event := u.last_event;
        ELSIF NEW.previous_event IS DISTINCT FROM u.last_event THEN
            RAISE EXCEPTION 'custody of unit % has moved on since event %', u.id, NEW.previous_event
                USING ERRCODE = 'P0001', HINT = 'someone else recorded a custody event for it first: look again (gmp custody history)';
        END IF;
        SELECT * INTO previous FROM gmp.custody_event WHERE id = u.last_event;
        IF NOT EXISTS (SELECT FROM gmp_meta.custody_action a
                       WHERE a.action = NEW.action AND a.from_state = u.state AND a.to_state = NEW.state) THEN
            RAISE EXCEPTION 'unit % is %: it cannot be %', u.id, replace(u.state, '_', ' '), replace(NEW.action, '_', ' ')
                USING ERRCODE = 'P0001',
                      HINT = CASE u.state WHEN 'discarded' THEN 'a discarded unit stays discarded; its record remains'
                                          WHEN 'stored' THEN 'withdraw it from storage first: gmp unit withdraw'
                                          WHEN 'in_hand' THEN 'place it in storage first: gmp unit place'
                                          ELSE 'gmp custody history shows where it is' END;
        END IF;
        IF NEW.at < previous.at THEN
            RAISE EXCEPTION 'a custody event at % would precede the holding it ends (from %)', NEW.at, previous.at
                USING ERRCODE = 'P0001', HINT = 'custody times run forward';
        END IF;
        IF EXISTS (SELECT FROM gmp.pending_transfer t WHERE t.unit_ids @> ARRAY[NEW.unit_id]
                   AND NEW.transfer_id IS DISTINCT FROM t.id) THEN
            RAISE EXCEPTION 'unit % is being handed over: its receiver has not confirmed yet', u.id USING ERRCODE = 'P0001',
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
                USING ERRCODE = 'P0001', HINT = 'units go into a position of a box: --box BOX --position C7';
        END IF;
        IF NEW.box_row NOT BETWEEN 1 AND box.rows OR NEW.box_column NOT BETWEEN 1 AND box.columns THEN
            RAISE EXCEPTION 'box % has rows A–% and columns 1–%: there is no position %', box.id, chr(64 + box.rows),
                box.columns, gmp_meta.position_label(NEW.box_row, NEW.box_column) USING ERRCODE = 'P0001',
                HINT = 'gmp storage layout BOX shows its positions';
        END IF;
        SELECT * INTO device FROM gmp.storage_location WHERE id = box.device_id;
        SELECT l.product_kind INTO kind FROM gmp.lot l WHERE l.din = u.din;
        IF NOT kind = ANY (device.holds) THEN
            RAISE EXCEPTION '% holds % only, not %', device.id, array_to_string(device.holds, ', '), kind
                USING ERRCODE = 'P0001', HINT = 'choose a device that may hold this product';
        END IF;
        NEW.device_id := device.id;
    END IF;
    RETURN NEW;
END;
$$;

-- The unit row follows its newest event.
CREATE FUNCTION gmp_meta.apply_custody_event() RETURNS trigger
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
CREATE FUNCTION gmp_meta.guard_unit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    e gmp.custody_event;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'units are never deleted' USING ERRCODE = 'P0001', HINT = 'discard it with a reason: gmp unit discard';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.last_event IS NOT NULL OR NEW.state <> 'in_hand' THEN
            RAISE EXCEPTION 'a unit starts in the hands of the person who filled it' USING ERRCODE = 'P0001';
        END IF;
        RETURN NEW;
    END IF;
    IF (OLD.id, OLD.din, OLD.division, OLD.container, OLD.volume_ml, OLD.created_at)
       IS DISTINCT FROM (NEW.id, NEW.din, NEW.division, NEW.container, NEW.volume_ml, NEW.created_at) THEN
        RAISE EXCEPTION 'unit % is recorded: only custody events change it', OLD.id USING ERRCODE = 'P0001';
    END IF;
    SELECT * INTO e FROM gmp.custody_event WHERE id = NEW.last_event;
    IF NOT FOUND OR e.unit_id <> NEW.id OR e.previous_event IS DISTINCT FROM OLD.last_event
       OR (e.state, e.box_id, e.box_row, e.box_column, e.holder_person, e.holder_party, e.device_id, e.shipment_id)
          IS DISTINCT FROM (NEW.state, NEW.box_id, NEW.box_row, NEW.box_column, NEW.holder_person, NEW.holder_party,
                            NEW.device_id, NEW.shipment_id) THEN
        RAISE EXCEPTION 'unit % changes holder only by a custody event', OLD.id USING ERRCODE = 'P0001',
            HINT = 'use gmp unit place|move|withdraw, gmp custody hand-over, or gmp ship';
    END IF;
    RETURN NEW;
END;
$$;

-- Hand-overs: the sender's sign-off and the named receiver's receipt are two rows,
-- each signed and never changed (a signature covers its row as signed).
CREATE TABLE gmp.custody_transfer (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_ids       text[]      NOT NULL CHECK (cardinality(unit_ids) > 0),
    from_person    text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    to_person      text        NOT NULL REFERENCES gmp.account CHECK (to_person <> from_person),
    reason         text        NOT NULL CHECK (btrim(reason) <> '' AND length(reason) <= 1000 AND reason !~ '[[:cntrl:]]'),
    signed_off_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE gmp.custody_transfer IS 'Person-to-person hand-overs as signed off by the sender.';
CREATE INDEX custody_transfer_units ON gmp.custody_transfer USING gin (unit_ids);
SELECT gmp_meta.make_append_only('gmp.custody_transfer');
SELECT gmp_audit.audit_table('gmp.custody_transfer', 'id');

CREATE TABLE gmp.custody_receipt (
    transfer_id bigint      PRIMARY KEY REFERENCES gmp.custody_transfer,
    received_at timestamptz NOT NULL,
    received_by text        NOT NULL DEFAULT session_user REFERENCES gmp.account,
    condition   text        NOT NULL CHECK (btrim(condition) <> '' AND length(condition) <= 1000 AND condition !~ '[[:cntrl:]]'),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE gmp.custody_receipt IS 'Receipts of hand-overs, by the named receiver, with time and condition.';
SELECT gmp_meta.make_append_only('gmp.custody_receipt');
SELECT gmp_audit.audit_table('gmp.custody_receipt', 'transfer_id');

-- Only the named receiver receives, once, no earlier than the sign-off and not later than now.
CREATE FUNCTION gmp_meta.check_custody_receipt() RETURNS trigger
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
            USING ERRCODE = 'P0001', HINT = 'give the time the units reached you';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER custody_receipt_rules BEFORE INSERT ON gmp.custody_receipt
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.check_custody_receipt();
ALTER TABLE gmp.custody_receipt ENABLE ALWAYS TRIGGER custody_receipt_rules;

-- Hand-overs signed off and not yet received.
CREATE VIEW gmp.pending_transfer AS
SELECT t.* FROM gmp.custody_transfer t
WHERE NOT EXISTS (SELECT FROM gmp.custody_receipt r WHERE r.transfer_id = t.id);

ALTER TABLE gmp.custody_event ADD FOREIGN KEY (transfer_id) REFERENCES gmp.custody_transfer;

CREATE TRIGGER custody_rules BEFORE INSERT ON gmp.custody_event
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.check_custody_event();
CREATE TRIGGER custody_applies AFTER INSERT ON gmp.custody_event
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.apply_custody_event();
ALTER TABLE gmp.custody_event ENABLE ALWAYS TRIGGER custody_rules, ENABLE ALWAYS TRIGGER custody_applies;
CREATE TRIGGER unit_guard BEFORE INSERT OR UPDATE OR DELETE ON gmp.unit
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.guard_unit();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON gmp.unit FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();
ALTER TABLE gmp.unit ENABLE ALWAYS TRIGGER unit_guard, ENABLE ALWAYS TRIGGER no_truncate;

-- ---------------------------------------------------------------------------------
-- Filling creates the units: up to 10 mL a vial, above that a bag. They start in the
-- hands of the person who performed the fill, at the fill's time.

CREATE FUNCTION gmp_meta.create_units(fill gmp.manufacturing_step) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO gmp.unit (id, din, division, container, volume_ml, state, created_at)
    SELECT fill.din || '-' || lpad(n::text, 3, '0'), fill.din, n,
           CASE WHEN fill.unit_volume_ml <= 10 THEN 'vial' ELSE 'bag' END, fill.unit_volume_ml, 'in_hand', fill.performed_at
    FROM generate_series(1, fill.units) n;
    IF coalesce(current_setting('gmp.reason', true), '') = '' THEN
        PERFORM set_config('gmp.reason', 'units filled', true);
    END IF;
    INSERT INTO gmp.custody_event (unit_id, at, action, state, holder_person, reason, recorded_by)
    SELECT fill.din || '-' || lpad(n::text, 3, '0'), least(fill.performed_at, clock_timestamp()), 'filled', 'in_hand',
           fill.performed_by, 'filled', fill.performed_by
    FROM generate_series(1, fill.units) n;
END;
$$;

CREATE FUNCTION gmp_meta.units_from_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'fill' THEN
        IF NEW.units > 999 THEN
            RAISE EXCEPTION 'a fill of % units is more than the 999 divisions a lot can number', NEW.units
                USING ERRCODE = 'P0001', HINT = 'split the fill across lots';
        END IF;
        PERFORM gmp_meta.create_units(NEW);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER fill_creates_units AFTER INSERT ON gmp.manufacturing_step
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.units_from_fill();
ALTER TABLE gmp.manufacturing_step ENABLE ALWAYS TRIGGER fill_creates_units;

-- Lots filled before this migration get their units now.
SELECT set_config('gmp.reason', 'units of lots filled before storage tracking', true);
SELECT gmp_meta.create_units(s) FROM gmp.manufacturing_step s WHERE s.kind = 'fill' AND s.units <= 999 ORDER BY s.id;

-- ---------------------------------------------------------------------------------
-- Reading.

CREATE FUNCTION gmp_meta.require_unit(unit_id text) RETURNS gmp.unit
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_unit gmp.unit;
BEGIN
    SELECT * INTO found_unit FROM gmp.unit u WHERE u.id = unit_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no unit %', unit_id USING ERRCODE = 'P0002', HINT = 'gmp storage find LOT lists a lot''s units';
    END IF;
    RETURN found_unit;
END;
$$;

-- Each holding with its end: the event's time until the next event's (NULL: now).
CREATE VIEW gmp.custody_holding AS
SELECT e.id AS event_id, e.unit_id, e.action, e.state, e.at AS since, n.at AS until,
       e.box_id, e.box_row, e.box_column,
       CASE WHEN e.box_id IS NOT NULL THEN gmp_meta.position_label(e.box_row, e.box_column) END AS position,
       e.holder_person, e.holder_party, e.device_id, e.shipment_id, e.transfer_id, e.condition, e.reason,
       e.recorded_by, e.recorded_at, e.previous_event
FROM gmp.custody_event e
LEFT JOIN gmp.custody_event n ON n.previous_event = e.id;

-- Breaks in a unit's chain that the rules above make impossible through gmp but an
-- inspector must see if they are there: a missing or second start, a holding ended
-- twice, times running backwards, a current holder that is not the newest event's.
CREATE FUNCTION gmp_meta.custody_problems(unit_id text) RETURNS text[]
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
CREATE FUNCTION gmp_meta.custody_document(unit_id text) RETURNS jsonb
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
        'problems', to_jsonb(gmp_meta.custody_problems(u.id)))
    FROM gmp.unit u JOIN gmp.lot l ON l.din = u.din JOIN gmp.tissue_collection c ON c.id = l.collection_id
    WHERE u.id = unit_id
$$;

-- gmp custody history UNIT|LOT: the documents of one unit or of every unit of a lot.
CREATE FUNCTION gmp.custody_history(unit_or_lot text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    IF unit_or_lot ~ '-[0-9]{3}$' THEN
        PERFORM gmp_meta.require_unit(unit_or_lot);
        RETURN jsonb_build_array(gmp_meta.custody_document(unit_or_lot));
    END IF;
    PERFORM gmp_meta.require_lot(unit_or_lot);
    RETURN coalesce((SELECT jsonb_agg(gmp_meta.custody_document(u.id) ORDER BY u.division)
                     FROM gmp.unit u WHERE u.din = unit_or_lot), '[]');
END;
$$;

-- Capacity and use of every device under a location (or the device itself): positions
-- from box layouts, occupied ones from the current holders. Two index scans per
-- device whatever the number of positions. Plain SQL over tables every person may
-- read, so the planner inlines it; an unknown location gives no rows (the caller says
-- so), which keeps a procedural existence check out of a cold start.
CREATE FUNCTION gmp.storage_occupancy(location_id text)
RETURNS TABLE (device_id text, kind text, path text, max_celsius numeric, boxes bigint, positions bigint, occupied bigint)
LANGUAGE sql STABLE AS $$
    SELECT d.id, d.kind, d.path, d.max_celsius, b.boxes, b.positions,
           (SELECT count(*) FROM gmp.unit u WHERE u.device_id = d.id AND u.state = 'stored')
    FROM gmp.storage_location root
    JOIN gmp.storage_location d ON d.kind IN ('tank', 'freezer', 'shipper')
                               AND (d.id = root.id OR d.site_id = root.id OR d.id = root.device_id)
    CROSS JOIN LATERAL (SELECT count(*) AS boxes, coalesce(sum(x.rows * x.columns), 0) AS positions
                        FROM gmp.storage_location x WHERE x.device_id = d.id AND x.kind = 'box') b
    WHERE root.id = upper(btrim(location_id))
    ORDER BY d.id
$$;

-- ---------------------------------------------------------------------------------
-- Writing.

CREATE FUNCTION gmp.add_location(id text, kind text, parent_id text, name text, max_celsius numeric,
                                 holds text[], rows integer, columns integer) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM set_config('gmp.reason', 'storage location added', true);
    INSERT INTO gmp.storage_location (id, kind, parent_id, name, max_celsius, holds, rows, columns)
    VALUES (upper(btrim(id)), kind, upper(btrim(parent_id)), nullif(btrim(name), ''), max_celsius, holds, rows, columns);
    RETURN upper(btrim(id));
END;
$$;

-- Records a custody event for a unit the caller acts on; returns the event id.
CREATE FUNCTION gmp_meta.record_custody(unit_id text, action text, state text, box_id text, box_row integer,
                                        box_column integer, holder_person text, holder_party text, reason text,
                                        shipment_id text DEFAULT NULL, device_id text DEFAULT NULL,
                                        transfer_id bigint DEFAULT NULL, condition text DEFAULT NULL,
                                        at timestamptz DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM gmp_meta.require_unit(unit_id);
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
CREATE FUNCTION gmp_meta.require_in_hand(unit_id text) RETURNS gmp.unit
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u gmp.unit := gmp_meta.require_unit(unit_id);
BEGIN
    IF u.state IN ('in_hand', 'thawed') AND u.holder_person <> session_user THEN
        RAISE EXCEPTION 'unit % is in the hands of %, not yours', u.id, u.holder_person USING ERRCODE = 'P0001',
            HINT = format('%s hands it over to you first: gmp custody hand-over', u.holder_person);
    END IF;
    RETURN u;
END;
$$;

CREATE FUNCTION gmp.place_unit(unit_id text, box_id text, box_row integer, box_column integer, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.require_in_hand(unit_id);
    PERFORM gmp_meta.require_location(box_id);
    RETURN gmp_meta.record_custody(unit_id, 'placed', 'stored', box_id, box_row, box_column, NULL, NULL,
                                   coalesce(reason, 'placed in storage'));
END;
$$;

-- Moving, withdrawing, thawing and discarding each need their reason.
CREATE FUNCTION gmp_meta.require_reason(reason text, what text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION '% needs its reason', what USING ERRCODE = 'P0001', HINT = 'give --reason "…"';
    END IF;
END;
$$;

CREATE FUNCTION gmp.move_unit(unit_id text, box_id text, box_row integer, box_column integer, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_meta.active_person();
    PERFORM gmp_meta.require_location(box_id);
    PERFORM gmp_meta.require_reason(reason, 'a move');
    RETURN gmp_meta.record_custody(unit_id, 'moved', 'stored', box_id, box_row, box_column, NULL, NULL, reason);
END;
$$;

-- Withdrawing, thawing and discarding leave the unit in the caller's hands (a thawed
-- or discarded one stays on record there). Thawing and discarding need it in no one
-- else's hands first; a stored unit is anyone's to withdraw.
CREATE FUNCTION gmp_meta.take_unit(unit_id text, action text, state text, reason text, what text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gmp_meta.active_person();
    IF action <> 'withdrawn' THEN
        PERFORM gmp_meta.require_in_hand(unit_id);
    END IF;
    PERFORM gmp_meta.require_reason(reason, what);
    RETURN gmp_meta.record_custody(unit_id, action, state, NULL, NULL, NULL, session_user, NULL, reason);
END;
$$;

CREATE FUNCTION gmp.withdraw_unit(unit_id text, reason text) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT gmp_meta.take_unit(unit_id, 'withdrawn', 'in_hand', reason, 'a withdrawal') $$;

CREATE FUNCTION gmp.thaw_unit(unit_id text, reason text) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT gmp_meta.take_unit(unit_id, 'thawed', 'thawed', reason, 'a thaw') $$;

CREATE FUNCTION gmp.discard_unit(unit_id text, reason text) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT gmp_meta.take_unit(unit_id, 'discarded', 'discarded', reason, 'a discard') $$;

-- The sender signs off a hand-over of units in their hands to a named person
-- (meaning "performed"); custody passes when that person confirms receipt.
CREATE FUNCTION gmp.hand_over(challenge uuid, unit_ids text[], to_person text, reason text,
                              OUT transfer_id bigint, OUT signature_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u      gmp.unit;
    one_id text;
BEGIN
    PERFORM gmp_meta.active_person();
    IF unit_ids IS NULL OR cardinality(unit_ids) = 0 THEN
        RAISE EXCEPTION 'a hand-over names its units' USING ERRCODE = 'P0001', HINT = 'give --unit at least once';
    END IF;
    IF to_person = session_user THEN
        RAISE EXCEPTION 'a hand-over is to someone else' USING ERRCODE = 'P0001',
            HINT = 'name the person who takes the units: --to ID';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp.account a WHERE a.id = to_person AND a.status = 'active') THEN
        RAISE EXCEPTION 'no active account %', to_person USING ERRCODE = 'P0002', HINT = 'gmp user list shows the accounts';
    END IF;
    FOREACH one_id IN ARRAY unit_ids LOOP
        SELECT * INTO u FROM gmp.unit x WHERE x.id = one_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no unit %', one_id USING ERRCODE = 'P0002', HINT = 'gmp storage find LOT lists a lot''s units';
        END IF;
        IF u.state <> 'in_hand' OR u.holder_person <> session_user THEN
            RAISE EXCEPTION 'unit % is not in your hands (it is %)', u.id, replace(u.state, '_', ' ') USING ERRCODE = 'P0001',
                HINT = 'withdraw it from storage, or have its holder hand it over to you, first';
        END IF;
        IF EXISTS (SELECT FROM gmp.pending_transfer t WHERE t.unit_ids @> ARRAY[u.id]) THEN
            RAISE EXCEPTION 'unit % is already being handed over', u.id USING ERRCODE = 'P0001',
                HINT = 'its receiver confirms that hand-over first';
        END IF;
    END LOOP;
    PERFORM gmp_meta.give_reason(reason);
    INSERT INTO gmp.custody_transfer (unit_ids, to_person, reason)
    VALUES (ARRAY(SELECT DISTINCT x FROM unnest(unit_ids) x ORDER BY x), to_person, btrim(reason))
    RETURNING id INTO transfer_id;
    signature_id := gmp_meta.record_signature(challenge, 'performed', 'gmp.custody_transfer', transfer_id::text, reason);
END;
$$;

-- The named receiver, and nobody else, confirms receipt with its time and the
-- condition of the units (meaning "verified"); each unit passes to them at that time.
CREATE FUNCTION gmp.receive_transfer(challenge uuid, transfer_id bigint, received_at timestamptz, condition text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t      gmp.custody_transfer;
    r      gmp.custody_receipt;
    one_id text;
    at     timestamptz := coalesce(received_at, clock_timestamp());
BEGIN
    PERFORM gmp_meta.active_person();
    SELECT * INTO t FROM gmp.custody_transfer x WHERE x.id = transfer_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no custody transfer %', transfer_id USING ERRCODE = 'P0002', HINT = 'gmp custody pending lists them';
    END IF;
    SELECT * INTO r FROM gmp.custody_receipt x WHERE x.transfer_id = t.id;
    IF FOUND THEN
        RAISE EXCEPTION 'custody transfer % was received by % at %', t.id, r.received_by, r.received_at USING ERRCODE = 'P0001';
    ELSIF t.to_person <> session_user THEN
        RAISE EXCEPTION 'custody transfer % is to %, not to you', t.id, t.to_person USING ERRCODE = 'insufficient_privilege',
            HINT = format('only %s can confirm receipt', t.to_person);
    ELSIF condition IS NULL OR btrim(condition) = '' THEN
        RAISE EXCEPTION 'a receipt records the condition of what was received' USING ERRCODE = 'P0001',
            HINT = 'give --condition "intact, frozen, labels legible"';
    END IF;
    PERFORM set_config('gmp.reason', 'custody transfer received', true);
    INSERT INTO gmp.custody_receipt (transfer_id, received_at, condition) VALUES (t.id, at, btrim(receive_transfer.condition));
    FOREACH one_id IN ARRAY t.unit_ids LOOP
        PERFORM gmp_meta.record_custody(one_id, 'handed_over', 'in_hand', NULL, NULL, NULL, session_user, NULL,
                                        format('from %s: %s', t.from_person, t.reason), NULL, NULL, t.id,
                                        receive_transfer.condition, at);
    END LOOP;
    RETURN gmp_meta.record_signature(challenge, 'verified', 'gmp.custody_receipt', t.id::text, condition);
END;
$$;

GRANT SELECT ON gmp.storage_location, gmp.unit, gmp.custody_event, gmp.custody_transfer, gmp.custody_receipt,
                gmp.pending_transfer, gmp.custody_holding TO gmp_person;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp, gmp_meta, gmp_audit FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gmp.custody_history(text), gmp.storage_occupancy(text),
                          gmp_meta.position_label(integer, integer) TO gmp_person;
GRANT EXECUTE ON FUNCTION gmp.add_location(text, text, text, text, numeric, text[], integer, integer)
    TO gmp_operator, gmp_admin;
GRANT EXECUTE ON FUNCTION gmp.place_unit(text, text, integer, integer, text),
                          gmp.move_unit(text, text, integer, integer, text), gmp.withdraw_unit(text, text),
                          gmp.thaw_unit(text, text), gmp.discard_unit(text, text),
                          gmp.hand_over(uuid, text[], text, text), gmp.receive_transfer(uuid, bigint, timestamptz, text)
    TO gmp_operator, gmp_qc, gmp_qa;
