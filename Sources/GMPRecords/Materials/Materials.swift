#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Material types and lots (sql/code/16_materials.sql): received into quarantine, released
/// or rejected by QA with a signature, opened, consumed by steps and QC results, traced
/// to every lot they reached. The database judges whether a lot may be used.
public struct Materials {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// A material type as `gmp material type list` shows it.
    public struct TypeRow: Encodable, Sendable, Equatable {
        public let code: String
        public let name: String
        public let category: String
        public let storageCondition: String

        public init(code: String, name: String, category: String, storageCondition: String) {
            self.code = code
            self.name = name
            self.category = category
            self.storageCondition = storageCondition
        }
    }

    /// What is received: the fields of the receipt record (21 CFR 1271.210(d)(1): type,
    /// quantity, manufacturer, lot number, date of receipt, expiry).
    public struct Receipt: Sendable, Equatable {
        public let type: String
        public let supplier: String
        public let manufacturer: String
        public let supplierLot: String
        public let quantity: ExactDecimal
        public let unit: String
        public let receivedAt: Timestamp?
        public let condition: String
        public let expiresOn: CalendarDate
        public let daysAfterOpening: Int?
        public let certificateSha256: String
        public let storageCondition: String?

        public init(type: String, supplier: String, manufacturer: String, supplierLot: String, quantity: ExactDecimal, unit: String,
                    receivedAt: Timestamp?, condition: String, expiresOn: CalendarDate, daysAfterOpening: Int?,
                    certificateSha256: String, storageCondition: String?) {
            self.type = type
            self.supplier = supplier
            self.manufacturer = manufacturer
            self.supplierLot = supplierLot
            self.quantity = quantity
            self.unit = unit
            self.receivedAt = receivedAt
            self.condition = condition
            self.expiresOn = expiresOn
            self.daysAfterOpening = daysAfterOpening
            self.certificateSha256 = certificateSha256
            self.storageCondition = storageCondition
        }
    }

    /// A material lot as `gmp material list` shows it.
    public struct Row: ListRow, Equatable {
        public let id: String
        public let type: String
        public let supplier: String
        public let supplierLot: String
        /// As received, digits kept: "500", "0.250".
        public let quantity: String
        public let unit: String
        /// YYYY-MM-DD.
        public let expiresOn: String
        public let openedAt: Timestamp?
        public let status: String
        public let usable: Bool
    }

    public func addType(code: String, name: String, category: String, storageCondition: String) throws {
        try connection.execute("SELECT gmp.add_material_type(\(code), \(name), \(category), \(storageCondition))")
    }

    public func types() throws -> [TypeRow] {
        try connection.query("SELECT code, name, category, storage_condition FROM gmp.material_type ORDER BY code").map { row in
            TypeRow(code: try row.decode("code"), name: try row.decode("name"), category: try row.decode("category"),
                    storageCondition: try row.decode("storage_condition"))
        }
    }

    /// Receives a lot into quarantine; returns its id.
    public func receive(_ receipt: Receipt) throws -> String {
        try connection.query("""
            SELECT gmp.receive_material(\(receipt.type), \(receipt.supplier), \(receipt.manufacturer), \(receipt.supplierLot),
                                        \(receipt.quantity)::numeric,
                                        \(receipt.unit), \(receipt.receivedAt)::timestamptz, \(receipt.condition),
                                        \(receipt.expiresOn)::date, \(receipt.daysAfterOpening.map(Int64.init))::integer,
                                        \(receipt.certificateSha256), \(receipt.storageCondition)) AS id
            """)[0].decode("id")
    }

    /// QA releases, signing "released". Call inside a signature ceremony.
    public static func release(on db: PostgresConnection, challenge: UUID, lot: String, statement: String?) throws -> Int64 {
        try db.query("SELECT gmp.release_material(\(challenge), \(lot), \(statement)) AS id")[0].decode("id")
    }

    /// QA rejects (also a released lot: a recall), signing "rejected". Call inside a ceremony.
    public static func reject(on db: PostgresConnection, challenge: UUID, lot: String, reason: String) throws -> Int64 {
        try db.query("SELECT gmp.reject_material(\(challenge), \(lot), \(reason)) AS id")[0].decode("id")
    }

    /// Records the opening; returns its time.
    public func open(_ lot: String, at: Timestamp?) throws -> Timestamp {
        try connection.query("SELECT gmp.open_material(\(lot), \(at)::timestamptz) AS at")[0].decode("at")
    }

    /// What a step or a result consumed: call in the transaction that recorded it.
    public enum Consumer: Sendable, Equatable {
        /// The step this transaction just recorded on the lot (its latest: the step rule locks the lot).
        case latestStep(DonationIdentificationNumber)
        case result(Int64)

