-- privileges: who may call each routine and read each view.
--
-- The one home of routine and view privileges. Exact, not additive: every privilege on
-- gmp's routines and views is first taken from PUBLIC and from every gmp role, then given
-- as listed here, so nothing granted by hand survives the next migration unseen. The owner
-- (the role that migrates) keeps its own rights. Applied last, after every routine exists.
-- Table privileges stay with the tables, in the numbered migrations.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA gmp, gmp_rules, gmp_audit, gmp_meta FROM PUBLIC, gmp_person, gmp_operator, gmp_qc, gmp_qa, gmp_director, gmp_admin, gmp_auditor;
REVOKE ALL ON gmp.account_overview, gmp.signature_status, gmp.eligibility, gmp.lot_overview, gmp.qc_result_status, gmp.disposition_record, gmp.pending_transfer, gmp.custody_holding, gmp.excursion_unit, gmp.excursion_overview, gmp_audit.unrecorded_signing_failure FROM PUBLIC, gmp_person, gmp_operator, gmp_qc, gmp_qa, gmp_director, gmp_admin, gmp_auditor;

GRANT EXECUTE ON FUNCTION
    gmp_audit.machinery_problems(),
    gmp.code_in_force(timestamp with time zone),
    gmp.code_history(text),
    gmp.begin_signing(),
    gmp.submit_signing_proof(uuid,bytea),
    gmp.authenticate_signer(uuid),
    gmp.authenticate_signer(uuid,bytea),
    gmp_rules.signature_intact(bigint),
    gmp.change_password(uuid,text),
    gmp.eligibility_problems(text,text),
    gmp.trace_lot(text),
    gmp.trace_donor(text),
    gmp_rules.criterion_verdict(gmp.criterion,text,numeric,text[],numeric,boolean),
    gmp_rules.limit_text(gmp.criterion,numeric,boolean),
    gmp.release_check(text),
    gmp.certificate_of_analysis(text),
    gmp_rules.position_label(integer,integer),
    gmp.custody_history(text),
    gmp.storage_occupancy(text),
    gmp_rules.open_excursions_of_unit(text),
    gmp.receive_shipment(uuid,text,timestamp with time zone,text),
    gmp.shipment_document(text),
    gmp.material_document(text),
    gmp.trace_material(text)
TO gmp_person;

GRANT EXECUTE ON FUNCTION
    gmp.register_donor(text,boolean,text,text,text,date,text,text),
    gmp.record_consent(text,date,text,text),
    gmp.withdraw_consent(text,date,text),
    gmp.collect_tissue(text,text,text,timestamp with time zone,text,numeric,text,text),
    gmp.receive_tissue(text,timestamp with time zone,text,text),
    gmp.create_lot(text,text,text,text,text,date),
    gmp.record_step(text,text,timestamp with time zone,numeric,numeric,numeric,integer,numeric,text),
    gmp.open_deviation(text,text,text[]),
    gmp.link_deviation(text,text,text),
    gmp.record_result(text,text,text,numeric,text,text[],text,text,text,timestamp with time zone,text,bigint,text),
    gmp.add_location(text,text,text,text,numeric,text[],integer,integer),
    gmp.place_unit(text,text,integer,integer,text),
    gmp.move_unit(text,text,integer,integer,text),
    gmp.withdraw_unit(text,text),
    gmp.thaw_unit(text,text),
    gmp.discard_unit(text,text),
    gmp.hand_over(uuid,text[],text,text),
    gmp.receive_transfer(uuid,bigint,timestamp with time zone,text),
    gmp.begin_readings_import(text,text,bigint,timestamp with time zone,timestamp with time zone),
    gmp.create_shipment(text,text,text,text,text,text,text),
    gmp.pack_shipment(text,text[]),
    gmp.dispatch_shipment(uuid,text,text,text),
    gmp.add_material_type(text,text,text,text),
    gmp.receive_material(text,text,text,numeric,text,timestamp with time zone,text,date,integer,text,text),
    gmp.open_material(text,timestamp with time zone),
    gmp.record_consumption(text,numeric,text,bigint,bigint)
TO gmp_operator;

