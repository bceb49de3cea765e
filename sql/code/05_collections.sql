-- collections: Tissue collections and their receipt at the facility.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- Only the receipt is ever added; nothing else about a collection changes.
CREATE OR REPLACE FUNCTION gmp_rules.guard_collection_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'tissue collections are never deleted' USING ERRCODE = 'GM004';
    END IF;
    IF OLD.received_at IS NOT NULL
       OR (to_jsonb(OLD) - '{received_at,received_by,receipt_condition,receipt_note}'::text[])
          IS DISTINCT FROM (to_jsonb(NEW) - '{received_at,received_by,receipt_condition,receipt_note}'::text[]) THEN
        RAISE EXCEPTION 'collection % is recorded; only its receipt can be added, once', OLD.id
            USING ERRCODE = 'GM004', HINT = 'a mistaken collection record is corrected by a deviation, never an edit';
    END IF;
    RETURN NEW;
END;
$$;

-- A numeric value that enters a GMP record is a finite number: numeric also takes 'NaN'
-- and ±'Infinity', which compare above every number (so NaN > 0 and NaN >= a limit hold)
-- and would pass a range check. Refused where the value enters (GM002); the tables'
-- CHECK constraints (V0021) refuse them on any other way in.
CREATE OR REPLACE FUNCTION gmp_rules.require_finite(value numeric, what text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF value IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric) THEN
        RAISE EXCEPTION '% must be a finite number, not %', what, value USING ERRCODE = 'GM002',
            HINT = 'enter the value as a number, e.g. 12.5';
    END IF;
    RETURN value;
END;
$$;

-- The rules for a new collection, checked on every insert whoever inserts: the unit
-- fits the source, a newborn tissue has its birth mother linked, consent is in force.
-- The donor and birth mother are held FOR SHARE before consent is read
-- (gmp_rules.lock_donor): a withdrawal in flight is waited for and seen, so gmp tissue
-- collect runs READ COMMITTED.
CREATE OR REPLACE FUNCTION gmp_rules.check_new_collection() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    src gmp.tissue_source;
    who gmp.donor;
BEGIN
    PERFORM gmp_rules.require_finite(NEW.amount, 'the collected amount');
    SELECT * INTO STRICT src FROM gmp.tissue_source WHERE code = NEW.source;
    who := gmp_rules.lock_donor(NEW.donor_code, false);
    IF who.birth_mother IS NOT NULL THEN
        PERFORM gmp_rules.lock_donor(who.birth_mother, false);
    END IF;
    IF NOT NEW.amount_unit = ANY (src.units) THEN
        RAISE EXCEPTION 'unit % does not fit %', NEW.amount_unit, src.name USING ERRCODE = 'GM002',
            HINT = format('give the amount of %s in %s', src.name, array_to_string(src.units, ' or '));
    END IF;
    IF src.newborn AND who.birth_mother IS NULL THEN
        RAISE EXCEPTION '% is a newborn tissue, and donor % has no birth mother linked', src.name, who.code
            USING ERRCODE = 'GM002',
                  HINT = 'the birth mother is the one tested: register the newborn with --birth-mother CODE';
    END IF;
    IF NEW.collected_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'collection time % is in the future', NEW.collected_at USING ERRCODE = 'GM002',
            HINT = 'give the time the tissue was recovered (ISO 8601, e.g. 2026-11-30T09:15:00Z)';
    END IF;
    -- Consent in force: given on or before the collection and not withdrawn. A donor
    -- who withdrew and later consents again is in force from the new consent.
    IF NOT EXISTS (SELECT FROM gmp.consent c WHERE c.donor_code IN (who.code, who.birth_mother)
                   AND c.withdrawn_on IS NULL AND c.given_on <= (NEW.collected_at AT TIME ZONE 'UTC')::date) THEN
        IF EXISTS (SELECT FROM gmp.consent c WHERE c.donor_code IN (who.code, who.birth_mother) AND c.withdrawn_on IS NOT NULL) THEN
            RAISE EXCEPTION 'donor % has withdrawn consent: no new collection may be recorded', who.code
                USING ERRCODE = 'GM003', HINT = 'the withdrawal stands; only a new consent, recorded with gmp donor consent, allows a collection';
        END IF;
        RAISE EXCEPTION 'donor % has no consent given on or before the collection', who.code
            USING ERRCODE = 'GM003', HINT = 'record the consent first: gmp donor consent CODE --given-on … --scope … --taken-by …';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION gmp_rules.require_collection(collection_id text) RETURNS gmp.tissue_collection
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_collection gmp.tissue_collection;
BEGIN
    SELECT * INTO found_collection FROM gmp.tissue_collection c WHERE c.id = collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no tissue collection %', collection_id USING ERRCODE = 'GM001',
            HINT = 'collection ids look like T26-000001; gmp donor show CODE lists a donor''s collections';
    END IF;
    RETURN found_collection;
END;
$$;

CREATE OR REPLACE FUNCTION gmp.collect_tissue(donor_code text, source text, site text, collected_at timestamptz,
                                   collector text, amount numeric, amount_unit text, transport_conditions text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_id text;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_donor(donor_code);
    IF NOT EXISTS (SELECT FROM gmp.tissue_source s WHERE s.code = collect_tissue.source) THEN
        RAISE EXCEPTION 'unknown tissue source %', source USING ERRCODE = 'GM002',
            HINT = 'sources: ' || (SELECT string_agg(code, ', ' ORDER BY code) FROM gmp.tissue_source);
    END IF;
    new_id := format('T%s-%s', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YY'),
                     lpad(nextval('gmp_meta.collection_number')::text, 6, '0'));
    INSERT INTO gmp.tissue_collection (id, donor_code, source, site, collected_at, collector, amount, amount_unit,
                                       transport_conditions)
    VALUES (new_id, donor_code, source, btrim(site), collected_at, btrim(collector), amount, amount_unit,
            btrim(transport_conditions));
    RETURN new_id;
END;
$$;

-- Records the receipt by the calling person; received_at null means now, by the
-- server's clock. Returns the time recorded. The collection is locked before its
-- receipt is read: gmp tissue receive runs READ COMMITTED, and a second receipt that
-- waited for the first is refused here (GM004).
CREATE OR REPLACE FUNCTION gmp.receive_tissue(collection_id text, received_at timestamptz, condition text, note text)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c gmp.tissue_collection;
BEGIN
    SELECT * INTO c FROM gmp.tissue_collection t WHERE t.id = receive_tissue.collection_id FOR UPDATE;
    IF NOT FOUND THEN
        c := gmp_rules.require_collection(collection_id);
    END IF;
    PERFORM gmp_rules.active_person();
    received_at := coalesce(received_at, clock_timestamp());
    IF c.received_at IS NOT NULL THEN
        RAISE EXCEPTION 'collection % was already received at % by %', c.id, c.received_at, c.received_by
            USING ERRCODE = 'GM004', HINT = 'a receipt is recorded once';
    END IF;
    IF received_at < c.collected_at OR received_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'receipt time % must lie between the collection (%) and now', received_at, c.collected_at
            USING ERRCODE = 'GM002', HINT = 'give the time the tissue arrived, in ISO 8601';
    END IF;
    PERFORM set_config('gmp.reason', 'tissue received at the facility', true);
    UPDATE gmp.tissue_collection t SET received_at = receive_tissue.received_at, received_by = session_user,
                                       receipt_condition = condition, receipt_note = nullif(btrim(note), '')
    WHERE t.id = collection_id;
    RETURN received_at;
END;
$$;
