-- V0019 code record: the source of every routine in force, kept by the database.
--
-- From this version on, each routine (function, trigger function, view) has one home
-- under sql/code/, which gmp db migrate applies whenever it changes; numbered migrations
-- change tables and data only (docs/migrations.md). EU GMP Annex 11 §4 and 21 CFR
-- 11.10(a) ask which logic was in force when a record was made: the database answers
-- from two append-only records of its own.
--   * gmp_meta.code_applied: each application of a code file, with its full text.
--   * The audit trail: every CREATE or ALTER of a routine appends a DDL event whose new
--     values carry the routine's identity, oid and definition as the catalog holds it
--     (sql/code/01_audit.sql, gmp_audit.record_ddl). Hash-chained like every event, so
--     a rewritten definition shows in gmp audit verify. gmp db code reads it.

CREATE TABLE gmp_meta.code_applied (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file           text        NOT NULL CHECK (file ~ '^[0-9]{2}_[a-z0-9_]+\.sql$'),
    checksum       text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    source         text        NOT NULL,
    schema_version integer     NOT NULL CHECK (schema_version > 0),
    applied_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    applied_by     text        NOT NULL DEFAULT session_user,
    CHECK (checksum = encode(sha256(convert_to(source, 'UTF8')), 'hex'))
);
COMMENT ON TABLE gmp_meta.code_applied IS 'Each application of a code file of sql/code/, with its full text (docs/migrations.md).';
CREATE INDEX code_applied_file ON gmp_meta.code_applied (file, id);
SELECT gmp_meta.make_append_only('gmp_meta.code_applied');
SELECT gmp_audit.audit_table('gmp_meta.code_applied', 'file');
GRANT SELECT ON gmp_meta.code_applied TO PUBLIC;

-- Routine versions are looked up by object among the DDL events, a small part of the trail.
CREATE INDEX event_ddl_object ON gmp_audit.event ((coalesce(new_values, old_values) ->> 'oid'), seq)
    WHERE action = 'DDL';
CREATE INDEX event_ddl_time ON gmp_audit.event (occurred_at) WHERE action = 'DDL';

-- The baseline: every routine as it stands before the first code file is applied, so that
-- the bodies of V0001–V0018 stay answerable after their homes change them. Names and types
-- are printed with search_path = pg_catalog, and each object is keyed by catalog and oid,
-- exactly as gmp_audit.catalog_routines (sql/code/01_audit.sql) prints them for the capture.
SELECT set_config('search_path', 'pg_catalog, pg_temp', true);
SELECT gmp_audit.append('DDL', r.routine, 'BASELINE', NULL,
           jsonb_build_object('command', 'BASELINE', 'object_type', r.kind, 'object', r.routine,
                              'oid', r.key, 'routine', r.routine, 'kind', r.kind,
                              'definition', r.definition,
                              'sha256', encode(sha256(convert_to(r.definition, 'UTF8')), 'hex')),
           'code record baseline: routines in force at schema version 18')
FROM (
    SELECT 'pg_proc/' || p.oid AS key, p.oid::regprocedure::text AS routine,
           CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END AS kind,
           pg_get_functiondef(p.oid) AS definition
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ('gmp', 'gmp_audit', 'gmp_meta', 'gmp_private') AND p.prokind IN ('f', 'p')
    UNION ALL
    SELECT 'pg_class/' || c.oid, c.oid::regclass::text, 'view',
           format('CREATE OR REPLACE VIEW %s AS%s%s', c.oid::regclass, chr(10), pg_get_viewdef(c.oid))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('gmp', 'gmp_audit', 'gmp_meta', 'gmp_private') AND c.relkind = 'v'
    ORDER BY 2
) AS r;
