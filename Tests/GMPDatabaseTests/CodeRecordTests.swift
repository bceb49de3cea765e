import Foundation
import Testing
@testable import GMPDatabase
import PostgresClient
import TestSupport

/// The code record: sql/code/ applied over the numbered migrations changes nothing it
/// should not, and the database alone answers which definition was in force when.
@Suite("Code record: upgrade from V0018, code in force at any time, drift detected")
struct CodeRecordTests {
    /// Every routine and view of gmp's schemas: identity → definition and privileges, as
    /// the catalog prints them with search_path = pg_catalog.
    static func catalog(_ connection: PostgresConnection) throws -> [String: String] {
        try connection.execute("SELECT set_config('search_path', 'pg_catalog', false)")
        let rows = try connection.query("""
            SELECT p.oid::regprocedure::text AS routine, pg_get_functiondef(p.oid) AS definition,
                   coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(p.proacl) a), '') AS acl
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname IN ('gmp', 'gmp_rules', 'gmp_audit', 'gmp_meta', 'gmp_private')
            UNION ALL
            SELECT c.oid::regclass::text, pg_get_viewdef(c.oid),
                   coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(c.relacl) a), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('gmp', 'gmp_rules', 'gmp_audit', 'gmp_meta', 'gmp_private') AND c.relkind = 'v'
            """)
        try connection.execute("RESET search_path")
        return Dictionary(uniqueKeysWithValues: try rows.map { row in
            (try row.decode("routine", as: String.self),
             try row.decode("definition", as: String.self) + "\n-- acl: " + (try row.decode("acl", as: String.self)))
        })
    }

