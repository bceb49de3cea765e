-- materials: Material types and lots (reagents, media, consumables): receipt into
-- quarantine, QA's signed release or rejection, opening, consumption by manufacturing
-- steps and QC results, and the trace of a material lot to every product lot it reached.
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

CREATE OR REPLACE FUNCTION gmp_rules.require_material_lot(material_lot_id text) RETURNS gmp.material_lot
LANGUAGE plpgsql STABLE AS $$
DECLARE
    m gmp.material_lot;
BEGIN
    SELECT * INTO m FROM gmp.material_lot x WHERE x.id = material_lot_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no material lot %', material_lot_id USING ERRCODE = 'GM001',
            HINT = 'gmp material list shows the material lots';
    END IF;
    RETURN m;
END;
$$;

-- A material lot is received into quarantine; afterwards only its status moves forward
-- (quarantine → released or rejected, released → rejected on a recall) and it is opened
-- once, while released. Never deleted. Whoever writes, a superuser included.
CREATE OR REPLACE FUNCTION gmp_rules.guard_material_lot() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    moved text[] := '{}';
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'material lots are never deleted' USING ERRCODE = 'GM004',
            HINT = 'reject the material lot instead (gmp material reject)';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'quarantine' OR NEW.opened_at IS NOT NULL THEN
            RAISE EXCEPTION 'a material lot is received unopened, into quarantine' USING ERRCODE = 'GM003',
                HINT = 'QA releases it once its certificate and receipt are checked (gmp material release)';
        END IF;
        IF NEW.received_at > clock_timestamp() + interval '5 minutes' THEN
            RAISE EXCEPTION 'receipt time % is in the future', NEW.received_at USING ERRCODE = 'GM002',
                HINT = 'give the time it was received (ISO 8601), or leave it out for now';
        END IF;
        IF NEW.manufacturer IS NULL THEN
            RAISE EXCEPTION 'a material lot''s receipt names its manufacturer (21 CFR 1271.210(d)(1))'
                USING ERRCODE = 'GM002', HINT = 'give --manufacturer: who made it (the supplier, when it makes it)';
        END IF;
        IF NEW.expires_on < (NEW.received_at AT TIME ZONE 'UTC')::date THEN
            RAISE EXCEPTION 'material lot expired on %, before its receipt', NEW.expires_on USING ERRCODE = 'GM002',
                HINT = 'an expired material is not received: return it to the supplier';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT ((OLD.status, NEW.status) IN (('quarantine', 'released'), ('quarantine', 'rejected'),
                                             ('released', 'rejected'))) THEN
            RAISE EXCEPTION 'material lot % cannot go from % to %', OLD.id, OLD.status, NEW.status USING ERRCODE = 'GM003',
                HINT = CASE OLD.status WHEN 'rejected' THEN 'rejected is final: nothing may change it'
                                       ELSE 'a released material lot may only be rejected (a recall)' END;
        END IF;
        moved := '{status,status_changed_at,status_changed_by}';
    END IF;
    IF NEW.opened_at IS DISTINCT FROM OLD.opened_at OR NEW.opened_by IS DISTINCT FROM OLD.opened_by THEN
        IF OLD.opened_at IS NOT NULL THEN
            RAISE EXCEPTION 'material lot % was opened at %', OLD.id, OLD.opened_at USING ERRCODE = 'GM004',
                HINT = 'a lot is opened once; its use-by after opening counts from then';
        ELSIF OLD.status <> 'released' THEN
            RAISE EXCEPTION 'material lot % is %: only a released lot is opened', OLD.id, OLD.status USING ERRCODE = 'GM003',
                HINT = 'QA releases it first (gmp material release)';
        ELSIF NEW.opened_at > clock_timestamp() + interval '5 minutes' THEN
            RAISE EXCEPTION 'opening time % is in the future', NEW.opened_at USING ERRCODE = 'GM002';
        END IF;
        moved := moved || '{opened_at,opened_by}'::text[];
    END IF;
    IF (to_jsonb(OLD) - moved) IS DISTINCT FROM (to_jsonb(NEW) - moved) THEN
        RAISE EXCEPTION 'material lot % is recorded; only its status and its opening change, through gmp', OLD.id
            USING ERRCODE = 'GM004', HINT = 'a mistaken receipt is rejected and received again';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER material_lot_guard BEFORE INSERT OR UPDATE OR DELETE ON gmp.material_lot
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.guard_material_lot();
ALTER TABLE gmp.material_lot ENABLE ALWAYS TRIGGER material_lot_guard;

-- At COMMIT, whoever wrote it: a material lot's status other than quarantine comes with
-- QA's disposition for it, signed intact by the decider with the meaning of the decision.
CREATE OR REPLACE FUNCTION gmp_rules.check_material_disposition() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    m   gmp.material_lot;
    d   gmp.material_disposition;
    sig gmp.signature;
BEGIN
    SELECT * INTO STRICT m FROM gmp.material_lot WHERE id = NEW.id;
    IF m.status = 'quarantine' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO d FROM gmp.material_disposition x WHERE x.material_lot_id = m.id AND x.decision = m.status;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'material lot % became % without a signed disposition', m.id, m.status
            USING ERRCODE = 'insufficient_privilege', HINT = 'QA uses gmp material release|reject';
    END IF;
    SELECT * INTO sig FROM gmp.signature s WHERE s.record_table = 'gmp.material_disposition' AND s.record_key = d.id::text;
    IF NOT FOUND OR sig.meaning <> d.decision OR sig.signer <> d.decided_by
       OR sig.content_hash <> gmp_rules.content_hash('gmp.material_disposition', d.id::text) THEN
        RAISE EXCEPTION 'the % of material lot % needs the decider''s intact e-signature (meaning %)', d.decision, m.id,
            d.decision USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT pg_has_role(d.decided_by, 'gmp_qa', 'MEMBER') THEN
        RAISE EXCEPTION '% may not decide on material lots: that needs the qa role', d.decided_by
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF m.status_changed_by IS DISTINCT FROM d.decided_by THEN
        RAISE EXCEPTION 'material lot % was set % by %, but the disposition is %''s', m.id, m.status,
            m.status_changed_by, d.decided_by USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;
