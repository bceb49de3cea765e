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