        /// The step's or the result's id (exactly one of the two), as the database's
        /// consumption and equipment-use records name them.
        public func ids(on connection: PostgresConnection) throws -> (step: Int64?, result: Int64?) {
            switch self {
            case .latestStep(let din):
                let step: Int64? = try connection.query(
                    "SELECT max(id) AS id FROM gmp.manufacturing_step WHERE din = \(din.value)")[0].decode("id")
                return (step, nil)
            case .result(let id):
                return (nil, id)
            }
        }
    }

    /// Records each use; returns their ids.
    @discardableResult
    public func consume(_ uses: [MaterialUse], by consumer: Consumer) throws -> [Int64] {
        guard !uses.isEmpty else { return [] }
        let (stepID, resultID) = try consumer.ids(on: connection)
        return try uses.map { use in
            try connection.query("""
                SELECT gmp.record_consumption(\(use.materialLot), \(use.quantity)::numeric, \(use.unit),
                                              \(stepID)::bigint, \(resultID)::bigint) AS id
                """)[0].decode("id")
        }
    }

    /// Material lots, newest first, filtered: status, product (type code), from/to
    /// (received); only those usable now when asked. One query (`gmp.material_lots`),
    /// whatever the number of lots and consumptions.
    public func list(usableOnly: Bool, _ filter: ListFilter = ListFilter()) throws -> [Row] {
        try connection.query("""
            SELECT l.id, l.type_code, l.supplier, l.supplier_lot, l.quantity, l.unit, l.expires_on, l.opened_at, l.status, l.usable
            FROM gmp.material_lots(\(usableOnly)) l
            JOIN gmp.material_lot m ON m.id = l.id
            WHERE (\(filter.status)::text IS NULL OR m.status = \(filter.status))
              AND (\(filter.product)::text IS NULL OR m.type_code = \(filter.product))
              AND (\(filter.from)::date IS NULL OR (m.received_at AT TIME ZONE 'UTC')::date >= \(filter.from))
              AND (\(filter.to)::date IS NULL OR (m.received_at AT TIME ZONE 'UTC')::date <= \(filter.to))
            ORDER BY m.recorded_at DESC, m.id DESC
            """).map { row in
            Row(id: try row.decode("id"), type: try row.decode("type_code"), supplier: try row.decode("supplier"),
                supplierLot: try row.decode("supplier_lot"), quantity: try row.decode("quantity", as: ExactDecimal.self).description,
                unit: try row.decode("unit"), expiresOn: try row.decode("expires_on", as: CalendarDate.self).description,
                openedAt: try row.decode("opened_at"), status: try row.decode("status"), usable: try row.decode("usable"))
        }
    }

    /// One material lot as the server wrote it (indented JSON), for `--json`.
    public func documentJSON(_ lot: String) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.material_document(\(lot))) AS d")[0].decode("d")
    }

    public func document(_ lot: String) throws -> MaterialDocument.Lot {
        try MaterialDocument.Lot(jsonText: try documentJSON(lot))
    }

    /// The forward trace as the server wrote it (JSON text, `gmp.trace_material_json`), for
    /// `--json`, which re-writes it in gmp's one shape (no `jsonb_pretty` on the server: ~7%
    /// of the server's time for a trace reaching 200 lots; not through jsonb either: ~24%
    /// of its warm cost, issue 14).
    public func traceJSON(_ lot: String) throws -> String {
        try connection.query("SELECT gmp.trace_material_json(\(lot))::text AS t")[0].decode("t")
    }

    /// `traceJSON`'s text as its UTF-8 bytes in place, in libpq's result (no String made:
    /// validating and copying the median trace's 113 kB cost ~1.2 M instructions, issue 14).
    /// The bytes are valid only while `body` runs; the text is valid UTF-8 (the server's
    /// json, sent in the connection's UTF-8 client encoding).
    public func withTraceJSON<R>(_ lot: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R {
        try connection.query("SELECT gmp.trace_material_json(\(lot))::text AS t")[0].withUnsafeBytes("t") { bytes in
            guard let bytes else { throw ClientError(.decoding, "column \"t\" is NULL where the trace's text was required") }
            return try body(bytes.assumingMemoryBound(to: UInt8.self))
        }
    }

    public func trace(_ lot: String) throws -> MaterialDocument.Trace {
        try withTraceJSON(lot) { try MaterialDocument.Trace(documentBytes: $0) }
    }

    static func decode<T: Decodable>(_ json: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(T.self, from: Data(json.utf8))
    }
}