-- PostgreSQL cannot CREATE OR REPLACE a constraint trigger: it is bound once, here, and
-- its function is replaced in place whenever this file changes.
SELECT gmp_meta.bind_commit_check('gmp.material_lot', 'material_status_needs_disposition', 'UPDATE OF status', 'gmp_rules.check_material_disposition');

-- A disposition is written together with the status it decides; checked at COMMIT too.
CREATE OR REPLACE FUNCTION gmp_rules.check_material_disposition_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m gmp.material_lot;
BEGIN
    SELECT * INTO STRICT m FROM gmp.material_lot WHERE id = NEW.material_lot_id;
    IF m.status <> NEW.decision AND NOT (NEW.decision = 'released' AND m.status = 'rejected') THEN
        RAISE EXCEPTION 'material disposition % says % but material lot % is %', NEW.id, NEW.decision, m.id, m.status
            USING ERRCODE = 'GM003';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp.signature s WHERE s.record_table = 'gmp.material_disposition'
                   AND s.record_key = NEW.id::text AND s.signer = NEW.decided_by AND s.meaning = NEW.decision) THEN
        RAISE EXCEPTION 'material disposition % needs its signature', NEW.id USING ERRCODE = 'insufficient_privilege',
            HINT = 'QA uses gmp material release|reject';
    END IF;
    RETURN NULL;
END;
$$;
SELECT gmp_meta.bind_commit_check('gmp.material_disposition', 'material_disposition_conditions', 'INSERT', 'gmp_rules.check_material_disposition_row');

