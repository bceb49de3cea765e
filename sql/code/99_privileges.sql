-- privileges: who may call each routine and read each view, and who owns the SECURITY
-- DEFINER functions.
--
-- The one home of routine and view privileges. Exact, not additive: every privilege on
-- gmp's routines and views is first taken from PUBLIC and from every gmp role, then given
-- as listed here, so nothing granted by hand survives the next migration unseen. The owner
-- keeps its own rights: the role that migrates, or gmp_definer for the SECURITY DEFINER
-- functions (end of this file). Applied last, after every routine exists.
-- Table privileges stay with the tables, in the numbered migrations.

-- Not from gmp_definer here: on a database migrated before, the audit trail's own
-- definers (gmp_audit.append, owned by gmp_definer) run for this very statement, through
-- the DDL event trigger, and would lose gmp_audit.event_hash; gmp_definer gets EXECUTE on
-- all of them below and loses the superuser-only ones after, the same end state.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA gmp, gmp_rules, gmp_audit, gmp_meta FROM PUBLIC, gmp_person, gmp_operator, gmp_qc, gmp_qa, gmp_director, gmp_admin, gmp_auditor;
REVOKE ALL ON gmp.account_overview, gmp.signature_status, gmp.eligibility, gmp.lot_overview, gmp.qc_result_status, gmp.disposition_record, gmp.pending_transfer, gmp.custody_holding, gmp.excursion_unit, gmp.excursion_overview, gmp.reading_import_overview, gmp.pending_role, gmp.equipment_overview, gmp.queue_qc_to_verify, gmp.queue_lot_to_release, gmp.queue_open_deviation, gmp.queue_open_excursion, gmp.queue_expiring_lot, gmp.queue_expiring_material, gmp.queue_material_quarantine, gmp.master_record_overview, gmp_audit.unrecorded_signing_failure FROM PUBLIC, gmp_person, gmp_operator, gmp_qc, gmp_qa, gmp_director, gmp_admin, gmp_auditor;

GRANT EXECUTE ON FUNCTION
    gmp_audit.machinery_problems(),
    gmp_audit.audit_implementation(),
    gmp_audit.audit_triggers_bound_to(oid),
    gmp_audit.record_failed_logins(),
    gmp_audit.login_watch_problems(),
    gmp_audit.chain_pending(integer,boolean),
    gmp_audit.chain_if_due(integer),
    gmp_audit.chain_due(),
    gmp.code_in_force(timestamp with time zone),
    gmp.code_history(text),
    gmp.begin_signing(),
    gmp.submit_signing_proof(uuid,bytea),
    gmp.authenticate_signer(uuid),
    gmp.authenticate_signer(uuid,bytea),
    gmp_rules.signature_intact(bigint),
    gmp_rules.master_superseded_by(gmp.master_record),
    gmp_rules.parameter_limit_text(gmp.master_parameter),
    gmp.change_password(uuid,text),
    gmp.eligibility_problems(text,text),
    gmp.trace_lot(text),
    gmp.lot_show(text),
    gmp.trace_donor(text),
    gmp_rules.criterion_verdict(gmp.criterion,text,numeric,text[],numeric,boolean),
    gmp_rules.limit_text(gmp.criterion,numeric,boolean),
    gmp.release_check(text),
    gmp.certificate_of_analysis(text),
    gmp.rejection_record(text),
    gmp_rules.position_label(integer,integer),
    gmp.custody_history(text),
    gmp.storage_occupancy(text),
    gmp_rules.open_excursions_of_unit(text),
    gmp.readings_accepted_until(),
    gmp.receive_shipment(uuid,text,timestamp with time zone,text),
    gmp.shipment_document(text),
    gmp.material_document(text),
    gmp.material_lots(boolean),
    gmp.trace_material(text),
    gmp.trace_material_json(text),
    gmp.equipment_document(text),
    gmp.equipment_service_document(bigint),
    gmp_rules.equipment_unusable(gmp.equipment,timestamp with time zone),
    gmp_rules.equipment_status_at(gmp.equipment,timestamp with time zone),
    gmp.recall_document(text),
    gmp.recall_list(),
    gmp.recall_lookback(text),
    gmp.work_queue(integer),
    gmp.record_training(uuid,text,text,integer,timestamp with time zone,text),
    gmp.acknowledge_training(uuid,bigint,text),
    gmp.name_procedure(text),
    gmp.training_matrix(timestamp with time zone),
    gmp_rules.qualification(text,text,timestamp with time zone),
    gmp_rules.qualified_on(text,text,timestamp with time zone),
    gmp_rules.procedure_in_force(text,timestamp with time zone),
    gmp.batch_record(text),
    gmp_meta.write_commit_receipt(uuid)