GRANT EXECUTE ON FUNCTION
    gmp.record_screening_result(text,text,text,text,date),
    gmp.import_specification(jsonb,text),
    gmp.assign_specification(text,text,numeric,boolean),
    gmp.open_deviation(text,text,text[]),
    gmp.link_deviation(text,text,text),
    gmp.record_result(text,text,text,numeric,text,text[],text,text,text,timestamp with time zone,text,bigint,text),
    gmp.verify_result(uuid,bigint,text),
    gmp.place_unit(text,text,integer,integer,text),
    gmp.move_unit(text,text,integer,integer,text),
    gmp.withdraw_unit(text,text),
    gmp.thaw_unit(text,text),
    gmp.discard_unit(text,text),
    gmp.hand_over(uuid,text[],text,text),
    gmp.receive_transfer(uuid,bigint,timestamp with time zone,text),
    gmp.begin_readings_import(text,text,bigint,timestamp with time zone,timestamp with time zone),
    gmp.pack_shipment(text,text[]),
    gmp.dispatch_shipment(uuid,text,text,text),
    gmp.add_material_type(text,text,text,text),
    gmp.receive_material(text,text,text,numeric,text,timestamp with time zone,text,date,integer,text,text),
    gmp.open_material(text,timestamp with time zone),
    gmp.record_consumption(text,numeric,text,bigint,bigint)
TO gmp_qc;

GRANT EXECUTE ON FUNCTION
    gmp.sign_audit_review(uuid,bigint,text),
    gmp.record_checkpoint(bigint,bytea,text),
    gmp.hold_lot(text,text),
    gmp.unhold_lot(text,text),
    gmp.reject_lot(uuid,text,text),
    gmp.import_specification(jsonb,text),
    gmp.approve_specification(uuid,text,text),
    gmp.assign_specification(text,text,numeric,boolean),
    gmp.open_deviation(text,text,text[]),
    gmp.link_deviation(text,text,text),
    gmp.close_deviation(uuid,text,text),
    gmp.verify_result(uuid,bigint,text),
    gmp.invalidate_result(uuid,bigint,text),
    gmp.release_lot(uuid,text,text,text),
    gmp.hold_for_disposition(uuid,text,text),
    gmp.place_unit(text,text,integer,integer,text),
    gmp.move_unit(text,text,integer,integer,text),
    gmp.withdraw_unit(text,text),
    gmp.thaw_unit(text,text),
    gmp.discard_unit(text,text),
    gmp.hand_over(uuid,text[],text,text),
    gmp.receive_transfer(uuid,bigint,timestamp with time zone,text),
    gmp.assess_excursion(uuid,text,text),
    gmp.create_shipment(text,text,text,text,text,text,text),
    gmp.pack_shipment(text,text[]),
    gmp.dispatch_shipment(uuid,text,text,text),
    gmp.add_material_type(text,text,text,text),
    gmp.release_material(uuid,text,text),
    gmp.reject_material(uuid,text,text)
TO gmp_qa;

GRANT EXECUTE ON FUNCTION
    gmp.sign_audit_review(uuid,bigint,text),
    gmp.register_donor(text,boolean,text,text,text,date,text,text),
    gmp.record_consent(text,date,text,text),
    gmp.withdraw_consent(text,date,text),
    gmp.determine_eligibility(uuid,text,text,text,text),
    gmp.open_deviation(text,text,text[]),
    gmp.link_deviation(text,text,text),
    gmp.release_exceptionally(uuid,text,text,text,text,text,text,text),
    gmp.create_shipment(text,text,text,text,text,text,text)
TO gmp_director;

GRANT EXECUTE ON FUNCTION
    gmp.add_account(text,text,text,text[],text),
    gmp.grant_role(text,text,text),
    gmp.revoke_role(text,text,text),
    gmp.disable_account(text,text),
    gmp.enable_account(text,text),
    gmp.reset_password(text,text,text),
    gmp.configure_facility(text,integer,numeric,text),
    gmp.add_location(text,text,text,text,numeric,text[],integer,integer)
TO gmp_admin;

GRANT SELECT ON gmp.account_overview, gmp.signature_status, gmp.eligibility, gmp.lot_overview, gmp.qc_result_status, gmp.disposition_record, gmp.pending_transfer, gmp.custody_holding, gmp.excursion_unit, gmp.excursion_overview TO gmp_person;
GRANT SELECT ON gmp_audit.unrecorded_signing_failure TO gmp_admin, gmp_qa, gmp_director, gmp_auditor;