-- Why a material lot may not be used at `used_at`, or NULL when it may: it was not yet
-- received or released then, it is rejected, it expired, or it was past its use-by after
-- opening (or not opened although it has one). `released_at` is the time of its release
-- disposition (NULL when none): a list joins the dispositions once for every lot. No
-- SET clause, so the planner inlines it into a list's query instead of calling it per
-- lot; every caller runs in UTC (the two-argument form below, gmp.material_lots). The
-- lot comes as the columns the rule reads, not as a gmp.material_lot: PostgreSQL
-- resolves each `m.col` of a composite parameter by copying the table's whole tuple
-- descriptor with the text of every CHECK (material_lot has 13), ~20 times for this
-- body, in every fresh backend that plans a document or the list (issue 14).
CREATE OR REPLACE FUNCTION gmp_rules.material_unusable(id text, status text, received_at timestamptz, expires_on date,
                                                       days_after_opening integer, opened_at timestamptz,
                                                       used_at timestamptz, released_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN status = 'rejected' THEN format('material lot %s is rejected', id)
        WHEN status <> 'released' THEN format('material lot %s is in quarantine', id)
        WHEN used_at < received_at THEN format('material lot %s was received at %s, after the use at %s',
                                               id, received_at, used_at)
        WHEN used_at < released_at THEN format('material lot %s was not yet released at %s', id, used_at)
        WHEN (used_at AT TIME ZONE 'UTC')::date > expires_on
            THEN format('material lot %s expired on %s', id, expires_on)
        WHEN days_after_opening IS NOT NULL AND (opened_at IS NULL OR used_at < opened_at)
            THEN format('material lot %s was not opened at %s: its use-by counts from opening', id, used_at)
        WHEN days_after_opening IS NOT NULL AND used_at > opened_at + make_interval(days => days_after_opening)
            THEN format('material lot %s expired %s day(s) after opening (opened %s)', id, days_after_opening,
                        opened_at)
    END
$$;

-- The same for one lot, its release time looked up.
CREATE OR REPLACE FUNCTION gmp_rules.material_unusable(m gmp.material_lot, used_at timestamptz) RETURNS text
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT gmp_rules.material_unusable(m.id, m.status, m.received_at, m.expires_on, m.days_after_opening, m.opened_at,
                                       used_at, (SELECT d.decided_at FROM gmp.material_disposition d
                                                 WHERE d.material_lot_id = m.id AND d.decision = 'released'))
$$;

-- The lot and time a material or a piece of equipment was used at: those of the
-- manufacturing step or QC result (exactly one) that used it, never the writer's say. The
-- lot is locked FOR SHARE, so a disposition committing meanwhile waits for the use, and
-- must still be open.
CREATE OR REPLACE FUNCTION gmp_rules.use_by_step_or_result(step_id bigint, result_id bigint, what text,
                                                          OUT lot gmp.lot, OUT used_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    used_in text;
BEGIN
    IF num_nonnulls(step_id, result_id) <> 1 THEN
        RAISE EXCEPTION 'a % belongs to one manufacturing step or one QC result', what USING ERRCODE = 'GM002';
    END IF;
    IF step_id IS NOT NULL THEN
        SELECT s.din, s.performed_at INTO used_in, used_at FROM gmp.manufacturing_step s
        WHERE s.id = use_by_step_or_result.step_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no manufacturing step %', step_id USING ERRCODE = 'GM001';
        END IF;
    ELSE
        SELECT r.din, r.performed_at INTO used_in, used_at FROM gmp.qc_result r
        WHERE r.id = use_by_step_or_result.result_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no QC result %', result_id USING ERRCODE = 'GM001';
        END IF;
    END IF;
    SELECT * INTO STRICT lot FROM gmp.lot x WHERE x.din = used_in FOR SHARE;
    IF lot.status NOT IN ('quarantine', 'on_hold') THEN
        RAISE EXCEPTION 'lot % is %: its record is closed', lot.din, replace(lot.status, '_', ' ') USING ERRCODE = 'GM004',
            HINT = 'nothing is added to a released or rejected lot''s record';
    END IF;
END;
$$;

-- The factor that turns a quantity in `from_unit` into `to_unit`: 1 for the same unit,
-- the ratio within volume (L, mL, µL) or mass (g, mg, µg); NULL when the two do not
-- measure alike (a volume and a mass, or two different count units: a vial is no kit).
CREATE OR REPLACE FUNCTION gmp_rules.unit_factor(from_unit text, to_unit text) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    WITH scale (symbol, kind, factor) AS (
        VALUES ('L', 'volume', 1000::numeric), ('mL', 'volume', 1), ('µL', 'volume', 0.001),
               ('g', 'mass', 1000), ('mg', 'mass', 1), ('µg', 'mass', 0.001))
    SELECT CASE WHEN from_unit = to_unit THEN 1::numeric
                ELSE (SELECT f.factor / t.factor FROM scale f JOIN scale t ON t.kind = f.kind
                      WHERE f.symbol = from_unit AND t.symbol = to_unit) END
$$;

-- Every consumption, whoever inserts: its lot and time come from the step or result
-- itself, the quantity is a finite positive number in a known unit, the material lot
-- was fit for use at that time, and what it consumes is still left of the lot. The
-- material lot is locked FOR NO KEY UPDATE (issue 19): a rejection committing meanwhile
-- waits, and then blocks the product lot's release; a rejection committed first is seen
-- and refuses this use; and two consumptions of one lot are counted one after the other,
-- so together they never take more than was received (each statement reads afresh at
-- READ COMMITTED, after the lock).
CREATE OR REPLACE FUNCTION gmp_rules.check_consumption() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    m        gmp.material_lot;
    used     record;
    l        gmp.lot;
    unusable text;
    factor   numeric;
    left_over numeric;
BEGIN
    PERFORM gmp_rules.require_finite(NEW.quantity, 'the quantity consumed');
    IF NEW.quantity IS NULL OR NEW.quantity <= 0 THEN
        RAISE EXCEPTION 'the quantity consumed must be more than zero, not %', coalesce(NEW.quantity::text, 'missing')
            USING ERRCODE = 'GM002', HINT = 'give it as LOT:QUANTITY UNIT, e.g. MAT26-00001:500 mL';
    END IF;
    IF NEW.unit IS NULL OR NOT EXISTS (SELECT FROM gmp_meta.material_unit u WHERE u.symbol = NEW.unit) THEN
        RAISE EXCEPTION 'unknown unit % for a quantity consumed', coalesce(NEW.unit, '(none)') USING ERRCODE = 'GM002',
            HINT = (SELECT 'units: ' || string_agg(symbol, ', ' ORDER BY kind, symbol) FROM gmp_meta.material_unit);
    END IF;
    SELECT u.lot, u.used_at INTO used FROM gmp_rules.use_by_step_or_result(NEW.step_id, NEW.result_id, 'consumption') u;
    l := used.lot;
    NEW.din := l.din;
    NEW.used_at := used.used_at;
    SELECT * INTO m FROM gmp.material_lot x WHERE x.id = NEW.material_lot_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no material lot %', NEW.material_lot_id USING ERRCODE = 'GM001',
            HINT = 'gmp material list shows the material lots';
    END IF;
    unusable := gmp_rules.material_unusable(m, NEW.used_at);
    IF unusable IS NOT NULL THEN
        RAISE EXCEPTION '%: it cannot be used in lot %', unusable, l.din USING ERRCODE = 'GM006',
            HINT = CASE m.status WHEN 'quarantine' THEN 'QA releases a material lot before use (gmp material release)'
                                 WHEN 'rejected' THEN 'use a released lot of the material'
                                 ELSE 'use a released, unexpired lot (gmp material list --usable)' END;
    END IF;
    -- What was used is counted as the lot was received: 5 g of a medium received in mL
    -- cannot be reconciled with the receipt (21 CFR 211.184(c)).
    IF (SELECT u.kind FROM gmp_meta.material_unit u WHERE u.symbol = NEW.unit)
       IS DISTINCT FROM (SELECT u.kind FROM gmp_meta.material_unit u WHERE u.symbol = m.unit) THEN
        RAISE EXCEPTION 'material lot % was received in % (a %): a quantity of it in % cannot be reconciled', m.id, m.unit,
            (SELECT u.kind FROM gmp_meta.material_unit u WHERE u.symbol = m.unit), NEW.unit USING ERRCODE = 'GM002',
            HINT = (SELECT 'give it in ' || string_agg(u.symbol, ', ' ORDER BY u.symbol) FROM gmp_meta.material_unit u
                    WHERE u.kind = (SELECT k.kind FROM gmp_meta.material_unit k WHERE k.symbol = m.unit));
    END IF;
    -- What is left, in the lot's unit: the quantity received less every consumption in a
    -- unit that measures alike. A quantity in a unit that does not (a count of tests from
    -- a kit received in kits) cannot be counted against it and is not.
    factor := gmp_rules.unit_factor(NEW.unit, m.unit);
    IF factor IS NOT NULL THEN
        SELECT m.quantity - coalesce(sum(c.quantity * gmp_rules.unit_factor(c.unit, m.unit)), 0) INTO left_over
        FROM gmp.material_consumption c WHERE c.material_lot_id = m.id;
        IF NEW.quantity * factor > left_over THEN
            RAISE EXCEPTION 'material lot % has % % left, less than the % % to be consumed in lot %', m.id,
                trim_scale(greatest(left_over, 0)), m.unit, trim_scale(NEW.quantity), NEW.unit, l.din
                USING ERRCODE = 'GM003', HINT = 'take the rest from another released lot of the material (gmp material list --usable)';
        END IF;
    END IF;
    NEW.recorded_by := session_user;
    NEW.recorded_at := clock_timestamp();
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER consumption_rules BEFORE INSERT ON gmp.material_consumption
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.check_consumption();
ALTER TABLE gmp.material_consumption ENABLE ALWAYS TRIGGER consumption_rules;

CREATE OR REPLACE FUNCTION gmp.add_material_type(code text, name text, category text, storage_condition text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.active_person();
    IF code IS NULL OR code !~ '^[A-Z0-9][A-Z0-9-]{1,31}$' THEN
        RAISE EXCEPTION '"%" is not a material type code', code USING ERRCODE = 'GM002',
            HINT = 'use A-Z, 0-9 and -, 2 to 32 characters, e.g. MEM-ALPHA';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp_meta.material_category c WHERE c.category = add_material_type.category) THEN
        RAISE EXCEPTION 'unknown material category %', category USING ERRCODE = 'GM002',
            HINT = (SELECT 'categories: ' || string_agg(c.category, ', ' ORDER BY c.category) FROM gmp_meta.material_category c);
    END IF;
    IF EXISTS (SELECT FROM gmp.material_type t WHERE t.code = add_material_type.code) THEN
        RAISE EXCEPTION 'material type % exists', code USING ERRCODE = 'GM003', HINT = 'gmp material type list shows it';
    END IF;
    PERFORM set_config('gmp.reason', 'material type added', true);
    INSERT INTO gmp.material_type (code, name, category, storage_condition)
    VALUES (code, btrim(name), category, btrim(storage_condition));
END;
$$;

-- Receives a material lot into quarantine; returns its id (MAT + year, a sequence number).
-- The receipt record of 21 CFR 1271.210(d)(1): type, quantity, manufacturer, lot number,
-- date of receipt, expiry; and (d)(2), the supplier's certificate, bound by its hash.
CREATE OR REPLACE FUNCTION gmp.receive_material(type_code text, supplier text, manufacturer text, supplier_lot text,
                                                quantity numeric,
                                                unit text, received_at timestamptz, receipt_condition text,
                                                expires_on date, days_after_opening integer,
                                                certificate_sha256 text, storage_condition text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    t  gmp.material_type;
    at timestamptz := coalesce(received_at, clock_timestamp());
    id text;
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT * INTO t FROM gmp.material_type x WHERE x.code = type_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no material type %', type_code USING ERRCODE = 'GM001',
            HINT = 'add it first: gmp material type add CODE --name … --category …';
    END IF;
    PERFORM gmp_rules.require_finite(quantity, 'the quantity received');
    IF quantity IS NULL OR quantity <= 0 THEN
        RAISE EXCEPTION 'the quantity received must be more than zero' USING ERRCODE = 'GM002';
    END IF;
    IF NOT EXISTS (SELECT FROM gmp_meta.material_unit u WHERE u.symbol = unit) THEN
        RAISE EXCEPTION 'unknown unit %', unit USING ERRCODE = 'GM002',
            HINT = (SELECT 'units: ' || string_agg(symbol, ', ' ORDER BY kind, symbol) FROM gmp_meta.material_unit);
    END IF;
    IF certificate_sha256 IS NULL OR certificate_sha256 !~ '^[0-9a-fA-F]{64}$' THEN
        RAISE EXCEPTION 'the supplier''s certificate is bound by its SHA-256 (64 hex digits)' USING ERRCODE = 'GM002',
            HINT = 'give the certificate file: gmp material receive … --certificate FILE';
    END IF;
    IF expires_on IS NULL THEN
        RAISE EXCEPTION 'a material lot needs its expiry date' USING ERRCODE = 'GM002', HINT = 'give --expires YYYY-MM-DD';
    END IF;
    IF days_after_opening < 1 THEN
        RAISE EXCEPTION 'a material lot is usable for at least a day after opening, not %', days_after_opening
            USING ERRCODE = 'GM002', HINT = 'give 1 or more days, or none when the supplier gives no limit after opening';
    END IF;
    id := 'MAT' || to_char(at AT TIME ZONE 'UTC', 'YY') || '-' || lpad(nextval('gmp_meta.material_lot_number')::text, 5, '0');
    PERFORM set_config('gmp.reason', 'material lot received', true);
    INSERT INTO gmp.material_lot (id, type_code, supplier, manufacturer, supplier_lot, quantity, unit, received_at,
                                  receipt_condition, expires_on, days_after_opening, certificate_sha256, storage_condition)
    VALUES (id, t.code, btrim(supplier), nullif(btrim(manufacturer), ''), btrim(supplier_lot), quantity, unit, at,
            btrim(receipt_condition), expires_on,
            days_after_opening, decode(certificate_sha256, 'hex'),
            coalesce(nullif(btrim(storage_condition), ''), t.storage_condition));
    RETURN id;
END;
$$;

-- QA's signed decision on a material lot: writes the disposition and the status and
-- signs the disposition row ("released" or "rejected").
CREATE OR REPLACE FUNCTION gmp_rules.decide_material(challenge uuid, material_lot_id text, decision text, reason text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    m  gmp.material_lot := gmp_rules.require_material_lot(material_lot_id);
    id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    SELECT * INTO m FROM gmp.material_lot x WHERE x.id = m.id FOR UPDATE;
    IF m.status = 'rejected' OR m.status = decision THEN
        RAISE EXCEPTION 'material lot % is already %', m.id, m.status USING ERRCODE = 'GM003',
            HINT = CASE m.status WHEN 'rejected' THEN 'rejected is final' ELSE 'a released lot may only be rejected' END;
    END IF;
    IF decision = 'rejected' THEN
        PERFORM gmp_rules.give_reason(reason);
    ELSE
        PERFORM set_config('gmp.reason', coalesce(nullif(btrim(reason), ''), 'material lot released'), true);
    END IF;
    INSERT INTO gmp.material_disposition (material_lot_id, decision, reason)
    VALUES (m.id, decision, nullif(btrim(reason), '')) RETURNING material_disposition.id INTO id;
    UPDATE gmp.material_lot x SET status = decision, status_changed_at = clock_timestamp(), status_changed_by = session_user
    WHERE x.id = m.id;
    RETURN gmp_rules.record_signature(challenge, decision, 'gmp.material_disposition', id::text, reason);
END;
$$;

CREATE OR REPLACE FUNCTION gmp.release_material(challenge uuid, material_lot_id text, statement text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    RETURN gmp_rules.decide_material(challenge, material_lot_id, 'released', statement);
END;
$$;

-- QA rejects a material lot, in quarantine or released (a supplier's recall); every
-- product lot that consumed it can then no longer be released.
CREATE OR REPLACE FUNCTION gmp.reject_material(challenge uuid, material_lot_id text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
BEGIN
    RETURN gmp_rules.decide_material(challenge, material_lot_id, 'rejected', reason);
END;
$$;

-- Records the opening of a released material lot; its use-by after opening counts from then.
CREATE OR REPLACE FUNCTION gmp.open_material(material_lot_id text, opened_at timestamptz) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    m  gmp.material_lot := gmp_rules.require_material_lot(material_lot_id);
    at timestamptz := coalesce(opened_at, clock_timestamp());
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM set_config('gmp.reason', 'material lot opened', true);
    UPDATE gmp.material_lot x SET opened_at = at, opened_by = session_user WHERE x.id = m.id;
    RETURN at;
END;
$$;

-- What a step or QC result consumed; called in the same transaction as gmp.record_step
-- or gmp.record_result. Exactly one of step_id and result_id.
CREATE OR REPLACE FUNCTION gmp.record_consumption(material_lot_id text, quantity numeric, unit text, step_id bigint,
                                                  result_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    id bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    PERFORM gmp_rules.require_material_lot(material_lot_id);
    PERFORM set_config('gmp.reason', 'material consumed', true);
    INSERT INTO gmp.material_consumption (material_lot_id, quantity, unit, step_id, result_id, din, used_at)
    VALUES (material_lot_id, quantity, unit, step_id, result_id, '', '-infinity')  -- din, used_at: set by the rule
    RETURNING material_consumption.id INTO id;
    RETURN id;
END;
$$;

-- Whether a material disposition's signature still covers the row as it is now: the same
-- truth as gmp_rules.signature_intact(s.id), through the same gmp_rules.content_hash (one
-- home of the encoding), given the content gmp_rules.record_content would read (the row,
-- as a one-element array) from the row the caller has read already. The generic check
-- finds the key column in the catalog and reads the row by a dynamic query through three
-- nested functions, ~3 ms on the first call of a fresh backend and ~1 ms on every later
-- call, per signature; this one is plain SQL the planner inlines (no SET clause: every
-- caller runs in UTC, which is all the row's text depends on: text, bigint and
-- timestamptz columns). Only for signatures on gmp.material_disposition, which
-- record_content does not special-case; MaterialRulesTests compares the two over every
-- such signature.
CREATE OR REPLACE FUNCTION gmp_rules.material_disposition_intact(d gmp.material_disposition, s gmp.signature)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT s.content_hash = gmp_rules.content_hash(s.record_table, s.record_key, jsonb_build_array(to_jsonb(d)))
           AND s.record_table = 'gmp.material_disposition' AND s.record_key = d.id::text
$$;

-- What a document reads only for a few rows, in PL/pgSQL so that a statement calling them
-- neither inlines nor plans it: the planner opens every relation of a statement and every
-- index of each (their descriptors, statistics and partial indexes' predicates), which in
-- a fresh backend, every gmp command's, costs each relation and index its catalog loads
-- even when no row ever needs it (issue 14). A function is compiled and its query planned
-- only when a row first calls it. The test of a QC result that consumed a material (most
-- consumptions are a manufacturing step's):
CREATE OR REPLACE FUNCTION gmp_rules.qc_result_test(result_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT q.test FROM gmp.qc_result q WHERE q.id = qc_result_test.result_id);
END;
$$;

-- A unit's box and position as the trace's JSON keys (`,"location":…,"position":…`), for
-- a unit in a box: NULL for a box that is not there, as the whole unit then is.
CREATE OR REPLACE FUNCTION gmp_rules.unit_box_keys(box_id text, box_row integer, box_column integer) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT ',"location":' || to_json(b.path) FROM gmp.storage_location b WHERE b.id = unit_box_keys.box_id)
           || coalesce(',"position":' || to_json(gmp_rules.position_label(box_row, box_column)), '');
END;
$$;

-- A unit's shipment's consignee and receipt as the trace's JSON keys, for a unit in a
-- shipment.
CREATE OR REPLACE FUNCTION gmp_rules.unit_shipment_keys(shipment_id text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT ',"consignee":' || to_json(s.consignee) || coalesce(',"received_at":' || to_json(s.received_at), '')
            FROM gmp.shipment s WHERE s.id = unit_shipment_keys.shipment_id);
END;
$$;

-- A lot's units as the material trace lists them (gmp_meta.lot_whereabouts keeps them,
-- V0044): in division order, by the (din, division) index, each with where it is now.
-- Each unit is written as JSON text, its null keys left out as it goes (each value
-- through to_json): a jsonb object per unit, stripped of its nulls and copied again at
-- each level of nesting, cost ~8 µs a unit (issue 14). The id and the state go in quoted
-- as they are: their CHECKs (unit_id_check, unit_state_check) allow only letters, digits,
-- '-' and '_', which to_json writes unchanged (so does account_id_check, for the person
-- holding a unit); and a unit in nobody's box, hands or shipment skips the eight
-- optional keys at once. A box's path and a shipment's consignee are read only for a
-- unit in a box or a shipment, by their keys. In UTC, whoever's session writes the row:
-- a shipment's receipt time is written in it.
CREATE OR REPLACE FUNCTION gmp_rules.lot_units_json(din text) RETURNS json
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
    SELECT coalesce(('[' || string_agg(
               '{"unit":"' || u.id || '","state":"' || u.state || '"'
               || CASE WHEN u.box_id IS NULL AND u.device_id IS NULL AND u.holder_person IS NULL
                            AND u.holder_party IS NULL AND u.shipment_id IS NULL THEN ''
                  ELSE CASE WHEN u.box_id IS NOT NULL
                            THEN gmp_rules.unit_box_keys(u.box_id, u.box_row, u.box_column) ELSE '' END
                       || coalesce(',"device":' || to_json(u.device_id), '')
                       || coalesce(',"person":"' || u.holder_person || '"', '')
                       || coalesce(',"party":' || to_json(u.holder_party), '')
                       || coalesce(',"shipment":' || to_json(u.shipment_id), '')
                       || CASE WHEN u.shipment_id IS NOT NULL
                               THEN gmp_rules.unit_shipment_keys(u.shipment_id) ELSE '' END END || '}',
               ',' ORDER BY u.division) || ']')::json, '[]'::json)
    FROM gmp.unit u
    WHERE u.din = lot_units_json.din
$$;

-- The rows of gmp_meta.lot_whereabouts are the rule's: whatever a statement gives, a
-- row's units are set here from the lot's units as they are now, so nobody, a superuser
-- included, stores units that are not the lot's. An insert for a lot that has its row
-- already is left as it is: the upsert it belongs to (refresh_lot_whereabouts) updates
-- that row instead, which sets its units here, once. A row is never removed (nor the
-- table emptied) nor moved to another lot.
CREATE OR REPLACE FUNCTION gmp_rules.keep_lot_whereabouts() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') OR (TG_OP = 'UPDATE' AND NEW.din IS DISTINCT FROM OLD.din) THEN
        RAISE EXCEPTION '%', CASE WHEN TG_OP = 'TRUNCATE' THEN 'the lots'' units are kept by gmp: they are not emptied'
                                  ELSE format('the units of lot %s are kept by gmp: their row is neither removed nor '
                                              'given to another lot', OLD.din) END
            USING ERRCODE = 'GM004',
            HINT = 'units move through gmp unit and gmp ship; gmp trace material lists them from here';
    END IF;
    IF TG_OP = 'INSERT' AND EXISTS (SELECT FROM gmp_meta.lot_whereabouts w WHERE w.din = NEW.din) THEN
        RETURN NEW;  -- the conflict's update sets them (or the insert fails on the key)
    END IF;
    NEW.units := gmp_rules.lot_units_json(NEW.din);
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER keep BEFORE INSERT OR UPDATE OR DELETE ON gmp_meta.lot_whereabouts
    FOR EACH ROW EXECUTE FUNCTION gmp_rules.keep_lot_whereabouts();
CREATE OR REPLACE TRIGGER keep_all BEFORE TRUNCATE ON gmp_meta.lot_whereabouts
    FOR EACH STATEMENT EXECUTE FUNCTION gmp_rules.keep_lot_whereabouts();
ALTER TABLE gmp_meta.lot_whereabouts ENABLE ALWAYS TRIGGER keep, ENABLE ALWAYS TRIGGER keep_all;

-- Writes the row of each lot in `dins` again (keep_lot_whereabouts sets its units). Under
-- READ COMMITTED a second writer of the same lot waits for the first's row and then sets
-- the units from what both committed (each statement of the trigger reads afresh); under
-- REPEATABLE READ and SERIALIZABLE it fails to serialize and gmp runs it again. The lots
-- in key order, so that two statements writing the same lots wait instead of deadlocking.
CREATE OR REPLACE FUNCTION gmp_rules.refresh_lot_whereabouts(dins text[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO gmp_meta.lot_whereabouts (din, units)
    SELECT d.din, '[]'::json FROM (SELECT DISTINCT x FROM unnest(dins) AS x) AS d (din) ORDER BY d.din
    ON CONFLICT (din) DO UPDATE SET units = '[]'::json;  -- the units themselves: keep_lot_whereabouts
$$;

-- After every statement that inserts, updates or deletes units: the rows of their lots.
CREATE OR REPLACE FUNCTION gmp_rules.refresh_whereabouts_of_units() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM gmp_rules.refresh_lot_whereabouts(ARRAY(SELECT n.din FROM new_units n));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM gmp_rules.refresh_lot_whereabouts(ARRAY(SELECT n.din FROM new_units n UNION ALL SELECT o.din FROM old_units o));
    ELSE
        PERFORM gmp_rules.refresh_lot_whereabouts(ARRAY(SELECT o.din FROM old_units o));
    END IF;
    RETURN NULL;
END;
$$;
-- One trigger per event: a trigger with transition tables fires on one event only.
CREATE OR REPLACE TRIGGER whereabouts_inserted AFTER INSERT ON gmp.unit
    REFERENCING NEW TABLE AS new_units FOR EACH STATEMENT EXECUTE FUNCTION gmp_rules.refresh_whereabouts_of_units();
CREATE OR REPLACE TRIGGER whereabouts_updated AFTER UPDATE ON gmp.unit
    REFERENCING OLD TABLE AS old_units NEW TABLE AS new_units
    FOR EACH STATEMENT EXECUTE FUNCTION gmp_rules.refresh_whereabouts_of_units();
CREATE OR REPLACE TRIGGER whereabouts_deleted AFTER DELETE ON gmp.unit
    REFERENCING OLD TABLE AS old_units FOR EACH STATEMENT EXECUTE FUNCTION gmp_rules.refresh_whereabouts_of_units();
ALTER TABLE gmp.unit ENABLE ALWAYS TRIGGER whereabouts_inserted, ENABLE ALWAYS TRIGGER whereabouts_updated,
    ENABLE ALWAYS TRIGGER whereabouts_deleted;

-- A shipment's consignee and receipt are written with each of its units.
CREATE OR REPLACE FUNCTION gmp_rules.refresh_whereabouts_of_shipment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM gmp_rules.refresh_lot_whereabouts(ARRAY(SELECT u.din FROM gmp.unit u WHERE u.shipment_id = NEW.id));
    RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER whereabouts_of_units AFTER UPDATE ON gmp.shipment FOR EACH ROW
    WHEN (NEW.consignee IS DISTINCT FROM OLD.consignee OR NEW.received_at IS DISTINCT FROM OLD.received_at)
    EXECUTE FUNCTION gmp_rules.refresh_whereabouts_of_shipment();
ALTER TABLE gmp.shipment ENABLE ALWAYS TRIGGER whereabouts_of_units;

-- Every lot's row written again whenever this file changes (and first by V0044's
-- release): a change to how units are written reaches every row.
SELECT gmp_rules.refresh_lot_whereabouts(ARRAY(SELECT DISTINCT u.din FROM gmp.unit u));

-- One material lot as every report shows it (`material`), and its consumptions in their
-- order (`consumptions`): the one home of both documents, for gmp.material_document and
-- gmp.trace_material_json; no row for an unknown lot (the caller refuses it). A
-- set-returning SQL function with one SELECT and no SET clause, so that the planner
-- inlines it into the caller's statement (every caller runs in UTC, which is all the
-- documents' text depends on): planned once with it, instead of a SQL function per
-- document and one per consumption, each parsed and planned apart on every call and,
-- through their composite parameters, copying the lot's tuple descriptor for each
-- column read (issue 14: ~40 copies on a trace's first call). The lot is read by its key
-- in the statement, so its columns are plain columns. As json with its keys written in
-- byte order, gmp's (gmp.trace_material_json says why; jsonb writes them shortest first,
-- and the trace wrote the jsonb out as text again); gmp.material_document makes them jsonb.
CREATE OR REPLACE FUNCTION gmp_rules.material_lot_documents(material_lot_id text)
RETURNS TABLE (material json, consumptions json)
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'category', t.category, 'certificate_sha256', encode(m.certificate_sha256, 'hex'),
        'days_after_opening', m.days_after_opening,
        'dispositions', coalesce((SELECT json_agg(json_build_object(
                                      'decided_at', d.decided_at, 'decided_by', d.decided_by, 'decision', d.decision,
                                      'id', d.id, 'printed_name', s.printed_name, 'reason', d.reason,
                                      'signature_id', s.id,
                                      'signature_intact', gmp_rules.material_disposition_intact(d, s)) ORDER BY d.id)
                                  FROM gmp.material_disposition d
                                  LEFT JOIN gmp.signature s ON s.record_table = 'gmp.material_disposition'
                                                           AND s.record_key = d.id::text
                                  WHERE d.material_lot_id = m.id), '[]'),
        'expires_on', m.expires_on, 'id', m.id, 'manufacturer', m.manufacturer, 'name', t.name,
        'opened_at', m.opened_at, 'opened_by', m.opened_by, 'quantity', m.quantity::text,
        'receipt_condition', m.receipt_condition, 'received_at', m.received_at, 'received_by', m.received_by,
        'status', m.status, 'status_changed_at', m.status_changed_at, 'status_changed_by', m.status_changed_by,
        'storage_condition', m.storage_condition, 'supplier', m.supplier, 'supplier_lot', m.supplier_lot,
        'type', m.type_code, 'unit', m.unit,
        'usable_now', gmp_rules.material_unusable(m.id, m.status, m.received_at, m.expires_on, m.days_after_opening,
                                                  m.opened_at, now.at, r.decided_at) IS NULL,
        'use_by', CASE WHEN m.days_after_opening IS NULL OR m.opened_at IS NULL THEN m.expires_on
                       ELSE least(m.expires_on, ((m.opened_at + make_interval(days => m.days_after_opening))
                                                 AT TIME ZONE 'UTC')::date) END),
        coalesce((SELECT json_agg(json_build_object('id', c.id, 'lot', c.din, 'material_lot', c.material_lot_id,
                                                    'quantity', c.quantity::text, 'recorded_by', c.recorded_by,
                                                    'result_id', c.result_id, 'step', st.kind, 'step_id', c.step_id,
                                                    'test', CASE WHEN c.result_id IS NOT NULL
                                                                 THEN gmp_rules.qc_result_test(c.result_id) END,
                                                    'unit', c.unit, 'used_at', c.used_at) ORDER BY c.id)
                  FROM gmp.material_consumption c
                  LEFT JOIN gmp.manufacturing_step st ON st.id = c.step_id
                  WHERE c.material_lot_id = m.id), '[]')
    FROM gmp.material_lot m
    JOIN gmp.material_type t ON t.code = m.type_code
    -- The release time for the usability rule, joined (its two-argument form looks it up
    -- through a SQL function of its own, parsed and planned on each call).
    LEFT JOIN gmp.material_disposition r ON r.material_lot_id = m.id AND r.decision = 'released'
    CROSS JOIN (SELECT clock_timestamp() AS at) now  -- read once: a volatile argument would stop the inlining
    WHERE m.id = material_lot_documents.material_lot_id
$$;

CREATE OR REPLACE FUNCTION gmp.material_document(material_lot_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    doc jsonb;
BEGIN
    SELECT p.material::jsonb || jsonb_build_object('consumptions', p.consumptions::jsonb) INTO doc
    FROM gmp_rules.material_lot_documents(material_document.material_lot_id) p;
    IF NOT FOUND THEN
        PERFORM gmp_rules.require_material_lot(material_document.material_lot_id);  -- the refusal of an unknown lot
    END IF;
    RETURN doc;
END;
$$;

-- The material lots as gmp material list shows them, newest first, each with whether it
-- is usable now; only the usable ones when asked. One query over the lots and their
-- release dispositions (not a document per lot, which read every consumption).
CREATE OR REPLACE FUNCTION gmp.material_lots(usable_only boolean)
RETURNS TABLE (id text, type_code text, supplier text, supplier_lot text, quantity numeric, unit text,
               expires_on date, opened_at timestamptz, status text, usable boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
    SELECT m.id, m.type_code, m.supplier, m.supplier_lot, m.quantity, m.unit, m.expires_on, m.opened_at, m.status,
           u.usable
    FROM gmp.material_lot m
    LEFT JOIN gmp.material_disposition d ON d.material_lot_id = m.id AND d.decision = 'released'
    CROSS JOIN (SELECT clock_timestamp() AS at) now  -- read once: a volatile argument would stop the inlining
    CROSS JOIN LATERAL (SELECT gmp_rules.material_unusable(m.id, m.status, m.received_at, m.expires_on,
                                                           m.days_after_opening, m.opened_at, now.at, d.decided_at)
                               IS NULL AS usable) u
    WHERE u.usable OR NOT usable_only
    ORDER BY m.recorded_at DESC, m.id DESC
$$;

-- Forward from a material lot: its consumptions, and every product lot it reached (the
-- lots that consumed it and every lot made from them), each with what a recall needs of
-- it (its product, its status, how it was reached) and its units, each with where it is
-- now or which consignee received it (issue 14: "every product lot, unit and consignee it
-- reached"). One statement over the few relations that answer that, with no per-lot or
-- per-unit function: every gmp command is a fresh backend, which loads each relation
-- and parses and plans each SQL function it meets for the first time (the lot's whole
-- document through gmp.lot_overview read eight more tables per trace, and a trace
-- reaching 200 lots shipped 770 kB, most of it never printed). A unit's keys
-- whose value is null are left out. Without JIT: the recursion's row estimates make the
-- plan look dear enough to compile, which cost more than the whole trace.
-- Written as JSON text (json, not jsonb) from the top down, which gmp reads as text: the
-- lots as jsonb were parsed from their text and written out again, ~4 ms of server CPU for
-- a trace reaching 200 lots (24% of its warm cost, issue 14). The material's, its
-- dispositions', consumptions' and the lots' keys are written in their byte order, the
-- order gmp writes them in (Output.serverDocument), which then copies each such object
-- as it comes instead of putting it back in order; the document's own three keys and the
-- units' stay as they were: written in byte order they cost a fresh backend's first
-- call 0.4-0.7 ms more (measured, not explained; docs/benchmarks.md, i14-trace10). gmp
-- reads either order. gmp.trace_material below is the same document as jsonb, for SQL.
CREATE OR REPLACE FUNCTION gmp.trace_material_json(material_lot_id text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET jit = off AS $$
DECLARE
    doc json;
BEGIN
    SELECT json_build_object(
        'material', p.material,
        'consumptions', p.consumptions,
        'lots', coalesce((
            WITH RECURSIVE reached AS (
                SELECT DISTINCT c.din, NULL::text AS via FROM gmp.material_consumption c
                WHERE c.material_lot_id = trace_material_json.material_lot_id
                -- UNION ALL: a lot's parent must be recorded before it (its foreign key) and is
                -- never changed after (the lot's guard, 06_lots.sql), so the lots form a forest
                -- and the recursion ends without looking for repeats; a lot reached twice
                -- (consumed, and through a consumed parent) is taken once by the GROUP BY below,
                -- and so are its children. UNION hashed every row into a table sized for the
                -- planner's guess at the recursion (~30,000 rows: 1.5 MB allocated and zeroed
                -- on each call, ~0.5 ms of a second call in a session) for ~100 lots (issue 14).
                UNION ALL
                -- Each lot's children by the lot_parent index. As a plain join the planner hashed
                -- all 100,000 lots for every trace (OFFSET 0 keeps the subquery a per-lot lookup).
                SELECT l.din, reached.din FROM reached
                CROSS JOIN LATERAL (SELECT x.din FROM gmp.lot x WHERE x.parent_din = reached.din OFFSET 0) l)
            SELECT json_agg(json_build_object(
                       'check_character', l.check_character, 'consumed', r.consumed, 'din', l.din,
                       'product_kind', l.product_kind, 'stage', l.stage, 'status', l.status, 'via', r.via,
                       'whereabouts', coalesce(w.units, '[]')) ORDER BY l.din)
            FROM (SELECT din, min(via) AS via, bool_or(via IS NULL) AS consumed FROM reached GROUP BY din) r
            JOIN gmp.lot l ON l.din = r.din
            -- The lot's units, each with where it is now, as gmp_meta.lot_whereabouts keeps them
            -- (V0044): one row a lot. Built here, per lot an index scan, a sort and a text per
            -- unit parsed again as json, they were ~1.5 ms of the worst lot's ~6 ms first call.
            LEFT JOIN gmp_meta.lot_whereabouts w ON w.din = l.din), '[]'::json)) INTO doc
    FROM gmp_rules.material_lot_documents(trace_material_json.material_lot_id) p;
    IF NOT FOUND THEN
        PERFORM gmp_rules.require_material_lot(trace_material_json.material_lot_id);  -- the refusal of an unknown lot
    END IF;
    RETURN doc;
END;
$$;

-- The material trace as jsonb, for SQL (jsonb operators, comparisons): the document of
-- gmp.trace_material_json, its one home.
CREATE OR REPLACE FUNCTION gmp.trace_material(material_lot_id text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT gmp.trace_material_json(material_lot_id)::jsonb
$$;
