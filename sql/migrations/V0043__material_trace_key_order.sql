-- V0043 the material's document and consumptions as json (issue 14).
--
-- gmp_rules.material_lot_documents(text) returns its two documents as json, written
-- with their keys in the byte order gmp writes them, instead of jsonb (whose keys come
-- out shortest first, so gmp put each of those objects of the trace back in order, and
-- the trace wrote the jsonb out as text again; sql/code/16_materials.sql says more). A
-- function's result type cannot be replaced, so it goes and the code file defines it
-- again after this migration. IF EXISTS: on a fresh install the code files have not
-- defined it yet.

DROP FUNCTION IF EXISTS gmp_rules.material_lot_documents(text);
