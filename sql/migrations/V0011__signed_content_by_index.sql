-- V0011 a signature's content is found through the key column's index.
--
-- gmp_meta.record_content (V0004) compared `key_column::text = $1`, which no index
-- serves: checking one signature read the whole signed table (a trace of one donor
-- read all 10,000 determinations of the benchmark facility, docs/benchmarks.md). It
-- now compares in the key column's own type, so the primary key is used, and keeps
-- the text comparison as well, so exactly the same rows match and every content hash
-- stays the same.

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

REVOKE EXECUTE ON FUNCTION gmp_meta.record_content(text, text) FROM PUBLIC;
