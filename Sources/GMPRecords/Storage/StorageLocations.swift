#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Storage locations (sql/code/11_storage.sql and 12_custody.sql): the tree from site to box, box layouts, where units
/// are, and how full each device is. The tree's rules (what fits inside what, a device's
/// limit, a box's layout) are the database's; refusals come back as its errors.
public struct StorageLocations {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// One location as `gmp storage show` lists it.
    public struct Location: Encodable, Sendable, Equatable {
        public let id: String
        public let kind: String
        public let parent: String?
        public let device: String?
        public let site: String
        /// "SITE-A › LN2-01 › R1 › B01".
        public let path: String
        public let name: String?
        /// Devices only: the upper temperature limit, as recorded (e.g. "-150.00").
        public let maxCelsius: String?
        /// Devices only: the product kinds it may hold.
        public let holds: [String]?
        /// Boxes only.
        public let rows: Int?
        public let columns: Int?
        /// Boxes only: units stored in it now.
        public let occupied: Int?

        /// How deep in the tree: 0 for a site.
        public var depth: Int { path.components(separatedBy: " › ").count - 1 }
    }

    /// Where one unit is now, as `gmp storage find` and `gmp unit show` report it.
    public struct UnitPlace: Encodable, Sendable, Equatable {
        public let unit: String
        public let lot: String
        public let division: Int
        public let container: String
        public let volumeMl: String
        public let state: String
        public let box: String?
        /// The box's path, when stored.
        public let location: String?
        /// "C7", when stored.
        public let position: String?
        public let person: String?
        public let party: String?
        public let device: String?
        public let shipment: String?
        /// A signed-off hand-over the receiver has not confirmed: the unit is frozen.
        public let pendingTransfer: Int64?

        /// The holder in one phrase: "SITE › T1 › B01 C7", "in the hands of jlee", …
        public var holder: String {
            if let location, let position { return "\(location) \(position)" }
            if let person { return "\(state == "in_hand" ? "in the hands of" : "held by") \(person)" }
            return party.map { "with \($0)" } ?? "no holder"
        }
    }

    /// A box and what is in it.
    public struct BoxLayout: Encodable, Sendable, Equatable {
        public struct Occupant: Encodable, Sendable, Equatable {
            public let position: String
            public let unit: String
            public let lot: String
            public let division: Int
        }
        public let box: Location
        public let units: [Occupant]

        /// The grid of divisions, for `gmp storage layout`.
        public var grid: BoxGrid {
            var cells: [StoragePosition: String] = [:]
            for unit in units {
                if let position = try? StoragePosition(unit.position) { cells[position] = UnitIdentifier.threeDigits(unit.division) }
            }
            return BoxGrid(rows: box.rows ?? 0, columns: box.columns ?? 0, cells: cells)
        }
    }

    /// Records a location; returns its id as stored (upper case). An id in use is
    /// refused by name: ids are never reused, even for a location taken out of use.
    public func add(_ location: NewStorageLocation) throws -> String {
        do {
            return try insert(location)
        } catch let error as PostgresError where error.kind == .duplicate && error.constraint == "storage_location_pkey" {
            let id = location.id.trimmingWhitespace.uppercased()
            throw Refusal(action: "adding \(id)", reasons: ["storage location \(id) already exists"],
                          fix: "choose another id (gmp storage show lists the locations); ids are never reused")
        }
    }

    private func insert(_ location: NewStorageLocation) throws -> String {
        try connection.query("""
            SELECT gmp.add_location(\(location.id), \(location.kind.rawValue), \(location.parent), \(location.name),
                                    \(location.maxCelsius)::numeric, \(location.holds?.map(\.rawValue))::text[],
                                    \(location.rows.map(Int64.init))::int, \(location.columns.map(Int64.init))::int) AS id
            """)[0].decode("id")
    }

    /// Every location (nil), or one and everything under it, in tree order.
    public func tree(under root: String?) throws -> [Location] {
        let id = root.map { $0.trimmingWhitespace.uppercased() }
        let rows = try connection.query("SELECT " + Self.locationColumns + """
             FROM gmp.storage_location s
            WHERE \(id)::text IS NULL OR s.id = \(id)
               OR starts_with(s.path, (SELECT r.path || ' › ' FROM gmp.storage_location r WHERE r.id = \(id)))
            ORDER BY s.path COLLATE "C"
            """).map(Self.location)
        if let id, rows.isEmpty { throw Self.noLocation(id) }
        return rows
    }

    /// A box's layout and the units in it.
    public func layout(box: String) throws -> BoxLayout {
        let id = box.trimmingWhitespace.uppercased()
        guard let location = try connection.query("SELECT " + Self.locationColumns + " FROM gmp.storage_location s WHERE s.id = \(id)")
            .map(Self.location).first else { throw Self.noLocation(id) }
        guard location.kind == LocationKind.box.rawValue else {
            throw Refusal(action: "showing the layout of \(id)", reasons: ["\(id) is a \(location.kind), not a box"],
                          fix: "gmp storage show \(id) lists the boxes inside it")
        }
        let units = try connection.query("""
            SELECT u.id, u.din, u.division, u.box_row, u.box_column FROM gmp.unit u WHERE u.box_id = \(id)
            ORDER BY u.box_row, u.box_column
            """).map { row in
            BoxLayout.Occupant(
                position: StoragePosition(row: try row.decode("box_row"), column: try row.decode("box_column"))?.label ?? "?",
                unit: try row.decode("id"), lot: try row.decode("din"), division: try row.decode("division"))
        }
        return BoxLayout(box: location, units: units)
    }

