-- shipping: Shipments: created, packed, dispatched and received, each step signed.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- A shipment is created as planned (by a director when on the urgent-need path, with
-- a shipper device), then moves one step forward at a time, each step setting only its
-- own columns; once received it never changes. Never deleted.
CREATE OR REPLACE FUNCTION gmp_rules.guard_shipment() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    step_columns text[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'shipments are never deleted' USING ERRCODE = 'GM004',
            HINT = 'a shipment that did not go stays in the record as created';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'created' THEN
            RAISE EXCEPTION 'a shipment starts as created' USING ERRCODE = 'GM003';
        END IF;
        IF (SELECT kind FROM gmp.storage_location WHERE id = NEW.shipper_id) IS DISTINCT FROM 'shipper' THEN
            RAISE EXCEPTION '% is not a dry shipper', NEW.shipper_id USING ERRCODE = 'GM002',
                HINT = 'add the shipper as a device: gmp storage add ID --kind shipper --parent SITE --max-celsius -150 …';
        END IF;
        IF NEW.urgent_need IS NOT NULL AND NOT pg_has_role(NEW.created_by, 'gmp_director', 'MEMBER') THEN
            RAISE EXCEPTION 'only a director ships under urgent medical need' USING ERRCODE = 'insufficient_privilege',
                HINT = 'the facility or medical director creates the shipment with --urgent-need and --physician';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status = 'received' THEN
        RAISE EXCEPTION 'shipment % was received: nothing about it changes', OLD.id USING ERRCODE = 'GM004',
            HINT = 'a finding after receipt is a deviation or a recall';
    END IF;
    step_columns := CASE
        WHEN (OLD.status, NEW.status) = ('created', 'packed') THEN '{status,packed_at,packed_by}'
        WHEN (OLD.status, NEW.status) = ('packed', 'dispatched') THEN '{status,courier,dispatched_at,dispatched_by}'
        WHEN (OLD.status, NEW.status) = ('dispatched', 'received') THEN '{status,received_at,received_by,condition}'
    END::text[];
    IF step_columns IS NULL THEN
        RAISE EXCEPTION 'shipment % is %: it cannot become %', OLD.id, OLD.status, NEW.status USING ERRCODE = 'GM003',
            HINT = 'a shipment goes created → packed → dispatched → received, one step at a time';
    END IF;
    IF (to_jsonb(OLD) - step_columns) IS DISTINCT FROM (to_jsonb(NEW) - step_columns) THEN
        RAISE EXCEPTION 'shipment % changes only by its next step', OLD.id USING ERRCODE = 'GM004';
    END IF;
    RETURN NEW;
END;
$$;

-- At COMMIT, whoever wrote it: a dispatched or received shipment has its sign-off,
-- matching the shipment row and signed intact by the person the row names, with the
-- meaning of that step.
CREATE OR REPLACE FUNCTION gmp_rules.check_shipment_signoffs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s   gmp.shipment;
    o   gmp.shipment_signoff;
    sig gmp.signature;
    signoff_step text;
BEGIN
    SELECT * INTO STRICT s FROM gmp.shipment WHERE id = NEW.id;
    FOREACH signoff_step IN ARRAY ARRAY['dispatched', 'received'] LOOP
        CONTINUE WHEN signoff_step = 'received' AND s.status <> 'received';
        CONTINUE WHEN signoff_step = 'dispatched' AND s.status NOT IN ('dispatched', 'received');
        SELECT * INTO o FROM gmp.shipment_signoff x WHERE x.shipment_id = s.id AND x.step = signoff_step;
        SELECT * INTO sig FROM gmp.signature x
        WHERE x.record_table = 'gmp.shipment_signoff' AND x.record_key = o.id::text;
        IF o.id IS NULL OR sig.id IS NULL
           -- (parenthesised: PL/pgSQL ends an IF condition at the first THEN)
           OR sig.meaning <> (CASE signoff_step WHEN 'dispatched' THEN 'performed' ELSE 'verified' END)
           OR sig.signer <> (CASE signoff_step WHEN 'dispatched' THEN s.dispatched_by ELSE s.received_by END)
           OR o.signed_by <> sig.signer
           OR o.at <> (CASE signoff_step WHEN 'dispatched' THEN s.dispatched_at ELSE s.received_at END)
           OR sig.content_hash <> gmp_rules.content_hash('gmp.shipment_signoff', o.id::text) THEN
            RAISE EXCEPTION 'shipment % is % without the intact e-signature of that step', s.id, signoff_step
                USING ERRCODE = 'insufficient_privilege', HINT = 'use gmp ship dispatch and gmp ship receive';
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_shipment(shipment_id text) RETURNS gmp.shipment
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_shipment gmp.shipment;
BEGIN
    SELECT * INTO found_shipment FROM gmp.shipment s WHERE s.id = upper(btrim(shipment_id));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no shipment %', shipment_id USING ERRCODE = 'GM001', HINT = 'gmp ship list shows the shipments';
    END IF;
    RETURN found_shipment;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.check_shipping_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s          gmp.shipment;
    u          gmp.unit;
    l          gmp.lot;
    shipper    gmp.storage_location;
    excursions text[];
BEGIN
    IF NEW.action NOT IN ('packed', 'dispatched', 'received') THEN
        IF NEW.shipment_id IS NOT NULL THEN
            RAISE EXCEPTION 'a % event belongs to no shipment', NEW.action USING ERRCODE = 'GM002';
        END IF;
        RETURN NEW;
    END IF;
    SELECT * INTO s FROM gmp.shipment WHERE id = NEW.shipment_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'a % event names its shipment', NEW.action USING ERRCODE = 'GM002', HINT = 'use gmp ship';
    END IF;
    SELECT * INTO STRICT u FROM gmp.unit WHERE id = NEW.unit_id;
    IF NEW.action = 'packed' THEN
        IF s.status <> 'packed' OR NEW.holder_person IS DISTINCT FROM s.packed_by
           OR NEW.device_id IS DISTINCT FROM s.shipper_id THEN
            RAISE EXCEPTION 'unit % is packed only into shipment %''s shipper %, by its packer, before dispatch',
                u.id, s.id, s.shipper_id USING ERRCODE = 'GM007', HINT = 'use gmp ship pack';
        END IF;
    ELSIF NEW.action = 'dispatched' THEN
        IF s.status <> 'dispatched' OR u.shipment_id IS DISTINCT FROM s.id OR NEW.holder_party IS DISTINCT FROM s.courier
           OR NEW.device_id IS DISTINCT FROM s.shipper_id OR NEW.at IS DISTINCT FROM s.dispatched_at THEN
            RAISE EXCEPTION 'unit % leaves with shipment % only, to its courier, when the shipment is dispatched', u.id, s.id
                USING ERRCODE = 'GM007', HINT = 'use gmp ship dispatch';
        END IF;
    ELSE
        IF s.status <> 'received' OR u.shipment_id IS DISTINCT FROM s.id OR NEW.holder_party IS DISTINCT FROM s.consignee
           OR NEW.device_id IS NOT NULL OR NEW.at IS DISTINCT FROM s.received_at THEN
            RAISE EXCEPTION 'unit % is received with shipment % only, by its consignee, when the receiver confirms it',
                u.id, s.id USING ERRCODE = 'GM007', HINT = 'use gmp ship receive';
        END IF;
        RETURN NEW;
    END IF;
    -- Packing and dispatch: every shipping rule is checked again when the unit leaves,
    -- not only when it was packed; a lot held or rejected after packing, even on the
    -- urgent-need path, does not go. FOR SHARE: a disposition of the lot being signed
    -- meanwhile waits for this dispatch, or this dispatch for it.
    SELECT * INTO STRICT l FROM gmp.lot WHERE din = u.din FOR SHARE;
    SELECT * INTO STRICT shipper FROM gmp.storage_location WHERE id = s.shipper_id;
    IF l.status NOT IN ('released', 'exceptionally_released')
       AND NOT (l.status = 'quarantine' AND s.urgent_need IS NOT NULL) THEN
        RAISE EXCEPTION 'unit % is of lot %, which is %: only released units ship', u.id, l.din,
            replace(l.status, '_', ' ') USING ERRCODE = 'GM006',
            HINT = CASE WHEN l.status = 'quarantine'
                        THEN 'release the lot first, or ship under urgent medical need (a director creates the shipment with --urgent-need and --physician)'
                        WHEN NEW.action = 'dispatched'
                        THEN 'a lot on hold or rejected does not ship: the shipment stays packed until QA decides'
                        ELSE 'a lot on hold or rejected does not ship' END;
    END IF;
    IF NOT l.product_kind = ANY (shipper.holds) THEN
        RAISE EXCEPTION '% holds % only, not %', shipper.id, array_to_string(shipper.holds, ', '), l.product_kind
            USING ERRCODE = 'GM002', HINT = 'choose a shipper qualified for this product';
    END IF;
    -- Packing and dispatch: nothing an open excursion affects leaves the facility (rule 13/14).
    excursions := gmp_rules.open_excursions_of_unit(u.id);
    IF cardinality(excursions) > 0 THEN
        RAISE EXCEPTION 'unit % is affected by open temperature excursion %', u.id, array_to_string(excursions, ', ')
            USING ERRCODE = 'GM006', HINT = 'QA assesses the excursion first: gmp excursion assess';
    END IF;
    RETURN NEW;
END;
$$;

-- Plans a shipment; returns its id (SHPyy-nnnnn). The urgent-need path needs the
-- director, the justification and the physician's request together.
CREATE OR REPLACE FUNCTION gmp.create_shipment(consignee text, consignee_address text, receiver text, shipper_id text,
                                    shipper_qualification text, urgent_need text DEFAULT NULL,
                                    physician text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_id  text := format('SHP%s-%s', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YY'),
                           lpad(nextval('gmp_meta.shipment_number')::text, 5, '0'));
    shipper gmp.storage_location;
BEGIN
    PERFORM gmp_rules.active_person();
    IF NOT EXISTS (SELECT FROM gmp.account a WHERE a.id = receiver AND a.status = 'active') THEN
        RAISE EXCEPTION 'no active account %', receiver USING ERRCODE = 'GM001',
            HINT = 'the receiver is the consignee''s person with a gmp account: gmp user list';
    END IF;
    shipper := gmp_rules.require_location(shipper_id);
    IF btrim(coalesce(shipper_qualification, '')) = '' THEN
        RAISE EXCEPTION 'a shipment names its shipper''s qualification' USING ERRCODE = 'GM002',
            HINT = 'give --qualification "OQ/PQ report …, valid until …"';
    END IF;
    IF (nullif(btrim(urgent_need), '') IS NULL) <> (nullif(btrim(physician), '') IS NULL) THEN
        RAISE EXCEPTION 'the urgent-need path needs both the justification and the physician''s request'
            USING ERRCODE = 'GM002', HINT = 'give --urgent-need "…" and --physician "Dr …, request of …" together';
    END IF;
    PERFORM set_config('gmp.reason', 'shipment created', true);
    INSERT INTO gmp.shipment (id, consignee, consignee_address, receiver, shipper_id, shipper_qualification,
                              urgent_need, physician)
    VALUES (new_id, btrim(consignee), btrim(consignee_address), receiver, shipper.id, btrim(shipper_qualification),
            nullif(btrim(urgent_need), ''), nullif(btrim(physician), ''));
    RETURN new_id;
END;
$$;

-- Packs units from the caller's hands into the shipper; returns how many units the
-- shipment now holds. The first pack makes the caller the shipment's packer, who
-- alone packs more and dispatches; the named receiver never packs.
CREATE OR REPLACE FUNCTION gmp.pack_shipment(shipment_id text, unit_ids text[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s      gmp.shipment := gmp_rules.require_shipment(shipment_id);
    u      gmp.unit;
    one_id text;
    n      integer;
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT * INTO s FROM gmp.shipment x WHERE x.id = s.id FOR UPDATE;
    IF unit_ids IS NULL OR cardinality(unit_ids) = 0 THEN
        RAISE EXCEPTION 'packing names its units' USING ERRCODE = 'GM002', HINT = 'give --unit at least once';
    ELSIF s.status NOT IN ('created', 'packed') THEN
        RAISE EXCEPTION 'shipment % is %: nothing more is packed into it', s.id, s.status USING ERRCODE = 'GM003',
            HINT = 'create a new shipment';
    ELSIF s.receiver = session_user THEN
        RAISE EXCEPTION 'you are the named receiver of shipment %: another person packs and sends it', s.id
            USING ERRCODE = 'insufficient_privilege', HINT = 'the receiver only confirms receipt';
    ELSIF s.status = 'packed' AND s.packed_by <> session_user THEN
        RAISE EXCEPTION 'shipment % is being packed by %', s.id, s.packed_by USING ERRCODE = 'insufficient_privilege',
            HINT = format('hand the units over to %s, who packs and dispatches them', s.packed_by);
    END IF;
    IF s.status = 'created' THEN
        -- "No other shipment is in the shipper" is a rule over rows that may not exist
        -- yet: the shipper's key is locked until commit, so two shipments packed into one
        -- shipper at once are packed one after the other, and the second sees the first
        -- (READ COMMITTED, issue 19). Not the shipper's row: a readings import holds that.
        PERFORM gmp_rules.lock_serial('gmp.shipper', s.shipper_id);
        IF EXISTS (SELECT FROM gmp.shipment x WHERE x.shipper_id = s.shipper_id AND x.status IN ('packed', 'dispatched')) THEN
            RAISE EXCEPTION 'shipper % is in use by shipment %', s.shipper_id,
                (SELECT x.id FROM gmp.shipment x WHERE x.shipper_id = s.shipper_id AND x.status IN ('packed', 'dispatched'))
                USING ERRCODE = 'GM003', HINT = 'a shipper carries one shipment at a time: choose another';
        END IF;
        PERFORM set_config('gmp.reason', 'shipment packed', true);
        UPDATE gmp.shipment x SET status = 'packed', packed_at = clock_timestamp(), packed_by = session_user
        WHERE x.id = s.id;
    END IF;
    FOREACH one_id IN ARRAY ARRAY(SELECT DISTINCT upper(btrim(x)) FROM unnest(unit_ids) x ORDER BY 1) LOOP
        SELECT * INTO u FROM gmp.unit x WHERE x.id = one_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no unit %', one_id USING ERRCODE = 'GM001', HINT = 'gmp storage find LOT lists a lot''s units';
        ELSIF u.state IN ('packed', 'in_transit', 'delivered') THEN
            RAISE EXCEPTION 'unit % is already % (shipment %)', u.id, replace(u.state, '_', ' '), u.shipment_id
                USING ERRCODE = 'GM003', HINT = 'a unit ships once';
        ELSIF u.state <> 'in_hand' OR u.holder_person <> session_user THEN
            RAISE EXCEPTION 'unit % is not in your hands (it is %)', u.id, replace(u.state, '_', ' ')
                USING ERRCODE = 'GM007', HINT = 'withdraw it from storage, or have its holder hand it over to you, first';
        END IF;
        PERFORM gmp_rules.record_custody(u.id, 'packed', 'packed', NULL, NULL, NULL, session_user, NULL,
                                        'packed for shipment ' || s.id, s.id, s.shipper_id);
    END LOOP;
    SELECT count(*) INTO n FROM gmp.unit x WHERE x.shipment_id = s.id;
    RETURN n;
END;
$$;

-- The sender (the packer, who holds the packed units) hands them to the courier and
-- signs the dispatch "performed"; returns the signature id.
CREATE OR REPLACE FUNCTION gmp.dispatch_shipment(challenge uuid, shipment_id text, courier text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s       gmp.shipment := gmp_rules.require_shipment(shipment_id);
    at      timestamptz := clock_timestamp();
    units   text[];
    one_id  text;
    signoff bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT * INTO s FROM gmp.shipment x WHERE x.id = s.id FOR UPDATE;
    IF s.status <> 'packed' THEN
        RAISE EXCEPTION 'shipment % is %: only a packed shipment is dispatched', s.id, s.status USING ERRCODE = 'GM003',
            HINT = CASE s.status WHEN 'created' THEN 'pack its units first: gmp ship pack ' || s.id
                                 ELSE 'a shipment is dispatched once' END;
    ELSIF s.packed_by <> session_user THEN
        RAISE EXCEPTION 'shipment % was packed by %: the sender holding it dispatches it', s.id, s.packed_by
            USING ERRCODE = 'insufficient_privilege', HINT = format('%s signs the dispatch', s.packed_by);
    ELSIF btrim(coalesce(courier, '')) = '' THEN
        RAISE EXCEPTION 'a dispatch names the courier' USING ERRCODE = 'GM002', HINT = 'give --courier "…"';
    END IF;
    units := ARRAY(SELECT x.id FROM gmp.unit x WHERE x.shipment_id = s.id AND x.state = 'packed' ORDER BY x.id);
    PERFORM set_config('gmp.reason', coalesce(nullif(btrim(reason), ''), 'shipment dispatched'), true);
    UPDATE gmp.shipment x SET status = 'dispatched', courier = btrim(dispatch_shipment.courier), dispatched_at = at,
                              dispatched_by = session_user
    WHERE x.id = s.id;
    FOREACH one_id IN ARRAY units LOOP
        PERFORM gmp_rules.record_custody(one_id, 'dispatched', 'in_transit', NULL, NULL, NULL, NULL, btrim(courier),
                                        coalesce(nullif(btrim(reason), ''), 'dispatched with shipment ' || s.id),
                                        s.id, s.shipper_id, NULL, NULL, at);
    END LOOP;
    INSERT INTO gmp.shipment_signoff (shipment_id, step, at, unit_ids, courier, statement)
    VALUES (s.id, 'dispatched', at, units, btrim(courier), nullif(btrim(reason), ''))
    RETURNING id INTO signoff;
    RETURN gmp_rules.record_signature(challenge, 'performed', 'gmp.shipment_signoff', signoff::text, reason);
END;
$$;

-- The named receiver, and nobody else, confirms receipt with the time the units
-- arrived and their condition, signed "verified"; custody passes to the consignee.
CREATE OR REPLACE FUNCTION gmp.receive_shipment(challenge uuid, shipment_id text, received_at timestamptz, condition text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s       gmp.shipment := gmp_rules.require_shipment(shipment_id);
    at      timestamptz := coalesce(received_at, clock_timestamp());
    units   text[];
    one_id  text;
    signoff bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT * INTO s FROM gmp.shipment x WHERE x.id = s.id FOR UPDATE;
    IF s.receiver <> session_user THEN
        RAISE EXCEPTION 'shipment % is to %, not to you', s.id, s.receiver USING ERRCODE = 'insufficient_privilege',
            HINT = format('only %s, the named receiver, confirms its receipt', s.receiver);
    ELSIF s.status = 'received' THEN
        RAISE EXCEPTION 'shipment % was received at %', s.id, s.received_at USING ERRCODE = 'GM004',
            HINT = 'a receipt is confirmed once';
    ELSIF s.status <> 'dispatched' THEN
        RAISE EXCEPTION 'shipment % is %: it has not been dispatched', s.id, s.status USING ERRCODE = 'GM003',
            HINT = 'the sender dispatches it first: gmp ship dispatch ' || s.id;
    ELSIF btrim(coalesce(condition, '')) = '' THEN
        RAISE EXCEPTION 'a receipt records the condition of what was received' USING ERRCODE = 'GM002',
            HINT = 'give --condition "shipper intact, logger within limits, units frozen, labels legible"';
    ELSIF at < s.dispatched_at THEN
        RAISE EXCEPTION 'receipt at % is before the dispatch at %', at, s.dispatched_at USING ERRCODE = 'GM002',
            HINT = 'give the time the shipment reached you';
    ELSIF at > clock_timestamp() THEN
        RAISE EXCEPTION 'receipt time % is in the future', at USING ERRCODE = '22007',
            HINT = 'give the time it happened, no later than now';
    END IF;
    units := ARRAY(SELECT x.id FROM gmp.unit x WHERE x.shipment_id = s.id AND x.state = 'in_transit' ORDER BY x.id);
    PERFORM set_config('gmp.reason', 'shipment received', true);
    UPDATE gmp.shipment x SET status = 'received', received_at = at, received_by = session_user,
                              condition = btrim(receive_shipment.condition)
    WHERE x.id = s.id;
    FOREACH one_id IN ARRAY units LOOP
        PERFORM gmp_rules.record_custody(one_id, 'received', 'delivered', NULL, NULL, NULL, NULL, s.consignee,
                                        'received by ' || session_user || ' for ' || s.consignee, s.id, NULL, NULL,
                                        condition, at);
    END LOOP;
    INSERT INTO gmp.shipment_signoff (shipment_id, step, at, unit_ids, condition)
    VALUES (s.id, 'received', at, units, btrim(condition))
    RETURNING id INTO signoff;
    RETURN gmp_rules.record_signature(challenge, 'verified', 'gmp.shipment_signoff', signoff::text, condition);
END;
$$;

-- A shipment with its units (and what their labels depend on), its signed steps with
-- whether each signature is intact, and any open excursion of its shipper or units.
CREATE OR REPLACE FUNCTION gmp.shipment_document(shipment_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    s gmp.shipment := gmp_rules.require_shipment(shipment_id);
BEGIN
    RETURN to_jsonb(s) || jsonb_build_object(
        'urgent', s.urgent_need IS NOT NULL,
        'units', coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'unit', u.id, 'lot', u.din, 'check_character', o.check_character, 'container', u.container,
                     'volume_ml', u.volume_ml::text, 'state', u.state, 'holder_person', u.holder_person,
                     'holder_party', u.holder_party, 'product_kind', o.product_kind, 'stage', o.stage,
                     'lot_status', o.status, 'intended_use', o.intended_use, 'eligibility', o.eligibility,
                     'reactive_tests', to_jsonb(o.reactive_tests), 'expires_on', o.expires_on,
                     'open_excursions', to_jsonb(gmp_rules.open_excursions_of_unit(u.id))) ORDER BY u.id)
                 FROM gmp.unit u JOIN gmp.lot_overview o ON o.din = u.din
                 WHERE u.shipment_id = s.id), '[]'),
        'signoffs', coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'step', x.step, 'at', x.at, 'units', to_jsonb(x.unit_ids), 'courier', x.courier,
                        'condition', x.condition, 'statement', x.statement, 'signer', g.signer,
                        'printed_name', g.printed_name, 'meaning', g.meaning, 'signed_at', g.signed_at,
                        'signature_id', g.id, 'intact', gmp_rules.signature_intact(g.id)) ORDER BY x.id)
                    FROM gmp.shipment_signoff x
                    LEFT JOIN gmp.signature g ON g.record_table = 'gmp.shipment_signoff' AND g.record_key = x.id::text
                    WHERE x.shipment_id = s.id), '[]'));
END;
$$;
