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

-- A row once written to gmp_meta is history: refuse UPDATE, DELETE and TRUNCATE.
CREATE FUNCTION gmp_meta.refuse_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% of %.% is refused: this table is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'applied migrations are history; correct the schema with a new migration';
END;
$$;

CREATE TRIGGER schema_migrations_append_only
    BEFORE UPDATE OR DELETE ON gmp_meta.schema_migrations
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite();
CREATE TRIGGER schema_migrations_no_truncate
    BEFORE TRUNCATE ON gmp_meta.schema_migrations
    FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();

-- Which installation this is: one row, written once. Reports and (later) exported
-- audit checkpoints name it, so records from two sites are never confused.
CREATE TABLE gmp_meta.installation (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by text        NOT NULL DEFAULT session_user
);
INSERT INTO gmp_meta.installation DEFAULT VALUES;

CREATE TRIGGER installation_append_only
    BEFORE UPDATE OR DELETE ON gmp_meta.installation
    FOR EACH ROW EXECUTE FUNCTION gmp_meta.refuse_rewrite();
CREATE TRIGGER installation_no_truncate
    BEFORE TRUNCATE ON gmp_meta.installation
    FOR EACH STATEMENT EXECUTE FUNCTION gmp_meta.refuse_rewrite();

-- Everyone may read where the schema stands (gmp db status, gmp doctor); only the
-- migrating owner writes.
REVOKE ALL ON ALL TABLES IN SCHEMA gmp_meta FROM PUBLIC;
GRANT USAGE ON SCHEMA gmp_meta TO PUBLIC;
GRANT SELECT ON gmp_meta.schema_migrations, gmp_meta.installation TO PUBLIC;
