import GMPRules
import Testing

/// The reconciliation's replay and comparison, without a database (issue 20, item 12).
@Suite("Audit reconciler: the tables against the replay of the trail")
struct AuditReconcilerTests {
    static let lot = AuditReconciler.Table(name: "gmp.lot", keyColumn: "din", primaryKey: ["din"])
    static let step = AuditReconciler.Table(name: "gmp.step", keyColumn: "din", primaryKey: ["id"])

    static func row(_ din: String, _ status: String) -> String { #"{"din": "\#(din)", "status": "\#(status)"}"# }

    /// Two lots inserted, one then rejected.
    static func replayed() -> AuditReconciler {
        var reconciler = AuditReconciler(tables: [lot, step])
        reconciler.consume(seq: 1, action: "INSERT", table: "gmp.lot", recordKey: "A1", oldValues: nil, newValues: row("A1", "quarantine"))
        reconciler.consume(seq: 2, action: "INSERT", table: "gmp.lot", recordKey: "B2", oldValues: nil, newValues: row("B2", "quarantine"))
        reconciler.consume(seq: 3, action: "UPDATE", table: "gmp.lot", recordKey: "A1",
                           oldValues: row("A1", "quarantine"), newValues: row("A1", "rejected"))
        reconciler.consume(seq: 4, action: "DDL", table: "gmp.lot", recordKey: "ALTER TABLE", oldValues: nil, newValues: "{}")
        return reconciler
    }

    @Test("rows equal to their replay are consistent, with the figures counted")
    func consistent() {
        var reconciler = Self.replayed()
        reconciler.compare(Self.row("B2", "quarantine"), in: "gmp.lot")
        reconciler.compare(Self.row("A1", "rejected"), in: "gmp.lot")
        let outcome = reconciler.finish()
        #expect(outcome.isConsistent, "\(outcome.findings)")
        #expect(outcome.rowsChecked == 2 && outcome.eventsReplayed == 3 && outcome.tables == 1)
    }

    @Test("a changed field is named with both values; a missing and an unexplained row are reported")
    func differences() {
        var reconciler = Self.replayed()
        reconciler.compare(Self.row("A1", "released"), in: "gmp.lot")
        reconciler.compare(Self.row("C3", "released"), in: "gmp.lot")
        let findings = reconciler.finish().findings
        #expect(findings == [
            ReconciliationFinding(table: "gmp.lot", key: "din=B2", kind: .rowMissing(lastSeq: 2)),
            ReconciliationFinding(table: "gmp.lot", key: "din=A1", kind: .rowDiffers(
                fields: [.init(name: "status", trail: "\"rejected\"", table: "\"released\"")], lastSeq: 3)),
            ReconciliationFinding(table: "gmp.lot", key: "din=C3", kind: .rowNotInTrail),
        ])
    }

    @Test("an event whose old values the replay never had shows a change made outside the trail")
    func eventDoesNotFollow() {
        var reconciler = Self.replayed()
        reconciler.consume(seq: 5, action: "UPDATE", table: "gmp.lot", recordKey: "B2",
                           oldValues: Self.row("B2", "on_hold"), newValues: Self.row("B2", "quarantine"))
        #expect(reconciler.finish().findings.first == ReconciliationFinding(table: "gmp.lot", key: "B2", kind: .eventDoesNotFollow(seq: 5)))
    }

    @Test("row events of a table the database lacks are reported; tables known not to hold rows are skipped")
    func unknownTables() {
        var reconciler = AuditReconciler(tables: [Self.lot], notReplayed: ["gmp.temperature_reading"])
        reconciler.consume(seq: 1, action: "INSERT", table: "gmp.temperature_reading", recordKey: "1", oldValues: nil, newValues: "{}")
        reconciler.consume(seq: 2, action: "INSERT", table: "gmp.gone", recordKey: "1", oldValues: nil, newValues: "{}")
        #expect(reconciler.finish().findings == [ReconciliationFinding(table: "gmp.gone", key: nil, kind: .tableMissing)])
    }

    @Test("a signature must hash the record as the trail has it at signing, in the trail and in the table")
    func signatures() {
        let signedRows = [#"{"id": 2, "din": "A1"}"#, #"{"id": 1, "din": "A1"}"#]
        let hash = RecordContentHash.hash(table: "gmp.step", key: "A1", content: RecordContentHash.content(of: signedRows))
        #expect(RecordContentHash.content(of: signedRows) == #"[{"id": 1, "din": "A1"}, {"id": 2, "din": "A1"}]"#)
        let hex = hash.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        func signature(_ hex: String) -> String {
            #"{"id": 7, "record_key": "A1", "content_hash": "\\x\#(hex)", "record_table": "gmp.step"}"#
        }
        func run(trailHash: String, tableHash: String) -> [ReconciliationFinding] {
            let signatures = AuditReconciler.Table(name: "gmp.signature", keyColumn: "record_key", primaryKey: ["id"])
            var reconciler = AuditReconciler(tables: [Self.step, signatures])
            for (seq, row) in signedRows.enumerated() {
                reconciler.consume(seq: Int64(seq + 1), action: "INSERT", table: "gmp.step", recordKey: "A1", oldValues: nil, newValues: row)
            }
            reconciler.consume(seq: 3, action: "INSERT", table: "gmp.signature", recordKey: "A1", oldValues: nil,
                               newValues: signature(trailHash))
            for row in signedRows { reconciler.compare(row, in: "gmp.step") }
            reconciler.compare(signature(tableHash), in: "gmp.signature")
            return reconciler.finish().findings.filter { $0.problem == "signature_content" }
        }
        let wrong = String(repeating: "0", count: 64)
        #expect(run(trailHash: hex, tableHash: hex).isEmpty)
        let mismatch = [ReconciliationFinding(table: "gmp.step", key: "A1", kind: .signatureContent(signatureID: "7", seq: 3))]
        #expect(run(trailHash: hex, tableHash: wrong) == mismatch)
        #expect(run(trailHash: wrong, tableHash: wrong) == mismatch)
    }

    @Test("a column added since a row's last event reads as its default or null; any other value there is a change")
    func addedColumn() {
        let table = AuditReconciler.Table(name: "gmp.lot", keyColumn: "din", primaryKey: ["din"],
                                          missingValues: ["flag": "false"])
        func run(_ rows: [String], then event: (old: String, new: String)? = nil) -> [ReconciliationFinding] {
            var reconciler = AuditReconciler(tables: [table])
            reconciler.consume(seq: 1, action: "INSERT", table: "gmp.lot", recordKey: "A1", oldValues: nil, newValues: Self.row("A1", "quarantine"))
            if let event {
                reconciler.consume(seq: 2, action: "UPDATE", table: "gmp.lot", recordKey: "A1", oldValues: event.old, newValues: event.new)
            }
            for row in rows { reconciler.compare(row, in: "gmp.lot") }
            return reconciler.finish().findings
        }
        let withDefaults = #"{"din": "A1", "flag": false, "note": null, "status": "quarantine"}"#
        #expect(run([withDefaults]).isEmpty)
        let changed = #"{"din": "A1", "flag": true, "note": null, "status": "quarantine"}"#
        #expect(run([changed]) == [ReconciliationFinding(table: "gmp.lot", key: "din=A1", kind: .rowDiffers(
            fields: [.init(name: "flag", trail: nil, table: "true")], lastSeq: 1))])
        // An update after the column was added prints it in its old values.
        let held = #"{"din": "A1", "flag": false, "note": null, "status": "on_hold"}"#
        #expect(run([held], then: (withDefaults, held)).isEmpty)
    }

    @Test("jsonb text splits into fields with their exact texts; ->> decodes strings")
    func jsonFields() throws {
        let object = try #require(JSONObjectText(#"{"a": 1, "bb": "x\"y\u00e9", "ccc": {"d": [1, "]"]}, "dddd": null, "e": 95.0}"#))
        #expect(object.fields.map(\.name) == ["a", "bb", "ccc", "dddd", "e"])
        #expect(object.raw("ccc") == #"{"d": [1, "]"]}"#)
        #expect(object.text("bb") == "x\"yé" && object.text("dddd") == nil && object.text("e") == "95.0")
        #expect(JSONObjectText("[1]") == nil && JSONObjectText(#"{"a": 1"#) == nil)
    }
}
