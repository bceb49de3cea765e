-- V0020 rules schema: the rules apart from the ledger.
--
-- gmp_meta was documented as the schema ledger and installation facts, yet held some 90
-- rule functions. From here on each schema says what it holds:
--   gmp         the GMP records and the functions people call (donors … shipping)
--   gmp_rules   the rules behind them: guards and checks fired by triggers, evaluations,
--               blockers, helpers; their homes are sql/code/ (docs/routines.md)
--   gmp_audit   the audit trail, its hashing, the code record and security events
--   gmp_meta    the schema ledger, the code ledger, installation facts, reference
--               vocabularies (units, outcomes, lot transitions) and the append-only guard
--   gmp_private personal data kept apart (21 CFR 1271.55)
--
-- Moving a function keeps its oid, so triggers, views, grants and the code record follow
-- it; the code files, applied in this same transaction, then name it in its new schema.

CREATE SCHEMA gmp_rules;
COMMENT ON SCHEMA gmp_rules IS 'The rules behind gmp''s functions: guards, checks, evaluations and helpers (sql/code/).';
COMMENT ON SCHEMA gmp_meta IS 'Schema ledger, code ledger, installation facts and reference vocabularies; maintained by gmp db migrate.';
-- As in gmp_meta: anyone may look up names here; EXECUTE is granted per function.
GRANT USAGE ON SCHEMA gmp_rules TO PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA gmp_rules REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

ALTER FUNCTION gmp_meta.account_for_change(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.active_person() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.apply_custody_event() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.barring_problems(jsonb,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.blockers_of(text,jsonb) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_criterion() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_custody_event() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_custody_receipt() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_determination() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_deviation_link() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_disposition() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_import_in_time_order() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_import_loaded() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_invalidation() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_lot_specification() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_new_collection() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_new_readings() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_result() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_shipment_signoffs() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_shipping_event() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_status_disposition() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_step() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.check_verification() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.collection_document(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.consume_authentication(uuid) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.content_hash(text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.content_hash(text,text,jsonb) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.create_units(gmp.manufacturing_step) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.criteria_sha256(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.criterion_verdict(gmp.criterion,text,numeric,text[],numeric,boolean) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.custody_document(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.custody_problems(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.decide(uuid,text,text,jsonb,text,text,text,text,text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.donor_document(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.eligibility_problems(text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.give_reason(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.guard_collection_change() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.guard_consent_change() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.guard_deviation() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.guard_excursion() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.guard_lot_change() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.guard_shipment() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.guard_specification() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.guard_storage_location() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.guard_unit() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.hmac_sha256(bytea,bytea) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.is_superuser() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.iso7064_mod37_2(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.limit_text(gmp.criterion,numeric,boolean) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.lock_for_disposition(text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.lock_open_lot(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.lot_document(gmp.lot_overview) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.lot_evaluation(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.open_deviation(text,text,text,text[]) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.open_excursions_of_unit(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.package_sha256(jsonb) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.password_max_age() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.password_min_length() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.password_problems(text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.position_label(integer,integer) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.record_content(text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.record_custody(text,text,text,text,integer,integer,text,text,text,text,text,bigint,text,timestamp with time zone) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.record_security_event(text,text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.record_signature(uuid,text,text,text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.release_blockers(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.release_package(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_administrator() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_collection(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_deviation(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_donor(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_excursion(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_in_hand(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_location(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_lot(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_password_rules(text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_reason(text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_result(bigint) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_shipment(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_specification(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.require_unit(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.role_group(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.scram_verifier(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.set_lot_status(text,text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.set_password(text,text,boolean) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.signature_intact(bigint) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.take_unit(text,text,text,text,text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.temporary_password_max_age() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.tested_person(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.track_excursions(text,numeric,bigint,timestamp with time zone[],numeric[],integer[],timestamp with time zone[]) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.unit_whereabouts(text) SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.units_from_fill() SET SCHEMA gmp_rules;
ALTER FUNCTION gmp_meta.xor_bytes(bytea,bytea) SET SCHEMA gmp_rules;
