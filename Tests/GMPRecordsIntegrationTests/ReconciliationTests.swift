import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// Issue 20, item 12: what a superuser hides by switching triggers off. The chain proves
/// the trail; the reconciliation proves the tables. Each attack is done as a superuser in
/// plain SQL, and afterwards the chain verifies and the machinery reads whole: only the
/// reconciliation can tell.
@Suite("Reconciliation: the tables checked against the audit trail")
struct ReconciliationTests {
    /// A released lot and a rejected one (failing endotoxin), with every signature that takes.
    static func withLots(_ body: (QCReleaseSite, _ released: String, _ rejected: String) throws -> Void) throws {
        try QCReleaseSite.with { site in
            let released = try site.lot()
            try site.passAll(released)
            try site.release(released)
            let rejected = try site.lot()
            try site.verify(try site.record(rejected, "endotoxin", "40", unit: "EU/mL").id)
            try site.reject(rejected)
            try body(site, released, rejected)
        }
    }

    static func verify(_ database: String, as account: TestAccount? = nil) throws -> AuditVerification {
        let connection = try account.map { try $0.connect() } ?? TestServer.connect(database)
        // The key-ordered merge, as a trail past the in-memory limit takes it.
        return try AuditTrail(connection).verify(reconcile: true, replayInMemoryUpTo: 0)
    }

    static func findings(_ verification: AuditVerification) -> [ReconciliationFinding] {
        verification.reconciliation?.outcome.findings ?? []
    }

    /// The attack left no trace anywhere but in the reconciliation.
    static func expectChainWhole(_ verification: AuditVerification) {
        guard case .intact = verification.verdict else {
            Issue.record("the chain should still verify: \(verification.verdict)"); return
        }
        #expect(verification.machineryProblems.isEmpty, "\(verification.machineryProblems)")
    }

    @Test("untouched records agree with the trail, every signature's content hash included, as a superuser and as QA")
    func untouched() throws {
        try Self.withLots { site, _, _ in
            let verification = try Self.verify(site.site.database)
            #expect(verification.isIntact, "\(Self.findings(verification))")
            let outcome = try #require(verification.reconciliation?.outcome)
            let signatures: Int64 = try site.site.superuser.query("SELECT count(*) AS n FROM gmp.signature")[0].decode("n")
            #expect(outcome.signaturesChecked == Int(signatures) && signatures > 5)
            #expect(outcome.rowsChecked > 50 && outcome.tables > 20 && outcome.eventsReplayed >= outcome.rowsChecked)
            let skipped = verification.reconciliation?.skippedTables.map(\.table) ?? []
            #expect(Set(skipped) == ["gmp.temperature_reading", "gmp_private.donor_identity"], "\(skipped)")

            // QA may not read personal data; everything else is reconciled.
            let asQA = try Self.verify(site.site.database, as: site.site.qa)
            #expect(asQA.isIntact, "\(Self.findings(asQA))")
            #expect(asQA.reconciliation?.skippedTables.map(\.table) == ["gmp.temperature_reading", "gmp_private.donor_identity"])
            #expect(asQA.reconciliation?.outcome.rowsChecked ?? 0 > 50)
        }
    }

    @Test("the record tables' digest (checkpoint v2) is a function of the trail at its event: later events do not change it")
    func tablesDigest() throws {
        try Self.withLots { site, _, _ in
            let connection = try TestServer.connect(site.site.database)
            let head = try AuditTrail(connection).head().seq
            let before = try AuditTrail(connection).verify(reconcile: true, tablesDigestAt: [head], tablesDigestAtEnd: true)
            let atHead = try #require(before.reconciliation?.tablesDigests[head])
            #expect(atHead.rows > 50)
            let lot = try site.lot()
            let after = try AuditTrail(connection).verify(reconcile: true, tablesDigestAt: [head], tablesDigestAtEnd: true)
            let newHead = try AuditTrail(connection).head().seq
            #expect(after.reconciliation?.tablesDigests[head] == atHead)
            let now = try #require(after.reconciliation?.tablesDigests[newHead])
            #expect(now != atHead && now.rows > atHead.rows, "lot \(lot) added rows")
        }
    }

    /// As a migration would: two columns added to a table whose rows predate them.
    static func addDeviationColumns(_ site: QCReleaseSite) throws {
        try site.site.superuser.execute(script: SQLScript(shippedWithBinary: """
            BEGIN;
            SELECT set_config('gmp.reason', 'a migration adds a column', true);
            ALTER TABLE gmp.deviation ADD COLUMN severity text NOT NULL DEFAULT 'minor', ADD COLUMN note text;
            COMMIT;
            """))
    }

