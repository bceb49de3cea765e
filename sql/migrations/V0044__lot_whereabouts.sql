-- V0044 each lot's units as the material trace lists them, kept by the database (issue 14).
--
-- gmp trace material writes every unit of every lot a material lot reached, with where it
-- is now. Built on each call, the units were most of the trace's cost: for the lot that
-- reaches the most (210 lots, 2,450 units) an index scan, a sort and a text per unit of
-- each lot, and the text parsed again as json, ~1.5 ms of a ~6 ms first call in a fresh
-- backend (docs/benchmarks.md). Here each lot's units are kept as that json, one row a
-- lot with units, and the trace reads one row per lot.
--
-- The rows are the rule's, not the writer's: a BEFORE trigger (sql/code/16_materials.sql,
-- gmp_rules.keep_lot_whereabouts) sets `units` from gmp.unit and the unit's box and
-- shipment whatever a statement gives it, so nobody, a superuser included, can store units
-- that are not the lot's; the triggers on gmp.unit and gmp.shipment that bind there write
-- the row of each lot whose units a statement changed. Storage locations never change once
-- recorded (V0016), so a box's path needs none. The code file fills the rows of every lot
-- that has units, and fills them again whenever it changes, so a change to how units are
-- written reaches every row. Not audited: nothing here is a record; every value is
-- derived from audited rows, by the code in force.

CREATE TABLE gmp_meta.lot_whereabouts (
    din   text PRIMARY KEY REFERENCES gmp.lot (din),
    units json NOT NULL
);
COMMENT ON TABLE gmp_meta.lot_whereabouts IS
    'Each lot''s units with where they are now, as gmp trace material lists them; set by gmp_rules.keep_lot_whereabouts from gmp.unit, never by a writer.';

REVOKE ALL ON gmp_meta.lot_whereabouts FROM PUBLIC;
