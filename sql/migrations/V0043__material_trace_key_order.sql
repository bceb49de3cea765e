-- V0043 the material trace written with its keys in byte order (issue 14).
--
-- gmp_rules.material_lot_documents(text) returns its two documents as json, written
-- with their keys in the byte order gmp writes them, instead of jsonb (whose keys come
-- out shortest first, so gmp put every object of the trace back in order); a function's
-- result type cannot be replaced, so it goes and the code file defines it again. A
-- unit's whereabouts beyond a person's hands are written by one function,
-- gmp_rules.unit_whereabouts_json, in that order, instead of the box's and the
-- shipment's keys by two (sql/code/16_materials.sql says why). IF EXISTS: on a fresh
-- install the code files have not defined them yet.

DROP FUNCTION IF EXISTS gmp_rules.material_lot_documents(text);
DROP FUNCTION IF EXISTS gmp_rules.unit_box_keys(text, integer, integer);
DROP FUNCTION IF EXISTS gmp_rules.unit_shipment_keys(text);
