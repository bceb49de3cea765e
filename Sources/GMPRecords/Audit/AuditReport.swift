#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Which audit events a report covers. Every condition given must hold.
public struct AuditReportFilter: Sendable {
    /// A record: its table (e.g. `gmp.account`) and, optionally, its key. Signatures on
    /// the record are included.
    public var table: String?
    public var key: String?
    /// Changes made by this person.
    public var actor: String?
    /// From this instant (inclusive) …
    public var since: Timestamp?
    /// … to this one (exclusive).
    public var until: Timestamp?

    public init(table: String? = nil, key: String? = nil, actor: String? = nil,
                since: Timestamp? = nil, until: Timestamp? = nil) {
        self.table = table
        self.key = key
        self.actor = actor
        self.since = since
        self.until = until
    }
}

/// A signature as every display shows it (21 CFR 11.50): printed name, time, meaning,
/// and whether the signed content is still what was signed.
public struct SignatureManifestation: Sendable, Equatable {
    public let signer: String
    public let printedName: String
    public let signedAt: Timestamp
    public let meaning: String
    /// False when the record changed after signing: the signature is broken.
    public let intact: Bool
}

/// One line of an audit report.
public struct AuditReportEntry: Sendable, Equatable {
    public let seq: Int64
    public let occurredAt: Timestamp
    public let actor: String
    /// The actor's printed name, when the actor is a person's account.
    public let actorName: String?
    public let action: String
    public let table: String
    public let key: String?
    /// Old and new values, as the jsonb text the chain hashes.
    public let oldValues: String?
    public let newValues: String?
    public let reason: String?
    /// Set when the event records a signature.
    public let signature: SignatureManifestation?
    /// The event's chain hash (hex): its position in the chain, as `gmp audit verify` recomputes it.
    public let hash: String
    /// The fields whose values differ, old → new, when the report asked for them.
    public let changes: [FieldChange]?
}

/// One field of an audited row that an event changed, values as PostgreSQL prints them
/// (`->>`: strings unquoted, numbers with every digit); nil where the field is absent.
public struct FieldChange: Sendable, Equatable {
    public let field: String
    public let old: String?
    public let new: String?
}

/// Audit trail reports (`gmp audit report`), streamed through a cursor so that any
/// length of trail is reported in constant memory.
public struct AuditReport {
    let connection: PostgresConnection
    /// Rows fetched per round trip (FETCH takes no bind parameter, so the query
    /// below spells it out).
    static let batchSize = 1_000

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Calls `each` for every matching event in sequence order, inside one read-only
    /// snapshot, and returns how many there were.
    @discardableResult
    /// - Parameter fieldChanges: also compare old and new values field by field (printed reports).
    public func run(_ filter: AuditReportFilter, fieldChanges: Bool = false,
                    _ each: (AuditReportEntry) throws -> Void) throws -> Int {
        try connection.transaction(.repeatableRead, readOnly: true) { db in
            try db.execute("""
                DECLARE audit_report NO SCROLL CURSOR FOR
                SELECT e.seq, e.occurred_at, e.actor, a.full_name AS actor_name, e.action, e.table_name,
                       e.record_key, e.old_values::text AS old_values, e.new_values::text AS new_values, e.reason,
                       encode(e.hash, 'hex') AS hash,
                       CASE WHEN \(fieldChanges)::boolean THEN (
                           SELECT jsonb_agg(jsonb_build_array(k,
                                      CASE WHEN e.old_values ? k THEN coalesce(e.old_values ->> k, 'null') END,
                                      CASE WHEN e.new_values ? k THEN coalesce(e.new_values ->> k, 'null') END) ORDER BY k)
                           FROM jsonb_object_keys(CASE WHEN jsonb_typeof(e.old_values) = 'object' THEN e.old_values ELSE '{}' END
                                                  || CASE WHEN jsonb_typeof(e.new_values) = 'object' THEN e.new_values ELSE '{}' END) k
                           WHERE e.old_values -> k IS DISTINCT FROM e.new_values -> k)::text END AS changes,
                       s.signer, s.printed_name, s.signed_at, s.meaning, s.intact
                FROM gmp_audit.event e
                LEFT JOIN gmp.account a ON a.id = e.actor
                -- CASE: the cast must never see another table's "id" (an account id is text).
                LEFT JOIN gmp.signature_status s
                       ON s.id = CASE WHEN e.table_name = 'gmp.signature' AND e.action = 'INSERT'
                                      THEN (e.new_values ->> 'id')::bigint END
                WHERE (\(filter.table)::text IS NULL OR e.table_name = \(filter.table)
                       OR (e.table_name = 'gmp.signature' AND e.new_values ->> 'record_table' = \(filter.table)))
                  AND (\(filter.key)::text IS NULL OR e.record_key = \(filter.key))
                  AND (\(filter.actor)::text IS NULL OR e.actor = \(filter.actor))
                  AND (\(filter.since)::timestamptz IS NULL OR e.occurred_at >= \(filter.since))
                  AND (\(filter.until)::timestamptz IS NULL OR e.occurred_at < \(filter.until))
                ORDER BY e.seq
                """)
            var count = 0
            while true {
                let rows = try db.query("FETCH FORWARD 1000 FROM audit_report")
                for row in rows {
                    try each(try Self.entry(row))
                    count += 1
                }
                if rows.count < Self.batchSize { return count }
            }
        }
    }

    /// `[[field, old, new], …]` as the query builds it.
    private static func changes(_ json: String) throws -> [FieldChange] {
        try JSONDecoder().decode([[String?]].self, from: Data(json.utf8)).map { triple in
            FieldChange(field: triple.first.flatMap { $0 } ?? "", old: triple.count > 1 ? triple[1] : nil,
                        new: triple.count > 2 ? triple[2] : nil)
        }
    }

    /// The chain head now: the last event's seq and hash (hex), or nil for an empty trail.
    public func chainHead() throws -> (seq: Int64, hash: String)? {
        try connection.query("SELECT seq, encode(hash, 'hex') AS hash FROM gmp_audit.event ORDER BY seq DESC LIMIT 1")
            .first.map { (try $0.decode("seq"), try $0.decode("hash")) }
    }

    private static func entry(_ row: PostgresRow) throws -> AuditReportEntry {
        let signature: SignatureManifestation? = try row.decode("signer", as: String?.self).map { signer in
            SignatureManifestation(signer: signer, printedName: try row.decode("printed_name"),
                                   signedAt: try row.decode("signed_at"), meaning: try row.decode("meaning"),
                                   intact: try row.decode("intact", as: Bool?.self) ?? false)
        }
        return AuditReportEntry(
            seq: try row.decode("seq"), occurredAt: try row.decode("occurred_at"), actor: try row.decode("actor"),
            actorName: try row.decode("actor_name"), action: try row.decode("action"),
            table: try row.decode("table_name"), key: try row.decode("record_key"),
            oldValues: try row.decode("old_values"), newValues: try row.decode("new_values"),
            reason: try row.decode("reason"), signature: signature, hash: try row.decode("hash"),
            changes: try row.decode("changes", as: String?.self).map(Self.changes))
    }
}
