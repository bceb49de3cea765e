#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Temperature readings of storage devices (sql/code/13_readings.sql): a checked
/// ``TemperatureReadingsFile`` is loaded as one readings import per device, in one
/// COPY, inside the caller's transaction. The database checks the readings again
/// (device, declared count and span, duplicates against every earlier reading) and
/// opens excursions for readings above the device's limit.
public struct TemperatureReadings {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// What one readings import loaded, as `gmp storage readings import` reports it.
    public struct Imported: Encodable, Sendable, Equatable {
        public let importId: Int64
        public let device: String
        public let rows: Int64
        public let firstAt: Timestamp
        public let lastAt: Timestamp
        public let fileSha256: String
        public let excursionsOpened: [String]
    }

    /// One readings import as `gmp storage readings list` shows it, with its void.
    public struct ImportRow: Encodable, Sendable, Equatable {
        public let importId: Int64
        public let device: String
        public let rows: Int64
        public let firstAt: Timestamp
        public let lastAt: Timestamp
        public let fileSha256: String
        public let importedAt: Timestamp
        public let importedBy: String
        public let excursionsOpened: [String]
        /// nil: the import counts. Otherwise QA's signed void: its readings no longer
        /// count for the device's time order or excursions (they are kept).
        public let voided: Voiding?

        public struct Voiding: Encodable, Sendable, Equatable {
            public let at: Timestamp
            public let by: String
            public let reason: String
        }

        enum CodingKeys: String, CodingKey {
            case importId, device, rows, firstAt, lastAt, fileSha256, importedAt, importedBy, excursionsOpened, voided
        }

        /// As synthesised, except that `voided` is written as null when the import counts.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(importId, forKey: .importId)
            try container.encode(device, forKey: .device)
            try container.encode(rows, forKey: .rows)
            try container.encode(firstAt, forKey: .firstAt)
            try container.encode(lastAt, forKey: .lastAt)
            try container.encode(fileSha256, forKey: .fileSha256)
            try container.encode(importedAt, forKey: .importedAt)
            try container.encode(importedBy, forKey: .importedBy)
            try container.encode(excursionsOpened, forKey: .excursionsOpened)
            try container.encode(voided, forKey: .voided)
        }
    }

    /// The latest reading time the database accepts now: its clock plus a small
    /// tolerance (`gmp.readings_accepted_until()`, sql/code/13_readings.sql).
    public func acceptedUntil() throws -> Timestamp {
        try connection.query("SELECT gmp.readings_accepted_until() AS t")[0].decode("t")
    }

    /// Readings imports, newest first; one device's when asked.
    public func list(device: String?) throws -> [ImportRow] {
        try connection.query("""
            SELECT id, device_id, rows, first_at, last_at, file_sha256, imported_at, imported_by, voided_at, voided_by,
                   void_reason, array_to_string(excursions_opened, ',') AS excursions
            FROM gmp.reading_import_overview
            WHERE \(device)::text IS NULL OR device_id = \(device)
            ORDER BY id DESC
            """).map { row in
            let voidedAt: Timestamp? = try row.decode("voided_at")
            return ImportRow(importId: try row.decode("id"), device: try row.decode("device_id"), rows: try row.decode("rows"),
                             firstAt: try row.decode("first_at"), lastAt: try row.decode("last_at"),
                             fileSha256: try row.decode("file_sha256"), importedAt: try row.decode("imported_at"),
                             importedBy: try row.decode("imported_by"),
                             excursionsOpened: (try row.decode("excursions", as: String.self)).split(separator: ",").map(String.init),
                             voided: try voidedAt.map { at in
                                 ImportRow.Voiding(at: at, by: try row.decode("voided_by"), reason: try row.decode("void_reason"))
                             })
        }
    }

    /// QA voids a wrongly imported log, signing "approved"; nothing is deleted. Call
    /// inside a signature ceremony. Returns the signature's id.
    public static func void(on db: PostgresConnection, challenge: UUID, importID: Int64, reason: String) throws -> Int64 {
        try db.query("SELECT gmp.void_readings_import(\(challenge), \(importID), \(reason)) AS id")[0].decode("id")
    }

    /// The ids of the storage devices (tanks, freezers, shippers) that may have readings.
    public func deviceIDs() throws -> Set<String> {
        Set(try connection.query("""
            SELECT id FROM gmp.storage_location WHERE kind IN ('tank', 'freezer', 'shipper')
            """).map { try $0.decode("id", as: String.self) })
    }

    /// Declares each series of `file` and loads every reading with one COPY. Call inside
    /// a transaction (read committed: the statement trigger sees the device's readings
    /// as they are after the per-device lock). `progress` hears the rows sent so far.
    public func load(_ file: TemperatureReadingsFile, progress: (Int) -> Void = { _ in }) throws -> [Imported] {
        // The statement trigger keeps the new rows for its checks; in memory, not in a
        // temporary file, when there is room.
        try connection.execute("SET LOCAL work_mem = '256MB'")
        var importIDs: [String: Int64] = [:]
        for series in file.series {
            importIDs[series.device] = try connection.query("""
                SELECT gmp.begin_readings_import(\(series.device), \(file.sha256), \(Int64(series.rows)),
                                                 \(Timestamp(microsecondsSinceEpoch: series.firstAt)),
                                                 \(Timestamp(microsecondsSinceEpoch: series.lastAt))) AS id
                """)[0].decode("id")
        }
        _ = try connection.copyIn("COPY gmp.temperature_reading (import_id, device_id, read_at, celsius) FROM STDIN (FORMAT binary)") { writer in
            try file.writeCopyBinary(importIDs: importIDs, progress: progress) { chunk in try writer.write(chunk) }
        }
        return try file.series.map { series in
            let id = importIDs[series.device] ?? 0
            let row = try connection.query("""
                SELECT i.id, i.device_id, i.rows, i.first_at, i.last_at, i.file_sha256,
                       (SELECT string_agg(x.id, ',' ORDER BY x.started_at, x.id) FROM gmp.excursion x
                        WHERE x.import_id = i.id) AS excursions
                FROM gmp.reading_import i WHERE i.id = \(id)
                """)[0]
            return Imported(importId: try row.decode("id"), device: try row.decode("device_id"), rows: try row.decode("rows"),
                            firstAt: try row.decode("first_at"), lastAt: try row.decode("last_at"),
                            fileSha256: try row.decode("file_sha256"),
                            excursionsOpened: (try row.decode("excursions", as: String?.self) ?? "")
                                .split(separator: ",").map(String.init))
        }
    }
}
