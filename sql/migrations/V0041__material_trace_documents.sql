-- V0041 the material documents keyed by the lot (issue 14).
--
-- gmp_rules.material_lot_document(gmp.material_lot) and
-- gmp_rules.consumption_document(gmp.material_consumption) become one inlinable
-- set-returning function keyed by the material lot's id,
-- gmp_rules.material_lot_documents(text), and the three-argument usability rule takes
-- the lot's columns instead of the row (sql/code/16_materials.sql says why: a fresh
-- backend copied the lot's tuple descriptor, CHECKs and all, for each column read off a
-- composite parameter, and parsed and planned each nested SQL function apart). The old
-- signatures go; the code file defines the new ones after this migration. IF EXISTS: on
-- a fresh install the code files have not defined them yet.

DROP FUNCTION IF EXISTS gmp_rules.material_lot_document(gmp.material_lot);
DROP FUNCTION IF EXISTS gmp_rules.consumption_document(gmp.material_consumption);
DROP FUNCTION IF EXISTS gmp_rules.material_unusable(gmp.material_lot, timestamptz, timestamptz);