    @Test("a column added by a migration reads as its default on older rows; a value changed there with the triggers off is found")
    func addedColumn() throws {
        try Self.withLots { site, _, rejected in
            let deviation: String = try site.site.superuser.query("SELECT min(id) AS id FROM gmp.deviation")[0].decode("id")
            try Self.addDeviationColumns(site)
            let clean = try Self.verify(site.site.database)
            #expect(clean.isIntact, "\(Self.findings(clean))")
            try Tampering.silently(site.site.database, tables: ["gmp.deviation"],
                                   "UPDATE gmp.deviation SET severity = 'major' WHERE id = '\(deviation)'")
            let findings = Self.findings(try Self.verify(site.site.database))
            #expect(findings == [ReconciliationFinding(table: "gmp.deviation", key: "id=\(deviation)", kind: .rowDiffers(
                fields: [.init(name: "severity", trail: nil, table: "\"major\"")], lastSeq: findings.first?.kind.seq ?? 0))],
                    "lot \(rejected): \(findings)")
        }
    }

    @Test("a rejected lot turned released with its triggers off is named: table, key, field, both values")
    func rejectedLotReleased() throws {
        try Self.withLots { site, _, rejected in
            try Tampering.silently(site.site.database, tables: ["gmp.lot"],
                                   "UPDATE gmp.lot SET status = 'released' WHERE din = '\(rejected)'")
            let status: String = try site.site.superuser.query("SELECT status FROM gmp.lot WHERE din = \(rejected)")[0].decode("status")
            #expect(status == "released", "the attack itself worked")

            let verification = try Self.verify(site.site.database)
            Self.expectChainWhole(verification)
            #expect(!verification.isIntact)
            let findings = Self.findings(verification)
            #expect(findings.count == 1, "\(findings)")
            let finding = try #require(findings.first)
            #expect(finding.table == "gmp.lot" && finding.key == "din=\(rejected)")
            guard case .rowDiffers(let fields, _) = finding.kind else {
                Issue.record("expected a changed row, found \(finding)"); return
            }
            #expect(fields == [.init(name: "status", trail: "\"rejected\"", table: "\"released\"")])
            #expect(finding.description.contains("status \"rejected\" → \"released\""))
        }
    }

    @Test("a signed record edited and its signature re-hashed reads intact, but not to the reconciliation")
    func signedRecordRehashed() throws {
        try Self.withLots { site, _, rejected in
            let result: Int64 = try site.site.superuser.query("""
                SELECT id FROM gmp.qc_result WHERE din = \(rejected) AND test = 'endotoxin'
                """)[0].decode("id")
            let signature: Int64 = try site.site.superuser.query("""
                SELECT id FROM gmp.signature WHERE record_table = 'gmp.qc_result' AND record_key = \(String(result))
                """)[0].decode("id")
            try Tampering.silently(site.site.database, tables: ["gmp.qc_result", "gmp.signature"], """
                UPDATE gmp.qc_result SET value = 12.5 WHERE id = \(result);
                UPDATE gmp.signature SET content_hash = gmp_rules.content_hash('gmp.qc_result', '\(result)') WHERE id = \(signature)
                """)
            let intact: Bool = try site.site.superuser.query("SELECT intact FROM gmp.signature_status WHERE id = \(signature)")[0].decode("intact")
            #expect(intact, "the re-hashed signature reads intact: the attack itself worked")

            let verification = try Self.verify(site.site.database)
            Self.expectChainWhole(verification)
            let findings = Self.findings(verification)
            #expect(findings.contains { $0.kind == .signatureContent(signatureID: String(signature), seq: $0.kind.seq)
                                         && $0.table == "gmp.qc_result" && $0.key == String(result) }, "\(findings)")
            #expect(findings.contains { $0.table == "gmp.qc_result" && $0.key == "id=\(result)"
                                         && $0.kind.changedFields == ["value"] }, "\(findings)")
            #expect(findings.contains { $0.table == "gmp.signature" && $0.key == "id=\(signature)"
                                         && $0.kind.changedFields == ["content_hash"] }, "\(findings)")
        }
    }

    @Test("a row deleted or added with the triggers off, and a silent change later overwritten, are all found")
    func deletedAddedAndOverwritten() throws {
        try Self.withLots { site, released, _ in
            let quarantined = try site.lot()
            try Tampering.silently(site.site.database, tables: ["gmp.qc_verification", "gmp.deviation", "gmp.lot"], """
                DELETE FROM gmp.qc_verification WHERE result_id = (SELECT min(id) FROM gmp.qc_result WHERE din = '\(released)');
                INSERT INTO gmp.deviation (id, title, description, kind, opened_by)
                SELECT 'DEV99-99999', title, description, kind, opened_by FROM gmp.deviation LIMIT 1;
                UPDATE gmp.lot SET created_by = 'someone else' WHERE din = '\(quarantined)'
                """)
            // A legitimate change afterwards records the tampered row as its old values.
            try site.site.qaSession.transaction { db in
                _ = try db.execute("SELECT gmp.hold_lot(\(quarantined), 'awaiting a result')")
            }
            let findings = Self.findings(try Self.verify(site.site.database))
            #expect(findings.contains { $0.table == "gmp.qc_verification" && $0.kind.isRowMissing }, "\(findings)")
            #expect(findings.contains { $0.table == "gmp.deviation" && $0.key == "id=DEV99-99999" && $0.kind == .rowNotInTrail },
                    "\(findings)")
            #expect(findings.contains { $0.table == "gmp.lot" && $0.key == quarantined && $0.kind.isEventDoesNotFollow },
                    "\(findings)")
        }
    }

    /// Issue 18: without a tables digest to take, the trail is read a second time in key
    /// order and merged with the tables in bounded memory; it must find exactly what the
    /// replay in memory finds (the path a v2 checkpoint still takes), in the same order.
    @Test("the key-ordered merge finds what the in-memory replay finds: every kind, many tables, a signature re-hashed")
    func keyOrderedMergeAgrees() throws {
        try Self.withLots { site, released, rejected in
            let quarantined = try site.lot()
            let result: Int64 = try site.site.superuser.query("""
                SELECT id FROM gmp.qc_result WHERE din = \(rejected) AND test = 'endotoxin'
                """)[0].decode("id")
            try Tampering.silently(site.site.database,
                                   tables: ["gmp.qc_verification", "gmp.deviation", "gmp.lot", "gmp.qc_result", "gmp.signature"], """
                DELETE FROM gmp.qc_verification WHERE result_id = (SELECT min(id) FROM gmp.qc_result WHERE din = '\(released)');
                INSERT INTO gmp.deviation (id, title, description, kind, opened_by)
                SELECT 'DEV99-99999', title, description, kind, opened_by FROM gmp.deviation LIMIT 1;
                UPDATE gmp.lot SET created_by = 'someone else' WHERE din = '\(quarantined)';
                UPDATE gmp.lot SET status = 'released' WHERE din = '\(rejected)';
                UPDATE gmp.qc_result SET value = 12.5 WHERE id = \(result);
                UPDATE gmp.signature SET content_hash = gmp_rules.content_hash('gmp.qc_result', '\(result)')
                WHERE record_table = 'gmp.qc_result' AND record_key = '\(result)'
                """)
            try site.site.qaSession.transaction { db in
                _ = try db.execute("SELECT gmp.hold_lot(\(quarantined), 'awaiting a result')")
            }
            let connection = try TestServer.connect(site.site.database)
            let merged = try AuditTrail(connection).verify(reconcile: true, replayInMemoryUpTo: 0)
            let inMemory = try AuditTrail(connection).verify(reconcile: true, tablesDigestAtEnd: true)
            let findings = Self.findings(merged)
            #expect(Set(findings.map(\.problem)) == ["row_missing", "row_not_in_trail", "event_does_not_follow", "row_differs",
                                                     "signature_content"], "\(findings)")
            #expect(findings == Self.findings(inMemory))
            let (a, b) = (try #require(merged.reconciliation?.outcome), try #require(inMemory.reconciliation?.outcome))
            #expect((a.tables, a.rowsChecked, a.eventsReplayed, a.signaturesChecked)
                        == (b.tables, b.rowsChecked, b.eventsReplayed, b.signaturesChecked))
            #expect(merged.reconciliation?.skippedTables == inMemory.reconciliation?.skippedTables)
            // As QA, who may not read personal data, the same.
            let asQA = try Self.verify(site.site.database, as: site.site.qa)
            let asQAInMemory = try AuditTrail(try site.site.qa.connect()).verify(reconcile: true, tablesDigestAtEnd: true)
            #expect(Self.findings(asQA) == Self.findings(asQAInMemory) && !Self.findings(asQA).isEmpty)
        }
    }
}

extension ReconciliationFinding.Kind {
    var seq: Int64 {
        switch self {
        case .rowDiffers(_, let seq), .rowMissing(let seq), .eventDoesNotFollow(let seq), .signatureContent(_, let seq): seq
        case .rowNotInTrail, .tableMissing, .untouchedRowCount: 0
        }
    }

    var changedFields: [String] {
        if case .rowDiffers(let fields, _) = self { return fields.map(\.name) }
        return []
    }

    var isRowMissing: Bool {
        if case .rowMissing = self { return true }
        return false
    }

    var isEventDoesNotFollow: Bool {
        if case .eventDoesNotFollow = self { return true }
        return false
    }
}
