/// One place where the tables and the audit trail disagree: a row changed, added or
/// removed without its event, or a signature whose stored hash is not that of the
/// content the trail shows it signed.
public struct ReconciliationFinding: Sendable, Hashable, CustomStringConvertible {
    /// A field whose value in the table is not the one the trail last recorded.
    public struct FieldDifference: Sendable, Hashable {
        public let name: String
        /// The value as the trail's replay has it (raw JSON text); nil when absent.
        public let trail: String?
        /// The value in the table now (raw JSON text); nil when absent.
        public let table: String?

        public init(name: String, trail: String?, table: String?) {
            self.name = name
            self.trail = trail
            self.table = table
        }
    }

    public enum Kind: Sendable, Hashable {
        /// The row differs from the replay of its events in `fields`; `lastSeq` is the
        /// event that last wrote it.
        case rowDiffers(fields: [FieldDifference], lastSeq: Int64)
        /// The table holds a row that no event wrote.
        case rowNotInTrail
        /// The trail's replay has a row (last written by `lastSeq`) that the table lacks.
        case rowMissing(lastSeq: Int64)
        /// Event `seq` changes or deletes a row whose old values match no row the replay
        /// holds: the row had been changed outside the trail before it.
        case eventDoesNotFollow(seq: Int64)
        /// Signature `signatureID` (event `seq`) stores a content hash that is not the hash
        /// of the signed record as the trail shows it at signing.
        case signatureContent(signatureID: String, seq: Int64)
        /// The trail writes rows of this table, but the database has no such audited table.
        case tableMissing
        /// Reconciling from a checkpoint (issue 18): the rows of keys unchanged since
        /// event `checkpointSeq` number `table`, where the trail leaves `trail`: a row was
        /// deleted or added outside the trail (key unknown: such rows are counted, not read).
        case untouchedRowCount(trail: Int64, table: Int64, checkpointSeq: Int64)
    }

    /// The table, schema-qualified (`gmp.lot`).
    public let table: String
    /// The row, as its primary key (`din=G1234…`) or the record key the trail files it
    /// under; for a signature, the signed record's key.
    public let key: String?
    public let kind: Kind

    public init(table: String, key: String?, kind: Kind) {
        self.table = table
        self.key = key
        self.kind = kind
    }

    /// A short name of the kind, for --json.
    public var problem: String {
        switch kind {
        case .rowDiffers: "row_differs"
        case .rowNotInTrail: "row_not_in_trail"
        case .rowMissing: "row_missing"
        case .eventDoesNotFollow: "event_does_not_follow"
        case .signatureContent: "signature_content"
        case .tableMissing: "table_missing"
        case .untouchedRowCount: "row_count_differs"
        }
    }

    public var description: String {
        let row = key.map { "\(table) \($0)" } ?? table
        switch kind {
        case .rowDiffers(let fields, let lastSeq):
            let changes = fields.map { "\($0.name) \($0.trail ?? "(absent)") → \($0.table ?? "(absent)")" }
            return "\(row) differs from its audit events (last: event \(lastSeq)): \(changes.joined(separator: ", "))"
        case .rowNotInTrail:
            return "\(row) is in the table but no audit event wrote it"
        case .rowMissing(let lastSeq):
            return "\(row) is missing from the table, though the trail has it (last: event \(lastSeq))"
        case .eventDoesNotFollow(let seq):
            return "\(row): event \(seq) changes a row the trail never had; it was changed outside the trail before that event"
        case .signatureContent(let signatureID, let seq):
            return "signature \(signatureID) (event \(seq)) on \(row) does not hash the content the trail shows it signed"
        case .tableMissing:
            return "table \(table) has audit events but is not in the database as an audited table"
        case .untouchedRowCount(let trail, let rows, let seq):
            return "\(table) holds \(rows) rows older than checkpoint event \(seq) under keys unchanged since, the trail leaves \(trail) there: "
                + "a row was deleted or added outside the trail (verify with --full to name it)"
        }
    }
}