TO gmp_person;

GRANT EXECUTE ON FUNCTION
    gmp.register_donor(text,boolean,text,text,text,date,text,text),
    gmp.record_consent(text,date,text,text),
    gmp.withdraw_consent(text,date,text),
    gmp.collect_tissue(text,text,text,timestamp with time zone,text,numeric,text,text),
    gmp.receive_tissue(text,timestamp with time zone,text,text),
    gmp.create_lot(text,text,text,text,text,date),
    gmp.create_lot(text,text,text,text,text,date,text),
    gmp.record_step(text,text,timestamp with time zone,numeric,numeric,numeric,integer,numeric,text),
    gmp.record_step_parameter(text,text,numeric,text),
    gmp.check_step(uuid,bigint,text),
    gmp.open_deviation(text,text,text[]),
    gmp.link_deviation(text,text,text),
    gmp.record_result(text,text,text,numeric,text,text[],text,text,text,timestamp with time zone,text,bigint,text),
    gmp.confirm_result(uuid,bigint,text),
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
    gmp.receive_material(text,text,text,text,numeric,text,timestamp with time zone,text,date,integer,text,text),
    gmp.open_material(text,timestamp with time zone),
    gmp.record_consumption(text,numeric,text,bigint,bigint),
    gmp.register_equipment(text,text,text,text,integer,integer),
    gmp.take_equipment_out_of_service(uuid,text,text),
    gmp.record_equipment_service(uuid,text,text,timestamp with time zone,timestamp with time zone,text,text,text,text),
    gmp.record_equipment_use(text,bigint,bigint),
    gmp.record_label_print(text,integer,text[],text,text,text,text)
TO gmp_operator;

GRANT EXECUTE ON FUNCTION
    gmp.record_screening_result(text,text,text,text,date),
    gmp.import_specification(jsonb,text),
    gmp.import_master_record(jsonb,text),
    gmp.assign_specification(text,text,numeric,boolean),
    gmp.assign_specification(uuid,text,text,numeric,boolean,text),
    gmp.open_deviation(text,text,text[]),
    gmp.link_deviation(text,text,text),
    gmp.record_result(text,text,text,numeric,text,text[],text,text,text,timestamp with time zone,text,bigint,text),
    gmp.confirm_result(uuid,bigint,text),
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
    gmp.receive_material(text,text,text,text,numeric,text,timestamp with time zone,text,date,integer,text,text),
    gmp.open_material(text,timestamp with time zone),
    gmp.record_consumption(text,numeric,text,bigint,bigint),
    gmp.register_equipment(text,text,text,text,integer,integer),
    gmp.take_equipment_out_of_service(uuid,text,text),
    gmp.record_equipment_service(uuid,text,text,timestamp with time zone,timestamp with time zone,text,text,text,text),
    gmp.record_equipment_use(text,bigint,bigint),
    gmp.record_label_print(text,integer,text[],text,text,text,text)
TO gmp_qc;

