import GMPRecords
import GMPRules

/// How `gmp audit verify` shows the reconciliation of the tables with the trail.
extension AuditVerify {
    /// `reconciliation` in `gmp audit verify --json` (docs/json-output.md).
    struct ReconciliationDocument: Encodable {
        struct Field: Encodable {
            let name: String
            /// Raw JSON text of the value the trail last recorded; null when absent.
            let trail: Nullable<String>
            /// Raw JSON text of the value in the table now; null when absent.
            let table: Nullable<String>
        }
        struct Finding: Encodable {
            let problem: String
            let table: String
            let key: Nullable<String>
            /// The event concerned (last write, the event that does not follow, the signature's).
            let seq: Nullable<Int64>
            let signature: Nullable<String>
            let fields: [Field]
            let description: String
        }
        struct Skipped: Encodable {
            let table: String
            let reason: String
        }
        let consistent: Bool
        let tables: Int
        let rowsChecked: Int
        let eventsReplayed: Int
        let signaturesChecked: Int
        let seconds: Double
        let rowsPerSecond: Int
        let skippedTables: [Skipped]
        let findings: [Finding]
        /// Reconciled from the v3 checkpoint at this event: only the records changed since were read.
        let incrementalFrom: Nullable<Int64>
        /// Why a v3 checkpoint's incremental reconciliation was not taken (null when it was, or not asked for).
        let fullBecause: Nullable<String>

        init(_ reconciliation: AuditReconciliation) {
            let outcome = reconciliation.outcome
            consistent = outcome.isConsistent
            tables = outcome.tables
            rowsChecked = outcome.rowsChecked
            eventsReplayed = outcome.eventsReplayed
            signaturesChecked = outcome.signaturesChecked
            seconds = reconciliation.seconds
            rowsPerSecond = reconciliation.seconds > 0 ? Int(Double(outcome.rowsChecked) / reconciliation.seconds) : 0
            skippedTables = reconciliation.skippedTables.map { Skipped(table: $0.table, reason: $0.reason) }
            findings = outcome.findings.map(Finding.init)
            incrementalFrom = Nullable(reconciliation.incrementalFrom)
            fullBecause = Nullable(reconciliation.fullBecause)
        }
    }

    func reportText(_ reconciliation: AuditReconciliation, context: CommandContext) {
        let outcome = reconciliation.outcome
        let figures = "\(outcome.tables) tables, \(outcome.rowsChecked) rows, \(outcome.eventsReplayed) row events replayed, "
            + "\(outcome.signaturesChecked) signatures, \((reconciliation.seconds * 1000).rounded() / 1000) s"
        if outcome.isConsistent {
            context.output.data("tables agree with the audit trail: \(figures)")
        } else {
            context.output.data(context.output.stdoutStyle.red(
                "tables differ from the audit trail: \(outcome.findings.count) differences (\(figures))"))
            for finding in outcome.findings {
                context.output.data(context.output.stdoutStyle.red("  \(finding)"))
            }
        }
        if let seq = reconciliation.incrementalFrom {
            context.output.data("reconciled from checkpoint event \(seq): the records changed since replayed and read, the other rows counted")
        }
        if let reason = reconciliation.fullBecause {
            context.output.data("reconciled in full, not from the checkpoint: \(reason)")
        }
        for skipped in reconciliation.skippedTables {
            context.output.data("not reconciled: \(skipped.table) (\(skipped.reason))")
        }
    }
}

extension AuditVerify.ReconciliationDocument.Finding {
    init(_ finding: ReconciliationFinding) {
        problem = finding.problem
        table = finding.table
        key = Nullable(finding.key)
        description = finding.description
        var event: Int64?
        var signatureID: String?
        var differences: [ReconciliationFinding.FieldDifference] = []
        switch finding.kind {
        case .rowDiffers(let changed, let lastSeq): (event, differences) = (lastSeq, changed)
        case .rowMissing(let lastSeq): event = lastSeq
        case .eventDoesNotFollow(let eventSeq): event = eventSeq
        case .signatureContent(let id, let eventSeq): (event, signatureID) = (eventSeq, id)
        case .untouchedRowCount(_, _, let checkpointSeq): event = checkpointSeq
        case .rowNotInTrail, .tableMissing: break
        }
        seq = Nullable(event)
        signature = Nullable(signatureID)
        fields = differences.map { .init(name: $0.name, trail: Nullable($0.trail), table: Nullable($0.table)) }
    }
}
