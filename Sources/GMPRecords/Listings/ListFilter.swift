import GMPRules
import PostgresClient

/// The filters of gmp's `list` commands (issue 16): each list applies those that mean
/// something for its records and ignores none silently (the command offers only those).
/// Dates are whole UTC days, both ends included.
public struct ListFilter: Sendable {
    public var status: String?
    /// A lot's product kind: cells, conditioned_medium, extracellular_vesicles (a material
    /// lot's: its material type code).
    public var product: String?
    public var from: CalendarDate?
    public var to: CalendarDate?
    /// The donor, or a birth mother (her newborns' records are hers to trace too).
    public var donor: String?
    public var lot: DonationIdentificationNumber?

    public init(status: String? = nil, product: String? = nil, from: CalendarDate? = nil, to: CalendarDate? = nil,
                donor: String? = nil, lot: DonationIdentificationNumber? = nil) {
        self.status = status
        self.product = product
        self.from = from
        self.to = to
        self.donor = donor
        self.lot = lot
    }
}