GRANT EXECUTE ON FUNCTION
    gmp.sign_audit_review(uuid,bigint,text),
    gmp.record_checkpoint(bigint,bytea,text),
    gmp.hold_lot(text,text),
    gmp.unhold_lot(text,text),
    gmp.reject_lot(uuid,text,text),
    gmp.import_specification(jsonb,text),
    gmp.approve_specification(uuid,text,text),
    gmp.import_master_record(jsonb,text),
    gmp.approve_master_record(uuid,text,text),
    gmp.check_step(uuid,bigint,text),
    gmp.assign_specification(text,text,numeric,boolean),
    gmp.assign_specification(uuid,text,text,numeric,boolean,text),
    gmp.open_deviation(text,text,text[]),
    gmp.link_deviation(text,text,text),
    gmp.close_deviation(uuid,text,text),
    gmp.verify_result(uuid,bigint,text),
    gmp.confirm_result(uuid,bigint,text),
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
    gmp.void_readings_import(uuid,bigint,text),
    gmp.create_shipment(text,text,text,text,text,text,text),
    gmp.pack_shipment(text,text[]),
    gmp.dispatch_shipment(uuid,text,text,text),
    gmp.confirm_identity(uuid,text,text),
    gmp.add_material_type(text,text,text,text),
    gmp.release_material(uuid,text,text),
    gmp.reject_material(uuid,text,text),
    gmp.register_equipment(text,text,text,text,integer,integer),
    gmp.take_equipment_out_of_service(uuid,text,text),
    gmp.return_equipment_to_service(uuid,text,text),
    gmp.record_equipment_service(uuid,text,text,timestamp with time zone,timestamp with time zone,text,text,text,text),
    gmp.open_recall(uuid,text,text,bigint,text),
    gmp.notify_recall(text,text,text,text,timestamp with time zone,text),
    gmp.acknowledge_recall(text,text,text,timestamp with time zone,text[],text[],text[],text),
    gmp.dispose_recall_unit(text,text,text,text),
    gmp.close_recall(uuid,text,text),
    gmp.record_label_print(text,integer,text[],text,text,text,text),
    gmp.register_procedure(uuid,text,text,date,integer,text[],text[]),
    gmp.revise_procedure(uuid,text,text,date,integer,text[],text[]),
    gmp.review_batch_record(uuid,text,text,text)
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
    gmp.create_shipment(text,text,text,text,text,text,text),
    gmp.confirm_identity(uuid,text,text)
TO gmp_director;

GRANT EXECUTE ON FUNCTION
    gmp.add_account(text,text,text,text[],text),
    gmp.grant_role(text,text,text),
    gmp.revoke_role(text,text,text),
    gmp.disable_account(text,text),
    gmp.enable_account(text,text),
    gmp.reset_password(text,text,text),
    gmp.approve_role(text,text,text),
    gmp.decline_role(text,text,text),
    gmp.configure_facility(text,integer,numeric,text),
    gmp.add_location(text,text,text,text,numeric,text[],integer,integer)
TO gmp_admin;

GRANT SELECT ON gmp.account_overview, gmp.signature_status, gmp.eligibility, gmp.lot_overview, gmp.qc_result_status, gmp.disposition_record, gmp.pending_transfer, gmp.custody_holding, gmp.excursion_unit, gmp.excursion_overview, gmp.reading_import_overview, gmp.pending_role, gmp.equipment_overview, gmp.queue_qc_to_verify, gmp.queue_lot_to_release, gmp.queue_open_deviation, gmp.queue_open_excursion, gmp.queue_expiring_lot, gmp.queue_expiring_material, gmp.queue_material_quarantine, gmp.master_record_overview TO gmp_person;
GRANT SELECT ON gmp_audit.unrecorded_signing_failure TO gmp_admin, gmp_qa, gmp_director, gmp_auditor;

-- The owner of the SECURITY DEFINER functions (issue 20): gmp_definer (V0023), no
-- superuser, calls every gmp routine but those that stay the superuser's (below), and
-- the one of those a function it owns must call: authenticate_signer records wrong
-- signing passwords, and the lock at five is an ALTER ROLE.
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA gmp, gmp_rules, gmp_audit, gmp_meta TO gmp_definer;

