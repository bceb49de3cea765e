-- V0037 material manufacturer: the receipt of a supply or reagent names its manufacturer
-- (21 CFR 1271.210(d)(1): "type, quantity, manufacturer, lot number, date of receipt, and
-- expiration date"; 211.184(a): the prime manufacturer when not the supplier). Issue 14,
-- checked sentence by sentence: gmp.material_lot kept the supplier only, and a
-- distributor is not the manufacturer whose lot number the supplier lot is.
--
--   * gmp.material_lot.manufacturer: required of every receipt from now on, whoever
--     inserts (gmp_rules.guard_material_lot, sql/code/16_materials.sql). Lots received
--     before this migration keep NULL: their manufacturer was not recorded, and nothing
--     may invent it now (the row is never edited; docs/materials.md).
--   * gmp.receive_material takes the manufacturer: its earlier form is dropped here and
--     its new one lives in sql/code/16_materials.sql (docs/migrations.md, "Dropping or
--     renaming a routine"). IF EXISTS: on a fresh install the code files, and so the
--     earlier form, come only after the migrations.

ALTER TABLE gmp.material_lot
    ADD COLUMN manufacturer text
        CONSTRAINT material_lot_manufacturer_text
        CHECK (btrim(manufacturer) <> '' AND length(manufacturer) <= 200 AND manufacturer !~ '[[:cntrl:]]');
COMMENT ON COLUMN gmp.material_lot.manufacturer IS
    'Who made the material (1271.210(d)(1)); required since V0037, NULL on lots received before it.';

DROP FUNCTION IF EXISTS gmp.receive_material(text, text, text, numeric, text, timestamptz, text, date, integer, text, text);
