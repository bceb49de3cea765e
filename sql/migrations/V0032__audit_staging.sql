-- V0032 audit staging: audited writes no longer hold a single hot row (issue 19).
--
--   * gmp_audit.pending_event: an audited write stages its event here, numbered by the
--     sequence gmp_audit.write_order, and touches no shared row, so writers on different
--     records never conflict on the trail and a bulk write costs the same per row.
--   * gmp_audit.chain_pending() (sql/code/01_audit.sql) moves committed pending events,
--     in write_order, into gmp_audit.event, with the next gap-free seq and a hash in
--     format v2 (docs/audit-trail.md), which covers write_order too. Events written
--     before this migration keep their v1 hashes and have no write_order: the first v2
--     event chains from the last v1 hash.
--   * A pending event cannot be changed, and is deleted only once the chain holds it
--     (the guard trigger and its binding live in 01_audit.sql); no gmp role may write
--     it; those who may read the trail may read it, so that gmp audit verify accounts
--     for what is still pending in its snapshot.

CREATE SEQUENCE gmp_audit.write_order AS bigint MINVALUE 1 NO CYCLE;
COMMENT ON SEQUENCE gmp_audit.write_order IS 'The order audited changes were written in (docs/audit-trail.md, format v2).';

CREATE TABLE gmp_audit.pending_event (
    write_order    bigint      PRIMARY KEY CHECK (write_order > 0),
    occurred_at    timestamptz NOT NULL,
    transaction_id bigint      NOT NULL,
    actor          text        NOT NULL,
    action         text        NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE', 'DDL')),
    table_name     text        NOT NULL,
    record_key     text,
    old_values     jsonb,
    new_values     jsonb,
    reason         text
);
COMMENT ON TABLE gmp_audit.pending_event IS 'Audit events written but not yet chained (docs/audit-trail.md, "stage, then chain").';

-- A v2 event names its write order (NULL for the v1 events written before V0029).
ALTER TABLE gmp_audit.event ADD COLUMN write_order bigint CHECK (write_order > 0);
CREATE UNIQUE INDEX event_write_order ON gmp_audit.event (write_order);

REVOKE ALL ON gmp_audit.pending_event FROM PUBLIC;
REVOKE ALL ON SEQUENCE gmp_audit.write_order FROM PUBLIC;
-- The definer functions stage (append), chain and delete what they chained (chain_pending).
GRANT SELECT, INSERT, DELETE ON gmp_audit.pending_event TO gmp_definer;
GRANT USAGE, SELECT ON SEQUENCE gmp_audit.write_order TO gmp_definer;
-- Whoever may read the trail may read what is still to be chained.
GRANT SELECT ON gmp_audit.pending_event TO gmp_qa, gmp_director, gmp_auditor;
-- Not even the definer may rewrite a staged event (the guard refuses it for everyone too).
REVOKE UPDATE, TRUNCATE ON gmp_audit.pending_event FROM gmp_definer;
