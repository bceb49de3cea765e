-- labels: every printed label (a lot's or one unit's) recorded with the ISBT 128 data
-- structures its bar codes carry; a reprint needs its reason (issue 16).
--
-- The one home of the current definition of each routine below (docs/migrations.md):
-- gmp db migrate applies this file, after the numbered migrations, whenever it changes,
-- and the database keeps the source of every version in force (gmp db code).

-- Records one printed label and returns {id, reprint, previous_prints}. The client builds
-- the data structures (GMPRules' ISBT128); the database checks that they name this lot,
-- that the DIN's flag characters are its check character (type 2 flags: 60 + value), that
-- a unit's division exists (it was filled), and that a reprint gives a reason.
CREATE OR REPLACE FUNCTION gmp.record_label_print(din text, division integer, formats text[], din_data text,
                                                  product_data text, expiry_data text, reason text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    l        gmp.lot := gmp_rules.require_lot(din);
    filled   integer;
    previous integer;
    given    text := nullif(btrim(reason), '');
    row_id   bigint;
BEGIN
    PERFORM gmp_rules.active_person();
    IF din_data IS DISTINCT FROM '=' || l.din
            || (60 + strpos('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*', l.check_character) - 1)::text THEN
        RAISE EXCEPTION 'the label''s DIN data structure % is not lot %''s with its flag characters', din_data, l.din
            USING ERRCODE = 'GM002', HINT = 'print labels with gmp label print, which builds the data structures from the record';
    END IF;
    IF division IS NOT NULL THEN
        SELECT s.units INTO filled FROM gmp.manufacturing_step s WHERE s.din = l.din AND s.kind = 'fill';
        IF filled IS NULL THEN
            RAISE EXCEPTION 'lot % has no fill step, so it has no units to label', l.din USING ERRCODE = 'GM003',
                HINT = 'record the fill (gmp lot step LOT fill) first, or print the lot''s label';
        END IF;
        IF division > filled THEN
            RAISE EXCEPTION 'lot % was filled into % units; there is no unit %', l.din, filled, division
                USING ERRCODE = 'GM001', HINT = 'gmp lot show LOT shows the units filled';
        END IF;
    END IF;
    -- Serialise prints of one lot on its row, so two people printing at once cannot both
    -- count as the first print.
    PERFORM 1 FROM gmp.lot x WHERE x.din = l.din FOR NO KEY UPDATE;
    SELECT count(*) INTO previous FROM gmp.label_print p
     WHERE p.din = l.din AND p.division IS NOT DISTINCT FROM record_label_print.division;
    IF previous > 0 AND given IS NULL THEN
        RAISE EXCEPTION 'the label of % was printed % time(s) before: a reprint needs its reason',
            l.din || coalesce('-' || lpad(division::text, 3, '0'), ''), previous USING ERRCODE = 'GM008',
            HINT = 'give the reason: --reason "label damaged" (the earlier label must be destroyed)';
    END IF;
    PERFORM set_config('gmp.reason', coalesce(given, 'label printed'), true);
    INSERT INTO gmp.label_print (din, division, formats, din_data, product_data, expiry_data, reprint, reason)
    VALUES (l.din, division, formats, din_data, product_data, expiry_data, previous > 0, given)
    RETURNING id INTO row_id;
    RETURN jsonb_build_object('id', row_id, 'reprint', previous > 0, 'previous_prints', previous);
END;
$$;
