/// Capacity and use of one storage device, as `gmp.storage_occupancy` reports it, with the
/// share of positions used worked out here in integers.
public struct DeviceOccupancy: Encodable, Sendable, Equatable {
    public let device: String
    public let kind: String
    public let path: String
    public let maxCelsius: String
    public let boxes: Int64
    public let positions: Int64
    public let occupied: Int64
    public let free: Int64
    /// Percent of positions used, rounded to one decimal ("12.5"); "0.0" without boxes.
    public let percentUsed: String

    public init(device: String, kind: String, path: String, maxCelsius: String, boxes: Int64, positions: Int64,
                occupied: Int64) {
        self.device = device
        self.kind = kind
        self.path = path
        self.maxCelsius = maxCelsius
        self.boxes = boxes
        self.positions = positions
        self.occupied = occupied
        free = positions - occupied
        // Integer tenths, rounded half up: no binary floating point near a record.
        let tenths = positions > 0 ? (occupied * 1000 + positions / 2) / positions : 0
        percentUsed = "\(tenths / 10).\(tenths % 10)"
    }
}
