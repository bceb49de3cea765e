import GMPRules
import PostgresClient

/// A lot's units (sql/code/11_storage.sql and 12_custody.sql): placed in a box position, moved, withdrawn, thawed or
/// discarded, each a custody event that names who, when, from and to. Units are never
/// deleted; which action may follow which is the database's rule.
public struct Units {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Putting a unit into a position: placing it from your hands, or moving it from
    /// another position (a move needs its reason).
    public enum Storing: Sendable, Equatable {
        case place(reason: String?)
        case move(reason: String)

        var verb: String {
            switch self {
            case .place: "placing"
            case .move: "moving"
            }
        }
    }

    /// The actions that take a unit out of a position or out of use, each with its reason.
    public enum Action: String, Sendable, CaseIterable {
        case withdraw, thaw, discard
    }

    /// Places or moves `unit` into `position` of `box` in its own transaction; returns
    /// the custody event. A position taken by another unit — even one placed by someone
    /// else a moment before, which the database's unique index refuses — is reported
    /// with the unit that holds it and where to look for a free one.
    public static func store(_ unit: UnitIdentifier, in box: String, at position: StoragePosition, _ storing: Storing,
                             on connection: PostgresConnection) throws -> Int64 {
        let box = box.trimmingWhitespace.uppercased()
        do {
            return try connection.transaction(WriteIsolation.lockedRows) { db in try Units(db).store(unit, in: box, at: position, storing) }
        } catch let error as PostgresError where error.kind == .duplicate && error.constraint == "unit_position" {
            // The refused transaction is over: whoever holds the position now is visible.
            let holder = try? Units(connection).occupant(box: box, position: position)
            throw Refusal(action: "\(storing.verb) unit \(unit)",
                          reasons: ["position \(position) of box \(box) is taken by \(holder ?? "another unit")"],
                          fix: "choose a free one: gmp storage layout \(box)")
        }
    }

    /// Records the placement or move inside the caller's transaction.
    public func store(_ unit: UnitIdentifier, in box: String, at position: StoragePosition, _ storing: Storing) throws -> Int64 {
        let row = Int64(position.row), column = Int64(position.column)
        switch storing {
        case .place(let reason):
            return try connection.query("""
                SELECT gmp.place_unit(\(unit.value), \(box), \(row)::int, \(column)::int, \(reason)) AS id
                """)[0].decode("id")
        case .move(let reason):
            return try connection.query("""
                SELECT gmp.move_unit(\(unit.value), \(box), \(row)::int, \(column)::int, \(reason)) AS id
                """)[0].decode("id")
        }
    }

    /// Withdraws, thaws or discards `unit` with its reason; returns the custody event.
    public func perform(_ action: Action, on unit: UnitIdentifier, reason: String) throws -> Int64 {
        switch action {
        case .withdraw: try connection.query("SELECT gmp.withdraw_unit(\(unit.value), \(reason)) AS id")[0].decode("id")
        case .thaw: try connection.query("SELECT gmp.thaw_unit(\(unit.value), \(reason)) AS id")[0].decode("id")
        case .discard: try connection.query("SELECT gmp.discard_unit(\(unit.value), \(reason)) AS id")[0].decode("id")
        }
    }

    /// The unit in a position now, or nil when it is free.
    public func occupant(box: String, position: StoragePosition) throws -> String? {
        try connection.query("""
            SELECT id FROM gmp.unit
            WHERE box_id = \(box) AND box_row = \(Int64(position.row))::int AND box_column = \(Int64(position.column))::int
            """).first?.decode("id")
    }
}
