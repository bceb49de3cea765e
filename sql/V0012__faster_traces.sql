-- V0012 traces and lookups that stay fast at 100,000 lots (docs/benchmarks.md,
-- "Traceability").
--
--   * gmp_meta.record_content compared `key_column::text = $1`, which no index serves:
--     checking one signature read the whole signed table. It now compares in the key
--     column's own type (so the primary key is used) and keeps the text comparison as
--     well, so exactly the same rows match and every content hash stays the same.
--   * gmp.lot_overview joined the DISTINCT ON view gmp.eligibility, which cannot be
--     filtered by the join key: every lot report sorted every determination. It now
--     takes each lot's determination in force by a LATERAL lookup on the
--     (collection_id, id DESC) index.
--   * gmp.create_lot numbered a new lot over `din LIKE prefix || '%'`, not an index
--     condition under the C.UTF-8 collation; it now reads max(din) over a range.

CREATE OR REPLACE FUNCTION gmp_meta.record_content(record_table text, record_key text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET IntervalStyle = 'postgres' AS $$
DECLARE
    target   regclass := to_regclass(record_table);
    key_col  text;
    key_type text;
    content  jsonb;
BEGIN
    IF target IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT convert_from(substring(t.tgargs FROM 1 FOR position('\x00'::bytea IN t.tgargs) - 1), 'UTF8')
    INTO key_col FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'audit';
    IF key_col IS NULL THEN
        SELECT a.attname INTO key_col
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = target AND i.indisprimary AND i.indnkeyatts = 1;
    END IF;
    SELECT format_type(a.atttypid, a.atttypmod) INTO key_type
    FROM pg_attribute a WHERE a.attrelid = target AND a.attname = key_col AND NOT a.attisdropped;
    BEGIN
        EXECUTE format('SELECT jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text) FROM %s t '
                       'WHERE t.%I = $1::%s AND t.%I::text = $1', target, key_col, key_type, key_col)
        INTO content USING record_key;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range OR invalid_datetime_format
                   OR datetime_field_overflow THEN
        -- A key that is not even a value of the column's type names no record.
        RETURN NULL;
    END;
    RETURN content;
END;
$$;

-- Same columns as V0010's view; only how the determination in force is found changed.
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

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp, gmp_meta, gmp_audit FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gmp.create_lot(text, text, text, text, text, date) TO gmp_operator;
