-- The tables checked against the audit trail (issue 20, item 12): gmp audit verify now
-- replays every row event and compares every row of every audited table with it, in the
-- client (docs/audit-trail.md, "Reconciliation"). Two things it needs from the data:
--
-- 1. Every row has its event. The ledger's first row (V0001) was written before the
--    audit trail existed (V0002 put the ledger under audit), so no event holds it. It is
--    recorded now, late, with a reason that says so, as the row trigger would have
--    recorded it (whole row as jsonb, TimeZone UTC).
-- 2. Whoever verifies can read what is compared. The reference vocabularies the rules
--    read (lot transitions, step kinds, custody actions) were readable only by their
--    owner; they hold no personal data, so every person may now read them, as the
--    other vocabularies (units, outcomes).

SELECT set_config('TimeZone', 'UTC', true);
SELECT gmp_audit.append('INSERT', 'gmp_meta.schema_migrations', m.version::text, NULL, to_jsonb(m.*),
                        'recorded late: this ledger row was written by V0001, before the audit trail existed')
FROM gmp_meta.schema_migrations m
WHERE NOT EXISTS (SELECT FROM gmp_audit.event e
                  WHERE e.table_name = 'gmp_meta.schema_migrations' AND e.record_key = m.version::text)
ORDER BY m.version;

GRANT SELECT ON gmp_meta.lot_transition, gmp_meta.step_kind, gmp_meta.custody_action TO gmp_person;
