import PostgresClient  // ExactDecimal

/// The kinds of storage location sql/migrations/V0016__storage_and_custody.sql knows, from the site down to the box.
public enum LocationKind: String, Sendable, CaseIterable, Codable {
    case site, tank, freezer, shipper, rack, canister, box

    /// Tanks, freezers and dry shippers: they carry a temperature limit and the product
    /// kinds they may hold, and temperature readings are taken per device.
    public var isDevice: Bool { self == .tank || self == .freezer || self == .shipper }

    /// What may contain a location of this kind (the tree is site › device › rack or
    /// canister, nested as deep as needed › box); nil for a site, which is the root.
    public var parentKinds: [LocationKind]? {
        switch self {
        case .site: nil
        case .tank, .freezer, .shipper: [.site]
        case .rack, .canister, .box: [.tank, .freezer, .shipper, .rack, .canister]
        }
    }
}

/// What `gmp storage add` records: the location, where it is, and what its kind needs
/// (a device its limit and product kinds, a box its rows and columns).
public struct NewStorageLocation: Sendable, Equatable {
    public var id: String
    public var kind: LocationKind
    public var parent: String?
    public var name: String?
    public var maxCelsius: ExactDecimal?
    public var holds: [ProductKind]?
    public var rows: Int?
    public var columns: Int?

    public init(id: String, kind: LocationKind, parent: String? = nil, name: String? = nil,
                maxCelsius: ExactDecimal? = nil, holds: [ProductKind]? = nil, rows: Int? = nil, columns: Int? = nil) {
        self.id = id
        self.kind = kind
        self.parent = parent
        self.name = name
        self.maxCelsius = maxCelsius
        self.holds = holds
        self.rows = rows
        self.columns = columns
    }

    /// The options this kind needs and lacks, or has and may not have, as option names;
    /// empty when it is complete. The database checks the same; this says it in the
    /// command's own words before anything is sent.
    public var problems: [String] {
        var problems: [String] = []
        if kind == .site, parent != nil { problems.append("a site is the top of the tree: leave out --in") }
        if kind != .site, parent == nil {
            problems.append("a \(kind.rawValue) is inside a \((kind.parentKinds ?? []).map(\.rawValue).joined(separator: ", ")): give --in PARENT")
        }
        if kind.isDevice {
            if maxCelsius == nil { problems.append("a \(kind.rawValue) needs its temperature limit: give --max-celsius, e.g. -150") }
            if (holds ?? []).isEmpty { problems.append("a \(kind.rawValue) needs the product kinds it may hold: give --holds cells,…") }
        } else if maxCelsius != nil || holds != nil {
            problems.append("only a tank, freezer or shipper has --max-celsius and --holds")
        }
        if kind == .box {
            if rows == nil || columns == nil { problems.append("a box needs its layout: give --rows and --columns, e.g. 9 and 9") }
        } else if rows != nil || columns != nil {
            problems.append("only a box has --rows and --columns")
        }
        return problems
    }
}