    /// Change control: every routine of V0018 whose behaviour has changed since, and why.
    /// Beyond the two changes every routine may show (the refusals' SQLSTATEs and the move
    /// of rule functions to gmp_rules), a V0018 rule changes only when it is declared here,
    /// and a declared one must really differ, so the list stays true.
    static let changedOnPurpose: [String: String] = [
        "gmp_audit.record_ddl()": "#13: captures each routine's definition into the trail",
        "gmp.record_consent(text,date,text,text)": "#19: holds the donor FOR SHARE, ordered with a withdrawal, so gmp donor consent runs at READ COMMITTED",
        "gmp.withdraw_consent(text,date,text)": "#19: locks the donor FOR UPDATE before withdrawing, so a collection in flight is waited for and a later one sees the withdrawal (READ COMMITTED)",
        "gmp_rules.check_determination()": "#19: locks the tested person's donor before reading the results, so a screen in flight is counted (READ COMMITTED)",
        "gmp.determine_eligibility(uuid,text,text,text,text)": "#19: locks the tested person's donor before reading the evidence, so gmp donor determine runs at READ COMMITTED",
        "gmp.receive_tissue(text,timestamp with time zone,text,text)": "#19: locks the collection before reading its receipt, so gmp tissue receive runs at READ COMMITTED",
        "gmp_rules.check_verification()": "#19: the lot is locked before the result is read, and a second verification refused under that lock, so gmp qc verify holds at READ COMMITTED",
        "gmp_rules.check_invalidation()": "#19: the lot is locked before the result is read, and a second invalidation refused under that lock, so gmp qc invalidate holds at READ COMMITTED",
        "gmp_audit.guard_drop()": "#13: a dropped routine names its object, so it leaves the code in force",
        "gmp_audit.machinery_problems()": "#13: unrecorded code is a machinery problem",
        "gmp_rules.check_step()": "#16: the hint names the lot with its check character; #20.10: NaN and ±Infinity refused",
        "gmp_rules.check_result()": "#16: the hint names the lot with its check character; #20.10: NaN and ±Infinity refused",
        "gmp.create_lot(text,text,text,text,text,date)": "#16: the hint names gmp config init, which ships, not the sources' config/gmp.yaml; #19: the parent lot is locked FOR SHARE, so its checks hold at READ COMMITTED",
        "gmp.release_lot(uuid,text,text,text)": "#16: the hint names the lot with its check character",
        "gmp.release_exceptionally(uuid,text,text,text,text,text,text,text)": "#16: the hint names the lot with its check character",
        "gmp.certificate_of_analysis(text)": "#16: the hint names the lot with its check character",
        "gmp_rules.record_content(text,text)": "#20.4: content is read with session settings pinned; the whole row, not a column named t; #19: an audit event from before V0032 is signed without the write order it never had; #15: a step or QC result recorded before the training migration is signed without the procedure_code column it added; #18: an audit event's prev_seq (V0040, a verification hint outside its hash) is never signed, so reviews signed before it stay intact",
        "gmp_rules.content_hash(text,text)": "#20.4: hashing pinned against session settings",
        "gmp_rules.content_hash(text,text,jsonb)": "#20.4: hashing pinned against session settings",
        "gmp_rules.record_signature(uuid,text,text,text,text)": "#20.3/4: signing re-checks the account; settings pinned",
        "gmp_rules.signature_intact(bigint)": "#20.4: a viewer's settings cannot make a signature read broken",
        "gmp.begin_signing()": "#20.3: an expired password or a disabled account starts no ceremony",
        "gmp_rules.require_signing_allowed(text)": "#20.1: wrong entries whose check was rolled back count toward the lock",
        "gmp.authenticate_signer(uuid,bytea)": "#20.1: replaced by submit_signing_proof then authenticate_signer(uuid); refuses, naming them",
        "gmp.account_overview": "#20.1: failed attempts include wrong entries whose check was rolled back; #20.5/6: pending roles and the identity hold",
        "gmp_rules.active_person()": "#20.5: an account whose password an administrator set does no work until a second person confirms its owner",
        "gmp.add_account(text,text,text,text[],text)": "#20.5/6: the new account is held for confirmation; its roles are proposals",
        "gmp.grant_role(text,text,text)": "#20.6: a grant is a proposal a second administrator approves",
        "gmp.revoke_role(text,text,text)": "#20.6: a revocation is a security event (alert)",
        "gmp.reset_password(text,text,text)": "#20.5: a reset holds the account until a second person confirms its owner",
        "gmp_rules.check_disposition()": "#20.6/#20.7: the decider's account and role may not come from someone with a part in the lot, and whoever set the lot's dose does not decide it; "
            + "#15: the package the decider signed shows no barring blocker (the batch record review lapses with the final status, so it is judged as signed)",
        "gmp.enable_account(text,text)": "#20.1: an unlock records the rolled-back wrong entries before resetting the count",
        "gmp_rules.consume_authentication(uuid)": "#20.3: account state checked at the moment of signing",
        "gmp_rules.check_new_collection()": "#20.10: NaN and ±Infinity refused; #19: holds the donor and birth mother FOR SHARE before reading consent, so gmp tissue collect runs at READ COMMITTED",
        "gmp.configure_facility(text,integer,numeric,text)": "#20.10: NaN and ±Infinity refused",
        "gmp_rules.check_criterion()": "#20.10: NaN and ±Infinity refused; #20.7: a K/M criterion needs the permitted range of M",
        "gmp_rules.check_lot_specification()": "#20.10: NaN and ±Infinity refused; #20.7: M only for a K/M limit, within the specification's range",
        "gmp_rules.criterion_verdict(gmp.criterion,text,numeric,text[],numeric,boolean)": "#20.10: NaN and ±Infinity refused",
        "gmp.add_location(text,text,text,text,numeric,text[],integer,integer)": "#20.10: NaN and ±Infinity refused",
        "gmp_rules.check_shipping_event()": "#20.8: dispatch re-checks lot status and the shipper",
        "gmp.import_specification(jsonb,text)": "#20.7 and the advisory-lock finding: a K/M criterion carries the permitted range of M; a row lock per code, which no other role can take; #16: the hint names an example that ships with gmp (gmp docs --spec); "
            + "#13: numbers, checks and inserts the version through gmp_rules.insert_document_version, shared with the master batch record import",
        "gmp.assign_specification(text,text,numeric,boolean)": "#20.7: a dose is set only signed (the six-argument form); this one assigns without a dose",
        "gmp.qc_result_status": "#20.11: the analyst's own confirmation, and whether a result still awaits it; #15: the procedure the result followed",
        "gmp_rules.lot_evaluation(text)": "#20.11: a result recorded in another person's name counts once that analyst confirms it",
        "gmp_rules.check_import_in_time_order()": "#20.9: a reading beyond the server's clock is refused; voided imports do not count; a row lock, not an advisory one",
        "gmp.begin_readings_import(text,text,bigint,timestamp with time zone,timestamp with time zone)": "#20 advisory-lock finding: the device's row lock, which no other role can take",
        "gmp_rules.guard_excursion()": "#20.9: an excursion is voided with the import that opened it, and then never changes",
        "gmp_rules.track_excursions(text,numeric,bigint,timestamp with time zone[],numeric[],integer[],timestamp with time zone[])": "#20.9: a voided excursion is not going on",
        "gmp_rules.check_new_readings()": "#20.9: a voided excursion is not going on",
        "gmp.assess_excursion(uuid,text,text)": "#20.9: a voided excursion is not assessed",
        "gmp_audit.append(text,text,text,jsonb,jsonb,text)": "#19: stages the event (pending_event, write order from a sequence) instead of holding the chain head; chain_pending chains it in commit order, hash format v2",
        "gmp_audit.audit_table(regclass,text)": "#19: binds the row trigger in force, the C twin of gmp_audit_native when the audit triggers run it",
        "gmp_audit.record_change()": "#20.12: bytea_output and extra_float_digits pinned, so rows reconcile with their events byte for byte; #19: stages its event itself, one SECURITY DEFINER call a row instead of two",
        "gmp_rules.blockers_of(text,jsonb)": "#20.11: a reactive result after the determination, and withdrawn consent, block; "
            + "#14: a rejected material lot the lot or its cell banks consumed blocks; "
            + "#17: an open recall that holds the lot blocks; "
            + "#15: a step its master batch record requires checked, without a second person's check, blocks; "
            + "#15: a lot made under a master batch record blocks until QA's review covers its batch record as it is now",
        "gmp_rules.release_package(text)": "#20.7: a signed dose adds its setter, signature and permitted range; "
            + "#14: a lot that consumed materials has them in its package (others hash as before); "
            + "#14: a lot that used equipment has it in its package (others hash as before); "
            + "#15: a lot with a batch record review has its newest review in its package (others hash as before)",
        "gmp.trace_lot(text)": "#14: the trace lists the material lots the lot and its cell banks consumed; "
            + "#14: and the equipment they used; "
            + "#18: the lot and its steps from gmp_rules.lot_and_steps, shared with gmp.lot_show; the same document",
        "gmp.trace_donor(text)": "#14: the units' whereabouts of all the donor's lots in one query (gmp_rules.lots_whereabouts), "
            + "not one per lot; the same document",
        "gmp_rules.unit_whereabouts(text)": "#14: one lot's share of gmp_rules.lots_whereabouts, the one home of the unit's "
            + "whereabouts; the same document",
        "gmp.pack_shipment(text,text[])": "#19: the dry shipper's key is locked while packing, so one shipment per shipper holds at READ COMMITTED",
    ]

