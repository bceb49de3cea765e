-- V0001 foundation: the schemas gmp's records live in, and protection of the ledger.
--
-- gmp_meta  the migration ledger (created by the migrator just before this file) and
--           facts about this installation.
-- gmp       the GMP records themselves (donors, lots, QC, release …), from later files.
--
-- Conventions for every migration (see docs/migrations.md): plain SQL, forward only,
-- never edited once applied; the migrator wraps each file and its ledger row in one
-- transaction, so a file must not contain BEGIN/COMMIT.

CREATE SCHEMA gmp;
COMMENT ON SCHEMA gmp IS 'GMP records: donors, tissue, lots, QC, release, storage, custody.';
COMMENT ON SCHEMA gmp_meta IS 'Schema ledger and installation facts; maintained by gmp db migrate.';

-- Nobody but the owner creates objects in the public schema: an object planted there
-- could shadow a function that gmp's own SQL calls.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- A row once written to an append-only table is history: refuse UPDATE, DELETE and
-- TRUNCATE, naming the table.
CREATE FUNCTION gmp_meta.refuse_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% of %.% is refused: this table is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'this table keeps history: add a new row instead (for the schema, a new migration)';
END;
$$;

-- Makes a table append-only, for every role, the owner included: triggers refuse
-- UPDATE and DELETE of any row and TRUNCATE of the table. Later migrations use it
-- for every table that records history.
CREATE FUNCTION gmp_meta.make_append_only(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite()', target);
    EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite()', target);
END;
$$;
REVOKE EXECUTE ON FUNCTION gmp_meta.make_append_only(regclass) FROM PUBLIC;

SELECT gmp_meta.make_append_only('gmp_meta.schema_migrations');

-- Which installation this is: one row, written once. Reports and (later) exported
-- audit checkpoints name it, so records from two sites are never confused.
CREATE TABLE gmp_meta.installation (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by text        NOT NULL DEFAULT session_user
);
INSERT INTO gmp_meta.installation DEFAULT VALUES;

SELECT gmp_meta.make_append_only('gmp_meta.installation');

-- Everyone may read where the schema stands (gmp db status, gmp doctor); only the
-- migrating owner writes.
REVOKE ALL ON ALL TABLES IN SCHEMA gmp_meta FROM PUBLIC;
GRANT USAGE ON SCHEMA gmp_meta TO PUBLIC;
GRANT SELECT ON gmp_meta.schema_migrations, gmp_meta.installation TO PUBLIC;