    /// Where a unit is now, or each unit of a lot, by division.
    public func find(_ subject: UnitOrLot) throws -> [UnitPlace] {
        switch subject {
        case .unit(let unit):
            guard let place = try places(unit: unit.value, lot: nil).first else {
                throw Refusal(action: "finding unit \(unit)", reasons: ["there is no unit \(unit)"],
                              fix: "check the id on the label; gmp storage find LOT lists a lot's units")
            }
            return [place]
        case .lot(let din):
            let places = try places(unit: nil, lot: din.value)
            if places.isEmpty, try connection.query("SELECT 1 AS one FROM gmp.lot WHERE din = \(din.value)").isEmpty {
                throw Refusal(action: "finding the units of lot \(din)", reasons: ["there is no lot \(din)"],
                              fix: "check the lot id and its check character on the label")
            }
            return places
        }
    }

    /// Where one unit is now.
    public func find(_ unit: UnitIdentifier) throws -> UnitPlace {
        try find(.unit(unit))[0]
    }

    /// Capacity and use of every device under `location` (a site, a device, or anything in one).
    /// An unknown location gives no rows; only then is its existence asked, so the
    /// usual call stays one statement.
    public func occupancy(_ location: String) throws -> [DeviceOccupancy] {
        let devices = try connection.query("SELECT * FROM gmp.storage_occupancy(\(location))").map { row in
            DeviceOccupancy(device: try row.decode("device_id"), kind: try row.decode("kind"), path: try row.decode("path"),
                            maxCelsius: try row.decode("max_celsius", as: ExactDecimal.self).description,
                            boxes: try row.decode("boxes"), positions: try row.decode("positions"),
                            occupied: try row.decode("occupied"))
        }
        if devices.isEmpty,
           try connection.query("SELECT 1 AS found FROM gmp.storage_location WHERE id = upper(btrim(\(location)))").isEmpty {
            throw Self.noLocation(location)
        }
        return devices
    }

    private func places(unit: String?, lot: String?) throws -> [UnitPlace] {
        try connection.query("""
            SELECT u.id, u.din, u.division, u.container, u.volume_ml::text AS volume_ml, u.state, u.box_id, b.path,
                   u.box_row, u.box_column, u.holder_person, u.holder_party, u.device_id, u.shipment_id,
                   (SELECT min(t.id) FROM gmp.pending_transfer t WHERE t.unit_ids @> ARRAY[u.id]) AS pending_transfer
            FROM gmp.unit u LEFT JOIN gmp.storage_location b ON b.id = u.box_id
            WHERE u.id = \(unit) OR u.din = \(lot)
            ORDER BY u.din, u.division
            """).map { row in
            let boxRow: Int? = try row.decode("box_row"), boxColumn: Int? = try row.decode("box_column")
            return UnitPlace(
                unit: try row.decode("id"), lot: try row.decode("din"), division: try row.decode("division"),
                container: try row.decode("container"), volumeMl: try row.decode("volume_ml"), state: try row.decode("state"),
                box: try row.decode("box_id"), location: try row.decode("path"),
                position: boxRow.flatMap { r in boxColumn.flatMap { StoragePosition(row: r, column: $0)?.label } },
                person: try row.decode("holder_person"), party: try row.decode("holder_party"),
                device: try row.decode("device_id"), shipment: try row.decode("shipment_id"),
                pendingTransfer: try row.decode("pending_transfer"))
        }
    }

    static let locationColumns: SQLQuery = """
        s.id, s.kind, s.parent_id, s.device_id, s.site_id, s.path, s.name, s.max_celsius::text AS max_celsius,
        array_to_string(s.holds, ',') AS holds, s.rows, s.columns,
        CASE WHEN s.kind = 'box' THEN (SELECT count(*) FROM gmp.unit u WHERE u.box_id = s.id) END AS occupied
        """

    static func location(_ row: PostgresRow) throws -> Location {
        let occupied: Int64? = try row.decode("occupied")
        return Location(id: try row.decode("id"), kind: try row.decode("kind"), parent: try row.decode("parent_id"),
                        device: try row.decode("device_id"), site: try row.decode("site_id"), path: try row.decode("path"),
                        name: try row.decode("name"), maxCelsius: try row.decode("max_celsius"),
                        holds: (try row.decode("holds", as: String?.self)).map { $0.split(separator: ",").map(String.init) },
                        rows: try row.decode("rows"), columns: try row.decode("columns"), occupied: occupied.map(Int.init))
    }

    static func noLocation(_ id: String) -> Refusal {
        Refusal(action: "looking up \(id)", reasons: ["there is no storage location \(id)"],
                fix: "gmp storage show lists the locations")
    }
}