    /// A definition's privileges with the change of owner left out: issue 20 (definer
    /// owner) gave every SECURITY DEFINER function but a listed few to gmp_definer
    /// (DefinerOwnerTests), which then grants what the migrating superuser granted, holds
    /// the owner's own EXECUTE, and may call the other routines. So the grantor is read as
    /// "owner", and the owner's own entry and gmp_definer's are left out; who else may
    /// call each routine must not change.
    static func withoutDefinerOwner(_ definition: String) -> String {
        guard let marker = definition.range(of: "\n-- acl: ") else { return definition }
        let entries = definition[marker.upperBound...].split(separator: ",").compactMap { entry -> String? in
            let parts = entry.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, let grantee = parts[0].split(separator: "=", maxSplits: 1).first.map(String.init)
            else { return String(entry) }
            if grantee == "gmp_definer" || grantee == String(parts[1]) { return nil }
            return parts[0] + "/owner"
        }
        return definition[..<marker.upperBound] + entries.joined(separator: ",")
    }

    /// The rules issue 20 (insider holes) changed on purpose after V0019/V0020: content
    /// hashing pinned to fixed session settings (item 4), signing refused for an expired
    /// password or a disabled account at every step (item 3), NaN and ±Infinity refused
    /// where a number enters (item 10), dispatch re-checking the lot (item 8).
    /// A definition with the SQLSTATE of each raised error left out: refusals got codes of
    /// their own (docs/errors.md), which is the one change every other routine may show.
    static func withoutErrorCodes(_ definition: String) -> String {
        definition.replacing(#/ERRCODE = '[0-9A-Z]{5}'/#, with: "ERRCODE = …")
            .replacing(#/ERRCODE = '[a-z_]+'/#, with: "ERRCODE = …")
    }

    @Test("a database at V0018 upgrades with every routine's definition and privileges unchanged, but for the refusals' codes and gmp_rules")
    func upgradeKeepsDefinitions() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try Migrator(migrations: Array(Migration.shipped.prefix(18)), code: []).migrate(on: connection)
            let before = try Self.catalog(connection)
            #expect(before.count > 150)
            let outcome = try Migrator().migrate(on: connection)
            #expect(outcome.applied.map(\.version) == Array(19...Migration.shipped.count))
            #expect(outcome.appliedCode == CodeFile.shipped)
            let after = try Self.catalog(connection)
            // V0020 moved the rule functions from gmp_meta to gmp_rules: the one rename
            // besides the codes, applied to the old names and bodies before comparing.
            let moved = Set(after.keys.filter { $0.hasPrefix("gmp_rules.") }.map { $0.dropFirst(10).prefix(while: { $0 != "(" }) })
            #expect(moved.count > 80)
            func renamed(_ text: String) -> String {
                text.replacing(#/gmp_meta\.([a-z0-9_]+)/#) { match in
                    moved.contains(match.1) ? "gmp_rules.\(match.1)" : String(match.0)
                }
            }
            for (oldName, old) in before.sorted(by: { $0.key < $1.key }) {
                let routine = renamed(oldName)
                let old = Self.withoutDefinerOwner(renamed(old))
                guard let new = after[routine].map(Self.withoutDefinerOwner) else {
                    Issue.record("\(routine) is gone after the upgrade")
                    continue
                }
                if Self.changedOnPurpose[routine] != nil {
                    #expect(Self.withoutErrorCodes(new) != Self.withoutErrorCodes(old), "\(routine) was declared changed but is not")
                } else {
                    #expect(Self.withoutErrorCodes(new) == Self.withoutErrorCodes(old),
                            "\(routine) changed: declare it in changedOnPurpose with its reason")
                }
            }
            // Every routine now in force has its home, and every home its routine; an
            // extension's routines (gmp_audit_native's C twins, #19) have theirs in its own
            // install script under extension/, and are recorded like any other.
            let extensionRoutines = Set(try connection.query("""
                SELECT p.oid::regprocedure::text AS routine
                FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc p ON p.oid = d.objid
                WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.deptype = 'e'
                """).map { try $0.decode("routine", as: String.self) })
            #expect(Set(after.keys).subtracting(extensionRoutines) == Set(CodeFile.shipped.flatMap(\.routines).map(\.identity)))
            #expect(try connection.query("SELECT * FROM gmp_audit.machinery_problems()").count == 0)
        }
    }

    @Test("an upgraded database and a new one end with the same code")
    func upgradeEqualsFresh() throws {
        try TestServer.withDatabase { upgraded in
            try TestServer.withDatabase { fresh in
                let old = try TestServer.connect(upgraded)
                try Migrator(migrations: Array(Migration.shipped.prefix(18)), code: []).migrate(on: old)
                try Migrator().migrate(on: old)
                let new = try TestServer.connect(fresh)
                try Migrator().migrate(on: new)
                #expect(try Self.catalog(old) == (try Self.catalog(new)))
            }
        }
    }

    @Test("code in force at a past time: the V0018 body before the upgrade, the new one after")
    func codeAtTime() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try Migrator(migrations: Array(Migration.shipped.prefix(19)), code: []).migrate(on: connection)
            let baseline: Timestamp = try connection.query("SELECT clock_timestamp() AS t")[0].decode("t")
            try Migrator().migrate(on: connection)
            let record = CodeRecord(connection)
            let old = try #require(try record.inForce(at: baseline).first { $0.routine == "gmp_audit.record_ddl()" })
            let new = try #require(try record.inForce().first { $0.routine == "gmp_audit.record_ddl()" })
            #expect(old.command == "BASELINE")
            #expect(old.definition?.contains("catalog_routines") == false)
            #expect(new.command == "CREATE FUNCTION")
            #expect(new.definition?.contains("catalog_routines") == true)
            #expect(new.reason?.hasPrefix("code file 01_audit.sql sha256 ") == true)
            #expect(try record.history(of: "record_ddl").map(\.command) == ["BASELINE", "CREATE FUNCTION"])
            // Routines this issue added were not in force at the baseline.
            #expect(try record.inForce(at: baseline).contains { $0.routine.hasPrefix("gmp.code_in_force") } == false)
            // What is in force now is exactly the catalog.
            let inForce = try record.inForce()
            #expect(Set(inForce.map(\.routine)) == Set(try Self.catalog(connection).keys))
        }
    }

    @Test("a change made by hand through psql is recorded with its author; one made with the DDL trigger off is reported")
    func outOfBandChanges() throws {
        try TestServer.withMigratedDatabase { database in
            let connection = try TestServer.connect(database)
            try connection.execute("""
                CREATE OR REPLACE FUNCTION gmp_rules.password_min_length() RETURNS integer
                LANGUAGE sql IMMUTABLE AS $$ SELECT 4 $$
                """)
            let changed = try #require(try CodeRecord(connection).inForce().first { $0.routine == "gmp_rules.password_min_length()" })
            #expect(changed.command == "CREATE FUNCTION")
            #expect(changed.definition?.contains("SELECT 4") == true)
            #expect(changed.recordedBy == (try TestServer.adminUser()))
            #expect(try connection.query("SELECT * FROM gmp_audit.machinery_problems()").count == 0)

            try connection.execute("ALTER EVENT TRIGGER gmp_record_ddl DISABLE")
            try connection.execute("""
                CREATE OR REPLACE FUNCTION gmp_rules.password_min_length() RETURNS integer
                LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$
                """)
            try connection.execute("ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS")
            let problems: [String] = try connection.query("SELECT p FROM gmp_audit.machinery_problems() p").map { try $0.decode("p") }
            #expect(problems.contains { $0.hasPrefix("routine gmp_rules.password_min_length() differs from its definition in the code record") },
                    "\(problems)")
            // The record still shows the last recorded version, not the silent one.
            let recorded = try #require(try CodeRecord(connection).inForce().first { $0.routine == "gmp_rules.password_min_length()" })
            #expect(recorded.definition?.contains("SELECT 4") == true)
        }
    }

    @Test("a dropped routine leaves the code in force; its history ends with the drop")
    func droppedRoutine() throws {
        try TestServer.withMigratedDatabase { database in
            let connection = try TestServer.connect(database)
            try connection.execute("CREATE FUNCTION gmp_meta.scratch() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$")
            let record = CodeRecord(connection)
            #expect(try record.inForce().contains { $0.routine == "gmp_meta.scratch()" })
            try connection.execute("DROP FUNCTION gmp_meta.scratch()")
            #expect(try record.inForce().contains { $0.routine == "gmp_meta.scratch()" } == false)
            #expect(try record.history(of: "gmp_meta.scratch").map(\.command) == ["CREATE FUNCTION", "DROP"])
        }
    }

    /// On a fresh install the migrations run before the code files, so a DROP in a
    /// numbered migration after the V0019 baseline is recorded by the V0001–V0018 guard,
    /// which names the object but not its oid. The record must still end that routine, and
    /// show it again when a code file re-creates it.
    @Test("a routine dropped by a migration on a fresh install leaves the code in force, and comes back when re-created")
    func droppedByMigrationOnFreshInstall() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let dropping = Migration(version: Migration.shipped.count + 1, name: "drop_old_check",
                                     sql: "DROP FUNCTION gmp.authenticate_signer(uuid, bytea);\n")
            let migrations = Migration.shipped + [dropping]
            try Migrator(migrations: migrations, code: []).migrate(on: connection)
            let unkeyed: Int = try connection.query("""
                SELECT count(*)::integer AS n FROM gmp_audit.event
                WHERE action = 'DDL' AND record_key = 'DROP' AND NOT old_values ? 'oid'
                  AND old_values ->> 'object' = 'gmp.authenticate_signer(pg_catalog.uuid,pg_catalog.bytea)'
                """)[0].decode("n")
            #expect(unkeyed == 1, "the migration's drop is recorded without an oid, as the old guard does")
            let afterDrop: Timestamp = try connection.query("SELECT clock_timestamp() AS t")[0].decode("t")

            // The code files (03_signatures.sql keeps a refusing body of the old call) re-create it.
            try Migrator(migrations: migrations).migrate(on: connection)
            let record = CodeRecord(connection)
            let old = "gmp.authenticate_signer(uuid,bytea)"
            #expect(try record.inForce(at: afterDrop).contains { $0.routine == old } == false)
            #expect(try record.inForce(at: afterDrop).contains { $0.routine == "gmp.begin_signing()" })
            let now = try #require(try record.inForce().first { $0.routine == old })
            #expect(now.command == "CREATE FUNCTION")
            #expect(Set(try record.inForce().map(\.routine)) == Set(try Self.catalog(connection).keys))
            #expect(try record.history(of: old).map(\.command) == ["BASELINE", "DROP", "CREATE FUNCTION"])
        }
    }

    @Test("an edited code file is applied again, recorded with its text; the record is append-only")
    func editedCodeFile() throws {
        try TestServer.withMigratedDatabase { database in
            let connection = try TestServer.connect(database)
            let shipped = CodeFile.shipped
            let trace = try #require(shipped.first { $0.name == "trace" })
            let edited = CodeFile(order: trace.order, name: trace.name, sql: trace.sql + "\n-- a comment only\n")
            let code = shipped.map { $0.name == "trace" ? edited : $0 }
            #expect(try Migrator(code: code).status(on: connection).pendingCode == [edited])
            let outcome = try Migrator(code: code).migrate(on: connection)
            #expect(outcome.appliedCode == [edited])
            let rows = try connection.query("SELECT checksum, source FROM gmp_meta.code_applied WHERE file = '15_trace.sql' ORDER BY id")
            #expect(try rows.map { try $0.decode("checksum", as: String.self) } == [trace.checksum, edited.checksum])
            #expect(try rows[1].decode("source", as: String.self) == edited.sql)
            #expect(try Migrator(code: code).status(on: connection).isUpToDate)
            // The ledger is read unsorted (issue 18): gmp keeps each file's last application,
            // by name, as the server's DISTINCT ON did; the text shipped before is pending again.
            let latest = try connection.query("""
                SELECT DISTINCT ON (file COLLATE "C") file, checksum FROM gmp_meta.code_applied ORDER BY file COLLATE "C", id DESC
                """).map { [try $0.decode("file", as: String.self), try $0.decode("checksum", as: String.self)] }
            let status = try Migrator(code: code).status(on: connection)
            #expect(status.appliedCode.map { [$0.fileName, $0.checksum] } == latest)
            #expect(status.appliedCode.filter { $0.fileName == "15_trace.sql" }.map(\.checksum) == [edited.checksum])
            #expect(try Migrator(code: shipped).status(on: connection).pendingCode == [trace])
            #expect { try connection.execute("UPDATE gmp_meta.code_applied SET source = 'x'") } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
            #expect { try connection.execute("DELETE FROM gmp_meta.code_applied") } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
            // A row whose checksum is not its text's is refused.
            #expect {
                try connection.execute("""
                    INSERT INTO gmp_meta.code_applied (file, checksum, source, schema_version)
                    VALUES ('15_trace.sql', \(trace.checksum), 'other text', 19)
                    """)
            } throws: { ($0 as? PostgresError)?.kind == .checkViolation }
        }
    }

    @Test("an edited privileges file applies again on a database migrated before (the DDL trigger's audit definers keep their rights)")
    func editedPrivilegesFile() throws {
        try TestServer.withMigratedDatabase { database in
            let connection = try TestServer.connect(database)
            let shipped = CodeFile.shipped
            let privileges = try #require(shipped.first { $0.name == "privileges" })
            let edited = CodeFile(order: privileges.order, name: privileges.name, sql: privileges.sql + "\n-- edited\n")
            let code = shipped.map { $0.name == "privileges" ? edited : $0 }
            let outcome = try Migrator(code: code).migrate(on: connection)
            #expect(outcome.appliedCode == [edited])
            #expect(try Migrator(code: code).status(on: connection).isUpToDate)
        }
    }
}