-- SECURITY DEFINER functions that stay the superuser's, each with its reason: each needs
-- a power no narrower role can hold. In PostgreSQL 15, CREATEROLE lets its holder grant
-- itself any non-superuser role, pg_execute_server_program and pg_read_server_files
-- among them: an owner able to create or alter roles would be a superuser in all but
-- name. So role and password changes stay with the superuser, as do the event triggers'
-- functions and the reading of the server's log files. Everything else is gmp_definer's.
-- Tests/GMPRecordsIntegrationTests/DefinerOwnerTests.swift holds the same list: a new
-- superuser definer must be added to both, with its reason.
CREATE OR REPLACE FUNCTION gmp_meta.superuser_definers(OUT routine text, OUT reason text) RETURNS SETOF record
LANGUAGE sql IMMUTABLE AS $$
    VALUES
        ('gmp_audit.record_ddl()', 'an event trigger''s function'),
        ('gmp_audit.guard_drop()', 'an event trigger''s function'),
        ('gmp.add_account(text,text,text,text[],text)', 'CREATE ROLE and GRANT of a role group'),
        ('gmp.grant_role(text,text,text)', 'GRANT of a role group'),
        ('gmp.revoke_role(text,text,text)', 'REVOKE of a role group'),
        ('gmp.approve_role(text,text,text)', 'GRANT of a role group, through give_role'),
        ('gmp_rules.give_role(text,text,gmp.role_proposal,text)', 'GRANT of a role group'),
        ('gmp_rules.propose_role(text,text,text)', 'the database owner''s grant takes effect at once, through give_role'),
        ('gmp.disable_account(text,text)', 'ALTER ROLE … NOLOGIN, and ends the account''s sessions'),
        ('gmp.enable_account(text,text)', 'ALTER ROLE … LOGIN'),
        ('gmp.reset_password(text,text,text)', 'sets a password (ALTER ROLE … PASSWORD)'),
        ('gmp.change_password(uuid,text)', 'sets a password (ALTER ROLE … PASSWORD)'),
        ('gmp_rules.set_password(text,text,boolean)', 'ALTER ROLE … PASSWORD'),
        ('gmp_rules.record_signing_failures(gmp.account,uuid)', 'ALTER ROLE … NOLOGIN at the fifth wrong signing password'),
        ('gmp_audit.record_failed_logins()', 'reads the server''s log files; ALTER ROLE … NOLOGIN at the fifth failed login')
$$;

REVOKE EXECUTE ON FUNCTION
    gmp_audit.record_ddl(), gmp_audit.guard_drop(),
    gmp.add_account(text,text,text,text[],text), gmp.grant_role(text,text,text), gmp.revoke_role(text,text,text),
    gmp.approve_role(text,text,text), gmp_rules.give_role(text,text,gmp.role_proposal,text),
    gmp_rules.propose_role(text,text,text),
    gmp.disable_account(text,text), gmp.enable_account(text,text), gmp.reset_password(text,text,text),
    gmp.change_password(uuid,text), gmp_rules.set_password(text,text,boolean), gmp_audit.record_failed_logins(),
    gmp_audit.read_failed_logins()
FROM gmp_definer;

-- Gives gmp_definer every SECURITY DEFINER function of gmp's schemas not listed above.
-- Run at the end of this file, and by gmp db migrate after any code file, so that a
-- definer a changed file creates is never left with the superuser. Returns how many moved.
CREATE OR REPLACE FUNCTION gmp_meta.give_definers_their_owner() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    routine regprocedure;
    moved integer := 0;
BEGIN
    FOR routine IN
        SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('gmp', 'gmp_rules', 'gmp_audit', 'gmp_meta', 'gmp_private') AND p.prosecdef
          AND p.proowner <> 'gmp_definer'::regrole
          AND p.oid::regprocedure::text NOT IN (SELECT s.routine FROM gmp_meta.superuser_definers() s)
        ORDER BY 1
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO gmp_definer', routine);
        moved := moved + 1;
    END LOOP;
    RETURN moved;
END;
$$;

SELECT gmp_meta.give_definers_their_owner();
